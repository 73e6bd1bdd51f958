/* test-corpus.c - every command of tests/corpus/ gets its expected verdict.
 *
 * The corpus is data (the .tsv files in tests/corpus/, format in each file's header);
 * this file only reads it and asks cg_decide().  A failing run lists every
 * mismatch with file:line, so one run shows the whole picture instead of
 * the first disagreement.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guard/guard.h"

#define CORPUS_DIR SRCDIR "/tests/corpus"
#define FIXTURE_TOKEN "@FIXTURE@"
#define CORPUS_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char *const categories[] = {
	"system-modification", "privilege", "user-management", "network-tool",
	"process-control", "fork-bomb", "injection", "path", "parse",
};
#define N_CATEGORIES (sizeof(categories) / sizeof(categories[0]))

struct entry {
	char file[NAME_MAX + 1];
	int line;
	bool expect_block;
	char category[32];
	char *command;   /* escapes decoded, @FIXTURE@ replaced */
	size_t len;
};

struct corpus {
	struct entry *entries;
	size_t n, cap;
	/* Malformed lines: reported together with the mismatches. */
	char *problems;
	size_t problems_len;
	FILE *problems_out;
};

static void corpus_free(struct corpus *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->entries[i].command);
	free(c->entries);
	if (c->problems_out)
		fclose(c->problems_out);
	free(c->problems);
}

/* "\t", "\n" and "\\" only: any other backslash is a typo in the data, and
 * guessing would make the corpus say something its author did not write. */
static int decode_escapes(const char *in, char *out, size_t *out_len, char *bad)
{
	size_t n = 0;
	for (const char *s = in; *s; s++) {
		if (*s != '\\') {
			out[n++] = *s;
			continue;
		}
		switch (s[1]) {
		case 't': out[n++] = '\t'; break;
		case 'n': out[n++] = '\n'; break;
		case '\\': out[n++] = '\\'; break;
		default:
			*bad = s[1];
			return -EINVAL;
		}
		s++;
	}
	out[n] = '\0';
	*out_len = n;
	return 0;
}

static char *replace_fixture(const char *text, const char *fixture)
{
	size_t token_len = strlen(FIXTURE_TOKEN), fixture_len = strlen(fixture);
	size_t count = 0;
	for (const char *s = strstr(text, FIXTURE_TOKEN); s; s = strstr(s + token_len, FIXTURE_TOKEN))
		count++;
	char *out = malloc(strlen(text) + count * fixture_len + 1);
	cr_assert_not_null(out);
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

static bool is_known_category(const char *category)
{
	for (size_t i = 0; i < N_CATEGORIES; i++)
		if (strcmp(category, categories[i]) == 0)
			return true;
	return false;
}

static void parse_line(struct corpus *c, const char *file, int line_no, char *line,
		       const char *fixture)
{
	char *tab1 = strchr(line, '\t');
	char *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
	if (!tab2 || strchr(tab2 + 1, '\t')) {
		fprintf(c->problems_out, "%s:%d: corpus line needs exactly 3 tab-separated fields\n",
			file, line_no);
		return;
	}
	*tab1 = *tab2 = '\0';
	const char *verdict = line, *category = tab1 + 1, *command = tab2 + 1;

	struct entry e = { .line = line_no };
	snprintf(e.file, sizeof(e.file), "%s", file);
	if (strcmp(verdict, "allow") == 0 && strcmp(category, "-") == 0) {
		e.expect_block = false;
	} else if (strcmp(verdict, "block") == 0 && is_known_category(category)) {
		e.expect_block = true;
		snprintf(e.category, sizeof(e.category), "%s", category);
	} else {
		fprintf(c->problems_out, "%s:%d: bad verdict/category '%s' '%s'\n",
			file, line_no, verdict, category);
		return;
	}
	if (*command == '\0') {
		fprintf(c->problems_out, "%s:%d: empty command\n", file, line_no);
		return;
	}

	char *decoded = malloc(strlen(command) + 1);
	cr_assert_not_null(decoded);
	char bad = 0;
	if (decode_escapes(command, decoded, &e.len, &bad) < 0) {
		fprintf(c->problems_out, "%s:%d: unknown escape '\\%c' (only \\t \\n \\\\)\n",
			file, line_no, bad ? bad : '0');
		free(decoded);
		return;
	}
	e.command = replace_fixture(decoded, fixture);
	e.len = strlen(e.command);
	free(decoded);

	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 512;
		c->entries = realloc(c->entries, c->cap * sizeof(*c->entries));
		cr_assert_not_null(c->entries);
	}
	c->entries[c->n++] = e;
}

static int select_tsv(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return n > 4 && strcmp(d->d_name + n - 4, ".tsv") == 0;
}

static void corpus_load(struct corpus *c, const char *fixture)
{
	memset(c, 0, sizeof(*c));
	c->problems_out = open_memstream(&c->problems, &c->problems_len);
	cr_assert_not_null(c->problems_out);

	struct dirent **names;
	int n_files = scandir(CORPUS_DIR, &names, select_tsv, alphasort);
	cr_assert_gt(n_files, 0, "no *.tsv files in %s: %s", CORPUS_DIR,
		     n_files < 0 ? strerror(errno) : "directory is empty");
	for (int i = 0; i < n_files; i++) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s", CORPUS_DIR, names[i]->d_name);
		FILE *f = fopen(path, "re");
		cr_assert_not_null(f, "cannot open %s: %s", path, strerror(errno));
		char *line = NULL;
		size_t cap = 0;
		ssize_t len;
		int line_no = 0;
		while ((len = getline(&line, &cap, f)) >= 0) {
			line_no++;
			while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
				line[--len] = '\0';
			if (len == 0 || line[0] == '#')
				continue;
			parse_line(c, names[i]->d_name, line_no, line, fixture);
		}
		free(line);
		fclose(f);
		free(names[i]);
	}
	free(names);
	fflush(c->problems_out);
}

/* A directory under /tmp (an allowed path) with a symlink that leads out
 * of it, so that the corpus can prove symlinks are resolved. */
struct fixture {
	char dir[64];
};

static void fixture_path(const struct fixture *fx, const char *name, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", fx->dir, name);
}

static void fixture_create(struct fixture *fx)
{
	char path[PATH_MAX];
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/cg-corpus-XXXXXX");
	cr_assert_not_null(mkdtemp(fx->dir), "mkdtemp: %s", strerror(errno));
	fixture_path(fx, "data", path, sizeof(path));
	cr_assert_eq(mkdir(path, 0700), 0, "mkdir %s: %s", path, strerror(errno));
	fixture_path(fx, "data/readme.txt", path, sizeof(path));
	FILE *f = fopen(path, "we");
	cr_assert_not_null(f, "create %s: %s", path, strerror(errno));
	fputs("fixture\n", f);
	fclose(f);
	fixture_path(fx, "data-link", path, sizeof(path));
	cr_assert_eq(symlink("data", path), 0, "symlink %s: %s", path, strerror(errno));
	fixture_path(fx, "etc-link", path, sizeof(path));
	cr_assert_eq(symlink("/etc", path), 0, "symlink %s: %s", path, strerror(errno));
}

static void fixture_remove(const struct fixture *fx)
{
	static const char *const names[] = { "data-link", "etc-link", "data/readme.txt" };
	char path[PATH_MAX];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		fixture_path(fx, names[i], path, sizeof(path));
		unlink(path);
	}
	fixture_path(fx, "data", path, sizeof(path));
	rmdir(path);
	rmdir(fx->dir);
}

/* The categories of the seed's blocked-command list, whose message keeps
 * its wording: "Command contains blocked operation: sudo". */
#define BLOCKED_OPERATION "Command contains blocked operation: "

static bool is_command_rule_category(const char *category)
{
	static const char *const seeded[] = {
		"system-modification", "privilege", "user-management", "network-tool",
		"process-control", "fork-bomb",
	};
	for (size_t i = 0; i < sizeof(seeded) / sizeof(seeded[0]); i++)
		if (strcmp(category, seeded[i]) == 0)
			return true;
	return false;
}

/* DESIGN.md keeps the seed's wording: "Path '/etc/shadow' is not in allowed paths". */
static bool is_path_message(const char *message)
{
	static const char head[] = "Path '", tail[] = "' is not in allowed paths";
	size_t len = strlen(message);
	return len > strlen(head) + strlen(tail) && strncmp(message, head, strlen(head)) == 0 &&
	       strcmp(message + len - strlen(tail), tail) == 0;
}

Test(corpus, is_large_enough_and_covers_every_blocked_category)
{
	struct corpus c;
	corpus_load(&c, "/tmp/cg-corpus-fixture");

	size_t n_allowed = 0, per_category[N_CATEGORIES] = { 0 };
	for (size_t i = 0; i < c.n; i++) {
		if (!c.entries[i].expect_block) {
			n_allowed++;
			continue;
		}
		for (size_t k = 0; k < N_CATEGORIES; k++)
			if (strcmp(c.entries[i].category, categories[k]) == 0)
				per_category[k]++;
	}

	cr_expect_eq(c.problems_len, 0, "malformed corpus lines:\n%s", c.problems);
	cr_expect_geq(c.n, 260, "the corpus has %zu commands, it needs at least 260", c.n);
	cr_expect_geq(n_allowed, 100, "the corpus has %zu allowed commands, it needs at least 100",
		      n_allowed);
	for (size_t k = 0; k < N_CATEGORIES; k++)
		cr_expect_geq(per_category[k], 4, "category %s has %zu commands, it needs at least 4",
			      categories[k], per_category[k]);
	corpus_free(&c);
}

/* Blocked commands live in the file named after their category and the
 * allowed ones in ci-allowed.tsv, so a reader finds a case where it
 * belongs; a command listed twice would count twice and could contradict
 * itself. */
Test(corpus, files_hold_their_own_category_and_no_command_twice)
{
	struct corpus c;
	corpus_load(&c, "/tmp/cg-corpus-fixture");

	char *report = NULL;
	size_t report_len = 0;
	FILE *out = open_memstream(&report, &report_len);
	cr_assert_not_null(out);
	for (size_t i = 0; i < c.n; i++) {
		const struct entry *e = &c.entries[i];
		char expected_file[NAME_MAX + 1];
		snprintf(expected_file, sizeof(expected_file), "%s.tsv",
			 e->expect_block ? e->category : "ci-allowed");
		if (strcmp(e->file, expected_file) != 0)
			fprintf(out, "%s:%d: belongs in %s\n", e->file, e->line, expected_file);
		for (size_t j = 0; j < i; j++)
			if (strcmp(c.entries[j].command, e->command) == 0)
				fprintf(out, "%s:%d: same command as %s:%d\n", e->file, e->line,
					c.entries[j].file, c.entries[j].line);
	}
	fclose(out);
	cr_expect_eq(report_len, 0, "misplaced or repeated corpus lines:\n%s", report);
	free(report);
	corpus_free(&c);
}

Test(corpus, every_command_gets_its_expected_verdict_and_category)
{
	/* ~ must expand outside the allowed paths whoever runs the tests, and
	 * should the engine look programs up, it must find the same ones. */
	cr_assert_eq(setenv("HOME", "/root", 1), 0);
	cr_assert_eq(setenv("PATH", CORPUS_PATH, 1), 0);

	struct fixture fx;
	fixture_create(&fx);
	struct corpus c;
	corpus_load(&c, fx.dir);

	struct cg_error err = { 0 };
	struct cg_policy *policy = NULL;
	char buf[1024];
	int rc = cg_policy_load(&policy, NULL, &err);
	cr_assert_eq(rc, 0, "the built-in policy does not load: %s",
		     cg_error_format(&err, buf, sizeof(buf)));

	/* Commands that name /workspace literally rely on /workspace being in
	 * the default allowlist, so a temporary workspace changes nothing for
	 * them; relative paths resolve into it. */
	struct stat st;
	const char *workspace = stat("/workspace", &st) == 0 && S_ISDIR(st.st_mode) ? "/workspace"
										     : fx.dir;
	char workspace_real[PATH_MAX];
	cr_assert_not_null(realpath(workspace, workspace_real), "realpath %s: %s", workspace,
			   strerror(errno));
	struct cg_context ctx = { .policy = policy, .workspace = workspace_real, .profile = NULL };

	char *report = NULL;
	size_t report_len = 0;
	FILE *out = open_memstream(&report, &report_len);
	cr_assert_not_null(out);
	size_t n_mismatches = 0;
	for (size_t i = 0; i < c.n; i++) {
		const struct entry *e = &c.entries[i];
		struct cg_event ev = { .kind = CG_EV_SCRIPT };
		ev.u.script.text = e->command;
		ev.u.script.len = e->len;
		struct cg_reason why;
		memset(&why, 0, sizeof(why));
		enum cg_verdict got = cg_decide(&ctx, &ev, &why);

		const char *problem = NULL;
		if (got != CG_ALLOW && got != CG_BLOCK)
			problem = "verdict is neither allow nor block";
		else if (!e->expect_block && got == CG_BLOCK)
			problem = "false positive";
		else if (e->expect_block && got == CG_ALLOW)
			problem = "not blocked";
		else if (e->expect_block && strcmp(why.category, e->category) != 0)
			problem = "wrong category";
		else if (e->expect_block && why.message[0] == '\0')
			problem = "blocked without a reason";
		else if (e->expect_block && strcmp(e->category, "path") == 0 && !is_path_message(why.message))
			problem = "path message not in the seed's wording";
		else if (e->expect_block && is_command_rule_category(e->category) &&
			 strncmp(why.message, BLOCKED_OPERATION, strlen(BLOCKED_OPERATION)) != 0)
			problem = "rule message not in the seed's wording";
		if (!problem)
			continue;

		n_mismatches++;
		fprintf(out, "%s:%d: %s: expected %s%s, got %s", e->file, e->line, problem,
			e->expect_block ? "block/" : "allow", e->category,
			got == CG_BLOCK ? "block" : got == CG_ALLOW ? "allow" : "?");
		if (got == CG_BLOCK)
			fprintf(out, "/%s (rule '%s'): %s", why.category, why.rule, why.message);
		fputs("\n    command: ", out);
		for (const char *s = e->command; *s; s++) {
			if (*s == '\n')
				fputs("\\n", out);
			else if (*s == '\t')
				fputs("\\t", out);
			else
				fputc(*s, out);
		}
		fputc('\n', out);
	}
	fclose(out);

	fixture_remove(&fx);
	cg_policy_free(policy);
	size_t n_total = c.n;
	bool has_problems = c.problems_len > 0;
	char *problems = has_problems ? strdup(c.problems) : NULL;
	corpus_free(&c);

	cr_expect_not(has_problems, "malformed corpus lines:\n%s", problems ? problems : "");
	free(problems);
	cr_expect_eq(n_mismatches, 0, "%zu of %zu corpus commands got the wrong verdict:\n%s",
		     n_mismatches, n_total, report);
	free(report);
}
