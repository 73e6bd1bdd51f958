/* The rate limiter: exact across real processes, windows, keys, and
 * state files that cannot be trusted. */
#include <criterion/criterion.h>

#include <errno.h>
#include <ftw.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard/guard.h"

static char *fresh_dir(void)
{
	char *dir = strdup("/tmp/cg-ratelimit-XXXXXX");

	cr_assert_not_null(mkdtemp(dir));
	return dir;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* Remove a test's directory and free its name. */
static void remove_dir(char *dir)
{
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

static struct cg_ratelimit *open_in(const char *dir)
{
	struct cg_ratelimit *rl = NULL;
	struct cg_error err = { 0 };
	int r = cg_ratelimit_open(&rl, dir, &err);

	cr_assert_eq(r, 0, "open %s: %d %s", dir, r, err.message);
	return rl;
}

static int take(struct cg_ratelimit *rl, const char *ticket, const char *command, unsigned count,
		unsigned window_s, unsigned *retry)
{
	struct cg_error err = { 0 };
	unsigned ignored;
	int r = cg_ratelimit_take(rl, ticket, command, count, window_s, retry ? retry : &ignored, &err);

	cr_assert_geq(r, 0, "take: %d %s", r, err.message);
	return r;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

enum { CHILD_ADMITTED = 10, CHILD_REFUSED = 11, CHILD_ERROR = 12 };

Test(ratelimit, fifty_processes_racing_on_one_key_admit_exactly_ten)
{
	char *dir = fresh_dir();
	int barrier[2], admitted = 0, refused = 0, errors = 0;
	pid_t pids[50];

	cr_assert_eq(pipe2(barrier, O_CLOEXEC), 0);
	for (int i = 0; i < 50; i++) {
		pids[i] = fork();
		cr_assert_geq(pids[i], 0);
		if (pids[i] == 0) {
			struct cg_ratelimit *rl = NULL;
			struct cg_error err;
			unsigned retry;
			char c;

			close(barrier[1]);
			/* Every child waits until the parent closes the pipe, then
			 * opens the (not yet existing) state file and takes a slot. */
			if (read(barrier[0], &c, 1) != 0)
				_exit(CHILD_ERROR);
			if (cg_ratelimit_open(&rl, dir, &err) < 0)
				_exit(CHILD_ERROR);
			int r = cg_ratelimit_take(rl, "TICKET-123", "npm test", 10, 60, &retry, &err);
			cg_ratelimit_close(rl);
			_exit(r == CG_ALLOW ? CHILD_ADMITTED : r == CG_BLOCK ? CHILD_REFUSED : CHILD_ERROR);
		}
	}
	close(barrier[0]);
	close(barrier[1]);
	for (int i = 0; i < 50; i++) {
		int status;
		cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
		cr_assert(WIFEXITED(status));
		admitted += WEXITSTATUS(status) == CHILD_ADMITTED;
		refused += WEXITSTATUS(status) == CHILD_REFUSED;
		errors += WEXITSTATUS(status) == CHILD_ERROR;
	}
	cr_assert_eq(errors, 0, "%d children could not use the state file", errors);
	cr_assert_eq(admitted, 10);
	cr_assert_eq(refused, 40);

	struct cg_ratelimit *rl = open_in(dir);
	unsigned used = 0, retry = 0;
	struct cg_error err;
	cr_assert_eq(cg_ratelimit_peek(rl, "TICKET-123", "npm test", 10, 60, &used, &retry, &err),
		     CG_BLOCK);
	cr_assert_eq(used, 10, "the database holds exactly the admitted runs");
	cg_ratelimit_close(rl);
	remove_dir(dir);
}

Test(ratelimit, the_eleventh_run_is_refused_with_the_time_until_the_next_slot)
{
	char *dir = fresh_dir();
	struct cg_ratelimit *rl = open_in(dir);
	unsigned retry = 99;

	for (int i = 0; i < 10; i++) {
		cr_assert_eq(take(rl, "T", "npm test", 10, 60, &retry), CG_ALLOW, "run %d", i + 1);
		cr_assert_eq(retry, 0);
	}
	cr_assert_eq(take(rl, "T", "npm test", 10, 60, &retry), CG_BLOCK);
	cr_assert(retry >= 1 && retry <= 60, "retry after %u s", retry);
	cg_ratelimit_close(rl);
	remove_dir(dir);
}

Test(ratelimit, runs_expire_after_the_window)
{
	char *dir = fresh_dir();
	struct cg_ratelimit *rl = open_in(dir);
	unsigned retry = 0;

	cr_assert_eq(take(rl, "T", "make", 2, 1, NULL), CG_ALLOW);
	cr_assert_eq(take(rl, "T", "make", 2, 1, NULL), CG_ALLOW);
	cr_assert_eq(take(rl, "T", "make", 2, 1, &retry), CG_BLOCK);
	cr_assert_eq(retry, 1);
	usleep(1100 * 1000);
	cr_assert_eq(take(rl, "T", "make", 2, 1, NULL), CG_ALLOW);
	cg_ratelimit_close(rl);
	remove_dir(dir);
}

Test(ratelimit, tickets_and_commands_are_counted_apart)
{
	char *dir = fresh_dir();
	struct cg_ratelimit *rl = open_in(dir);

	for (int i = 0; i < 3; i++)
		cr_assert_eq(take(rl, "T1", "npm test", 3, 60, NULL), CG_ALLOW);
	cr_assert_eq(take(rl, "T1", "npm test", 3, 60, NULL), CG_BLOCK);
	cr_assert_eq(take(rl, "T2", "npm test", 3, 60, NULL), CG_ALLOW, "another ticket");
	cr_assert_eq(take(rl, "T1", "npm run lint", 3, 60, NULL), CG_ALLOW, "another command");
	cr_assert_eq(take(rl, "T1", "npm test", 3, 60, NULL), CG_BLOCK, "still full");
	cg_ratelimit_close(rl);
	remove_dir(dir);
}

Test(ratelimit, a_refused_run_does_not_use_a_slot)
{
	char *dir = fresh_dir();
	struct cg_ratelimit *rl = open_in(dir);
	struct cg_error err;
	unsigned used = 0, retry;

	for (int i = 0; i < 5; i++)
		take(rl, "T", "npm test", 2, 60, NULL);
	cr_assert_eq(cg_ratelimit_peek(rl, "T", "npm test", 2, 60, &used, &retry, &err), CG_BLOCK);
	cr_assert_eq(used, 2);
	cg_ratelimit_close(rl);
	remove_dir(dir);
}

Test(ratelimit, peek_reports_without_consuming)
{
	char *dir = fresh_dir();
	struct cg_ratelimit *rl = open_in(dir);
	struct cg_error err;
	unsigned used = 99, retry = 99;

	cr_assert_eq(cg_ratelimit_peek(rl, "T", "npm test", 1, 60, &used, &retry, &err), CG_ALLOW);
	cr_assert_eq(used, 0);
	cr_assert_eq(cg_ratelimit_peek(rl, "T", "npm test", 1, 60, &used, &retry, &err), CG_ALLOW);
	cr_assert_eq(take(rl, "T", "npm test", 1, 60, NULL), CG_ALLOW, "peeks used nothing");
	cr_assert_eq(cg_ratelimit_peek(rl, "T", "npm test", 1, 60, &used, &retry, &err), CG_BLOCK);
	cr_assert_eq(used, 1);
	cr_assert(retry >= 1 && retry <= 60);
	cg_ratelimit_close(rl);
	remove_dir(dir);
}

Test(ratelimit, reset_forgets_one_ticket_and_keeps_the_others)
{
	char *dir = fresh_dir();
	struct cg_ratelimit *rl = open_in(dir);
	struct cg_error err;

	take(rl, "T1", "a", 1, 60, NULL);
	take(rl, "T1", "b", 1, 60, NULL);
	take(rl, "T2", "a", 1, 60, NULL);
	cr_assert_eq(cg_ratelimit_reset(rl, "T1", &err), 2);
	cr_assert_eq(take(rl, "T1", "a", 1, 60, NULL), CG_ALLOW);
	cr_assert_eq(take(rl, "T2", "a", 1, 60, NULL), CG_BLOCK);
	cr_assert_eq(cg_ratelimit_reset(rl, "nobody", &err), 0);
	cg_ratelimit_close(rl);
	remove_dir(dir);
}

struct listed {
	char commands[4][32];
	unsigned runs[4];
	int n;
};

static int collect(void *arg, const struct cg_ratelimit_usage *u)
{
	struct listed *l = arg;

	snprintf(l->commands[l->n], sizeof(l->commands[0]), "%s", u->command);
	l->runs[l->n++] = u->runs;
	return 0;
}

Test(ratelimit, list_shows_each_command_of_a_ticket_with_its_runs)
{
	char *dir = fresh_dir();
	struct cg_ratelimit *rl = open_in(dir);
	struct cg_error err;
	struct listed l = { .n = 0 };

	take(rl, "T1", "npm test", 10, 60, NULL);
	take(rl, "T1", "npm test", 10, 60, NULL);
	take(rl, "T1", "make", 10, 60, NULL);
	take(rl, "T2", "ls", 10, 60, NULL);
	cr_assert_eq(cg_ratelimit_list(rl, "T1", collect, &l, &err), 0);
	cr_assert_eq(l.n, 2);
	cr_assert_str_eq(l.commands[0], "make");
	cr_assert_eq(l.runs[0], 1);
	cr_assert_str_eq(l.commands[1], "npm test");
	cr_assert_eq(l.runs[1], 2);
	cg_ratelimit_close(rl);
	remove_dir(dir);
}

Test(ratelimit, a_corrupt_state_file_is_an_error_naming_the_file)
{
	char *dir = fresh_dir();
	char path[PATH_MAX];
	struct cg_ratelimit *rl = NULL;
	struct cg_error err = { 0 };
	int r;

	snprintf(path, sizeof(path), "%s/ratelimit.db", dir);
	write_file(path, "this is not an SQLite database, it is a text file that got here somehow\n"
			 "and it is long enough to have a header..........................\n");
	r = cg_ratelimit_open(&rl, dir, &err);
	cr_assert_lt(r, 0, "a corrupt file must not be used");
	cr_assert_null(rl);
	cr_assert_str_eq(err.file, path);
	cr_assert_not_null(strstr(err.message, "not a database"), "%s", err.message);
	remove_dir(dir);
}

Test(ratelimit, another_programs_database_at_the_path_is_refused)
{
	char *dir = fresh_dir();
	char path[PATH_MAX];
	struct cg_ratelimit *rl = NULL;
	struct cg_error err = { 0 };
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/ratelimit.db", dir);
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "CREATE TABLE runs (x); INSERT INTO runs VALUES (1)", NULL,
				  NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	cr_assert_eq(cg_ratelimit_open(&rl, dir, &err), -EBADMSG);
	cr_assert_str_eq(err.file, path);
	cr_assert_not_null(strstr(err.message, "not a CommandGuard state file"), "%s", err.message);
	remove_dir(dir);
}

Test(ratelimit, a_state_file_that_cannot_be_opened_is_an_error_naming_it)
{
	char *dir = fresh_dir();
	char path[PATH_MAX];
	struct cg_ratelimit *rl = NULL;
	struct cg_error err = { 0 };

	snprintf(path, sizeof(path), "%s/ratelimit.db", dir);
	cr_assert_eq(mkdir(path, 0700), 0);   /* a directory where the file should be */
	cr_assert_lt(cg_ratelimit_open(&rl, dir, &err), 0);
	cr_assert_str_eq(err.file, path);
	remove_dir(dir);
}

Test(ratelimit, a_state_file_locked_past_the_timeout_is_an_error_not_a_pass, .timeout = 30)
{
	char *dir = fresh_dir();
	char path[PATH_MAX];
	struct cg_ratelimit *rl = open_in(dir);
	struct cg_error err = { 0 };
	unsigned retry;
	sqlite3 *holder;

	snprintf(path, sizeof(path), "%s/ratelimit.db", dir);
	cr_assert_eq(sqlite3_open(path, &holder), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(holder, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	cr_assert_eq(cg_ratelimit_take(rl, "T", "npm test", 10, 60, &retry, &err), -EBUSY);
	cr_assert_str_eq(err.file, path);
	sqlite3_exec(holder, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(holder);
	cr_assert_eq(take(rl, "T", "npm test", 10, 60, NULL), CG_ALLOW, "usable once released");
	cg_ratelimit_close(rl);
	remove_dir(dir);
}

Test(ratelimit, the_state_directory_is_created_private_with_its_parents)
{
	char *dir = fresh_dir();
	char nested[PATH_MAX];
	struct stat st;

	snprintf(nested, sizeof(nested), "%s/a/b/state", dir);
	struct cg_ratelimit *rl = open_in(nested);
	cr_assert_eq(stat(nested, &st), 0);
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0700);
	cg_ratelimit_close(rl);
	remove_dir(dir);
}

Test(ratelimit, a_state_directory_that_is_a_file_is_an_error)
{
	char *dir = fresh_dir();
	char file[PATH_MAX];
	struct cg_ratelimit *rl = NULL;
	struct cg_error err = { 0 };

	snprintf(file, sizeof(file), "%s/plain", dir);
	write_file(file, "x");
	cr_assert_eq(cg_ratelimit_open(&rl, file, &err), -ENOTDIR);
	cr_assert_str_eq(err.file, file);
	remove_dir(dir);
}

Test(ratelimit, the_default_state_directory_follows_the_environment)
{
	char out[PATH_MAX];

	setenv("GUARD_STATE_DIR", "/srv/guard-state", 1);
	cr_assert_eq(cg_state_dir_default(out, sizeof(out)), 0);
	cr_assert_str_eq(out, "/srv/guard-state");
	unsetenv("GUARD_STATE_DIR");
	cr_assert_eq(cg_state_dir_default(out, sizeof(out)), 0);
	if (geteuid() == 0) {
		cr_assert_str_eq(out, "/var/lib/commandguard");
	} else {
		setenv("XDG_STATE_HOME", "/home/u/.state", 1);
		cr_assert_eq(cg_state_dir_default(out, sizeof(out)), 0);
		cr_assert_str_eq(out, "/home/u/.state/commandguard");
	}
	cr_assert_eq(cg_state_dir_default(out, 8), -ENAMETOOLONG);
}

Test(ratelimit, the_refusal_message_names_limit_ticket_and_wait)
{
	struct cg_reason why;

	cg_ratelimit_explain(&why, "TICKET-123", 10, 60, 42);
	cr_assert_str_eq(why.category, "rate-limit");
	cr_assert_str_eq(why.message, "Command execution rate limited (10 per 60s for ticket "
				      "TICKET-123); next run allowed in 42s");
}

/* ---------- guardctl ratelimit ---------- */

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

Test(ratelimit_cli, show_lists_a_tickets_commands_and_reset_frees_them)
{
	char *dir = fresh_dir(), *out;
	struct cg_ratelimit *rl = open_in(dir);

	for (int i = 0; i < 10; i++)
		take(rl, "TICKET-123", "npm test", 10, 60, NULL);
	take(rl, "TICKET-123", "make", 10, 60, NULL);
	take(rl, "OTHER", "npm test", 10, 60, NULL);

	cr_assert_eq(guardctl(dir, "ratelimit show --ticket TICKET-123", &out), 0, "%s", out);
	cr_assert_not_null(strstr(out, "10 "), "%s", out);
	cr_assert_not_null(strstr(out, "npm test"), "%s", out);
	cr_assert_not_null(strstr(out, "make"), "%s", out);
	free(out);

	cr_assert_eq(guardctl(dir, "ratelimit reset --ticket TICKET-123", &out), 0, "%s", out);
	cr_assert_not_null(strstr(out, "11 recorded run(s) forgotten"), "%s", out);
	free(out);
	cr_assert_eq(take(rl, "TICKET-123", "npm test", 10, 60, NULL), CG_ALLOW);
	cr_assert_eq(take(rl, "OTHER", "npm test", 1, 60, NULL), CG_BLOCK, "other tickets kept");
	cg_ratelimit_close(rl);
	remove_dir(dir);
}

Test(ratelimit_cli, a_missing_ticket_is_a_usage_error_and_a_damaged_file_is_named)
{
	char *dir = fresh_dir(), *out;
	char path[PATH_MAX];

	cr_assert_eq(guardctl(dir, "ratelimit reset", &out), 125);
	free(out);
	snprintf(path, sizeof(path), "%s/ratelimit.db", dir);
	write_file(path, "not a database, and long enough to be read as a header ...............\n"
			 "..................................................................\n");
	cr_assert_eq(guardctl(dir, "ratelimit show --ticket T", &out), 125);
	cr_assert_not_null(strstr(out, path), "the error names the file: %s", out);
	free(out);
	remove_dir(dir);
}

Test(ratelimit_cli, looking_at_a_state_directory_without_a_file_creates_nothing)
{
	char *dir = fresh_dir(), *out;
	char path[PATH_MAX];

	cr_assert_eq(guardctl(dir, "ratelimit show --ticket T", &out), 0, "%s", out);
	free(out);
	snprintf(path, sizeof(path), "%s/ratelimit.db", dir);
	cr_assert_neq(access(path, F_OK), 0, "no state file was created");
	remove_dir(dir);
}
