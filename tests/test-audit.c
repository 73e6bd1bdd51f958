/* The audit log: records parsed back with jansson, atomic appends from
 * many processes, failures that are reported, and the search filters. */
#include <criterion/criterion.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "guard/guard.h"

static char *fresh_file(const char *name)
{
	char dir[] = "/tmp/cg-audit-XXXXXX";
	char *path;

	cr_assert_not_null(mkdtemp(dir));
	cr_assert_gt(asprintf(&path, "%s/%s", dir, name), 0);
	return path;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* Remove the directory fresh_file() made for `path`, and free the name. */
static void remove_log(char *path)
{
	path[strlen("/tmp/cg-audit-XXXXXX")] = '\0';
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(path);
}

static struct cg_audit *open_log(const char *path)
{
	struct cg_audit *a = NULL;
	struct cg_error err = { 0 };
	int r = cg_audit_open(&a, path, false, &err);

	cr_assert_eq(r, 0, "open %s: %d %s", path, r, err.message);
	return a;
}

/* Every line of the file, parsed; the test fails on a line that is not an object. */
static json_t *read_lines(const char *path)
{
	json_t *lines = json_array();
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	cr_assert_not_null(f);
	while ((n = getline(&line, &cap, f)) > 0) {
		json_error_t jerr;
		cr_assert_eq(line[n - 1], '\n', "every record ends its line");
		json_t *rec = json_loads(line, 0, &jerr);
		cr_assert(json_is_object(rec), "not a JSON object: %s (%s)", line, jerr.text);
		json_array_append_new(lines, rec);
	}
	free(line);
	fclose(f);
	return lines;
}

static const char *str(json_t *rec, const char *key)
{
	const char *s = json_string_value(json_object_get(rec, key));

	cr_assert_not_null(s, "field %s missing", key);
	return s;
}

static const struct cg_audit_info info = {
	.run_id = "run-1", .ticket = "TICKET-123", .user = "runner",
	.workspace = "/workspace", .command = "npm test",
};

Test(audit, a_blocked_decision_is_logged_with_every_field)
{
	char *path = fresh_file("audit.jsonl");
	struct cg_audit *a = open_log(path);
	struct cg_error err;
	struct cg_reason why = { "system-modification", "rm-root",
				 "Command contains blocked operation: rm -rf /", "static" };
	struct cg_audit_info rm = info;
	int64_t at_ms;

	rm.command = "rm -rf /";
	cr_assert_eq(cg_audit_decision(a, &rm, CG_BLOCK, &why, &err), 0);
	cg_audit_close(a);

	json_t *lines = read_lines(path);
	cr_assert_eq(json_array_size(lines), 1);
	json_t *rec = json_array_get(lines, 0);
	cr_assert_str_eq(str(rec, "type"), "decision");
	cr_assert_str_eq(str(rec, "run_id"), "run-1");
	cr_assert_str_eq(str(rec, "ticket"), "TICKET-123");
	cr_assert_str_eq(str(rec, "user"), "runner");
	cr_assert_str_eq(str(rec, "workspace"), "/workspace");
	cr_assert_str_eq(str(rec, "command"), "rm -rf /");
	cr_assert_str_eq(str(rec, "verdict"), "block");
	cr_assert_str_eq(str(rec, "category"), "system-modification");
	cr_assert_str_eq(str(rec, "rule"), "rm-root");
	cr_assert_str_eq(str(rec, "reason"), "Command contains blocked operation: rm -rf /");
	cr_assert_str_eq(str(rec, "layer"), "static");
	cr_assert_eq(cg_audit_time_parse(str(rec, "time"), &at_ms), 0, "%s", str(rec, "time"));
	cr_assert_lt(llabs(at_ms / 1000 - (int64_t)time(NULL)), 60, "time is now, in UTC");
	json_decref(lines);
	remove_log(path);
}

Test(audit, a_run_record_carries_the_outcome)
{
	char *path = fresh_file("audit.jsonl");
	struct cg_audit *a = open_log(path);
	struct cg_error err;
	struct cg_run_result res = { .exit_code = 124, .signal = 0, .timed_out = true,
				     .duration_s = 300.5, .stdout_bytes = 1000, .stderr_bytes = 48,
				     .truncated = true };

	cr_assert_eq(cg_audit_run(a, &info, &res, &err), 0);
	cg_audit_close(a);

	json_t *lines = read_lines(path);
	json_t *rec = json_array_get(lines, 0);
	cr_assert_str_eq(str(rec, "type"), "run");
	cr_assert_eq(json_integer_value(json_object_get(rec, "exit_code")), 124);
	cr_assert_eq(json_integer_value(json_object_get(rec, "signal")), 0);
	cr_assert_float_eq(json_real_value(json_object_get(rec, "duration_s")), 300.5, 1e-9);
	cr_assert(json_is_true(json_object_get(rec, "timed_out")));
	cr_assert_eq(json_integer_value(json_object_get(rec, "output_bytes")), 1048);
	cr_assert(json_is_true(json_object_get(rec, "truncated")));
	json_decref(lines);
	remove_log(path);
}

Test(audit, a_denial_record_names_the_syscall_and_its_target)
{
	char *path = fresh_file("audit.jsonl");
	struct cg_audit *a = open_log(path);
	struct cg_error err;
	struct cg_denial d = { .syscall = "openat", .detail = "/etc/shadow", .pid = 4242,
			       .why = { "path", "", "Path '/etc/shadow' is not in allowed paths",
					"seccomp" } };

	cr_assert_eq(cg_audit_denial(a, &info, &d, CG_BLOCK, &err), 0);
	cg_audit_close(a);

	json_t *lines = read_lines(path);
	json_t *rec = json_array_get(lines, 0);
	cr_assert_str_eq(str(rec, "type"), "denial");
	cr_assert_str_eq(str(rec, "verdict"), "block");
	cr_assert_str_eq(str(rec, "syscall"), "openat");
	cr_assert_str_eq(str(rec, "detail"), "/etc/shadow");
	cr_assert_str_eq(str(rec, "layer"), "seccomp");
	cr_assert_null(json_object_get(rec, "rule"), "an empty rule is left out");
	cr_assert_eq(json_integer_value(json_object_get(rec, "pid")), 4242);
	json_decref(lines);
	remove_log(path);
}

Test(audit, a_record_keeps_its_own_time_and_the_callers_object_is_untouched)
{
	char *path = fresh_file("audit.jsonl");
	struct cg_audit *a = open_log(path);
	struct cg_error err;
	json_t *mine = json_pack("{s:s, s:s}", "type", "decision", "time", "2020-01-02T03:04:05.678Z");
	json_t *untimed = json_pack("{s:s}", "type", "run");

	cr_assert_eq(cg_audit_write(a, mine, &err), 0);
	cr_assert_eq(cg_audit_write(a, untimed, &err), 0);
	cr_assert_null(json_object_get(untimed, "time"), "the borrowed record was not changed");
	cg_audit_close(a);

	json_t *lines = read_lines(path);
	cr_assert_str_eq(str(json_array_get(lines, 0), "time"), "2020-01-02T03:04:05.678Z");
	cr_assert_not_null(json_object_get(json_array_get(lines, 1), "time"));
	json_decref(mine);
	json_decref(untimed);
	json_decref(lines);
	remove_log(path);
}

Test(audit, the_log_and_its_directory_are_created_private)
{
	char *dir_file = fresh_file("nested/deeper/audit.jsonl");
	struct stat st;
	struct cg_audit *a = open_log(dir_file);

	cg_audit_close(a);
	cr_assert_eq(stat(dir_file, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600);
	*strrchr(dir_file, '/') = '\0';
	cr_assert_eq(stat(dir_file, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0700);
	remove_log(dir_file);
}

Test(audit, records_from_many_processes_never_interleave)
{
	char *path = fresh_file("audit.jsonl");
	char command[6000];
	pid_t pids[16];

	/* Long records: a write this size is where split writes would show. */
	memset(command, 'x', sizeof(command) - 1);
	command[sizeof(command) - 1] = '\0';
	for (int i = 0; i < 16; i++) {
		pids[i] = fork();
		cr_assert_geq(pids[i], 0);
		if (pids[i] == 0) {
			struct cg_audit *a = NULL;
			struct cg_error err;
			struct cg_audit_info mine = info;
			char run_id[16];

			snprintf(run_id, sizeof(run_id), "child-%d", i);
			mine.run_id = run_id;
			mine.command = command;
			if (cg_audit_open(&a, path, false, &err) < 0)
				_exit(1);
			for (int j = 0; j < 100; j++)
				if (cg_audit_decision(a, &mine, CG_ALLOW, NULL, &err) < 0)
					_exit(1);
			cg_audit_close(a);
			_exit(0);
		}
	}
	for (int i = 0; i < 16; i++) {
		int status;
		cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	json_t *lines = read_lines(path);   /* fails on any torn line */
	cr_assert_eq(json_array_size(lines), 1600);
	json_decref(lines);
	remove_log(path);
}

Test(audit, a_command_that_is_not_utf8_is_still_logged)
{
	char *path = fresh_file("audit.jsonl");
	struct cg_audit *a = open_log(path);
	struct cg_error err;
	struct cg_audit_info bad = info;

	bad.command = "echo \xff\xfe done";
	cr_assert_eq(cg_audit_decision(a, &bad, CG_ALLOW, NULL, &err), 0);
	cg_audit_close(a);
	json_t *lines = read_lines(path);
	cr_assert_str_eq(str(json_array_get(lines, 0), "command"), "echo ?? done");
	json_decref(lines);
	remove_log(path);
}

Test(audit, a_log_that_cannot_be_written_is_an_error_naming_it)
{
	struct cg_audit *a = NULL;
	struct cg_error err = { 0 };
	json_t *rec = json_pack("{s:s}", "type", "run");

	/* /dev/full accepts the open and fails every write with ENOSPC. */
	cr_assert_eq(cg_audit_open(&a, "/dev/full", false, &err), 0, "%s", err.message);
	cr_assert_eq(cg_audit_write(a, rec, &err), -ENOSPC);
	cr_assert_str_eq(err.file, "/dev/full");
	cg_audit_close(a);
	json_decref(rec);
}

Test(audit, a_log_that_cannot_be_opened_is_an_error_naming_it)
{
	char *path = fresh_file("dir");
	struct cg_audit *a = NULL;
	struct cg_error err = { 0 };

	cr_assert_eq(mkdir(path, 0700), 0);
	cr_assert_eq(cg_audit_open(&a, path, false, &err), -EISDIR);
	cr_assert_null(a);
	cr_assert_str_eq(err.file, path);
	remove_log(path);
}

Test(audit, a_record_that_is_not_an_object_is_refused)
{
	char *path = fresh_file("audit.jsonl");
	struct cg_audit *a = open_log(path);
	struct cg_error err;
	json_t *array = json_array();
	struct stat st;

	cr_assert_eq(cg_audit_write(a, array, &err), -EINVAL);
	cg_audit_close(a);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_size, 0, "nothing was written");
	json_decref(array);
	remove_log(path);
}

/* ---------- search ---------- */

static void append_line(const char *path, const char *line)
{
	FILE *f = fopen(path, "a");

	cr_assert_not_null(f);
	fprintf(f, "%s\n", line);
	fclose(f);
}

static int collect_run_ids(void *arg, json_t *rec)
{
	char *ids = arg;
	const char *id = json_string_value(json_object_get(rec, "run_id"));

	strcat(ids, id ? id : "?");
	strcat(ids, " ");
	return 0;
}

static char *query(const char *path, int64_t since_s, const char *type, const char *ticket)
{
	static char ids[512];
	struct cg_audit_filter f = { since_s, type, ticket };
	struct cg_error err = { 0 };
	size_t bad = 0;
	int r;

	ids[0] = '\0';
	r = cg_audit_query(path, &f, collect_run_ids, ids, &bad, &err);
	cr_assert_eq(r, 0, "%d %s", r, err.message);
	return ids;
}

static char *sample_log(void)
{
	char *path = fresh_file("audit.jsonl");
	char recent[40], line[512];
	time_t now = time(NULL) - 5;
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(recent, sizeof(recent), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
	append_line(path, "{\"time\":\"2020-01-01T00:00:00.000Z\",\"type\":\"decision\",\"run_id\":\"old\","
			  "\"ticket\":\"A\",\"verdict\":\"block\",\"command\":\"sudo ls\"}");
#define REC(fmt, ...) (snprintf(line, sizeof(line), fmt, __VA_ARGS__), append_line(path, line))
	REC("{\"time\":\"%s\",\"type\":\"decision\",\"run_id\":\"d-allow\",\"ticket\":\"A\","
	    "\"verdict\":\"allow\",\"command\":\"npm test\"}", recent);
	REC("{\"time\":\"%s\",\"type\":\"run\",\"run_id\":\"run\",\"ticket\":\"A\","
	    "\"command\":\"npm test\",\"exit_code\":0}", recent);
	REC("{\"time\":\"%s\",\"type\":\"decision\",\"run_id\":\"d-block\",\"ticket\":\"B\","
	    "\"verdict\":\"block\",\"command\":\"rm -rf /\"}", recent);
	REC("{\"time\":\"%s\",\"type\":\"denial\",\"run_id\":\"denial\",\"ticket\":\"A\","
	    "\"verdict\":\"block\",\"syscall\":\"openat\"}", recent);
	REC("{\"time\":\"%s\",\"type\":\"denial\",\"run_id\":\"monitored\",\"ticket\":\"B\","
	    "\"verdict\":\"allow\",\"syscall\":\"connect\"}", recent);
#undef REC
	return path;
}

Test(audit, search_without_filters_returns_everything_in_file_order)
{
	char *path = sample_log();

	cr_assert_str_eq(query(path, 0, NULL, NULL), "old d-allow run d-block denial monitored ");
	remove_log(path);
}

Test(audit, blocked_means_every_record_with_a_block_verdict)
{
	char *path = sample_log();

	cr_assert_str_eq(query(path, 0, "blocked", NULL), "old d-block denial ");
	cr_assert_str_eq(query(path, 0, "allowed", NULL), "d-allow monitored ");
	remove_log(path);
}

Test(audit, a_record_type_selects_that_type)
{
	char *path = sample_log();

	cr_assert_str_eq(query(path, 0, "run", NULL), "run ");
	cr_assert_str_eq(query(path, 0, "denial", NULL), "denial monitored ");
	cr_assert_str_eq(query(path, 0, "decision", NULL), "old d-allow d-block ");
	remove_log(path);
}

Test(audit, since_and_ticket_narrow_the_search)
{
	char *path = sample_log();
	int64_t hour_ago = (int64_t)time(NULL) - 3600;

	cr_assert_str_eq(query(path, hour_ago, NULL, NULL), "d-allow run d-block denial monitored ");
	cr_assert_str_eq(query(path, hour_ago, "blocked", NULL), "d-block denial ");
	cr_assert_str_eq(query(path, 0, NULL, "B"), "d-block monitored ");
	cr_assert_str_eq(query(path, hour_ago, "blocked", "A"), "denial ");
	cr_assert_str_eq(query(path, (int64_t)time(NULL) + 3600, NULL, NULL), "");
	remove_log(path);
}

Test(audit, lines_that_are_not_records_are_counted_and_skipped)
{
	char *path = sample_log();
	struct cg_audit_filter f = { 0, NULL, NULL };
	struct cg_error err;
	char ids[512] = "";
	size_t bad = 0;

	append_line(path, "{\"type\":\"run\",\"run_id\":\"torn");
	append_line(path, "[1,2,3]");
	append_line(path, "{\"time\":\"2020-01-01T00:00:00.000Z\",\"type\":\"run\",\"run_id\":\"last\"}");
	cr_assert_eq(cg_audit_query(path, &f, collect_run_ids, ids, &bad, &err), 0);
	cr_assert_eq(bad, 2);
	cr_assert_str_eq(ids, "old d-allow run d-block denial monitored last ");
	remove_log(path);
}

static int stop_after_first(void *arg, json_t *rec)
{
	(*(int *)arg)++;
	return 7;
}

Test(audit, a_visitor_can_stop_the_search)
{
	char *path = sample_log();
	int calls = 0;

	cr_assert_eq(cg_audit_query(path, NULL, stop_after_first, &calls, NULL, NULL), 7);
	cr_assert_eq(calls, 1);
	remove_log(path);
}

Test(audit, an_unknown_type_or_a_missing_log_is_an_error)
{
	struct cg_audit_filter f = { 0, "everything", NULL };
	struct cg_error err;
	int calls = 0;

	cr_assert_not(cg_audit_type_valid("everything"));
	cr_assert_eq(cg_audit_query("/nonexistent", &f, stop_after_first, &calls, NULL, &err), -EINVAL);
	f.type = NULL;
	cr_assert_eq(cg_audit_query("/nonexistent/audit.jsonl", &f, stop_after_first, &calls, NULL,
				    &err), -ENOENT);
	cr_assert_str_eq(err.file, "/nonexistent/audit.jsonl");
}

Test(audit, timestamps_parse_as_utc_milliseconds)
{
	int64_t ms;

	cr_assert_eq(cg_audit_time_parse("1970-01-01T00:00:01.250Z", &ms), 0);
	cr_assert_eq(ms, 1250);
	cr_assert_eq(cg_audit_time_parse("2026-11-24T11:37:30Z", &ms), 0);
	cr_assert_eq(ms, 1795520250000LL);
	cr_assert_eq(cg_audit_time_parse("2026-11-24T11:37:30+02:00", &ms), -EINVAL);
	cr_assert_eq(cg_audit_time_parse("yesterday", &ms), -EINVAL);
}

/* ---------- guardctl events ---------- */

/* Run guardctl with GUARD_STATE_DIR set; stdout and stderr in *out (caller
 * frees); returns the exit status. */
static int guardctl(const char *state_dir, const char *args, char **out)
{
	char *cmd, buf[4096];
	size_t len = 0, n;
	FILE *p;
	int status;

	cr_assert_gt(asprintf(&cmd, "GUARD_STATE_DIR='%s' '%s/cli/guardctl' %s 2>&1", state_dir,
			      BUILDDIR, args), 0);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	*out = calloc(1, 1);
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0) {
		*out = realloc(*out, len + n + 1);
		memcpy(*out + len, buf, n);
		len += n;
		(*out)[len] = '\0';
	}
	status = pclose(p);
	free(cmd);
	cr_assert(WIFEXITED(status), "%s did not exit", args);
	return WEXITSTATUS(status);
}

/* The directory of a sample_log(), which is audit.jsonl inside it. */
static char *log_dir(char *path)
{
	*strrchr(path, '/') = '\0';
	return path;
}

Test(events_cli, blocked_since_an_hour_lists_the_recent_blocks_newest_last)
{
	char *dir = log_dir(sample_log()), *out;

	cr_assert_eq(guardctl(dir, "events --type blocked --since 1h", &out), 0, "%s", out);
	cr_assert_not_null(strstr(out, "TIME (UTC)"), "%s", out);
	char *rm = strstr(out, "rm -rf /"), *denial = strstr(out, "openat");
	cr_assert(rm && denial && rm < denial, "both blocks, in file order:\n%s", out);
	cr_assert_null(strstr(out, "sudo ls"), "the 2020 block is older than an hour");
	cr_assert_null(strstr(out, "npm test"), "allowed records are not listed");
	free(out);
	remove_log(dir);
}

Test(events_cli, json_lines_are_the_records_themselves)
{
	char *dir = log_dir(sample_log()), *out, *save = NULL;
	int n = 0;

	cr_assert_eq(guardctl(dir, "events --ticket B --json", &out), 0, "%s", out);
	for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *rec = json_loads(line, 0, NULL);
		cr_assert(json_is_object(rec), "not a record: %s", line);
		cr_assert_str_eq(str(rec, "ticket"), "B");
		json_decref(rec);
		n++;
	}
	cr_assert_eq(n, 2);
	free(out);
	remove_log(dir);
}

Test(events_cli, control_characters_of_a_command_are_shown_escaped)
{
	char *dir = log_dir(sample_log()), *out;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
	append_line(path, "{\"time\":\"2030-01-01T00:00:00.000Z\",\"type\":\"decision\","
			  "\"verdict\":\"block\",\"command\":\"echo \\u001b[2J\"}");
	cr_assert_eq(guardctl(dir, "events --type blocked", &out), 0);
	cr_assert_null(strchr(out, '\033'), "no raw escape reaches the terminal");
	cr_assert_not_null(strstr(out, "echo \\x1b[2J"), "%s", out);
	free(out);
	remove_log(dir);
}

Test(events_cli, bad_arguments_exit_125_and_a_missing_log_is_not_an_error)
{
	char *dir = log_dir(sample_log()), *out;

	cr_assert_eq(guardctl(dir, "events --type everything", &out), 125);
	free(out);
	cr_assert_eq(guardctl(dir, "events --since 5 minutes", &out), 125);
	free(out);
	cr_assert_eq(guardctl(dir, "events --file /nonexistent/audit.jsonl", &out), 0);
	cr_assert_not_null(strstr(out, "no audit log at /nonexistent/audit.jsonl"), "%s", out);
	free(out);
	remove_log(dir);
}
