/* cg-stress - many threads forking and exec'ing /bin/true (fork, vfork
 * and posix_spawn) while others open files and connect, under the shim.
 *
 *   cg-stress [ROUNDS]
 *
 * Exits 0 when every child ran and exited 0; a deadlock (a lock inherited
 * held across fork, malloc in a vfork child) is ended by alarm() and
 * shows as death by SIGALRM.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int rounds = 200;
static atomic_int failures;
static atomic_bool is_done;

static void check_child(pid_t pid)
{
	int status;

	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		atomic_fetch_add(&failures, 1);
}

static pid_t start_true(long kind)
{
	static char *const argv[] = { "/bin/true", NULL };
	pid_t pid;

	if (kind == 0) {
		pid = fork();
		if (pid == 0) {
			execv(argv[0], argv);
			_exit(127);
		}
	} else if (kind == 1) {
		pid = vfork();
		if (pid == 0) {
			execve(argv[0], argv, environ);
			_exit(127);
		}
	} else if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) != 0) {
		pid = -1;
	}
	return pid;
}

static void *forker(void *arg)
{
	for (int i = 0; i < rounds; i++)
		check_child(start_true((long)arg));
	return NULL;
}

static void *opener(void *arg)
{
	(void)arg;
	while (!atomic_load(&is_done)) {
		int fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			close(fd);
		FILE *f = fopen("/proc/self/status", "r");
		if (f)
			fclose(f);
		/* malloc traffic, so that the allocator's locks are often held
		 * by this thread when another one forks */
		free(malloc(1000 + (size_t)(rand() % 5000)));
		int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in lo = { .sin_family = AF_INET, .sin_port = htons(9) };
		lo.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		connect(s, (struct sockaddr *)&lo, sizeof(lo));
		close(s);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t forkers[6], openers[4];

	if (argc > 1)
		rounds = atoi(argv[1]);
	alarm(120);
	for (int i = 0; i < 4; i++)
		pthread_create(&openers[i], NULL, opener, NULL);
	for (long i = 0; i < 6; i++)
		pthread_create(&forkers[i], NULL, forker, (void *)(i % 3));
	for (int i = 0; i < 6; i++)
		pthread_join(forkers[i], NULL);
	atomic_store(&is_done, true);
	for (int i = 0; i < 4; i++)
		pthread_join(openers[i], NULL);
	printf("children: %d, failures: %d\n", 6 * rounds, atomic_load(&failures));
	return atomic_load(&failures) == 0 ? 0 : 1;
}
