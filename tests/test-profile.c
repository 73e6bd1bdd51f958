/* Repo profiles: loading, errors that point at the line and column, and
 * matching commands as canonical argv. */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard/guard.h"
#include "guard/shell.h"

#define EXAMPLE SRCDIR "/conf/repo_profile.json"

static char *write_profile(const char *text)
{
	char *path = strdup("/tmp/cg-profile-XXXXXX");
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static struct cg_profile *load_text(const char *text)
{
	char *path = write_profile(text);
	struct cg_profile *p = NULL;
	struct cg_error err = { 0 };
	int r = cg_profile_load(&p, path, &err);

	cr_assert_eq(r, 0, "%s: %d line %d %s: %s", text, r, err.line, err.key, err.message);
	unlink(path);
	free(path);
	return p;
}

/* Load text that must fail; returns the error. */
static struct cg_error load_error(const char *text)
{
	char *path = write_profile(text);
	struct cg_profile *p = NULL;
	struct cg_error err = { 0 };

	cr_assert_eq(cg_profile_load(&p, path, &err), -EINVAL, "%s loaded", text);
	cr_assert_null(p);
	cr_assert_str_eq(err.file, path, "the error names the file");
	unlink(path);
	free(path);
	return err;
}

#define ALLOWS(p, ...) \
	cg_profile_allows((p), (char *const[]){ __VA_ARGS__ }, \
			  sizeof((char *const[]){ __VA_ARGS__ }) / sizeof(char *))

Test(profile, the_seed_example_loads_its_commands_in_file_order)
{
	struct cg_profile *p = NULL;
	struct cg_error err;
	const char *name, *command;

	cr_assert_eq(cg_profile_load(&p, EXAMPLE, &err), 0, "%s", err.message);
	cr_assert_eq(cg_profile_count(p), 3);
	cr_assert(cg_profile_entry(p, 0, &name, &command));
	cr_assert_str_eq(name, "lint");
	cr_assert_str_eq(command, "npm run lint");
	cr_assert(cg_profile_entry(p, 2, &name, &command));
	cr_assert_str_eq(name, "build");
	cr_assert_not(cg_profile_entry(p, 3, &name, &command));
	cg_profile_free(p);
}

Test(profile, a_task_names_its_command)
{
	struct cg_profile *p = NULL;
	struct cg_error err;

	cr_assert_eq(cg_profile_load(&p, EXAMPLE, &err), 0);
	cr_assert_str_eq(cg_profile_task(p, "test"), "npm test");
	cr_assert_null(cg_profile_task(p, "deploy"));
	cg_profile_free(p);
}

Test(profile, only_the_listed_commands_match)
{
	struct cg_profile *p = NULL;
	struct cg_error err;

	cr_assert_eq(cg_profile_load(&p, EXAMPLE, &err), 0);
	cr_assert(ALLOWS(p, "npm", "test"));
	cr_assert(ALLOWS(p, "npm", "run", "lint"));
	cr_assert(ALLOWS(p, "npm", "run", "build"));
	cr_assert_not(ALLOWS(p, "npm", "run", "deploy"));
	cr_assert_not(ALLOWS(p, "rm", "-rf", "node_modules"));
	cr_assert_not(ALLOWS(p, "npm"), "a prefix of an entry is not the entry");
	cr_assert_not(ALLOWS(p, "npm", "test", "--", "--coverage"), "extra arguments need the wildcard");
	cr_assert_not(ALLOWS(p, "npm", "test;", "rm", "-rf", "/"));
	cr_assert_not(ALLOWS(p, "npm", "Test"), "comparison is exact");
	cg_profile_free(p);
}

Test(profile, quotes_and_spacing_in_an_entry_do_not_matter)
{
	struct cg_profile *p = load_text("{\"commands\": {\"test\": \"  'npm'    \\\"test\\\"  \"}}");

	cr_assert(ALLOWS(p, "npm", "test"));
	cr_assert_not(ALLOWS(p, "'npm'", "test"));
	cg_profile_free(p);
}

Test(profile, an_entry_ending_in_the_wildcard_admits_extra_arguments)
{
	struct cg_profile *p = load_text("{\"commands\": {\"test\": \"npm test ...\"}}");

	cr_assert(ALLOWS(p, "npm", "test"));
	cr_assert(ALLOWS(p, "npm", "test", "--", "--coverage"));
	cr_assert_not(ALLOWS(p, "npm", "run", "test"));
	cr_assert_not(ALLOWS(p, "npm"));
	cg_profile_free(p);
}

Test(profile, a_quoted_wildcard_is_an_ordinary_word)
{
	struct cg_profile *p = load_text("{\"commands\": {\"dots\": \"echo '...'\"}}");

	cr_assert(ALLOWS(p, "echo", "..."));
	cr_assert_not(ALLOWS(p, "echo", "hello"));
	cr_assert_not(ALLOWS(p, "echo", "...", "more"));
	cg_profile_free(p);
}

Test(profile, the_wildcard_anywhere_but_last_is_an_error)
{
	struct cg_error err = load_error("{\"commands\": {\"x\": \"npm ... test\"}}");

	cr_assert_str_eq(err.key, "commands.x");
	cr_assert_not_null(strstr(err.message, "last word"), "%s", err.message);
	err = load_error("{\"commands\": {\"x\": \"...\"}}");
	cr_assert_str_eq(err.key, "commands.x");
}

Test(profile, every_part_of_a_compound_entry_is_allowed)
{
	struct cg_profile *p = load_text("{\"commands\": {\"ci\": \"npm ci && npm test\"}}");

	cr_assert(ALLOWS(p, "npm", "ci"));
	cr_assert(ALLOWS(p, "npm", "test"));
	cr_assert_not(ALLOWS(p, "npm", "ci", "&&", "npm", "test"));
	cg_profile_free(p);
}

Test(profile, unknown_keys_are_kept_and_ignored)
{
	struct cg_profile *p = load_text("{\"version\": 2, \"owner\": {\"team\": [1, 2]},\n"
					 " \"commands\": {\"test\": \"make test\"},\n"
					 " \"languages\": [\"c\"], \"frameworks\": []}");

	cr_assert_eq(cg_profile_count(p), 1);
	cr_assert(ALLOWS(p, "make", "test"));
	cg_profile_free(p);
}

Test(profile, an_empty_command_list_allows_nothing)
{
	struct cg_profile *p = load_text("{\"commands\": {}}");

	cr_assert_eq(cg_profile_count(p), 0);
	cr_assert_not(ALLOWS(p, "true"));
	cg_profile_free(p);
}

Test(profile, no_profile_and_no_argv_allow_nothing)
{
	struct cg_profile *p = load_text("{\"commands\": {\"t\": \"true\"}}");

	cr_assert_not(cg_profile_allows(NULL, (char *const[]){ "true" }, 1));
	cr_assert_not(cg_profile_allows(p, NULL, 0));
	cg_profile_free(p);
}

Test(profile, a_syntax_error_names_line_and_column)
{
	struct cg_error err = load_error("{\n  \"commands\": {\n    \"test\": \"npm test\",\n  }\n}\n");

	cr_assert_eq(err.line, 4);
	cr_assert_not_null(strstr(err.message, "(column 3)"), "%s", err.message);
}

Test(profile, a_command_of_the_wrong_type_names_line_column_and_key)
{
	struct cg_error err = load_error("{\n  \"commands\": {\n    \"lint\": \"npm run lint\",\n"
					 "    \"test\": 42\n  }\n}\n");
	char buf[1024];

	cr_assert_eq(err.line, 4);
	cr_assert_str_eq(err.key, "commands.test");
	cr_assert_str_eq(err.message, "expected a string, got an integer (column 13)");
	cr_assert_not_null(strstr(cg_error_format(&err, buf, sizeof(buf)),
				  ":4: commands.test: expected a string"), "%s", buf);
}

Test(profile, a_key_written_with_escapes_is_still_located)
{
	struct cg_error err = load_error("{\"commands\": {\"t\\u0065st\": true}}");

	cr_assert_eq(err.line, 1);
	cr_assert_str_eq(err.key, "commands.test");
	cr_assert_str_eq(err.message, "expected a string, got a boolean (column 28)");
}

Test(profile, values_before_the_bad_one_do_not_confuse_the_position)
{
	/* brackets and quotes inside strings, nested arrays and objects */
	struct cg_error err = load_error("{\"x\": {\"a\": \"}\\\"{\", \"b\": [1, {\"c\": \"]\"}]}, "
					 "\"commands\": {\"t\": 1}}");

	cr_assert_str_eq(err.key, "commands.t");
	cr_assert_str_eq(err.message, "expected a string, got an integer (column 62)");
}

Test(profile, languages_and_frameworks_must_be_arrays_of_strings)
{
	struct cg_error err = load_error("{\"commands\": {}, \"languages\": \"javascript\"}");

	cr_assert_str_eq(err.key, "languages");
	cr_assert_eq(err.line, 1);
	cr_assert_not_null(strstr(err.message, "(column 31)"), "%s", err.message);

	err = load_error("{\"commands\": {},\n \"frameworks\": [\"react\", 3]}");
	cr_assert_str_eq(err.key, "frameworks[1]");
	cr_assert_eq(err.line, 2);
	cr_assert_not_null(strstr(err.message, "(column 26)"), "%s", err.message);
}

Test(profile, commands_must_be_an_object_and_must_be_there)
{
	struct cg_error err = load_error("{\"commands\": [\"npm test\"]}");

	cr_assert_str_eq(err.key, "commands");
	err = load_error("{\"languages\": [\"c\"]}");
	cr_assert_str_eq(err.key, "commands");
	err = load_error("[\"npm test\"]");
	cr_assert_not_null(strstr(err.message, "object"), "%s", err.message);
}

Test(profile, a_name_given_twice_is_an_error)
{
	struct cg_error err = load_error("{\"commands\": {\"test\": \"npm test\", \"test\": \"rm -rf /\"}}");

	cr_assert_not_null(strstr(err.message, "duplicate"), "%s", err.message);
}

Test(profile, a_command_that_does_not_parse_is_an_error_at_its_line)
{
	struct cg_error err = load_error("{\n\"commands\": {\"test\": \"npm test 'oops\"}}");

	cr_assert_str_eq(err.key, "commands.test");
	cr_assert_eq(err.line, 2);
	err = load_error("{\"commands\": {\"test\": \"   \"}}");
	cr_assert_str_eq(err.key, "commands.test");
}

Test(profile, a_missing_file_is_an_error_naming_it)
{
	struct cg_profile *p = NULL;
	struct cg_error err = { 0 };

	cr_assert_eq(cg_profile_load(&p, "/nonexistent/repo_profile.json", &err), -ENOENT);
	cr_assert_str_eq(err.file, "/nonexistent/repo_profile.json");
	cr_assert_null(p);
}

/* The words of the first simple command of `line`, as the static check sees them. */
static bool allows_line(const struct cg_profile *p, const char *line)
{
	struct cg_script *s = NULL;
	char err[256];
	bool is_allowed;

	cr_assert_eq(cg_shell_parse(line, strlen(line), &s, err, sizeof(err)), 0, "%s", err);
	cr_assert_geq(s->n_cmds, 1);
	is_allowed = cg_profile_allows_words(p, s->cmds[0].words, s->cmds[0].n_words);
	cg_script_free(s);
	return is_allowed;
}

Test(profile, an_expanding_word_does_not_pass_as_a_literal_entry_word)
{
	struct cg_profile *p = load_text("{\"commands\": {\"a\": \"echo '$HOME'\", \"b\": \"ls *.js\","
					 " \"c\": \"npm test ...\"}}");

	cr_assert(allows_line(p, "echo '$HOME'"));
	cr_assert_not(allows_line(p, "echo $HOME"), "expands at run time");
	cr_assert_not(allows_line(p, "echo \"$HOME\""), "expands inside double quotes too");
	cr_assert(allows_line(p, "ls *.js"));
	cr_assert_not(allows_line(p, "ls '*.js'"), "the entry globs, the request does not");
	cr_assert(allows_line(p, "npm test --grep $PATTERN"), "the wildcard admits any extra word");
	cg_profile_free(p);
}

/* ---------- guardctl profile check ---------- */

/* Run guardctl with the built-in policy; stdout and stderr in *out (caller
 * frees); returns the exit status. */
static int guardctl(const char *args, char **out)
{
	char *cmd, buf[4096];
	size_t len = 0, n;
	FILE *p;
	int status;

	cr_assert_gt(asprintf(&cmd, "cd /tmp && GUARD_CONFIG= '%s/cli/guardctl' %s 2>&1", BUILDDIR,
			      args), 0);
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

Test(profile_cli, the_seed_example_checks_clean)
{
	char *out;

	cr_assert_eq(guardctl("profile check " EXAMPLE, &out), 0, "%s", out);
	cr_assert_not_null(strstr(out, "3 command(s)"), "%s", out);
	cr_assert_not_null(strstr(out, "lint   allow  npm run lint"), "%s", out);
	cr_assert_null(strstr(out, "block"), "%s", out);
	free(out);
}

Test(profile_cli, a_profile_that_lists_a_blocked_command_exits_126_and_names_it)
{
	char *path = write_profile("{\"commands\": {\"test\": \"npm test\","
				   " \"wipe\": \"npm test; rm -rf /\"}}");
	char *args, *out;

	cr_assert_gt(asprintf(&args, "profile check %s", path), 0);
	cr_assert_eq(guardctl(args, &out), 126, "%s", out);
	cr_assert_not_null(strstr(out, "wipe"), "%s", out);
	cr_assert_not_null(strstr(out, "Command contains blocked operation: rm -rf /"), "%s", out);
	free(out);
	free(args);
	unlink(path);
	free(path);
}

Test(profile_cli, a_broken_profile_exits_125_with_its_line)
{
	char *path = write_profile("{\n  \"commands\": {\"test\": [\"npm\", \"test\"]}\n}\n");
	char *args, *out;

	cr_assert_gt(asprintf(&args, "profile check %s", path), 0);
	cr_assert_eq(guardctl(args, &out), 125, "%s", out);
	cr_assert_not_null(strstr(out, ":2: commands.test: expected a string, got an array"), "%s", out);
	free(out);
	free(args);
	unlink(path);
	free(path);
}
