/* bench-preload - what libguard-preload.so costs a run.
 *
 *   bench/bench-preload [EXECS] [SHIM]
 *
 * EXECS (default 1000) is the number of programs started per measurement;
 * SHIM defaults to the one in the build directory, and is run from a copy
 * (see copy_shim).  Prints one table:
 *
 *   snapshot load     the built-in policy's snapshot, in a warm process:
 *                     cg_policy_snapshot_view (what the shim does: in
 *                     place, no malloc) and cg_policy_snapshot_load + free
 *                     (an ordinary policy that owns its copies)
 *   exec /bin/true    fork + execve + wait, LD_PRELOAD off and on: the
 *                     per-process cost of the shim in a program that makes
 *                     no guarded call (the policy is never loaded)
 *   cat /dev/null     the same for a program whose one guarded call (an
 *                     open) loads the policy and decides
 *   sh exec loop      /bin/sh running /bin/true EXECS times: each exec is
 *                     also checked by the shim inside the shell
 *   python3 -c pass   an interpreter start (opens a few hundred files)
 *   guard-exec ...    when the build has cli/guard-exec: the same loop and,
 *                     with npm and tests/data/path-parse-1.0.6.tgz, a real
 *                     `npm test`, under the whole guard (seccomp, Landlock,
 *                     cgroups) with the shim (on) and with GUARD_PRELOAD
 *                     pointing nowhere (off)
 *
 * Off and on alternate in blocks of 50 so that a change in machine load
 * hits both sides alike.  Medians of the per-block means, as wall time
 * and as the CPU time (user + system) of the children, which a busy
 * machine disturbs less.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "preload/shim.h"
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

static double children_cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_CHILDREN, &ru);
	return ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec * 1e6 +
	       ru.ru_stime.tv_usec;
}

/* Start argv `count` times, one after another; mean microseconds each,
 * wall clock (returned) and CPU (*cpu). */
static double start_many(char *const argv[], char *const envp[], int count, double *cpu)
{
	double t0 = now_us(), c0 = children_cpu_us();
	/* guard-exec warns on every "off" start that it runs without the
	 * shim; the exit status says whether a start worked. */
	bool is_quiet = strstr(argv[0], "guard-exec") != NULL;

	for (int i = 0; i < count; i++) {
		pid_t pid = fork();
		int status;
		if (pid == 0) {
			int null_fd = is_quiet ? open("/dev/null", O_WRONLY | O_CLOEXEC) : -1;
			if (null_fd >= 0)
				dup2(null_fd, STDERR_FILENO);
			execve(argv[0], argv, envp);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			fprintf(stderr, "bench-preload: %s failed\n", argv[0]);
			exit(1);
		}
	}
	*cpu = (children_cpu_us() - c0) / count;
	return (now_us() - t0) / count;
}

struct timing {
	double wall_off, wall_on, cpu_off, cpu_on;
};

/* Median per-start time with env off and on, alternating blocks. */
static void compare_starts(char *const argv[], char *const off[], char *const on[], int total,
			   int per_start, struct timing *t)
{
	int block = total < BLOCK ? 1 : BLOCK;
	size_t n = (size_t)(total / block);
	double *v[4], cpu;

	for (int k = 0; k < 4; k++)
		v[k] = calloc(n, sizeof(double));
	start_many(argv, off, block == 1 ? 1 : 5, &cpu);
	start_many(argv, on, block == 1 ? 1 : 5, &cpu);
	for (size_t i = 0; i < n; i++) {
		v[0][i] = start_many(argv, off, block, &cpu) / per_start;
		v[2][i] = cpu / per_start;
		v[1][i] = start_many(argv, on, block, &cpu) / per_start;
		v[3][i] = cpu / per_start;
	}
	t->wall_off = median(v[0], n);
	t->wall_on = median(v[1], n);
	t->cpu_off = median(v[2], n);
	t->cpu_on = median(v[3], n);
	for (int k = 0; k < 4; k++)
		free(v[k]);
}

/* Median microseconds of 2000 loads of the snapshot at path, in place
 * (is_view) or as copies. */
static double snapshot_load_us(const char *path, bool is_view)
{
	static unsigned char mem[256 * 1024] __attribute__((aligned(64)));
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
		if (is_view) {
			if (cg_policy_snapshot_view(&p, data, (size_t)st.st_size, mem, sizeof(mem),
						    &err) < 0)
				return -1;
		} else {
			if (cg_policy_snapshot_load(&p, data, (size_t)st.st_size, &err) < 0)
				return -1;
			cg_policy_free(p);
		}
		v[i] = now_us() - t0;
	}
	munmap(data, (size_t)st.st_size);
	return median(v, 2000);
}

static void row(const char *what, const struct timing *t)
{
	printf("| %-24s | %9.0f | %9.0f | %+7.1f%% | %9.0f | %9.0f | %+7.1f%% |\n", what, t->wall_off,
	       t->wall_on, (t->wall_on - t->wall_off) / t->wall_off * 100, t->cpu_off, t->cpu_on,
	       (t->cpu_on - t->cpu_off) / t->cpu_off * 100);
}

/* Copy the shim into dir in one write, as `make install` would, and put
 * the copy's path in out.  The shim as the linker left it costs every
 * process 10-15 us more (measured, same bytes), most likely because the
 * page cache keeps the linker's many small writes as small folios. */
static int copy_shim(const char *shim, const char *dir, char *out, size_t size)
{
	struct stat st;
	int in = open(shim, O_RDONLY | O_CLOEXEC), fd = -1, rc = -1;
	char *data = NULL;

	if (in < 0 || fstat(in, &st) < 0 || !(data = malloc((size_t)st.st_size)) ||
	    read(in, data, (size_t)st.st_size) != st.st_size)
		goto out;
	snprintf(out, size, "%s/libguard-preload.so", dir);
	fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	if (fd >= 0 && write(fd, data, (size_t)st.st_size) == st.st_size)
		rc = 0;
out:
	free(data);
	if (in >= 0)
		close(in);
	if (fd >= 0)
		close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	int execs = argc > 1 ? atoi(argv[1]) : 1000;
	const char *shim = argc > 2 ? argv[2] : BUILDDIR "/preload/.libs/libguard-preload.so";
	char dir[] = "/tmp/cg-bench-preload-XXXXXX", env[4096], snapshot[PATH_MAX];
	char preload[PATH_MAX + 16], loop[128], shim_copy[PATH_MAX];
	struct cg_policy *p;
	struct cg_error err;
	char *on[16], *off[] = { "PATH=/usr/bin:/bin", NULL };
	size_t n = 0;
	struct timing t;

	if (execs < BLOCK)
		execs = BLOCK;
	err.message[0] = '\0';
	if (access(shim, R_OK) < 0 || !mkdtemp(dir) || cg_policy_load(&p, NULL, &err) < 0 ||
	    cg_snapshot_publish(p, dir, dir, false, env, sizeof(env), &err) < 0 ||
	    copy_shim(shim, dir, shim_copy, sizeof(shim_copy)) < 0) {
		fprintf(stderr, "bench-preload: setup failed (%s): %s\n", shim, err.message);
		return 1;
	}
	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", shim_copy);
	on[n++] = "PATH=/usr/bin:/bin";
	on[n++] = preload;
	for (char *e = env; *e; e += strlen(e) + 1)
		on[n++] = e;
	on[n] = NULL;
	snprintf(snapshot, sizeof(snapshot), "%s/policy.snapshot", dir);

	printf("$ bench/bench-preload %d %s\n(run from a fresh copy, as installed)\n\n", execs, shim);
	struct stat st;
	printf("snapshot in a warm process (median of 2000): %.1f us in place (the shim's "
	       "cg_policy_snapshot_view), %.1f us copied (cg_policy_snapshot_load + free)\n\n",
	       snapshot_load_us(snapshot, true), snapshot_load_us(snapshot, false));
	printf("| %-24s | %9s | %9s | %8s | %9s | %9s | %8s |\n", "us per program", "wall off",
	       "wall on", "added", "cpu off", "cpu on", "added");
	printf("|--------------------------|-----------|-----------|----------|"
	       "-----------|-----------|----------|\n");

	char *true_argv[] = { "/bin/true", NULL };
	compare_starts(true_argv, off, on, execs, 1, &t);
	row("fork+exec /bin/true", &t);

	char *cat_argv[] = { "/bin/cat", "/dev/null", NULL };
	compare_starts(cat_argv, off, on, execs, 1, &t);
	row("fork+exec cat /dev/null", &t);

	snprintf(loop, sizeof(loop), "i=0; while [ $i -lt %d ]; do /bin/true; i=$((i+1)); done",
		 execs / 10);
	char *sh_argv[] = { "/bin/sh", "-c", loop, NULL };
	compare_starts(sh_argv, off, on, 2 * BLOCK, execs / 10, &t);
	row("sh loop, per /bin/true", &t);

	char *py_argv[] = { "/usr/bin/python3", "-c", "pass", NULL };
	if (access(py_argv[0], X_OK) == 0) {
		compare_starts(py_argv, off, on, BLOCK * 4, 1, &t);
		row("python3 -c pass", &t);
	}
	char guard_exec[PATH_MAX];
	snprintf(guard_exec, sizeof(guard_exec), "%s/cli/guard-exec", BUILDDIR);
	if (access(guard_exec, X_OK) == 0) {
		char ws_arg[PATH_MAX + 16], home[PATH_MAX + 8], conf[PATH_MAX], conf_arg[PATH_MAX + 16];
		char state[PATH_MAX + 24];
		/* The rate limit (10 runs a minute) would stop the benchmark. */
		snprintf(conf, sizeof(conf), "%s/bench.conf", dir);
		FILE *f = fopen(conf, "we");
		if (f) {
			fputs("ratelimit = { count = 1000000; window_s = 1; };\n", f);
			fclose(f);
		}
		snprintf(conf_arg, sizeof(conf_arg), "--config=%s", conf);
		snprintf(ws_arg, sizeof(ws_arg), "--workspace=%s", dir);
		snprintf(home, sizeof(home), "HOME=%s", dir);
		snprintf(state, sizeof(state), "GUARD_STATE_DIR=%s/state", dir);
		char *g_on[] = { "PATH=/usr/bin:/bin", home, state, NULL };
		char *g_off[] = { "PATH=/usr/bin:/bin", home, state, "GUARD_PRELOAD=/nonexistent", NULL };
		char *g_loop[] = { guard_exec, conf_arg, ws_arg, "--", "/bin/sh", "-c", loop, NULL };
		compare_starts(g_loop, g_off, g_on, BLOCK, execs / 10, &t);
		row("guard-exec sh loop, per", &t);

		char tgz[PATH_MAX], script[PATH_MAX * 3];
		snprintf(tgz, sizeof(tgz), "%s/tests/data/path-parse-1.0.6.tgz", SRCDIR);
		snprintf(script, sizeof(script), "tar -xzf '%s' -C '%s'", tgz, dir);
		if (access("/usr/bin/npm", X_OK) == 0 && access(tgz, R_OK) == 0 && system(script) == 0) {
			snprintf(script, sizeof(script), "cd '%s/package' && npm test --no-update-notifier "
				 ">/dev/null 2>&1", dir);
			char *g_npm[] = { guard_exec, conf_arg, ws_arg, "-c", script, NULL };
			compare_starts(g_npm, g_off, g_on, 10, 1, &t);
			row("guard-exec npm test", &t);
		}
	}
	if (stat(snapshot, &st) == 0)
		printf("\n%lld-byte snapshot; the sh loop runs %d programs per start\n",
		       (long long)st.st_size, execs / 10);

	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	cg_policy_free(p);
	return 0;
}
