/* audit.c - the audit log: one JSON object per line (JSON Lines),
 * appended with one write(2) on an O_APPEND descriptor so that records of
 * concurrent runs never interleave, and optionally copied to syslog.
 *
 * Record schema (every field a string unless said otherwise; fields that
 * do not apply are left out):
 *
 *   time       "2026-11-24T11:37:30.123Z", UTC with milliseconds; added by
 *              cg_audit_write when the record has none
 *   type       "decision"  the static verdict before a run (or of a check)
 *              "run"       a command that ran, with its outcome
 *              "denial"    an operation refused at run time
 *   run_id, ticket, user, workspace, command
 *   verdict    "allow" | "block"            (decision, denial)
 *   category, rule, reason, layer           (decision and denial when blocked;
 *                                            layer: "static", "seccomp", ...)
 *   run records add:
 *     exit_code (integer), signal (integer, 0 when none), duration_s (number),
 *     timed_out (boolean), output_bytes (integer: stdout + stderr produced),
 *     truncated (boolean)
 *   denial records add:
 *     syscall, detail (the path, program or address), pid (integer)
 *
 * Readers must ignore fields they do not know; new fields may be added.
 *
 * syslog: openlog() and syslog() keep process-wide state in libc (the
 * ident, the facility, the socket).  Only one audit handle per process
 * should use syslog, and cg_audit_close() calls closelog().
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "guard/guard.h"

struct cg_audit {
	int fd;               /* -1: syslog only */
	bool use_syslog;
	char path[PATH_MAX];
};

int cg_audit_open(struct cg_audit **out, const char *file, bool use_syslog, struct cg_error *err)
{
	struct cg_audit *a;

	*out = NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->fd = -1;
	a->use_syslog = use_syslog;
	if (file) {
		char dir[PATH_MAX];
		const char *slash = strrchr(file, '/');
		int n = snprintf(a->path, sizeof(a->path), "%s", file);

		if (n <= 0 || (size_t)n >= sizeof(a->path)) {
			cg_error_set(err, file, 0, "", "audit log name too long or empty");
			free(a);
			return -ENAMETOOLONG;
		}
		if (slash && slash != file) {
			snprintf(dir, sizeof(dir), "%.*s", (int)(slash - file), file);
			int r = cg_state_dir_make(dir, err);
			if (r < 0) {
				free(a);
				return r;
			}
		}
		a->fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
		if (a->fd < 0) {
			int saved = errno;
			cg_error_set(err, file, 0, "", "cannot open the audit log: %s", strerror(saved));
			free(a);
			return -saved;
		}
	}
	if (use_syslog)
		openlog("commandguard", LOG_PID, LOG_AUTHPRIV);
	*out = a;
	return 0;
}

void cg_audit_close(struct cg_audit *a)
{
	if (!a)
		return;
	if (a->fd >= 0)
		close(a->fd);
	if (a->use_syslog)
		closelog();
	free(a);
}

static void format_time(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, size - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

int cg_audit_write(struct cg_audit *a, json_t *record, struct cg_error *err)
{
	const char *where = a->fd >= 0 ? a->path : "syslog";
	json_t *line_obj = record;
	char *text, *line;
	size_t len;
	ssize_t n;

	if (!json_is_object(record)) {
		cg_error_set(err, where, 0, "", "audit record is not a JSON object");
		return -EINVAL;
	}
	if (!json_object_get(record, "time")) {
		char now[40];

		/* The caller's object is borrowed: build a new one with "time"
		 * first (jansson keeps insertion order) instead of changing it. */
		format_time(now, sizeof(now));
		line_obj = json_object();
		if (!line_obj || json_object_set_new(line_obj, "time", json_string(now)) < 0 ||
		    json_object_update(line_obj, record) < 0) {
			json_decref(line_obj);
			return -ENOMEM;
		}
	}
	text = json_dumps(line_obj, JSON_COMPACT);
	if (line_obj != record)
		json_decref(line_obj);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	line = realloc(text, len + 2);
	if (!line) {
		free(text);
		return -ENOMEM;
	}
	line[len] = '\n';
	line[len + 1] = '\0';

	if (a->use_syslog) {
		const char *verdict = json_string_value(json_object_get(record, "verdict"));
		int level = verdict && strcmp(verdict, "block") == 0 ? LOG_WARNING : LOG_INFO;
		syslog(LOG_AUTHPRIV | level, "%.*s", (int)len, line);
	}
	if (a->fd < 0) {
		free(line);
		return 0;
	}
	/* One write: O_APPEND makes it atomic against other appenders, and a
	 * record split over two writes could interleave with another run's. */
	do
		n = write(a->fd, line, len + 1);
	while (n < 0 && errno == EINTR);
	free(line);
	if (n < 0) {
		int saved = errno;
		cg_error_set(err, a->path, 0, "", "cannot write the audit log: %s", strerror(saved));
		return -saved;
	}
	if ((size_t)n != len + 1) {
		/* End the torn line, or the next record would join it and both
		 * would be unreadable. */
		if (write(a->fd, "\n", 1) < 0) {
			/* the error below is already the one to report */
		}
		cg_error_set(err, a->path, 0, "", "short write to the audit log (%zd of %zu bytes)",
			     n, len + 1);
		return -EIO;
	}
	return 0;
}

/* ---------- standard records ---------- */

/* json_string() refuses bytes that are not UTF-8; a command may contain
 * them, and the log must still say what ran. */
static int set_text(json_t *obj, const char *key, const char *value)
{
	json_t *s;

	if (!value)
		return 0;
	s = json_string(value);
	if (!s) {
		char *copy = strdup(value);
		if (!copy)
			return -ENOMEM;
		for (char *c = copy; *c; c++)
			if ((unsigned char)*c >= 0x80)
				*c = '?';
		s = json_string(copy);
		free(copy);
	}
	return s && json_object_set_new(obj, key, s) == 0 ? 0 : -ENOMEM;
}

static json_t *record_new(const char *type, const struct cg_audit_info *info)
{
	char user[64];
	const char *user_name = info->user;
	json_t *rec = json_object();

	if (!user_name) {
		struct passwd pw, *found = NULL;
		char buf[1024];

		if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &found) == 0 && found)
			snprintf(user, sizeof(user), "%s", found->pw_name);
		else
			snprintf(user, sizeof(user), "%u", (unsigned)getuid());
		user_name = user;
	}
	if (!rec || set_text(rec, "type", type) < 0 || set_text(rec, "run_id", info->run_id) < 0 ||
	    set_text(rec, "ticket", info->ticket) < 0 || set_text(rec, "user", user_name) < 0 ||
	    set_text(rec, "workspace", info->workspace) < 0 ||
	    set_text(rec, "command", info->command) < 0) {
		json_decref(rec);
		return NULL;
	}
	return rec;
}

static int set_verdict(json_t *rec, enum cg_verdict verdict, const struct cg_reason *why)
{
	if (set_text(rec, "verdict", verdict == CG_BLOCK ? "block" : "allow") < 0)
		return -ENOMEM;
	if (!why || !why->category[0])
		return 0;
	if (set_text(rec, "category", why->category) < 0 ||
	    (why->rule[0] && set_text(rec, "rule", why->rule) < 0) ||
	    set_text(rec, "reason", why->message) < 0 ||
	    (why->layer[0] && set_text(rec, "layer", why->layer) < 0))
		return -ENOMEM;
	return 0;
}

static int write_owned(struct cg_audit *a, json_t *rec, int r, struct cg_error *err)
{
	if (!rec || r < 0) {
		json_decref(rec);
		cg_error_set(err, a->fd >= 0 ? a->path : "syslog", 0, "", "out of memory");
		return -ENOMEM;
	}
	r = cg_audit_write(a, rec, err);
	json_decref(rec);
	return r;
}

int cg_audit_decision(struct cg_audit *a, const struct cg_audit_info *info,
		      enum cg_verdict verdict, const struct cg_reason *why, struct cg_error *err)
{
	json_t *rec = record_new("decision", info);
	int r = rec ? set_verdict(rec, verdict, why) : -ENOMEM;

	return write_owned(a, rec, r, err);
}

int cg_audit_run(struct cg_audit *a, const struct cg_audit_info *info,
		 const struct cg_run_result *res, struct cg_error *err)
{
	json_t *rec = record_new("run", info);
	int r = 0;

	if (rec &&
	    (json_object_set_new(rec, "exit_code", json_integer(res->exit_code)) < 0 ||
	     json_object_set_new(rec, "signal", json_integer(res->signal)) < 0 ||
	     json_object_set_new(rec, "duration_s", json_real(res->duration_s)) < 0 ||
	     json_object_set_new(rec, "timed_out", json_boolean(res->timed_out)) < 0 ||
	     json_object_set_new(rec, "output_bytes",
				 json_integer((json_int_t)(res->stdout_bytes + res->stderr_bytes))) < 0 ||
	     json_object_set_new(rec, "truncated", json_boolean(res->truncated)) < 0))
		r = -ENOMEM;
	return write_owned(a, rec, r, err);
}

int cg_audit_denial(struct cg_audit *a, const struct cg_audit_info *info,
		    const struct cg_denial *denial, enum cg_verdict verdict,
		    struct cg_error *err)
{
	json_t *rec = record_new("denial", info);
	int r = rec ? set_verdict(rec, verdict, &denial->why) : -ENOMEM;

	if (r == 0 && (set_text(rec, "syscall", denial->syscall) < 0 ||
		       set_text(rec, "detail", denial->detail) < 0 ||
		       json_object_set_new(rec, "pid", json_integer(denial->pid)) < 0))
		r = -ENOMEM;
	return write_owned(a, rec, r, err);
}

/* ---------- search ---------- */

bool cg_audit_type_valid(const char *type)
{
	static const char *const types[] = { "decision", "run", "denial", "blocked", "allowed" };

	if (!type)
		return true;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(type, types[i]) == 0)
			return true;
	return false;
}

int cg_audit_time_parse(const char *text, int64_t *epoch_ms)
{
	struct tm tm = { 0 };
	const char *rest;
	long ms = 0;

	if (!text)
		return -EINVAL;
	rest = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!rest)
		return -EINVAL;
	if (*rest == '.') {
		int digits = 0;
		for (rest++; *rest >= '0' && *rest <= '9'; rest++, digits++)
			if (digits < 3)
				ms = ms * 10 + (*rest - '0');
		if (digits == 0)
			return -EINVAL;
		for (; digits < 3; digits++)
			ms *= 10;
	}
	if (strcmp(rest, "Z") != 0)
		return -EINVAL;
	*epoch_ms = (int64_t)timegm(&tm) * 1000 + ms;
	return 0;
}

static bool field_is(json_t *rec, const char *key, const char *want)
{
	const char *value = json_string_value(json_object_get(rec, key));

	return value && strcmp(value, want) == 0;
}

static bool record_matches(json_t *rec, const struct cg_audit_filter *f)
{
	if (f->ticket && !field_is(rec, "ticket", f->ticket))
		return false;
	if (f->type) {
		if (strcmp(f->type, "blocked") == 0) {
			if (!field_is(rec, "verdict", "block"))
				return false;
		} else if (strcmp(f->type, "allowed") == 0) {
			if (!field_is(rec, "verdict", "allow"))
				return false;
		} else if (!field_is(rec, "type", f->type)) {
			return false;
		}
	}
	if (f->since_s > 0) {
		int64_t at_ms;
		if (cg_audit_time_parse(json_string_value(json_object_get(rec, "time")), &at_ms) < 0 ||
		    at_ms < f->since_s * 1000)
			return false;
	}
	return true;
}

int cg_audit_query(const char *file, const struct cg_audit_filter *filter,
		   int (*fn)(void *arg, json_t *record), void *arg,
		   size_t *n_malformed, struct cg_error *err)
{
	static const struct cg_audit_filter everything = { 0, NULL, NULL };
	FILE *f;
	char *line = NULL;
	size_t cap = 0, bad = 0;
	ssize_t len;
	int stop = 0;

	if (!filter)
		filter = &everything;
	if (!cg_audit_type_valid(filter->type)) {
		cg_error_set(err, "", 0, "type",
			     "unknown event type '%s' (decision, run, denial, blocked, allowed)",
			     filter->type);
		return -EINVAL;
	}
	f = fopen(file, "re");
	if (!f) {
		int saved = errno;
		cg_error_set(err, file, 0, "", "cannot open the audit log: %s", strerror(saved));
		return -saved;
	}
	while (stop == 0 && (len = getline(&line, &cap, f)) > 0) {
		json_t *rec;

		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0)
			continue;
		rec = json_loadb(line, (size_t)len, 0, NULL);
		if (!json_is_object(rec)) {
			bad++;
		} else if (record_matches(rec, filter)) {
			stop = fn(arg, rec);
		}
		json_decref(rec);
	}
	free(line);
	if (stop == 0 && ferror(f)) {
		int saved = errno ? errno : EIO;
		fclose(f);
		cg_error_set(err, file, 0, "", "cannot read the audit log: %s", strerror(saved));
		return -saved;
	}
	fclose(f);
	if (n_malformed)
		*n_malformed = bad;
	return stop;
}
