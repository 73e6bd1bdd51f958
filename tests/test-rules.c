/* test-rules.c - the rule engine: loading, validation, precedence. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rules/rules.h"

static struct cg_policy *load_text(const char *text, struct cg_error *err, int *rc)
{
	struct cg_policy *p = NULL;

	*rc = cg_policy_load_string(&p, text, "test.conf", err);
	return p;
}

static bool blocks(struct cg_policy *p, const char *program, const char *args_line, struct cg_rule_match *m)
{
	char buf[512], *argv[32];
	size_t n = 0;

	snprintf(buf, sizeof(buf), "%s", args_line);
	for (char *save = NULL, *s = strtok_r(buf, " ", &save); s && n < 32; s = strtok_r(NULL, " ", &save))
		argv[n++] = s;
	return cg_rules_blocks(p, program, argv, n, m);
}

Test(rules, builtin_policy_loads_and_every_pattern_compiles) {
	struct cg_policy *p = NULL;
	struct cg_error err;

	cr_assert_eq(cg_policy_load(&p, NULL, &err), 0, "%s", err.message);
	cr_assert_eq(cg_policy_compile_all(p, true, &err), 0, "%s: %s", err.key, err.message);
	cr_assert_str_eq(cg_policy_source(p), "<built-in>");
	cr_assert_eq(cg_policy_settings(p)->rate_count, 10);
	cr_assert_eq(cg_policy_settings(p)->rate_window_s, 60);
	cr_assert_eq(cg_policy_settings(p)->output_limit_bytes, 1048576);
	cr_assert_eq(cg_policy_settings(p)->max_timeout_s, 600);
	cg_policy_free(p);
}

Test(rules, rm_root_spellings_are_blocked_and_ordinary_rm_is_not) {
	struct cg_policy *p = NULL;
	struct cg_error err;
	struct cg_rule_match m;

	cr_assert_eq(cg_policy_load(&p, NULL, &err), 0);
	const char *bad[] = { "-rf /", "-fr /", "-r -f /", "--recursive --force /", "-rf //", "-rf /*",
			      "-Rf /.", "-rf --no-preserve-root /" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert(blocks(p, "rm", bad[i], &m), "rm %s", bad[i]);
		cr_assert_str_eq(m.id, "rm-root");
		cr_assert_str_eq(m.category, "system-modification");
	}
	cr_assert_not(blocks(p, "rm", "-rf node_modules", &m));
	cr_assert_not(blocks(p, "rm", "-rf /tmp/build", &m));
	cr_assert_not(blocks(p, "rm", "-f /", &m), "not recursive");
	cg_policy_free(p);
}

Test(rules, rules_are_keyed_by_program_including_globs) {
	struct cg_policy *p = NULL;
	struct cg_error err;
	struct cg_rule_match m;

	cr_assert_eq(cg_policy_load(&p, NULL, &err), 0);
	cr_assert(blocks(p, "mkfs.ext4", "/dev/sda1", &m));
	cr_assert_str_eq(m.id, "mkfs");
	cr_assert(blocks(p, "nc", "-lvp 4444", &m));
	cr_assert_not(blocks(p, "nc", "-z localhost 80", &m));
	cr_assert(blocks(p, "kill", "-9 -1", &m));
	cr_assert_not(blocks(p, "kill", "-9 12345", &m));
	cr_assert_not(blocks(p, "echo", "sudo", &m), "a rule for sudo says nothing about echo");
	cg_policy_free(p);
}

Test(rules, unknown_key_names_file_line_and_key) {
	struct cg_error err;
	int rc;
	struct cg_policy *p = load_text("version = 1;\nlimits = {\n  timeout_s = 30;\n  timout = 5;\n};\n", &err, &rc);

	cr_assert_eq(rc, -EINVAL);
	cr_assert_null(p);
	cr_assert_str_eq(err.file, "test.conf");
	cr_assert_eq(err.line, 4);
	cr_assert_str_eq(err.key, "limits.timout");
	cr_assert(strstr(err.message, "unknown"), "%s", err.message);
}

Test(rules, wrong_type_is_an_error_with_its_line) {
	struct cg_error err;
	int rc;

	load_text("limits = {\n  processes = \"many\";\n};\n", &err, &rc);
	cr_assert_eq(rc, -EINVAL);
	cr_assert_eq(err.line, 2);
	cr_assert_str_eq(err.key, "limits.processes");
	cr_assert(strstr(err.message, "integer"), "%s", err.message);
}

Test(rules, syntax_error_names_the_line) {
	struct cg_error err;
	int rc;

	load_text("version = 1;\n\nlimits = { timeout_s = 30 \n", &err, &rc);
	cr_assert_eq(rc, -EINVAL);
	cr_assert_str_eq(err.file, "test.conf");
	cr_assert_gt(err.line, 0);
}

Test(rules, bad_regex_is_reported_at_load_with_rule_line) {
	struct cg_error err;
	int rc;
	char buf[1024];

	load_text("rules = (\n  { id = \"x\"; category = \"c\"; programs = [\"x\"];\n    match = \"(unclosed\"; }\n);\n",
		  &err, &rc);
	cr_assert_eq(rc, -EINVAL);
	cr_assert_eq(err.line, 2);
	cr_assert(strstr(cg_error_format(&err, buf, sizeof(buf)), "test.conf:2:"), "%s", buf);
	cr_assert(strstr(err.message, "pattern"), "%s", err.message);
}

Test(rules, duplicate_rule_ids_in_one_file_are_an_error) {
	struct cg_error err;
	int rc;

	load_text("rules = (\n { id = \"a\"; category = \"c\"; programs = [\"x\"]; },\n"
		  " { id = \"a\"; category = \"c\"; programs = [\"y\"]; }\n);\n", &err, &rc);
	cr_assert_eq(rc, -EINVAL);
	cr_assert_eq(err.line, 3);
	cr_assert(strstr(err.message, "duplicate rule id"), "%s", err.message);
}

Test(rules, a_file_rule_with_a_builtin_id_replaces_it) {
	struct cg_error err;
	struct cg_rule_match m;
	int rc;
	struct cg_policy *p = load_text("rules = ( { id = \"sudo\"; category = \"privilege\";"
					" programs = [\"doas\"]; } );\n", &err, &rc);

	cr_assert_eq(rc, 0, "%s", err.message);
	cr_assert_not(blocks(p, "sudo", "ls", &m), "the replaced rule no longer names sudo");
	cr_assert(blocks(p, "doas", "ls", &m));
	cg_policy_free(p);
}

Test(rules, file_allow_beats_builtin_block_and_cli_deny_beats_file_allow) {
	struct cg_error err;
	struct cg_rule_match m;
	int rc;
	struct cg_policy *p = load_text("rules = ( { id = \"allow-mount\"; category = \"ops\"; action = \"allow\";"
					" programs = [\"mount\"]; match = \"^--bind\"; } );\n", &err, &rc);

	cr_assert_eq(rc, 0, "%s", err.message);
	cr_assert_not(blocks(p, "mount", "--bind a b", &m), "the higher level (file) allows");
	cr_assert(blocks(p, "mount", "/dev/sda1 /mnt", &m), "the built-in still blocks the rest");
	cr_assert_eq(cg_policy_add_cli_run(p, "mount", false, &err), 0);
	cr_assert(blocks(p, "mount", "--bind a b", &m), "the command line beats the file");
	cr_assert_str_eq(m.id, "deny-run");
	cr_assert_eq(m.level, CG_LEVEL_CLI);
	cg_policy_free(p);
}

Test(rules, at_one_level_a_block_beats_an_allow) {
	struct cg_error err;
	struct cg_rule_match m;
	struct cg_policy *p = NULL;

	cr_assert_eq(cg_policy_load(&p, NULL, &err), 0);
	cr_assert_eq(cg_policy_add_cli_run(p, "curl", true, &err), 0);
	cr_assert_eq(cg_policy_add_cli_run(p, "curl", false, &err), 0);
	cr_assert(blocks(p, "curl", "https://x", &m));
	cg_policy_free(p);
}

Test(rules, defaults_false_starts_from_nothing_and_needs_limits) {
	struct cg_error err;
	int rc;
	struct cg_rule_match m;

	load_text("defaults = false;\n", &err, &rc);
	cr_assert_eq(rc, -EINVAL, "an empty policy has no limits");
	struct cg_policy *p = load_text(
		"defaults = false;\nlimits = { output_bytes = 100; timeout_s = 5; max_timeout_s = 10;"
		" processes = 5; memory_bytes = 10485760; file_bytes = 100; };\n"
		"ratelimit = { count = 1; window_s = 1; };\n", &err, &rc);
	cr_assert_eq(rc, 0, "%s", err.message);
	cr_assert_not(blocks(p, "sudo", "ls", &m), "no built-in rules");
	cg_policy_free(p);
}

Test(rules, timeout_above_maximum_is_an_error) {
	struct cg_error err;
	int rc;

	load_text("limits = { timeout_s = 900; };\n", &err, &rc);
	cr_assert_eq(rc, -EINVAL);
	cr_assert(strstr(err.message, "max_timeout_s"), "%s", err.message);
}

Test(rules, relative_paths_in_the_policy_are_rejected) {
	struct cg_error err;
	int rc;

	load_text("paths = { allowed = [ \"tmp\" ]; };\n", &err, &rc);
	cr_assert_eq(rc, -EINVAL);
	cr_assert(strstr(err.message, "absolute"), "%s", err.message);
}

Test(rules, a_missing_file_is_an_error_naming_it) {
	struct cg_policy *p = NULL;
	struct cg_error err;

	cr_assert_lt(cg_policy_load(&p, "/nonexistent/guard.conf", &err), 0);
	cr_assert_str_eq(err.file, "/nonexistent/guard.conf");
}

Test(rules, environment_deny_patterns_strip_secrets_and_guard_variables) {
	struct cg_policy *p = NULL;
	struct cg_error err;

	cr_assert_eq(cg_policy_load(&p, NULL, &err), 0);
	cr_assert(cg_policy_env_denied(p, "GITHUB_TOKEN"));
	cr_assert(cg_policy_env_denied(p, "GUARD_TICKET"));
	cr_assert_not(cg_policy_env_denied(p, "PATH"));
	cr_assert_not(cg_policy_env_denied(p, "HOME"));
	cg_policy_free(p);
}

Test(rules, a_bad_environment_pattern_in_a_file_is_an_error) {
	struct cg_error err;
	int rc;

	load_text("environment = { deny = [ \"(\" ]; };\n", &err, &rc);
	cr_assert_eq(rc, -EINVAL);
	cr_assert_str_eq(err.key, "environment.deny");
}

Test(rules, the_shipped_conf_file_equals_the_builtin_text) {
	char path[4096];
	size_t len;
	const char *text = cg_policy_builtin_text(&len);
	FILE *f;

	snprintf(path, sizeof(path), "%s/conf/guard.conf", SRCDIR);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	char *buf = malloc(len + 2);
	size_t n = fread(buf, 1, len + 1, f);
	fclose(f);
	cr_assert_eq(n, len);
	cr_assert_eq(memcmp(buf, text, len), 0);
	free(buf);
}
