/* bench-state - what one rate-limit check and one audit append cost.
 *
 *   bench/bench-state [ITERATIONS] [DIR]
 *
 * DIR (default: a new directory under /tmp, removed at the end) holds the
 * state file and the log; put it on the file system the state lives on in production, since
 * the numbers are mostly fsync-free SQLite and write(2) costs of that file
 * system.  Prints one table: median and 99th percentile per operation.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "guard/guard.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void report(const char *name, double *samples, int n)
{
	qsort(samples, n, sizeof(*samples), compare);
	printf("| %-44s | %10.1f | %10.1f |\n", name, samples[n / 2], samples[n * 99 / 100]);
}

static void die(const char *what, const struct cg_error *err)
{
	char buf[1024];

	fprintf(stderr, "bench-state: %s: %s\n", what, cg_error_format(err, buf, sizeof(buf)));
	exit(1);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2000;
	char dir_template[] = "/tmp/cg-bench-state-XXXXXX", log_path[PATH_MAX], command[64];
	const char *dir = argc > 2 ? argv[2] : mkdtemp(dir_template);
	struct cg_ratelimit *rl;
	struct cg_audit *audit;
	struct cg_error err;
	unsigned retry, used;
	double *t = calloc(n > 0 ? n : 1, sizeof(*t));

	if (n <= 0 || !dir || !t) {
		fprintf(stderr, "usage: bench-state [ITERATIONS] [DIR]\n");
		return 2;
	}
	printf("$ bench/bench-state %d %s\n\n", n, dir);
	printf("| %-44s | %10s | %10s |\n", "operation", "median µs", "p99 µs");
	printf("|%.46s|%.12s|%.12s|\n", "----------------------------------------------",
	       "------------", "------------");

	/* What one guard-exec run pays: the state file exists, nobody else
	 * has it open, the run opens it, takes one slot and closes it. */
	if (cg_ratelimit_open(&rl, dir, &err) < 0)
		die("open", &err);
	cg_ratelimit_close(rl);
	for (int i = 0; i < n; i++) {
		snprintf(command, sizeof(command), "make %d", i % 100);
		double start = now_us();
		if (cg_ratelimit_open(&rl, dir, &err) < 0)
			die("open", &err);
		if (cg_ratelimit_take(rl, "RUNS", command, 1000000, 3600, &retry, &err) < 0)
			die("take", &err);
		cg_ratelimit_close(rl);
		t[i] = now_us() - start;
	}
	report("open + take + close (one guard-exec run)", t, n);

	if (cg_ratelimit_open(&rl, dir, &err) < 0)
		die("open", &err);
	for (int i = 0; i < n; i++) {
		snprintf(command, sizeof(command), "npm test %d", i);
		double start = now_us();
		if (cg_ratelimit_take(rl, "BENCH", command, 10, 60, &retry, &err) != CG_ALLOW)
			die("take", &err);
		t[i] = now_us() - start;
	}
	report("ratelimit take, admitted (insert)", t, n);

	for (int i = 0; i < 10; i++)
		cg_ratelimit_take(rl, "BENCH", "full", 10, 60, &retry, &err);
	for (int i = 0; i < n; i++) {
		double start = now_us();
		if (cg_ratelimit_take(rl, "BENCH", "full", 10, 60, &retry, &err) != CG_BLOCK)
			die("take (full)", &err);
		t[i] = now_us() - start;
	}
	report("ratelimit take, refused (10 of 10 used)", t, n);

	for (int i = 0; i < n; i++) {
		double start = now_us();
		if (cg_ratelimit_peek(rl, "BENCH", "full", 10, 60, &used, &retry, &err) < 0)
			die("peek", &err);
		t[i] = now_us() - start;
	}
	report("ratelimit peek (guardctl check)", t, n);
	cg_ratelimit_close(rl);

	snprintf(log_path, sizeof(log_path), "%s/%s", dir, CG_AUDIT_FILE);
	if (cg_audit_open(&audit, log_path, false, &err) < 0)
		die("audit open", &err);
	struct cg_audit_info info = { "run-0123456789", "BENCH", "runner", "/workspace",
				      "npm run build -- --mode production" };
	struct cg_reason why = { "system-modification", "rm-root",
				 "Command contains blocked operation: rm -rf /", "static" };
	for (int i = 0; i < n; i++) {
		double start = now_us();
		if (cg_audit_decision(audit, &info, i % 2 ? CG_BLOCK : CG_ALLOW, &why, &err) < 0)
			die("audit", &err);
		t[i] = now_us() - start;
	}
	report("audit append (decision record, build + write)", t, n);
	cg_audit_close(audit);
	if (argc <= 2)
		nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(t);
	return 0;
}
