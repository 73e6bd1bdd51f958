/* ratelimit.c - per-(ticket, command) execution limits shared by every
 * process on the machine, kept in SQLite (STATE_DIR/ratelimit.db).
 *
 * Each admitted run is a row (ticket, command, at_ms, expires_ms).  A take
 * is one BEGIN IMMEDIATE transaction: it holds SQLite's write lock while it
 * counts the key's rows inside the window and inserts one, so concurrent
 * processes are serialised by the database and the count is exact (50
 * racing processes admit exactly `count`).  Waiting for the lock is bounded
 * by a busy timeout; past it the take fails with -EBUSY rather than
 * guessing, and so does a file that is unreadable or not our database.
 *
 * Rows carry their own expiry (at + the window they were taken with) so
 * that pruning, which every take does for the whole table, never removes a
 * row that a caller with a longer window still counts.
 *
 * WAL mode lets `guardctl check` and `ratelimit show` read while a take
 * writes.  synchronous=OFF: every guard-exec is the only connection, so
 * its close checkpoints the WAL into the file, and with fsync that is two
 * flushes, 1.4 ms of a run instead of 0.5 ms (bench/bench-state).  Without
 * fsync the state survives any process crash, since the data is in the
 * kernel's page cache; a power loss may lose the last runs (harmless for a
 * 60 s window) or damage the file, which is then reported as an error that
 * names it, and the operator removes it.  The limit never passes silently.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "guard/guard.h"

#define BUSY_TIMEOUT_MS 5000
/* "CGRL" in PRAGMA application_id: a different SQLite file at our path is
 * an error, not something to write rows into. */
#define APPLICATION_ID 0x4347524c
#define SCHEMA_VERSION 1

enum stmt {
	ST_BEGIN_WRITE,
	ST_BEGIN_READ,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_PRUNE,
	ST_COUNT,
	ST_NTH,
	ST_INSERT,
	ST_RESET,
	ST_LIST,
	ST_COUNT_STMTS
};

static const char *const stmt_sql[ST_COUNT_STMTS] = {
	[ST_BEGIN_WRITE] = "BEGIN IMMEDIATE",
	[ST_BEGIN_READ] = "BEGIN",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_PRUNE] = "DELETE FROM runs WHERE expires_ms <= ?1",
	[ST_COUNT] = "SELECT count(*) FROM runs WHERE ticket = ?1 AND command = ?2 AND at_ms > ?3",
	/* the run whose expiry frees the next slot */
	[ST_NTH] = "SELECT at_ms FROM runs WHERE ticket = ?1 AND command = ?2 AND at_ms > ?3 "
		   "ORDER BY at_ms LIMIT 1 OFFSET ?4",
	[ST_INSERT] = "INSERT INTO runs (ticket, command, at_ms, expires_ms) VALUES (?1, ?2, ?3, ?4)",
	[ST_RESET] = "DELETE FROM runs WHERE ticket = ?1",
	[ST_LIST] = "SELECT command, count(*), min(expires_ms) FROM runs "
		    "WHERE ticket = ?1 AND expires_ms > ?2 GROUP BY command ORDER BY command",
};

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS runs ("
	" ticket TEXT NOT NULL, command TEXT NOT NULL,"
	" at_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS runs_key ON runs (ticket, command, at_ms);"
	"CREATE INDEX IF NOT EXISTS runs_expiry ON runs (expires_ms);";

struct cg_ratelimit {
	sqlite3 *db;
	sqlite3_stmt *stmts[ST_COUNT_STMTS];
	char path[PATH_MAX];
};

/* ---------- state directory ---------- */

int cg_state_dir_default(char *out, size_t size)
{
	const char *dir = secure_getenv("GUARD_STATE_DIR");
	const char *base;
	int n;

	if (dir && dir[0])
		n = snprintf(out, size, "%s", dir);
	else if (geteuid() == 0)
		n = snprintf(out, size, "/var/lib/commandguard");
	else if ((base = secure_getenv("XDG_STATE_HOME")) && base[0] == '/')
		n = snprintf(out, size, "%s/commandguard", base);
	else if ((base = secure_getenv("HOME")) && base[0] == '/')
		n = snprintf(out, size, "%s/.local/state/commandguard", base);
	else
		return -ENOENT;
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int cg_state_dir_make(const char *dir, struct cg_error *err)
{
	char path[PATH_MAX];
	struct stat st;
	int n = snprintf(path, sizeof(path), "%s", dir);

	if (n <= 0 || (size_t)n >= sizeof(path)) {
		cg_error_set(err, dir, 0, "", "state directory name too long or empty");
		return -ENAMETOOLONG;
	}
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	/* Create each missing component; the walk is from the top so that the
	 * parents exist before their children. */
	for (char *slash = path + 1;; slash++) {
		bool is_end = *slash == '\0';

		if (!is_end && *slash != '/')
			continue;
		*slash = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			int saved = errno;
			cg_error_set(err, path, 0, "", "cannot create the state directory: %s",
				     strerror(saved));
			return -saved;
		}
		if (is_end)
			break;
		*slash = '/';
	}
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		cg_error_set(err, path, 0, "", "not a directory");
		return -ENOTDIR;
	}
	return 0;
}

/* ---------- errors ---------- */

static int errno_of(sqlite3 *db, int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED: return -EBUSY;
	case SQLITE_NOMEM: return -ENOMEM;
	case SQLITE_READONLY: return -EROFS;
	case SQLITE_PERM:
	case SQLITE_AUTH: return -EACCES;
	case SQLITE_FULL: return -ENOSPC;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB: return -EBADMSG;
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR: {
		int e = db ? sqlite3_system_errno(db) : 0;
		return e > 0 ? -e : -EIO;
	}
	default: return -EIO;
	}
}

static int fail(struct cg_ratelimit *rl, int rc, const char *what, struct cg_error *err)
{
	const char *hint = "";
	int r = errno_of(rl->db, rc);

	if (r == -EBADMSG)
		hint = "; it is damaged: remove it to reset every rate limit";
	else if (r == -EBUSY)
		hint = "; another process held it for more than 5 s";
	cg_error_set(err, rl->path, 0, "", "rate-limit state: %s: %s%s", what,
		     rl->db ? sqlite3_errmsg(rl->db) : sqlite3_errstr(rc), hint);
	return r;
}

/* ---------- open and close ---------- */

static int exec_sql(struct cg_ratelimit *rl, const char *sql, const char *what,
		    struct cg_error *err)
{
	int rc = sqlite3_exec(rl->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : fail(rl, rc, what, err);
}

static int pragma_int(struct cg_ratelimit *rl, const char *sql, long long *value,
		      struct cg_error *err)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(rl->db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return fail(rl, rc, "cannot read it", err);
	rc = sqlite3_step(st);
	*value = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	if (rc == SQLITE_ROW)
		rc = SQLITE_DONE;
	if (rc == SQLITE_DONE)
		rc = sqlite3_finalize(st);
	else
		sqlite3_finalize(st);
	return rc == SQLITE_OK ? 0 : fail(rl, rc, "cannot read it", err);
}

/* Create the table once, and refuse a file that is somebody else's
 * database or a newer schema. */
static int schema_ensure(struct cg_ratelimit *rl, struct cg_error *err)
{
	long long app_id, version;
	int r;

	if ((r = pragma_int(rl, "PRAGMA application_id", &app_id, err)) < 0 ||
	    (r = pragma_int(rl, "PRAGMA user_version", &version, err)) < 0)
		return r;
	if (app_id == APPLICATION_ID && version == SCHEMA_VERSION)
		return 0;
	if ((r = exec_sql(rl, "BEGIN IMMEDIATE", "cannot lock it", err)) < 0)
		return r;
	/* Read again under the lock: another process may have just created it. */
	if ((r = pragma_int(rl, "PRAGMA application_id", &app_id, err)) < 0 ||
	    (r = pragma_int(rl, "PRAGMA user_version", &version, err)) < 0)
		goto rollback;
	if (app_id == 0 && version == 0) {
		long long tables;
		r = pragma_int(rl, "SELECT count(*) FROM sqlite_master", &tables, err);
		if (r < 0)
			goto rollback;
		if (tables != 0)
			goto foreign;
		if ((r = exec_sql(rl, schema_sql, "cannot create the table", err)) < 0 ||
		    (r = exec_sql(rl, "PRAGMA application_id = 1128747596; PRAGMA user_version = 1",
				  "cannot create the table", err)) < 0)
			goto rollback;
	} else if (app_id != APPLICATION_ID || version != SCHEMA_VERSION) {
		goto foreign;
	}
	return exec_sql(rl, "COMMIT", "cannot create the table", err);

foreign:
	if (app_id == APPLICATION_ID)
		cg_error_set(err, rl->path, 0, "",
			     "rate-limit state: schema version %lld, this build knows %d", version,
			     SCHEMA_VERSION);
	else
		cg_error_set(err, rl->path, 0, "",
			     "rate-limit state: not a CommandGuard state file (application_id %lld)",
			     app_id);
	r = -EBADMSG;
rollback:
	sqlite3_exec(rl->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int configure(struct cg_ratelimit *rl, struct cg_error *err)
{
	char journal[16] = "";
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(rl->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);

	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			snprintf(journal, sizeof(journal), "%s",
				 (const char *)sqlite3_column_text(st, 0));
			rc = SQLITE_OK;
		}
		sqlite3_finalize(st);
	}
	if (rc != SQLITE_OK)
		return fail(rl, rc, "cannot read it", err);
	if (strcmp(journal, "wal") != 0) {
		cg_error_set(err, rl->path, 0, "", "rate-limit state: cannot use WAL mode (got %s)",
			     journal);
		return -EIO;
	}
	int r = exec_sql(rl, "PRAGMA synchronous = OFF; PRAGMA journal_size_limit = 0",
			 "cannot configure it", err);
	return r < 0 ? r : schema_ensure(rl, err);
}

int cg_ratelimit_open(struct cg_ratelimit **out, const char *state_dir, struct cg_error *err)
{
	struct cg_ratelimit *rl;
	int n, r, rc;

	_Static_assert(APPLICATION_ID == 1128747596, "the PRAGMA literal spells APPLICATION_ID");
	*out = NULL;
	rl = calloc(1, sizeof(*rl));
	if (!rl)
		return -ENOMEM;
	n = snprintf(rl->path, sizeof(rl->path), "%s/%s", state_dir, CG_RATELIMIT_FILE);
	if (n < 0 || (size_t)n >= sizeof(rl->path)) {
		cg_error_set(err, state_dir, 0, "", "state directory name too long");
		free(rl);
		return -ENAMETOOLONG;
	}
	r = cg_state_dir_make(state_dir, err);
	if (r < 0) {
		free(rl);
		return r;
	}
	/* SQLite opens its files with O_CLOEXEC. */
	rc = sqlite3_open_v2(rl->path, &rl->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
			     SQLITE_OPEN_EXRESCODE, NULL);
	if (rc != SQLITE_OK) {
		r = fail(rl, rc, "cannot open it", err);
		goto fail;
	}
	sqlite3_busy_timeout(rl->db, BUSY_TIMEOUT_MS);
	/* Keep the -wal and -shm files between runs (the WAL emptied to 0
	 * bytes at each close): creating and unlinking them is a quarter of
	 * what opening costs. */
	int is_persistent = 1;
	sqlite3_file_control(rl->db, "main", SQLITE_FCNTL_PERSIST_WAL, &is_persistent);
	/* SQLite answers SQLITE_BUSY at once, without its busy handler, when
	 * processes that opened a new file together all try to switch it to
	 * WAL (waiting could deadlock them).  Retrying the set-up is safe: each
	 * step is idempotent. */
	int64_t deadline_ms = monotonic_ms() + BUSY_TIMEOUT_MS;
	while ((r = configure(rl, err)) == -EBUSY && monotonic_ms() < deadline_ms)
		usleep(2000);
	if (r < 0)
		goto fail;
	*out = rl;
	return 0;

fail:
	cg_ratelimit_close(rl);
	return r;
}

void cg_ratelimit_close(struct cg_ratelimit *rl)
{
	if (!rl)
		return;
	for (int i = 0; i < ST_COUNT_STMTS; i++)
		sqlite3_finalize(rl->stmts[i]);
	sqlite3_close(rl->db);
	free(rl);
}

/* ---------- statements ---------- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Statements are prepared on first use: a guard-exec run takes once and
 * exits, and preparing every statement would cost more than the take. */
static sqlite3_stmt *stmt(struct cg_ratelimit *rl, enum stmt which, int *rc)
{
	if (!rl->stmts[which]) {
		*rc = sqlite3_prepare_v3(rl->db, stmt_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
					 &rl->stmts[which], NULL);
		if (*rc != SQLITE_OK)
			return NULL;
	}
	return rl->stmts[which];
}

/* Run a prepared statement to its end, keeping one integer of its first
 * row (or -1 when it returns none).  SQLITE_OK or the error. */
static int step(sqlite3_stmt *st, int64_t *value)
{
	int rc = sqlite3_step(st);

	if (value)
		*value = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	while (rc == SQLITE_ROW)
		rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int run(struct cg_ratelimit *rl, enum stmt which)
{
	int rc = SQLITE_OK;
	sqlite3_stmt *st = stmt(rl, which, &rc);

	return st ? step(st, NULL) : rc;
}

static void bind_key(sqlite3_stmt *st, const char *ticket, const char *command)
{
	sqlite3_bind_text(st, 1, ticket, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, command, -1, SQLITE_STATIC);
}

static int begin(struct cg_ratelimit *rl, enum stmt which, struct cg_error *err)
{
	int rc = run(rl, which);

	return rc == SQLITE_OK ? 0 : fail(rl, rc, "cannot lock it", err);
}

/* End the transaction: commit when rc is SQLITE_OK, else roll back and
 * report rc. */
static int finish(struct cg_ratelimit *rl, int rc, const char *what, struct cg_error *err)
{
	if (rc == SQLITE_OK) {
		rc = run(rl, ST_COMMIT);
		if (rc == SQLITE_OK)
			return 0;
		what = "cannot commit";
	}
	int r = fail(rl, rc, what, err);
	run(rl, ST_ROLLBACK);
	return r;
}

/* How many runs of the key lie in the window, and in how many seconds
 * (rounded up, at least 1) a run is admitted again when used >= count. */
static int usage_query(struct cg_ratelimit *rl, const char *ticket, const char *command,
		       unsigned count, int64_t window_ms, int64_t now, unsigned *used,
		       unsigned *retry_after_s)
{
	int rc = SQLITE_OK;
	sqlite3_stmt *st = stmt(rl, ST_COUNT, &rc);
	int64_t n, at;

	if (!st)
		return rc;
	bind_key(st, ticket, command);
	sqlite3_bind_int64(st, 3, now - window_ms);
	if ((rc = step(st, &n)) != SQLITE_OK)
		return rc;
	*used = (unsigned)n;
	*retry_after_s = 0;
	if (n < count)
		return SQLITE_OK;
	if (!(st = stmt(rl, ST_NTH, &rc)))
		return rc;
	bind_key(st, ticket, command);
	sqlite3_bind_int64(st, 3, now - window_ms);
	sqlite3_bind_int64(st, 4, n - count);
	if ((rc = step(st, &at)) != SQLITE_OK)
		return rc;
	if (at < 0)   /* count == 0: nothing is ever admitted */
		at = now;
	int64_t wait_ms = at + window_ms - now;
	*retry_after_s = wait_ms <= 0 ? 1 : (unsigned)((wait_ms + 999) / 1000);
	return SQLITE_OK;
}

static int check_args(struct cg_ratelimit *rl, const char *ticket, const char *command,
		      unsigned window_s, struct cg_error *err)
{
	if (window_s > 0 && ticket && command)
		return 0;
	cg_error_set(err, rl->path, 0, "", "rate limit: needs a ticket, a command and a window > 0");
	return -EINVAL;
}

int cg_ratelimit_take(struct cg_ratelimit *rl, const char *ticket, const char *command,
		      unsigned count, unsigned window_s, unsigned *retry_after_s,
		      struct cg_error *err)
{
	int64_t window_ms = (int64_t)window_s * 1000, now;
	unsigned used = 0, retry = 0;
	sqlite3_stmt *st;
	int r, rc = SQLITE_OK;

	if ((r = check_args(rl, ticket, command, window_s, err)) < 0 ||
	    (r = begin(rl, ST_BEGIN_WRITE, err)) < 0)
		return r;
	/* Time is read under the lock, so rows are inserted in time order. */
	now = now_ms();
	if (!(st = stmt(rl, ST_PRUNE, &rc)))
		return finish(rl, rc, "cannot prepare a query", err);
	sqlite3_bind_int64(st, 1, now);
	if ((rc = step(st, NULL)) != SQLITE_OK)
		return finish(rl, rc, "cannot prune it", err);
	rc = usage_query(rl, ticket, command, count, window_ms, now, &used, &retry);
	if (rc != SQLITE_OK)
		return finish(rl, rc, "cannot read it", err);
	if (used < count) {
		if (!(st = stmt(rl, ST_INSERT, &rc)))
			return finish(rl, rc, "cannot prepare a query", err);
		bind_key(st, ticket, command);
		sqlite3_bind_int64(st, 3, now);
		sqlite3_bind_int64(st, 4, now + window_ms);
		if ((rc = step(st, NULL)) != SQLITE_OK)
			return finish(rl, rc, "cannot write it", err);
	}
	if ((r = finish(rl, SQLITE_OK, "", err)) < 0)
		return r;
	if (retry_after_s)
		*retry_after_s = retry;
	return used < count ? CG_ALLOW : CG_BLOCK;
}

int cg_ratelimit_peek(struct cg_ratelimit *rl, const char *ticket, const char *command,
		      unsigned count, unsigned window_s, unsigned *used, unsigned *retry_after_s,
		      struct cg_error *err)
{
	unsigned n = 0, retry = 0;
	int r, rc;

	if ((r = check_args(rl, ticket, command, window_s, err)) < 0 ||
	    (r = begin(rl, ST_BEGIN_READ, err)) < 0)
		return r;
	rc = usage_query(rl, ticket, command, count, (int64_t)window_s * 1000, now_ms(), &n,
			 &retry);
	if ((r = finish(rl, rc, "cannot read it", err)) < 0)
		return r;
	if (used)
		*used = n;
	if (retry_after_s)
		*retry_after_s = retry;
	return n < count ? CG_ALLOW : CG_BLOCK;
}

int cg_ratelimit_reset(struct cg_ratelimit *rl, const char *ticket, struct cg_error *err)
{
	sqlite3_stmt *st;
	int r, rc = SQLITE_OK, removed = 0;

	if ((r = begin(rl, ST_BEGIN_WRITE, err)) < 0)
		return r;
	if ((st = stmt(rl, ST_RESET, &rc))) {
		sqlite3_bind_text(st, 1, ticket, -1, SQLITE_STATIC);
		rc = step(st, NULL);
		removed = sqlite3_changes(rl->db);
	}
	r = finish(rl, rc, "cannot write it", err);
	return r < 0 ? r : removed;
}

int cg_ratelimit_list(struct cg_ratelimit *rl, const char *ticket,
		      int (*fn)(void *arg, const struct cg_ratelimit_usage *usage), void *arg,
		      struct cg_error *err)
{
	sqlite3_stmt *st;
	int64_t now;
	int r, rc = SQLITE_OK, stop = 0;

	if ((r = begin(rl, ST_BEGIN_READ, err)) < 0)
		return r;
	if (!(st = stmt(rl, ST_LIST, &rc)))
		return finish(rl, rc, "cannot prepare a query", err);
	now = now_ms();
	sqlite3_bind_text(st, 1, ticket, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	while (stop == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t wait_ms = sqlite3_column_int64(st, 2) - now;
		struct cg_ratelimit_usage usage = {
			.command = (const char *)sqlite3_column_text(st, 0),
			.runs = (unsigned)sqlite3_column_int64(st, 1),
			.next_free_s = wait_ms <= 0 ? 0 : (unsigned)((wait_ms + 999) / 1000),
		};
		stop = fn(arg, &usage);
	}
	if (stop != 0 || rc == SQLITE_DONE)
		rc = SQLITE_OK;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	r = finish(rl, rc, "cannot read it", err);
	return r < 0 ? r : stop;
}

void cg_ratelimit_explain(struct cg_reason *why, const char *ticket, unsigned count,
			  unsigned window_s, unsigned retry_after_s)
{
	snprintf(why->category, sizeof(why->category), "rate-limit");
	why->rule[0] = '\0';
	snprintf(why->layer, sizeof(why->layer), "static");
	snprintf(why->message, sizeof(why->message),
		 "Command execution rate limited (%u per %us for ticket %s); next run allowed in %us",
		 count, window_s, ticket, retry_after_s);
}
