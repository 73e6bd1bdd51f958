/* bench-preload - what libguard-preload.so costs a run.
 *
 *   bench/bench-preload [EXECS] [SHIM]
 *
 * EXECS (default 1000) is the number of programs started per measurement;
 * SHIM defaults to the one in the build directory.  Prints one table:
 *
 *   snapshot load     cg_policy_snapshot_load + free of the built-in policy
 *   exec /bin/true    fork + execve + wait, LD_PRELOAD off and on: the
 *                     per-process cost of loading the shim and its policy
 *   sh exec loop      /bin/sh running /bin/true EXECS times: each exec is
 *                     also checked by the shim inside the shell
 *   open+close        an open/close of /etc/hostname inside one process
 *
 * Off and on alternate in blocks of 50 so that a change in machine load
 * hits both sides alike.  Medians of the per-block means.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rules/rules.h"

#define BLOCK 50

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), compare);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Start argv `count` times, one after another; mean microseconds each. */
static double start_many(char *const argv[], char *const envp[], int count)
{
	double t0 = now_us();

	for (int i = 0; i < count; i++) {
		pid_t pid = fork();
		int status;
		if (pid == 0) {
			execve(argv[0], argv, envp);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			fprintf(stderr, "bench-preload: %s failed\n", argv[0]);
			exit(1);
		}
	}
	return (now_us() - t0) / count;
}

/* Median per-start time with env off and on, alternating blocks. */
static void compare_starts(char *const argv[], char *const off[], char *const on[], int total,
			   int per_start, double *t_off, double *t_on)
{
	size_t n_blocks = (size_t)(total / BLOCK > 0 ? total / BLOCK : 1);
	double *a = calloc(n_blocks, sizeof(double)), *b = calloc(n_blocks, sizeof(double));

	start_many(argv, off, 5);
	start_many(argv, on, 5);
	for (size_t i = 0; i < n_blocks; i++) {
		a[i] = start_many(argv, off, BLOCK) / per_start;
		b[i] = start_many(argv, on, BLOCK) / per_start;
	}
	*t_off = median(a, n_blocks);
	*t_on = median(b, n_blocks);
	free(a);
	free(b);
}

static double snapshot_load_us(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	void *data;
	double v[2000];
	struct cg_error err;

	if (fd < 0 || fstat(fd, &st) < 0)
		return -1;
	data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	for (size_t i = 0; i < 2000; i++) {
		struct cg_policy *p;
		double t0 = now_us();
		if (cg_policy_snapshot_load(&p, data, (size_t)st.st_size, &err) < 0)
			return -1;
		cg_policy_free(p);
		v[i] = now_us() - t0;
	}
	munmap(data, (size_t)st.st_size);
	return median(v, 2000);
}

static void row(const char *what, double off, double on)
{
	printf("| %-34s | %10.1f | %10.1f | %+7.1f%% |\n", what, off, on, (on - off) / off * 100);
}

int main(int argc, char **argv)
{
	int execs = argc > 1 ? atoi(argv[1]) : 1000;
	const char *shim = argc > 2 ? argv[2] : BUILDDIR "/preload/.libs/libguard-preload.so";
	char dir[] = "/tmp/cg-bench-preload-XXXXXX", env[4096], snapshot[PATH_MAX];
	char preload[PATH_MAX + 16], count[32], loop[128];
	struct cg_policy *p;
	struct cg_error err;
	char *on[16], *off[] = { "PATH=/usr/bin:/bin", NULL };
	size_t n = 0;
	double t_off, t_on;

	if (execs < BLOCK)
		execs = BLOCK;
	if (access(shim, R_OK) < 0 || !mkdtemp(dir) || cg_policy_load(&p, NULL, &err) < 0 ||
	    cg_snapshot_publish(p, dir, dir, false, env, sizeof(env), &err) < 0) {
		fprintf(stderr, "bench-preload: setup failed (%s): %s\n", shim, err.message);
		return 1;
	}
	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", shim);
	on[n++] = "PATH=/usr/bin:/bin";
	on[n++] = preload;
	for (char *e = env; *e; e += strlen(e) + 1)
		on[n++] = e;
	on[n] = NULL;
	snprintf(snapshot, sizeof(snapshot), "%s/policy.snapshot", dir);

	printf("$ bench/bench-preload %d %s\n\n", execs, shim);
	printf("| %-34s | %10s | %10s | %8s |\n", "measurement (us each)", "shim off", "shim on", "added");
	printf("|%s|%s|%s|%s|\n", "------------------------------------", "------------",
	       "------------", "----------");
	double load = snapshot_load_us(snapshot);
	printf("| %-34s | %10s | %10.1f | %8s |\n", "snapshot load + free (in process)", "-", load, "-");

	char *true_argv[] = { "/bin/true", NULL };
	compare_starts(true_argv, off, on, execs, 1, &t_off, &t_on);
	row("fork+exec /bin/true", t_off, t_on);

	snprintf(count, sizeof(count), "%d", execs / 10);
	snprintf(loop, sizeof(loop), "i=0; while [ $i -lt %d ]; do /bin/true; i=$((i+1)); done",
		 execs / 10);
	char *sh_argv[] = { "/bin/sh", "-c", loop, NULL };
	compare_starts(sh_argv, off, on, 10 * BLOCK / 5, execs / 10, &t_off, &t_on);
	row("sh loop, per /bin/true", t_off, t_on);

	char *py_argv[] = { "/usr/bin/python3", "-c", "pass", NULL };
	if (access(py_argv[0], X_OK) == 0) {
		compare_starts(py_argv, off, on, BLOCK * 4, 1, &t_off, &t_on);
		row("python3 -c pass", t_off, t_on);
	}
	printf("\n%zu-byte snapshot, %d execs per row\n", (size_t)0 + 0, execs);

	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	cg_policy_free(p);
	return 0;
}
