/* guard-exec - check a command against the policy, then run it under
 * enforcement.
 *
 *   guard-exec [OPTIONS] -- COMMAND [ARG...]   run argv (no shell)
 *   guard-exec [OPTIONS] -c 'STRING'           run the string with /bin/sh -c
 *   guard-exec [OPTIONS] --task NAME           run the repo profile's command NAME
 *
 * Order: load the policy (fail closed: 125), the static check (126), the
 * rate limit (126; consumed only by a command that is otherwise allowed),
 * then cg_run(), the supervisor.  This file parses and prints.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/home.h"
#include "cli/options.h"

#define PRELOAD_NAME "libguard-preload.so"

static void print_error(const struct cg_error *err)
{
	char buf[1024];

	fprintf(stderr, "guard: %s\n", cg_error_format(err, buf, sizeof(buf)));
}

static void make_run_id(char *out, size_t size)
{
	unsigned char rnd[4] = { 0 };
	time_t now = time(NULL);
	struct tm tm;
	char stamp[32];

	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd)) {
		unsigned long mix = (unsigned long)getpid() ^ (unsigned long)clock();
		memcpy(rnd, &mix, sizeof(rnd));
	}
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(out, size, "%s-%02x%02x%02x%02x", stamp, rnd[0], rnd[1], rnd[2], rnd[3]);
}

/* The shim, canonical (the run is granted this one file): $GUARD_PRELOAD,
 * else beside this binary in the build tree, else the installed one.
 * NULL when none exists (the seccomp layer enforces alone, and -v says
 * so). */
static const char *find_preload(char *buf, size_t size)
{
	const char *env = getenv("GUARD_PRELOAD");
	char self[PATH_MAX], candidate[PATH_MAX + 64];
	ssize_t n;

	if (env && env[0]) {
		if (access(env, R_OK) == 0 && realpath(env, buf))
			return buf;
		fprintf(stderr, "guard: warning: GUARD_PRELOAD=%s is not readable: running without the shim "
			"(the seccomp layer still enforces)\n", env);
		return NULL;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(candidate, sizeof(candidate), "%s/../preload/.libs/%s", self, PRELOAD_NAME);
			if (access(candidate, R_OK) == 0 && realpath(candidate, buf))
				return buf;
		}
	}
	snprintf(candidate, sizeof(candidate), "%s/%s", PKGLIBDIR, PRELOAD_NAME);
	return access(candidate, R_OK) == 0 && realpath(candidate, buf) ? buf : NULL;
}

static int parse_user(const char *spec, uid_t *uid, gid_t *gid)
{
	char name[256];
	char *end;
	const char *colon = strchr(spec, ':');
	struct passwd *pw;

	snprintf(name, sizeof(name), "%.*s", colon ? (int)(colon - spec) : (int)strlen(spec), spec);
	unsigned long v = strtoul(name, &end, 10);
	if (name[0] && !*end) {
		*uid = (uid_t)v;
		pw = getpwuid(*uid);
		*gid = pw ? pw->pw_gid : (gid_t)v;
	} else if ((pw = getpwnam(name))) {
		*uid = pw->pw_uid;
		*gid = pw->pw_gid;
	} else {
		return -EINVAL;
	}
	if (colon) {
		v = strtoul(colon + 1, &end, 10);
		if (!colon[1] || *end)
			return -EINVAL;
		*gid = (gid_t)v;
	}
	return 0;
}

struct run {
	struct cg_cli o;
	struct cg_cli_env env;
	struct cg_audit *audit;
	struct cg_audit_info info;
	char run_id[64];
	char *command;            /* canonical, for logs and the rate limit */
	int run_dirfd;            /* --log-dir DIR/RUN_ID, made before the run, or -1 */
	char *argv_sh[4];         /* /bin/sh -c STRING */
	struct cg_warm_up warm_up;
	struct cg_home home;
};

/* Audit records are part of the contract: a log that cannot be written
 * stops the run (125) unless the policy says the log is best-effort. */
static bool audit_failed(struct run *r, int rc, const struct cg_error *err)
{
	if (rc >= 0)
		return false;
	print_error(err);
	return !cg_policy_settings(r->env.policy)->audit_best_effort;
}

static int report_block(struct run *r, const struct cg_reason *why)
{
	char line[1024];
	struct cg_error err;

	fprintf(stderr, "%s\n", cg_reason_format(why, line, sizeof(line)));
	if (r->audit && audit_failed(r, cg_audit_decision(r->audit, &r->info, CG_BLOCK, why, &err), &err))
		return CG_EXIT_GUARD_ERROR;
	if (r->o.json) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s, s:i}", "run_id", r->run_id,
				      "verdict", "block", "category", why->category, "rule",
				      why->rule[0] ? why->rule : NULL, "reason", why->message,
				      "command", r->command, "exit_code", CG_EXIT_BLOCKED);
		char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
		if (text)
			printf("%s\n", text);
		free(text);
		json_decref(j);
	}
	return CG_EXIT_BLOCKED;
}

static json_t *result_json(const struct run *r, const struct cg_run_result *res)
{
	json_t *denials = json_array();
	json_t *j;

	for (size_t i = 0; denials && i < res->n_denials; i++) {
		const struct cg_denial *d = &res->denials[i];
		json_array_append_new(denials, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i}",
			"syscall", d->syscall, "detail", d->detail, "category", d->why.category,
			"rule", d->why.rule, "reason", d->why.message, "layer", d->why.layer,
			"pid", (int)d->pid));
	}
	j = json_pack("{s:s, s:s, s:s, s:i, s:i, s:f, s:b, s:s#, s:s#, s:I, s:I, s:I, s:b, s:o, s:s}",
		      "run_id", r->run_id, "verdict", "allow", "command", r->command,
		      "exit_code", res->exit_code, "signal", res->signal,
		      "duration_s", res->duration_s, "timed_out", res->timed_out,
		      "stdout", res->stdout_buf ? res->stdout_buf : "", res->stdout_buf ? res->stdout_len : 0,
		      "stderr", res->stderr_buf ? res->stderr_buf : "", res->stderr_buf ? res->stderr_len : 0,
		      "stdout_bytes", (json_int_t)res->stdout_bytes,
		      "stderr_bytes", (json_int_t)res->stderr_bytes,
		      "dropped_bytes", (json_int_t)res->dropped_bytes, "truncated", res->truncated,
		      "denials", denials ? denials : json_array(), "layers", res->layers);
	if (j)
		json_object_set_new(j, "denials_dropped", json_integer((json_int_t)res->denials_dropped));
	return j;
}

/* DIR/RUN_ID is made before the command starts and held open: the
 * command may be able to write DIR (the workspace), and must not be able
 * to plant DIR/RUN_ID or a result.json symlink that makes guard-exec (root,
 * outside every layer) write elsewhere. */
static int make_run_dir(struct run *r)
{
	int dirfd, rc = 0;

	if (mkdir(r->o.log_dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	dirfd = open(r->o.log_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	if (mkdirat(dirfd, r->run_id, 0700) < 0)
		rc = -errno;   /* EEXIST too: a run id is never reused */
	else if ((r->run_dirfd = openat(dirfd, r->run_id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		rc = -errno;
	close(dirfd);
	return rc;
}

static int write_result_file(const struct run *r, json_t *j)
{
	int fd = openat(r->run_dirfd, "result.json", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	FILE *f;
	int rc;

	if (fd < 0)
		return -errno;   /* EEXIST: something else made it during the run */
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	rc = json_dumpf(j, f, JSON_INDENT(2)) == 0 ? 0 : -EIO;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

static int execute(struct run *r)
{
	const struct cg_settings *st = cg_policy_settings(r->env.policy);
	struct cg_run_options opt = { 0 };
	struct cg_run_result res = { 0 };
	struct cg_error err;
	char preload[PATH_MAX];
	int rc, status;

	opt.ctx = r->env.ctx;
	opt.argv = r->o.script ? r->argv_sh : r->o.argv;
	opt.run_id = r->run_id;
	opt.timeout_s = r->o.has_timeout ? r->o.timeout_s : st->timeout_s;
	if (opt.timeout_s > st->max_timeout_s) {
		fprintf(stderr, "guard: warning: --timeout %u is above the policy maximum; clamped to %u s\n",
			opt.timeout_s, st->max_timeout_s);
		opt.timeout_s = st->max_timeout_s;
	}
	opt.output_limit_bytes = r->o.has_output_limit ? r->o.output_limit_bytes : st->output_limit_bytes;
	if (opt.output_limit_bytes > st->output_limit_bytes) {
		fprintf(stderr, "guard: warning: --output-limit %llu is above the policy maximum; clamped to %llu bytes\n",
			(unsigned long long)opt.output_limit_bytes, (unsigned long long)st->output_limit_bytes);
		opt.output_limit_bytes = st->output_limit_bytes;
	}
	opt.monitor = st->monitor;
	opt.verbose = r->o.verbose;
	opt.capture = r->o.json || r->o.log_dir;
	opt.is_quiet = r->o.json;
	opt.log_dir = r->o.log_dir;
	opt.preload_path = find_preload(preload, sizeof(preload));
	opt.audit = r->audit;
	opt.ticket = r->o.ticket;
	opt.warm_up = &r->warm_up;
	if (r->o.user) {
		if (parse_user(r->o.user, &opt.uid, &opt.gid) < 0) {
			fprintf(stderr, "guard: --user: no such user or malformed UID[:GID]: %s\n", r->o.user);
			return CG_EXIT_GUARD_ERROR;
		}
		opt.set_user = true;
	}
	{
		struct cg_home_owner owner = { opt.uid, opt.gid, opt.set_user };
		char msg[PATH_MAX + 128];
		if (cg_home_prepare(&r->home, r->o.home, &r->env.ctx, r->o.ticket, &owner, msg,
				    sizeof(msg)) < 0) {
			fprintf(stderr, "guard: %s\n", msg);
			return CG_EXIT_GUARD_ERROR;
		}
		opt.home = r->home.is_set ? r->home.path : NULL;
	}
	if (r->o.verbose)
		fprintf(stderr, "guard: run %s: policy %s, workspace %s, timeout %u s, output limit %llu bytes%s\n",
			r->run_id, cg_policy_source(r->env.policy), r->env.workspace, opt.timeout_s,
			(unsigned long long)opt.output_limit_bytes, opt.monitor ? ", monitor mode" : "");
	if (r->o.verbose && r->home.is_set && !r->o.home)
		fprintf(stderr, "guard: HOME=%s is not readable by the run: HOME=%s (%s)\n",
			r->home.replaced[0] ? r->home.replaced : "(unset)", r->home.path,
			r->home.is_private ? "for this run alone: the shared one is not a private "
			"directory of this user's" : "kept between runs; --home DIR names another");

	if (r->o.log_dir && (rc = make_run_dir(r)) < 0) {
		fprintf(stderr, "guard: --log-dir: cannot create %s/%s: %s\n", r->o.log_dir, r->run_id,
			rc == -ELOOP || rc == -ENOTDIR ? "the directory is a symlink or not a directory" :
			strerror(-rc));
		return CG_EXIT_GUARD_ERROR;
	}
	rc = cg_run(&opt, &res, &err);
	if (rc < 0) {
		print_error(&err);
		cg_run_result_free(&res);
		return CG_EXIT_GUARD_ERROR;
	}
	status = res.exit_code;
	if (res.exec_errno)
		fprintf(stderr, "guard: cannot run %s: %s\n", opt.argv[0], strerror(res.exec_errno));
	/* Interrupted from outside (Ctrl-C): the tree got the signal too; we
	 * report it the way a shell would. */
	if (res.interrupt_signal)
		status = 128 + res.interrupt_signal;
	if (r->o.verbose)
		fprintf(stderr, "guard: layers: %s\n", res.layers);
	if (r->audit && audit_failed(r, cg_audit_run(r->audit, &r->info, &res, &err), &err))
		status = CG_EXIT_GUARD_ERROR;
	if (r->o.json || r->o.log_dir) {
		json_t *j = result_json(r, &res);
		if (!j) {
			fprintf(stderr, "guard: cannot build the result object\n");
			status = CG_EXIT_GUARD_ERROR;
		} else {
			if (r->o.log_dir && (rc = write_result_file(r, j)) < 0) {
				fprintf(stderr, "guard: cannot write %s/%s/result.json: %s\n", r->o.log_dir,
					r->run_id, strerror(-rc));
				status = CG_EXIT_GUARD_ERROR;
			}
			if (r->o.json) {
				char *text = json_dumps(j, JSON_COMPACT);
				if (text)
					printf("%s\n", text);
				free(text);
			}
			json_decref(j);
		}
	}
	cg_run_result_free(&res);
	return status;
}

static int take_rate_limit(struct run *r, struct cg_reason *why)
{
	const struct cg_settings *st = cg_policy_settings(r->env.policy);
	struct cg_ratelimit *rl;
	struct cg_error err;
	unsigned retry = 0;
	int rc;

	if ((rc = cg_ratelimit_open(&rl, r->env.state_dir, &err)) < 0) {
		print_error(&err);
		return rc;
	}
	rc = cg_ratelimit_take(rl, r->o.ticket, r->command, st->rate_count, st->rate_window_s, &retry, &err);
	cg_ratelimit_close(rl);
	if (rc < 0) {
		print_error(&err);
		return rc;
	}
	if (rc == CG_BLOCK)
		cg_ratelimit_explain(why, r->o.ticket, st->rate_count, st->rate_window_s, retry);
	return rc;
}

static int guard_exec(struct run *r, int argc, char **argv)
{
	struct cg_error err;
	struct cg_reason why;
	struct cg_event ev;
	char msg[512];
	int rc;

	rc = cg_cli_parse(&r->o, argc, argv, 1, msg, sizeof(msg));
	if (rc == 1) {
		cg_cli_usage("guard-exec", true);
		return 0;
	}
	if (rc == 2)
		return 0;
	if (rc == 0 && (!!r->o.script + !!r->o.task + (r->o.argc > 0)) != 1) {
		snprintf(msg, sizeof(msg), "give exactly one of: -- COMMAND [ARG...], -c 'STRING', --task NAME");
		rc = -EINVAL;
	}
	if (rc < 0) {
		fprintf(stderr, "guard: %s (see guard-exec --help)\n", msg);
		return CG_EXIT_GUARD_ERROR;
	}
	if (cg_cli_env_load(&r->env, &r->o, &err) < 0) {
		print_error(&err);
		return CG_EXIT_GUARD_ERROR;
	}
	/* The guard's own state (rate limits, the audit log) is never the
	 * command's to read or change, wherever the operator put it. */
	char audit_dir[PATH_MAX];
	snprintf(audit_dir, sizeof(audit_dir), "%s", r->env.audit_file);
	if (strrchr(audit_dir, '/'))
		*strrchr(audit_dir, '/') = '\0';
	struct cg_strlist *secret = &cg_policy_settings_mut(r->env.policy)->paths_secret;
	char state_abs[PATH_MAX], audit_abs[PATH_MAX];
	if (cg_path_normalize(r->env.workspace, r->env.state_dir, state_abs, sizeof(state_abs)) < 0 ||
	    cg_path_normalize(r->env.workspace, audit_dir[0] ? audit_dir : "/", audit_abs, sizeof(audit_abs)) < 0 ||
	    cg_strlist_add(secret, state_abs) < 0 || cg_strlist_add(secret, audit_abs) < 0) {
		fprintf(stderr, "guard: cannot protect the state directory %s\n", r->env.state_dir);
		return CG_EXIT_GUARD_ERROR;
	}
	if (r->o.task) {
		r->o.script = r->env.profile ? cg_profile_task(r->env.profile, r->o.task) : NULL;
		if (!r->o.script) {
			fprintf(stderr, "guard: %s\n", r->env.profile ?
				"--task: the profile has no such command" : "--task needs --profile FILE");
			return CG_EXIT_GUARD_ERROR;
		}
	}
	if (r->o.script) {
		r->argv_sh[0] = "/bin/sh";
		r->argv_sh[1] = "-c";
		r->argv_sh[2] = (char *)r->o.script;
		r->command = strdup(r->o.script);
		ev = (struct cg_event){ .kind = CG_EV_SCRIPT, .u.script = { r->o.script, strlen(r->o.script) } };
	} else {
		r->command = cg_canonical_join(r->o.argv, (size_t)r->o.argc);
		ev = (struct cg_event){ .kind = CG_EV_ARGV, .u.argv = { r->o.argv, (size_t)r->o.argc } };
	}
	if (!r->command)
		return CG_EXIT_GUARD_ERROR;
	make_run_id(r->run_id, sizeof(r->run_id));
	r->info = (struct cg_audit_info){ .run_id = r->run_id, .ticket = r->o.ticket,
					  .workspace = r->env.workspace, .command = r->command };

	const struct cg_settings *st = cg_policy_settings(r->env.policy);
	if ((rc = cg_audit_open(&r->audit, r->env.audit_file, st->audit_syslog, &err)) < 0) {
		r->audit = NULL;
		if (audit_failed(r, rc, &err))
			return CG_EXIT_GUARD_ERROR;
	}

	enum cg_verdict verdict = cg_decide(&r->env.ctx, &ev, &why);
	/* A command that will run: its cgroup moves' wait starts now. */
	if (verdict == CG_ALLOW || st->monitor)
		cg_run_warm_up(&r->warm_up);
	if (verdict == CG_BLOCK) {
		if (!st->monitor)
			return report_block(r, &why);
		char line[1024];
		fprintf(stderr, "guard: monitor: would have %s\n", cg_reason_format(&why, line, sizeof(line)) + 7);
		if (r->audit && audit_failed(r, cg_audit_decision(r->audit, &r->info, CG_ALLOW, &why, &err), &err))
			return CG_EXIT_GUARD_ERROR;
	} else {
		rc = take_rate_limit(r, &why);
		if (rc < 0)
			return CG_EXIT_GUARD_ERROR;
		if (rc == CG_BLOCK && !st->monitor)
			return report_block(r, &why);
		memset(&why, 0, sizeof(why));
		if (r->audit && audit_failed(r, cg_audit_decision(r->audit, &r->info, CG_ALLOW, &why, &err), &err))
			return CG_EXIT_GUARD_ERROR;
	}
	return execute(r);
}

int main(int argc, char **argv)
{
	struct run r = { .run_dirfd = -1 };
	int status = guard_exec(&r, argc, argv);

	cg_run_warm_up_join(&r.warm_up);
	cg_home_finish(&r.home);
	if (r.run_dirfd >= 0)
		close(r.run_dirfd);
	cg_audit_close(r.audit);
	free(r.command);
	cg_cli_env_free(&r.env);
	return status;
}
