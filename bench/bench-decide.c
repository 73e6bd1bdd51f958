/* bench-decide.c - how fast cg_decide() judges the verdict corpus.
 *
 * Times every decision of tests/corpus/ with the built-in policy, in three
 * set-ups: (a) the default, where patterns compile lazily without JIT the
 * first time a program meets them; (b) every pattern compiled with JIT up
 * front; (c) a cold start, the cost a fresh guard-exec pays to load the
 * policy and make its first decision.  DESIGN.md's start-up budget is the
 * question this answers: does JIT pay, and what does a decision cost?
 *
 * The corpus loader repeats the few lines of tests/test-corpus.c on
 * purpose: the benchmark must not depend on the test harness.
 */
#include <errno.h>
#include <dirent.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "guard/guard.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif
#define FIXTURE_TOKEN "@FIXTURE@"
/* A fixed PATH keeps the figures comparable between machines and users
 * should the engine look programs up (it did once: ~10 access() calls per
 * decision); see tests/test-corpus.c. */
#define CORPUS_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct command {
	char *text;
	size_t len;
	char file[NAME_MAX + 1];
	int line;
};

struct corpus {
	struct command *cmds;
	size_t n, cap;
	int n_files;
};

/* CPU 0 is where other pinned work tends to land (on our shared 2-CPU
 * machines a decision cost 1.7x the CPU time there: context switches cool
 * the caches), so the default is the last CPU. */
#define CPU_LAST (-2)

struct options {
	const char *corpus_dir;
	unsigned rounds;
	unsigned warmup_rounds;
	unsigned cold_runs;
	int cpu;             /* -1: do not pin; CPU_LAST: the highest CPU we may use */
	bool keep_path;      /* time with the caller's PATH instead of CORPUS_PATH */
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CPU time of this thread: unlike CLOCK_MONOTONIC it does not count the
 * time other processes held the CPU, so it stays readable on a busy machine. */
static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Sorts `v` in place; nearest-rank percentile. */
static uint64_t percentile(uint64_t *v, size_t n, double pct)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	size_t rank = (size_t)(pct / 100.0 * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	return v[(rank > n ? n : rank) - 1];
}

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "bench-decide: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(1);
}

/* The corpus escapes are \t, \n and \\ (see the header of any .tsv file). */
static int decode_escapes(char *s, size_t *len)
{
	char *o = s;
	for (const char *i = s; *i; i++) {
		if (*i != '\\') {
			*o++ = *i;
			continue;
		}
		switch (i[1]) {
		case 't': *o++ = '\t'; break;
		case 'n': *o++ = '\n'; break;
		case '\\': *o++ = '\\'; break;
		default: return -EINVAL;
		}
		i++;
	}
	*o = '\0';
	*len = (size_t)(o - s);
	return 0;
}

static char *replace_fixture(const char *text, const char *fixture)
{
	size_t token_len = strlen(FIXTURE_TOKEN), fixture_len = strlen(fixture), count = 0;
	for (const char *s = strstr(text, FIXTURE_TOKEN); s; s = strstr(s + token_len, FIXTURE_TOKEN))
		count++;
	char *out = malloc(strlen(text) + count * fixture_len + 1);
	if (!out)
		die("out of memory", NULL);
	char *o = out;
	const char *s = text;
	for (const char *hit; (hit = strstr(s, FIXTURE_TOKEN)); s = hit + token_len) {
		memcpy(o, s, (size_t)(hit - s));
		o += hit - s;
		memcpy(o, fixture, fixture_len);
		o += fixture_len;
	}
	strcpy(o, s);
	return out;
}

static void corpus_add(struct corpus *c, const char *file, int line_no, char *line,
		       const char *fixture)
{
	char *tab1 = strchr(line, '\t');
	char *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
	size_t len;
	if (!tab2 || decode_escapes(tab2 + 1, &len) < 0) {
		fprintf(stderr, "bench-decide: %s:%d: malformed corpus line (tests/test-corpus names the fault)\n",
			file, line_no);
		exit(1);
	}
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 512;
		c->cmds = realloc(c->cmds, c->cap * sizeof(*c->cmds));
		if (!c->cmds)
			die("out of memory", NULL);
	}
	struct command *cmd = &c->cmds[c->n++];
	cmd->text = replace_fixture(tab2 + 1, fixture);
	cmd->len = strlen(cmd->text);
	snprintf(cmd->file, sizeof(cmd->file), "%s", file);
	cmd->line = line_no;
}

static int select_tsv(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return n > 4 && strcmp(d->d_name + n - 4, ".tsv") == 0;
}

static void corpus_load(struct corpus *c, const char *dir, const char *fixture)
{
	struct dirent **names;
	int n = scandir(dir, &names, select_tsv, alphasort);
	if (n <= 0)
		die("no .tsv files in the corpus directory", dir);
	c->n_files = n;
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		FILE *f = fopen(path, "re");
		if (!f)
			die(path, strerror(errno));
		char *line = NULL;
		size_t cap = 0;
		ssize_t len;
		int line_no = 0;
		while ((len = getline(&line, &cap, f)) >= 0) {
			line_no++;
			while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
				line[--len] = '\0';
			if (len > 0 && line[0] != '#')
				corpus_add(c, names[i]->d_name, line_no, line, fixture);
		}
		free(line);
		fclose(f);
		free(names[i]);
	}
	free(names);
}

static void corpus_free(struct corpus *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->cmds[i].text);
	free(c->cmds);
}

/* The same fixture as tests/test-corpus.c: the corpus names @FIXTURE@. */
static void fixture_create(char *dir, size_t size)
{
	char path[PATH_MAX];
	snprintf(dir, size, "/tmp/cg-bench-XXXXXX");
	if (!mkdtemp(dir))
		die("mkdtemp", strerror(errno));
	snprintf(path, sizeof(path), "%s/data", dir);
	if (mkdir(path, 0700) < 0)
		die(path, strerror(errno));
	snprintf(path, sizeof(path), "%s/data/readme.txt", dir);
	FILE *f = fopen(path, "we");
	if (!f)
		die(path, strerror(errno));
	fputs("fixture\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/data-link", dir);
	if (symlink("data", path) < 0)
		die(path, strerror(errno));
	snprintf(path, sizeof(path), "%s/etc-link", dir);
	if (symlink("/etc", path) < 0)
		die(path, strerror(errno));
}

static void fixture_remove(const char *dir)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/data-link", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/etc-link", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/data/readme.txt", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/data", dir);
	rmdir(path);
	rmdir(dir);
}

static enum cg_verdict decide_script(const struct cg_context *ctx, const char *text, size_t len)
{
	struct cg_event ev = { .kind = CG_EV_SCRIPT };
	ev.u.script.text = text;
	ev.u.script.len = len;
	struct cg_reason why;
	memset(&why, 0, sizeof(why));
	return cg_decide(ctx, &ev, &why);
}

static struct cg_policy *load_policy(void)
{
	struct cg_policy *p = NULL;
	struct cg_error err = { 0 };
	char buf[1024];
	if (cg_policy_load(&p, NULL, &err) < 0)
		die("the built-in policy does not load", cg_error_format(&err, buf, sizeof(buf)));
	return p;
}

struct steady_result {
	uint64_t median_ns, p99_ns, max_ns;
	double mean_ns;
	double cpu_mean_ns;                /* thread CPU time per decision */
	size_t decisions;
	uint64_t *per_command_median_ns;   /* [corpus.n]; caller frees */
	enum cg_verdict *verdicts;         /* [corpus.n] from the last round; caller frees */
};

/* Warm-up rounds first (they also compile the lazily compiled patterns),
 * then every decision of every round is timed on its own. */
static void run_steady(const struct cg_context *ctx, const struct corpus *c,
		       const struct options *opt, struct steady_result *r)
{
	for (unsigned round = 0; round < opt->warmup_rounds; round++)
		for (size_t i = 0; i < c->n; i++)
			decide_script(ctx, c->cmds[i].text, c->cmds[i].len);

	size_t n = c->n * opt->rounds;
	uint64_t *samples = malloc(n * sizeof(*samples));
	uint64_t *per_command = malloc(opt->rounds * sizeof(*per_command));
	r->per_command_median_ns = malloc(c->n * sizeof(*r->per_command_median_ns));
	r->verdicts = malloc(c->n * sizeof(*r->verdicts));
	if (!samples || !per_command || !r->per_command_median_ns || !r->verdicts)
		die("out of memory", NULL);

	uint64_t cpu_start = thread_cpu_ns();
	for (unsigned round = 0; round < opt->rounds; round++) {
		for (size_t i = 0; i < c->n; i++) {
			uint64_t t0 = now_ns();
			enum cg_verdict v = decide_script(ctx, c->cmds[i].text, c->cmds[i].len);
			uint64_t t1 = now_ns();
			samples[(size_t)round * c->n + i] = t1 - t0;
			r->verdicts[i] = v;
		}
	}
	r->cpu_mean_ns = (double)(thread_cpu_ns() - cpu_start) / (double)n;

	double sum = 0;
	for (size_t k = 0; k < n; k++)
		sum += (double)samples[k];
	for (size_t i = 0; i < c->n; i++) {
		for (unsigned round = 0; round < opt->rounds; round++)
			per_command[round] = samples[(size_t)round * c->n + i];
		r->per_command_median_ns[i] = percentile(per_command, opt->rounds, 50);
	}
	r->decisions = n;
	r->mean_ns = sum / (double)n;
	r->median_ns = percentile(samples, n, 50);
	r->p99_ns = percentile(samples, n, 99);
	r->max_ns = samples[n - 1];
	free(per_command);
	free(samples);
}

struct cold_result {
	uint64_t load_median_ns, first_median_ns, total_median_ns, total_p99_ns;
};

/* A fresh policy per run, as a fresh guard-exec has: load (and, when
 * `jit_all`, compile every pattern with JIT), then one decision. */
static void run_cold(const struct cg_context *template, const char *text, bool jit_all,
		     unsigned runs, struct cold_result *r)
{
	uint64_t *load = malloc(runs * sizeof(*load));
	uint64_t *first = malloc(runs * sizeof(*first));
	uint64_t *total = malloc(runs * sizeof(*total));
	if (!load || !first || !total)
		die("out of memory", NULL);
	for (unsigned k = 0; k < runs; k++) {
		struct cg_context ctx = *template;
		uint64_t t0 = now_ns();
		ctx.policy = load_policy();
		if (jit_all) {
			struct cg_error err = { 0 };
			char buf[1024];
			if (cg_policy_compile_all(ctx.policy, true, &err) < 0)
				die("cg_policy_compile_all", cg_error_format(&err, buf, sizeof(buf)));
		}
		uint64_t t1 = now_ns();
		decide_script(&ctx, text, strlen(text));
		uint64_t t2 = now_ns();
		cg_policy_free(ctx.policy);
		load[k] = t1 - t0;
		first[k] = t2 - t1;
		total[k] = t2 - t0;
	}
	r->load_median_ns = percentile(load, runs, 50);
	r->first_median_ns = percentile(first, runs, 50);
	r->total_median_ns = percentile(total, runs, 50);
	r->total_p99_ns = percentile(total, runs, 99);
	free(load);
	free(first);
	free(total);
}

static uint64_t clock_overhead_ns(void)
{
	enum { N = 20000 };
	uint64_t *v = malloc(N * sizeof(*v));
	if (!v)
		die("out of memory", NULL);
	for (int i = 0; i < N; i++) {
		uint64_t t0 = now_ns();
		v[i] = now_ns() - t0;
	}
	uint64_t median = percentile(v, N, 50);
	free(v);
	return median;
}

static void print_steady_row(const char *label, const struct steady_result *r)
{
	printf("%-40s %10zu %10llu %10llu %10.0f %12.0f %12.0f\n", label, r->decisions,
	       (unsigned long long)r->median_ns, (unsigned long long)r->p99_ns, r->mean_ns,
	       1e9 / r->mean_ns, r->cpu_mean_ns);
}

static void print_cold_row(const char *label, const struct cold_result *r)
{
	printf("%-40s %10.1f %10.1f %10.1f %10.1f\n", label, (double)r->load_median_ns / 1000.0,
	       (double)r->first_median_ns / 1000.0, (double)r->total_median_ns / 1000.0,
	       (double)r->total_p99_ns / 1000.0);
}

/* The slowest commands by median, so that a regression points at its cause. */
static void print_slowest(const struct corpus *c, const struct steady_result *r, size_t count)
{
	size_t *order = malloc(c->n * sizeof(*order));
	if (!order)
		die("out of memory", NULL);
	for (size_t i = 0; i < c->n; i++)
		order[i] = i;
	for (size_t i = 0; i < count && i < c->n; i++) {
		size_t best = i;
		for (size_t j = i + 1; j < c->n; j++)
			if (r->per_command_median_ns[order[j]] > r->per_command_median_ns[order[best]])
				best = j;
		size_t tmp = order[i];
		order[i] = order[best];
		order[best] = tmp;
		const struct command *cmd = &c->cmds[order[i]];
		printf("  %8llu ns  %s:%d  ", (unsigned long long)r->per_command_median_ns[order[i]],
		       cmd->file, cmd->line);
		for (const char *s = cmd->text; *s && s - cmd->text < 70; s++)
			putchar(*s == '\n' ? ' ' : *s);
		putchar('\n');
	}
	free(order);
}

/* Commands of one file share a shape (paths to resolve, pipelines to
 * unwrap), so a median per file says which kind of work costs. */
static void print_per_file(const struct corpus *c, const struct steady_result *r)
{
	uint64_t *v = malloc(c->n * sizeof(*v));
	if (!v)
		die("out of memory", NULL);
	for (size_t start = 0; start < c->n;) {
		size_t end = start, n = 0;
		while (end < c->n && strcmp(c->cmds[end].file, c->cmds[start].file) == 0)
			v[n++] = r->per_command_median_ns[end++];
		printf("  %-28s %4zu commands %8llu ns\n", c->cmds[start].file, n,
		       (unsigned long long)percentile(v, n, 50));
		start = end;
	}
	free(v);
}

/* Other processes disturb the figures; say how busy the machine was. */
static void print_load(void)
{
	char buf[128] = "";
	FILE *f = fopen("/proc/loadavg", "re");
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = '\0';
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	printf("load average (1 5 15 min, runnable/total, last pid): %s on %ld CPUs\n",
	       buf[0] ? buf : "unknown", cpus);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bench-decide [--rounds N] [--warmup N] [--cold-runs N] [--cpu N|-1] [--corpus DIR]\n"
		"  --rounds N     timed rounds over the corpus (default 50)\n"
		"  --warmup N     untimed rounds first (default 3)\n"
		"  --cold-runs N  fresh policy loads for the cold-start rows (default 200)\n"
		"  --cpu N        pin to CPU N (default: the highest CPU allowed); -1 leaves scheduling alone\n"
		"  --corpus DIR   the .tsv corpus (default %s/tests/corpus)\n"
		"  --keep-path    keep the caller's PATH (default: %s)\n", SRCDIR, CORPUS_PATH);
}

static unsigned parse_count(const char *s, const char *name)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v == 0 || v > 1000000)
		die("bad count for", name);
	return (unsigned)v;
}

int main(int argc, char **argv)
{
	struct options opt = {
		.corpus_dir = SRCDIR "/tests/corpus",
		.rounds = 50, .warmup_rounds = 3, .cold_runs = 200, .cpu = CPU_LAST,
	};
	static const struct option longopts[] = {
		{ "rounds", required_argument, NULL, 'r' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "cold-runs", required_argument, NULL, 'c' },
		{ "cpu", required_argument, NULL, 'p' },
		{ "corpus", required_argument, NULL, 'd' },
		{ "keep-path", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	for (int ch; (ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1;) {
		switch (ch) {
		case 'r': opt.rounds = parse_count(optarg, "--rounds"); break;
		case 'w': opt.warmup_rounds = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'c': opt.cold_runs = parse_count(optarg, "--cold-runs"); break;
		case 'p': opt.cpu = atoi(optarg); break;
		case 'd': opt.corpus_dir = optarg; break;
		case 'k': opt.keep_path = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	printf("$");
	for (int i = 0; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\n");

	if (opt.cpu == CPU_LAST) {
		cpu_set_t allowed;
		if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0)
			die("sched_getaffinity", strerror(errno));
		for (int i = 0; i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &allowed))
				opt.cpu = i;
	}
	if (opt.cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(opt.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0)
			die("sched_setaffinity (use --cpu -1 to not pin)", strerror(errno));
	}
	/* As in the corpus test: ~ expands outside the allowed paths. */
	setenv("HOME", "/root", 1);
	if (!opt.keep_path)
		setenv("PATH", CORPUS_PATH, 1);

	char fixture[64];
	fixture_create(fixture, sizeof(fixture));
	struct corpus corpus = { 0 };
	corpus_load(&corpus, opt.corpus_dir, fixture);

	struct stat st;
	const char *workspace = stat("/workspace", &st) == 0 && S_ISDIR(st.st_mode) ? "/workspace"
										     : fixture;
	char workspace_real[PATH_MAX];
	if (!realpath(workspace, workspace_real))
		die(workspace, strerror(errno));
	struct cg_context ctx = { .workspace = workspace_real };

	printf("corpus: %zu commands in %d files from %s; workspace %s\n", corpus.n, corpus.n_files,
	       opt.corpus_dir, workspace_real);
	printf("PATH=%s\n", getenv("PATH") ? getenv("PATH") : "");
	print_load();
	char pinned[32] = "not pinned";
	if (opt.cpu >= 0)
		snprintf(pinned, sizeof(pinned), "pinned to CPU %d", opt.cpu);
	printf("%u timed rounds after %u warm-up rounds; %s; clock_gettime pair %llu ns (included)\n\n",
	       opt.rounds, opt.warmup_rounds, pinned,
	       (unsigned long long)clock_overhead_ns());

	struct steady_result lazy = { 0 }, jit = { 0 };
	ctx.policy = load_policy();
	run_steady(&ctx, &corpus, &opt, &lazy);
	cg_policy_free(ctx.policy);

	ctx.policy = load_policy();
	struct cg_error err = { 0 };
	char buf[1024];
	if (cg_policy_compile_all(ctx.policy, true, &err) < 0)
		die("cg_policy_compile_all", cg_error_format(&err, buf, sizeof(buf)));
	run_steady(&ctx, &corpus, &opt, &jit);
	cg_policy_free(ctx.policy);
	ctx.policy = NULL;

	printf("%-40s %10s %10s %10s %10s %12s %12s\n", "per decision (steady state)", "decisions",
	       "median ns", "p99 ns", "mean ns", "decisions/s", "cpu ns/dec");
	print_steady_row("(a) lazy compile, no JIT (default)", &lazy);
	print_steady_row("(b) compile_all with JIT", &jit);

	size_t n_blocked = 0, n_differ = 0;
	for (size_t i = 0; i < corpus.n; i++) {
		n_blocked += lazy.verdicts[i] == CG_BLOCK;
		if (lazy.verdicts[i] != jit.verdicts[i]) {
			if (n_differ++ == 0)
				printf("\n");
			printf("VERDICTS DIFFER with JIT: %s:%d\n", corpus.cmds[i].file, corpus.cmds[i].line);
		}
	}
	printf("verdicts: %zu blocked, %zu allowed; JIT and no-JIT agree on %zu of %zu\n",
	       n_blocked, corpus.n - n_blocked, corpus.n - n_differ, corpus.n);

	struct cold_result cold_allow, cold_block, cold_jit;
	run_cold(&ctx, "npm test", false, opt.cold_runs, &cold_allow);
	run_cold(&ctx, "rm -rf /", false, opt.cold_runs, &cold_block);
	run_cold(&ctx, "rm -rf /", true, opt.cold_runs, &cold_jit);
	printf("\n%-40s %10s %10s %10s %10s\n", "(c) cold start, median of runs", "load us",
	       "1st dec us", "total us", "total p99");
	print_cold_row("load + first decision: npm test", &cold_allow);
	print_cold_row("load + first decision: rm -rf /", &cold_block);
	print_cold_row("load + compile_all JIT + rm -rf /", &cold_jit);
	printf("(%u runs each; load includes parsing the built-in policy)\n", opt.cold_runs);

	printf("\nper corpus file, (a): median of the per-command medians\n");
	print_per_file(&corpus, &lazy);
	printf("\nslowest commands, (a) median:\n");
	print_slowest(&corpus, &lazy, 5);

	free(lazy.per_command_median_ns);
	free(lazy.verdicts);
	free(jit.per_command_median_ns);
	free(jit.verdicts);
	corpus_free(&corpus);
	fixture_remove(fixture);
	return 0;
}
