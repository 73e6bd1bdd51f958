/* guardctl - ask CommandGuard questions without running anything.
 *
 *   guardctl check [OPTIONS] (-- COMMAND... | -c 'STRING')
 *   guardctl config check [FILE]
 *   guardctl profile check FILE
 *   guardctl events [--since DUR] [--type T] [--ticket ID] [--json]
 *   guardctl ratelimit (show|reset) --ticket ID
 *   guardctl selftest [--config FILE] [--json]
 *
 * It parses and prints; every decision is cg_decide()'s.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd-state.h"
#include "cli/options.h"
#include "cli/selftest.h"

static void print_error(const struct cg_error *err)
{
	char buf[1024];

	fprintf(stderr, "guardctl: %s\n", cg_error_format(err, buf, sizeof(buf)));
}

static void usage(void)
{
	printf("usage: guardctl check [OPTIONS] (-- COMMAND [ARG...] | -c 'STRING')\n"
	       "       guardctl config check [FILE]\n"
	       "       guardctl profile check FILE\n"
	       "       guardctl events [--since DUR] [--type T] [--ticket ID] [--json]\n"
	       "       guardctl ratelimit (show|reset) --ticket ID\n"
	       "       guardctl selftest [--config FILE] [--json]\n");
}

/* The rate limit as guard-exec would see it, without consuming a slot. */
static int peek_rate_limit(const struct cg_cli_env *env, const struct cg_cli *o, const char *command,
			   struct cg_reason *why)
{
	const struct cg_settings *st = cg_policy_settings(env->policy);
	char db[PATH_MAX + 32];
	struct cg_ratelimit *rl;
	struct cg_error err;
	unsigned used = 0, retry = 0;
	int rc;

	snprintf(db, sizeof(db), "%s/%s", env->state_dir, CG_RATELIMIT_FILE);
	if (access(db, F_OK) < 0)
		return CG_ALLOW;   /* no run has been recorded anywhere yet */
	if ((rc = cg_ratelimit_open(&rl, env->state_dir, &err)) < 0 ||
	    (rc = cg_ratelimit_peek(rl, o->ticket, command, st->rate_count, st->rate_window_s, &used,
				    &retry, &err)) < 0) {
		if (rc != -ENOENT)
			cg_ratelimit_close(rl);
		print_error(&err);
		return -1;
	}
	cg_ratelimit_close(rl);
	if (used < st->rate_count)
		return CG_ALLOW;
	cg_ratelimit_explain(why, o->ticket, st->rate_count, st->rate_window_s, retry);
	return CG_BLOCK;
}

static int cmd_check(int argc, char **argv)
{
	struct cg_cli o;
	struct cg_cli_env env;
	struct cg_error err;
	struct cg_reason why;
	struct cg_event ev;
	char msg[512], line[1024];
	char *command = NULL;
	int rc, status;

	rc = cg_cli_parse(&o, argc, argv, 1, msg, sizeof(msg));
	if (rc == 1) {
		printf("usage: guardctl check [OPTIONS] (-- COMMAND [ARG...] | -c 'STRING')\n");
		cg_cli_usage("guardctl check", false);
		return 0;
	}
	if (rc == 2)
		return 0;
	if (rc < 0 || (!o.script && o.argc == 0 && !o.task) || (o.script && o.argc > 0)) {
		fprintf(stderr, "guardctl check: %s\n",
			rc < 0 ? msg : "give a command after -- or a string with -c (not both)");
		return CG_EXIT_GUARD_ERROR;
	}
	/* A check runs nothing: these would be taken and ignored. */
	const char *run_only = o.user ? "--user" : o.home ? "--home" : o.log_dir ? "--log-dir" :
			       o.has_timeout ? "--timeout" : o.has_output_limit ? "--output-limit" : NULL;
	if (run_only) {
		fprintf(stderr, "guardctl check: %s applies to guard-exec runs only\n", run_only);
		return CG_EXIT_GUARD_ERROR;
	}
	if (cg_cli_env_load(&env, &o, &err) < 0) {
		print_error(&err);
		cg_cli_env_free(&env);
		return CG_EXIT_GUARD_ERROR;
	}
	if (o.task) {
		const char *text = env.profile ? cg_profile_task(env.profile, o.task) : NULL;
		if (!text) {
			fprintf(stderr, "guardctl check: %s\n", env.profile ?
				"no such task in the profile" : "--task needs --profile FILE");
			cg_cli_env_free(&env);
			return CG_EXIT_GUARD_ERROR;
		}
		o.script = text;
	}
	if (o.script) {
		ev = (struct cg_event){ .kind = CG_EV_SCRIPT,
					.u.script = { o.script, strlen(o.script) } };
		command = strdup(o.script);
	} else {
		ev = (struct cg_event){ .kind = CG_EV_ARGV, .u.argv = { o.argv, (size_t)o.argc } };
		command = cg_canonical_join(o.argv, (size_t)o.argc);
	}
	if (!command) {
		cg_cli_env_free(&env);
		return CG_EXIT_GUARD_ERROR;
	}
	rc = cg_decide(&env.ctx, &ev, &why);
	if (rc == CG_ALLOW)
		rc = peek_rate_limit(&env, &o, command, &why);
	if (rc < 0) {
		status = CG_EXIT_GUARD_ERROR;
	} else if (o.json) {
		json_t *j = json_pack("{s:s, s:s?, s:s?, s:s?, s:s}",
				      "verdict", rc == CG_ALLOW ? "allow" : "block",
				      "category", rc == CG_ALLOW ? NULL : why.category,
				      "rule", rc == CG_ALLOW || !why.rule[0] ? NULL : why.rule,
				      "reason", rc == CG_ALLOW ? NULL : why.message,
				      "command", command);
		char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
		if (text)
			printf("%s\n", text);
		free(text);
		json_decref(j);
		status = rc == CG_ALLOW ? 0 : CG_EXIT_BLOCKED;
	} else if (rc == CG_ALLOW) {
		printf("allowed: %s\n", command);
		status = 0;
	} else {
		fprintf(stderr, "%s\n", cg_reason_format(&why, line, sizeof(line)));
		status = CG_EXIT_BLOCKED;
	}
	free(command);
	cg_cli_env_free(&env);
	return status;
}

static const char *level_name(enum cg_level level)
{
	switch (level) {
	case CG_LEVEL_BUILTIN: return "built-in";
	case CG_LEVEL_FILE: return "file";
	case CG_LEVEL_CLI: return "cli";
	}
	return "?";
}

static void print_list(const char *name, const struct cg_strlist *l)
{
	printf("  %-16s", name);
	if (l->n == 0)
		printf(" (none)");
	for (size_t i = 0; i < l->n; i++)
		printf("%s%s", i ? ", " : " ", l->items[i]);
	printf("\n");
}

static int cmd_config_check(int argc, char **argv)
{
	struct cg_policy *p;
	struct cg_error err;
	struct cg_rule_info r;
	const char *path = argc > 2 ? argv[2] : getenv("GUARD_CONFIG");

	if (argc > 3 || (argc > 1 && strcmp(argv[1], "check") != 0)) {
		fprintf(stderr, "usage: guardctl config check [FILE]\n");
		return CG_EXIT_GUARD_ERROR;
	}
	if (path && !path[0])
		path = NULL;
	if (cg_policy_load(&p, path, &err) < 0) {
		print_error(&err);
		return CG_EXIT_GUARD_ERROR;
	}
	/* Every pattern is compiled here, so a bad one in the built-in or the
	 * file is reported now and not at the first run that meets it. */
	if (cg_policy_compile_all(p, false, &err) < 0) {
		print_error(&err);
		cg_policy_free(p);
		return CG_EXIT_GUARD_ERROR;
	}
	const struct cg_settings *st = cg_policy_settings(p);
	printf("policy: %s (valid)\n\nrules (the highest level with a match decides; at one level block beats allow):\n",
	       cg_policy_source(p));
	printf("  %-8s %-6s %-22s %-20s %s\n", "level", "action", "category", "id", "programs / match");
	for (size_t i = 0; cg_policy_rule_at(p, i, &r); i++) {
		printf("  %-8s %-6s %-22s %-20s", level_name(r.level), r.action, r.category, r.id);
		for (size_t k = 0; k < r.programs->n; k++)
			printf("%s%s", k ? "," : " ", r.programs->items[k]);
		if (r.pattern)
			printf("  /%s/", r.pattern);
		printf("\n");
	}
	printf("\npaths:\n");
	print_list("allowed", &st->paths_allowed);
	print_list("blocked", &st->paths_blocked);
	print_list("always", &st->paths_always);
	print_list("readable", &st->paths_readable);
	print_list("secret", &st->paths_secret);
	printf("\nnetwork:\n  %-16s %s\n", "allow_loopback", st->net_allow_loopback ? "true" : "false");
	print_list("allowed_hosts", &st->net_hosts);
	printf("\nlimits:\n");
	printf("  %-16s %llu\n", "output_bytes", (unsigned long long)st->output_limit_bytes);
	printf("  %-16s %u (max %u)\n", "timeout_s", st->timeout_s, st->max_timeout_s);
	printf("  %-16s %llu\n", "memory_bytes", (unsigned long long)st->memory_bytes);
	printf("  %-16s %u\n", "processes", st->max_processes);
	printf("  %-16s %llu\n", "file_bytes", (unsigned long long)st->file_size_bytes);
	printf("  %-16s %.2f\n", "cpu_cores", st->cpu_cores);
	printf("\nratelimit:\n  %u per %u s per (ticket, command); state_dir %s\n", st->rate_count,
	       st->rate_window_s, st->state_dir ? st->state_dir : "(default)");
	printf("\naudit:\n  file %s; syslog %s; best_effort %s\n",
	       st->audit_file ? st->audit_file : "(state_dir/audit.jsonl)",
	       st->audit_syslog ? "true" : "false", st->audit_best_effort ? "true" : "false");
	print_list("env deny", &st->env_deny);
	print_list("keep caps", &st->keep_caps);
	cg_policy_free(p);
	return 0;
}

/* The subcommands of cmd-state.c need the state directory or the policy,
 * found as for check: $GUARD_CONFIG, $GUARD_STATE_DIR, the policy, the
 * defaults. */
static int with_env(int argc, char **argv, int (*fn)(int, char **, struct cg_cli_env *))
{
	struct cg_cli o = { .ticket = "default" };
	struct cg_cli_env env;
	struct cg_error err;
	int rc;

	if (cg_cli_env_load(&env, &o, &err) < 0) {
		print_error(&err);
		cg_cli_env_free(&env);
		return CG_EXIT_GUARD_ERROR;
	}
	rc = fn(argc, argv, &env);
	cg_cli_env_free(&env);
	return rc;
}

static int run_events(int argc, char **argv, struct cg_cli_env *env)
{
	return cg_cmd_events_in(argc, argv, env->audit_file);
}

static int run_profile(int argc, char **argv, struct cg_cli_env *env)
{
	return cg_cmd_profile_check(argc, argv, env->policy, env->workspace);
}

static int run_ratelimit(int argc, char **argv, struct cg_cli_env *env)
{
	return cg_cmd_ratelimit(argc, argv, env->state_dir);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage();
		return cmd ? 0 : CG_EXIT_GUARD_ERROR;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("%s\n", PACKAGE_STRING);
		return 0;
	}
	if (strcmp(cmd, "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(cmd, "config") == 0)
		return cmd_config_check(argc - 1, argv + 1);
	if (strcmp(cmd, "events") == 0)
		return with_env(argc - 1, argv + 1, run_events);
	if (strcmp(cmd, "profile") == 0)
		return with_env(argc - 1, argv + 1, run_profile);
	if (strcmp(cmd, "selftest") == 0)
		return cg_cmd_selftest(argc - 1, argv + 1);
	if (strcmp(cmd, "ratelimit") == 0)
		return with_env(argc - 1, argv + 1, run_ratelimit);
	fprintf(stderr, "guardctl: unknown command '%s'\n", cmd);
	usage();
	return CG_EXIT_GUARD_ERROR;
}
