/* cmd-state.c - `guardctl events`, `guardctl profile check` and
 * `guardctl ratelimit`: parse the arguments, call guard/, print. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cmd-state.h"
#include "guard/guard.h"

#define EXIT_OK 0
#define EXIT_GUARD_ERROR 125
#define EXIT_BLOCKED 126

static int usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "guardctl: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return EXIT_GUARD_ERROR;
}

static int fail(const struct cg_error *err)
{
	char buf[1024];

	fprintf(stderr, "guardctl: %s\n", cg_error_format(err, buf, sizeof(buf)));
	return EXIT_GUARD_ERROR;
}

/* "--name VALUE" or "--name=VALUE" at argv[*i]: true and *value set, with
 * *i on the last word used.  A missing value leaves *value NULL. */
static bool option_value(int argc, char **argv, int *i, const char *name, const char **value)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return false;
	if (argv[*i][n] == '=') {
		*value = argv[*i] + n + 1;
		return true;
	}
	if (argv[*i][n] != '\0')
		return false;
	*value = *i + 1 < argc ? argv[++*i] : NULL;
	return true;
}

/* Terminal-safe text: control characters of a logged command could
 * otherwise move the cursor or rewrite the screen of whoever reads it.
 * Returns the number of columns printed. */
static size_t print_safe(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\n')
			n += fputs("\\n", stdout) >= 0 ? 2 : 0;
		else if (c == '\t')
			n += fputs("\\t", stdout) >= 0 ? 2 : 0;
		else if (c < 0x20 || c == 0x7f)
			n += printf("\\x%02x", c);
		else if (putchar(c) != EOF && (c & 0xc0) != 0x80)
			n++;
	}
	return n;
}

/* A table cell: safe text, then spaces up to `width` and two more. */
static void print_cell(const char *s, size_t width)
{
	size_t n = print_safe(s);

	printf("%*s", (int)(n < width ? width - n + 2 : 2), "");
}

/* ---------- events ---------- */

/* "90s", "30m", "1h", "2d", or plain seconds. */
static int parse_duration(const char *text, int64_t *seconds)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(text, &end, 10);
	if (errno || end == text || n < 0)
		return -EINVAL;
	switch (*end) {
	case '\0':
	case 's': break;
	case 'm': n *= 60; break;
	case 'h': n *= 3600; break;
	case 'd': n *= 86400; break;
	default: return -EINVAL;
	}
	if (*end && end[1])
		return -EINVAL;
	*seconds = n;
	return 0;
}

static const char *text_of(json_t *rec, const char *key)
{
	const char *s = json_string_value(json_object_get(rec, key));

	return s ? s : "";
}

static int print_json_line(void *arg, json_t *rec)
{
	char *line = json_dumps(rec, JSON_COMPACT);

	if (!line)
		return -ENOMEM;
	puts(line);
	free(line);
	return 0;
}

static int print_table_row(void *arg, json_t *rec)
{
	const char *type = text_of(rec, "type");
	char when[20], outcome[24], rule[96];

	/* "2026-11-24T11:37:30.123Z" shown as "2026-11-24 11:37:30" (UTC) */
	snprintf(when, sizeof(when), "%s", text_of(rec, "time"));
	if (strlen(when) > 10)
		when[10] = ' ';

	if (strcmp(type, "run") == 0) {
		if (json_is_true(json_object_get(rec, "timed_out")))
			snprintf(outcome, sizeof(outcome), "timeout");
		else if (json_integer_value(json_object_get(rec, "signal")) > 0)
			snprintf(outcome, sizeof(outcome), "sig %lld",
				 (long long)json_integer_value(json_object_get(rec, "signal")));
		else
			snprintf(outcome, sizeof(outcome), "exit %lld",
				 (long long)json_integer_value(json_object_get(rec, "exit_code")));
	} else {
		snprintf(outcome, sizeof(outcome), "%s", text_of(rec, "verdict"));
	}
	if (*text_of(rec, "rule"))
		snprintf(rule, sizeof(rule), "%s/%s", text_of(rec, "category"), text_of(rec, "rule"));
	else
		snprintf(rule, sizeof(rule), "%s", text_of(rec, "category"));

	print_cell(when, 19);
	print_cell(type, 8);
	print_cell(text_of(rec, "ticket"), 14);
	print_cell(outcome, 7);
	print_cell(rule[0] ? rule : "-", 30);
	if (strcmp(type, "denial") == 0) {
		print_safe(text_of(rec, "syscall"));
		putchar(' ');
		print_safe(text_of(rec, "detail"));
	} else {
		print_safe(text_of(rec, "command"));
	}
	putchar('\n');
	return 0;
}

int cg_cmd_events(int argc, char **argv, const char *state_dir)
{
	char default_file[PATH_MAX];

	if (snprintf(default_file, sizeof(default_file), "%s/%s", state_dir, CG_AUDIT_FILE) >=
	    (int)sizeof(default_file))
		return usage("state directory name too long: %s", state_dir);
	return cg_cmd_events_in(argc, argv, default_file);
}

int cg_cmd_events_in(int argc, char **argv, const char *default_file)
{
	struct cg_audit_filter filter = { 0, NULL, NULL };
	struct cg_error err = { 0 };
	const char *file = NULL, *since = NULL;
	bool is_json = false;
	size_t n_malformed = 0;
	int r;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			is_json = true;
		} else if (option_value(argc, argv, &i, "--since", &since)) {
			int64_t seconds;
			if (!since || parse_duration(since, &seconds) < 0)
				return usage("--since needs a duration such as 90s, 30m, 1h or 2d, not '%s'",
					     since ? since : "");
			filter.since_s = (int64_t)time(NULL) - seconds;
			if (filter.since_s <= 0)
				filter.since_s = 1;
		} else if (option_value(argc, argv, &i, "--type", &filter.type)) {
			if (!filter.type || !cg_audit_type_valid(filter.type))
				return usage("--type is one of decision, run, denial, blocked, allowed, not '%s'",
					     filter.type ? filter.type : "");
		} else if (option_value(argc, argv, &i, "--ticket", &filter.ticket)) {
			if (!filter.ticket)
				return usage("%s needs a ticket id", "--ticket");
		} else if (option_value(argc, argv, &i, "--file", &file)) {
			if (!file)
				return usage("%s needs a file name", "--file");
		} else {
			return usage("events: unknown argument '%s'\n"
				     "usage: guardctl events [--since DUR] [--type T] [--ticket ID] [--json] [--file F]",
				     argv[i]);
		}
	}
	if (!file)
		file = default_file;

	if (!is_json)
		printf("%-19s  %-8s  %-14s  %-7s  %-30s  %s\n", "TIME (UTC)", "TYPE", "TICKET",
		       "VERDICT", "CATEGORY/RULE", "COMMAND");
	r = cg_audit_query(file, &filter, is_json ? print_json_line : print_table_row, NULL,
			   &n_malformed, &err);
	if (r == -ENOENT) {
		fprintf(stderr, "guardctl: no audit log at %s (nothing recorded yet)\n", file);
		return EXIT_OK;
	}
	if (r < 0)
		return r == -ENOMEM ? usage("%s", "out of memory") : fail(&err);
	if (n_malformed)
		fprintf(stderr, "guardctl: %s: %zu line(s) that are not JSON records skipped\n", file,
			n_malformed);
	return EXIT_OK;
}

/* ---------- profile check ---------- */

int cg_cmd_profile_check(int argc, char **argv, struct cg_policy *policy, const char *workspace)
{
	struct cg_profile *profile = NULL;
	struct cg_error err = { 0 };
	size_t n_blocked = 0, name_width = 4;
	const char *file, *name, *command;
	int r;

	if (argc != 3 || strcmp(argv[1], "check") != 0)
		return usage("%s", "usage: guardctl profile check FILE");
	file = argv[2];
	r = cg_profile_load(&profile, file, &err);
	if (r < 0)
		return fail(&err);

	struct cg_context ctx = { .policy = policy, .workspace = workspace, .profile = profile };

	for (size_t i = 0; cg_profile_entry(profile, i, &name, NULL); i++)
		if (strlen(name) > name_width)
			name_width = strlen(name);
	printf("%s: %zu command(s)\n", file, cg_profile_count(profile));
	for (size_t i = 0; cg_profile_entry(profile, i, &name, &command); i++) {
		struct cg_event ev = { .kind = CG_EV_SCRIPT };
		struct cg_reason why = { 0 };
		enum cg_verdict verdict;

		ev.u.script.text = command;
		ev.u.script.len = strlen(command);
		verdict = cg_decide(&ctx, &ev, &why);
		printf("  ");
		print_cell(name, name_width);
		print_cell(verdict == CG_ALLOW ? "allow" : "block", 5);
		print_safe(command);
		putchar('\n');
		if (verdict != CG_ALLOW) {
			char reason[1024];
			n_blocked++;
			printf("  %*s  %5s  ", (int)name_width, "", "");
			print_safe(cg_reason_format(&why, reason, sizeof(reason)));
			putchar('\n');
		}
	}
	cg_profile_free(profile);
	if (n_blocked) {
		fprintf(stderr, "guardctl: %s lists %zu command(s) that the policy blocks\n", file,
			n_blocked);
		return EXIT_BLOCKED;
	}
	return EXIT_OK;
}

/* ---------- ratelimit ---------- */

static int print_usage_row(void *arg, const struct cg_ratelimit_usage *u)
{
	printf("%6u  %9us  ", u->runs, u->next_free_s);
	print_safe(u->command);
	putchar('\n');
	(*(unsigned *)arg)++;
	return 0;
}

int cg_cmd_ratelimit(int argc, char **argv, const char *state_dir)
{
	static const char usage_text[] =
		"usage: guardctl ratelimit reset --ticket ID | guardctl ratelimit show --ticket ID";
	struct cg_ratelimit *rl = NULL;
	struct cg_error err = { 0 };
	const char *ticket = NULL, *verb;
	char path[PATH_MAX];
	unsigned n_rows = 0;
	int r;

	if (argc < 2 || (strcmp(argv[1], "reset") != 0 && strcmp(argv[1], "show") != 0))
		return usage("%s", usage_text);
	verb = argv[1];
	for (int i = 2; i < argc; i++) {
		if (!option_value(argc, argv, &i, "--ticket", &ticket) || !ticket || !ticket[0])
			return usage("%s", usage_text);
	}
	if (!ticket)
		return usage("%s", usage_text);
	/* Looking must not create the state: no file means no runs. */
	if (snprintf(path, sizeof(path), "%s/%s", state_dir, CG_RATELIMIT_FILE) >= (int)sizeof(path))
		return usage("state directory name too long: %s", state_dir);
	if (access(path, F_OK) < 0 && errno == ENOENT) {
		printf("no rate-limit state at %s: ticket ", path);
		print_safe(ticket);
		printf(" has no recorded runs\n");
		return EXIT_OK;
	}
	r = cg_ratelimit_open(&rl, state_dir, &err);
	if (r < 0)
		return fail(&err);
	if (strcmp(verb, "reset") == 0) {
		r = cg_ratelimit_reset(rl, ticket, &err);
		if (r >= 0) {
			printf("ticket ");
			print_safe(ticket);
			printf(": %d recorded run(s) forgotten\n", r);
		}
	} else {
		printf("%6s  %10s  %s\n", "RUNS", "NEXT FREE", "COMMAND");
		r = cg_ratelimit_list(rl, ticket, print_usage_row, &n_rows, &err);
		if (r >= 0 && n_rows == 0) {
			printf("(no runs of ticket ");
			print_safe(ticket);
			printf(" inside their window)\n");
		}
	}
	cg_ratelimit_close(rl);
	return r < 0 ? fail(&err) : EXIT_OK;
}
