/* options.c - shared option parsing and set-up for guard-exec and guardctl. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/options.h"

enum {
	OPT_CONFIG = 256, OPT_PROFILE, OPT_TICKET, OPT_WORKSPACE, OPT_TIMEOUT, OPT_OUTPUT_LIMIT,
	OPT_JSON, OPT_LOG_DIR, OPT_MONITOR, OPT_STATE_DIR, OPT_TASK, OPT_USER, OPT_HOME,
	OPT_ALLOW_READ, OPT_DENY_READ, OPT_ALLOW_WRITE, OPT_DENY_WRITE, OPT_ALLOW_NET,
	OPT_DENY_NET, OPT_ALLOW_RUN, OPT_DENY_RUN, OPT_HELP, OPT_VERSION,
};

static const struct option long_options[] = {
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "profile", required_argument, NULL, OPT_PROFILE },
	{ "ticket", required_argument, NULL, OPT_TICKET },
	{ "workspace", required_argument, NULL, OPT_WORKSPACE },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "output-limit", required_argument, NULL, OPT_OUTPUT_LIMIT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "log-dir", required_argument, NULL, OPT_LOG_DIR },
	{ "monitor", no_argument, NULL, OPT_MONITOR },
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ "task", required_argument, NULL, OPT_TASK },
	{ "user", required_argument, NULL, OPT_USER },
	{ "home", required_argument, NULL, OPT_HOME },
	{ "allow-read", required_argument, NULL, OPT_ALLOW_READ },
	{ "deny-read", required_argument, NULL, OPT_DENY_READ },
	{ "allow-write", required_argument, NULL, OPT_ALLOW_WRITE },
	{ "deny-write", required_argument, NULL, OPT_DENY_WRITE },
	{ "allow-net", required_argument, NULL, OPT_ALLOW_NET },
	{ "deny-net", required_argument, NULL, OPT_DENY_NET },
	{ "allow-run", required_argument, NULL, OPT_ALLOW_RUN },
	{ "deny-run", required_argument, NULL, OPT_DENY_RUN },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

void cg_cli_usage(const char *program, bool is_exec)
{
	if (is_exec)
		printf("usage: %s [OPTIONS] -- COMMAND [ARG...]\n"
		       "       %s [OPTIONS] -c 'STRING'\n"
		       "       %s [OPTIONS] --task NAME --profile repo_profile.json\n", program,
		       program, program);
	printf("\nOptions:\n"
	       "  --config FILE          policy file (else $GUARD_CONFIG, /etc/commandguard/guard.conf,\n"
	       "                         the built-in default)\n"
	       "  --profile FILE         repo profile: only its commands may run\n"
	       "  --task NAME            run the profile's command NAME\n"
	       "  --ticket ID            rate-limit ticket (else $GUARD_TICKET, else \"default\")\n"
	       "  --workspace DIR        the workspace (default: the current directory)\n"
	       "  --state-dir DIR        rate-limit and audit state (else $GUARD_STATE_DIR, the policy)\n"
	       "  --json                 print one JSON result object\n"
	       "  --monitor              record violations, block nothing\n");
	if (is_exec)
		printf("  --timeout SEC          kill the command after SEC seconds (policy default and max)\n"
		       "  --output-limit BYTES   cap stdout+stderr together (K and M suffixes)\n"
		       "  --log-dir DIR          write DIR/RUN_ID/{stdout.log,stderr.log,result.json}\n"
		       "  --user UID[:GID]       run the command as this user (when started as root)\n"
		       "  --home DIR             the command's HOME (made if missing; default: the\n"
		       "                         inherited one, or, when the run may not read it\n"
		       "                         (/root), a private one in /tmp kept for this\n"
		       "                         workspace and ticket)\n");
	printf("  --allow-read LIST, --deny-read LIST, --allow-write LIST, --deny-write LIST\n"
	       "  --allow-net LIST, --deny-net LIST, --allow-run LIST, --deny-run LIST\n"
	       "                         comma-separated paths, hosts or programs; these override\n"
	       "                         the policy file; a deny beats an allow\n"
	       "  -v, --verbose          say which layers are active\n"
	       "\nExit status: the command's own (0..123), 124 timed out, 125 guard error,\n"
	       "126 blocked by policy, 128+N killed by signal N.\n");
}

int cg_parse_size(const char *text, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (!text[0] || text[0] == '-')
		return -EINVAL;
	v = strtoull(text, &end, 10);
	if (errno || end == text)
		return -EINVAL;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: return -EINVAL;
	}
	if (*end == 'i' || *end == 'B')
		end += *end == 'i' && end[1] == 'B' ? 2 : 1;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

static int add_list(struct cg_cli_list *l, const char *value, const char *name, char *err, size_t size)
{
	if (l->n >= sizeof(l->values) / sizeof(l->values[0])) {
		snprintf(err, size, "too many --%s options", name);
		return -EINVAL;
	}
	l->values[l->n++] = value;
	return 0;
}

int cg_cli_parse(struct cg_cli *o, int argc, char **argv, int first, char *err, size_t size)
{
	int c, rc = 0;
	char *end;

	memset(o, 0, sizeof(*o));
	/* "+": options end at the first non-option, so the command's own
	 * options are never taken for ours. */
	optind = first;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+c:v", long_options, NULL)) != -1) {
		switch (c) {
		case 'c': o->script = optarg; break;
		case 'v': o->verbose = true; break;
		case OPT_CONFIG: o->config_path = optarg; break;
		case OPT_PROFILE: o->profile_path = optarg; break;
		case OPT_TICKET: o->ticket = optarg; break;
		case OPT_WORKSPACE: o->workspace_arg = optarg; break;
		case OPT_STATE_DIR: o->state_dir_arg = optarg; break;
		case OPT_LOG_DIR: o->log_dir = optarg; break;
		case OPT_TASK: o->task = optarg; break;
		case OPT_USER: o->user = optarg; break;
		case OPT_HOME: o->home = optarg; break;
		case OPT_JSON: o->json = true; break;
		case OPT_MONITOR: o->monitor = true; break;
		case OPT_TIMEOUT: {
			errno = 0;
			unsigned long v = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || v == 0 || v > 86400 * 365 || optarg[0] == '-') {
				snprintf(err, size, "--timeout: expected whole seconds (1 or more), got \"%s\"", optarg);
				return -EINVAL;
			}
			o->timeout_s = (unsigned)v;
			o->has_timeout = true;
			break;
		}
		case OPT_OUTPUT_LIMIT:
			if (cg_parse_size(optarg, &o->output_limit_bytes) < 0 || o->output_limit_bytes == 0) {
				snprintf(err, size, "--output-limit: expected a size like 65536, 64K or 1M, got \"%s\"",
					 optarg);
				return -EINVAL;
			}
			o->has_output_limit = true;
			break;
		case OPT_ALLOW_READ: rc = add_list(&o->allow_read, optarg, "allow-read", err, size); break;
		case OPT_DENY_READ: rc = add_list(&o->deny_read, optarg, "deny-read", err, size); break;
		case OPT_ALLOW_WRITE: rc = add_list(&o->allow_write, optarg, "allow-write", err, size); break;
		case OPT_DENY_WRITE: rc = add_list(&o->deny_write, optarg, "deny-write", err, size); break;
		case OPT_ALLOW_NET: rc = add_list(&o->allow_net, optarg, "allow-net", err, size); break;
		case OPT_DENY_NET: rc = add_list(&o->deny_net, optarg, "deny-net", err, size); break;
		case OPT_ALLOW_RUN: rc = add_list(&o->allow_run, optarg, "allow-run", err, size); break;
		case OPT_DENY_RUN: rc = add_list(&o->deny_run, optarg, "deny-run", err, size); break;
		case OPT_HELP: return 1;
		case OPT_VERSION:
			printf("%s\n", PACKAGE_STRING);
			return 2;
		case ':':
			snprintf(err, size, "option %s needs a value", argv[optind - 1]);
			return -EINVAL;
		default:
			snprintf(err, size, "unknown option %s", argv[optind - 1]);
			return -EINVAL;
		}
		if (rc < 0)
			return rc;
	}
	o->argv = argv + optind;
	o->argc = argc - optind;
	if (!o->ticket)
		o->ticket = getenv("GUARD_TICKET");
	if (!o->ticket || !o->ticket[0])
		o->ticket = "default";
	return 0;
}

/* Split "a,b,c" lists into absolute paths (relative ones are taken from
 * the workspace) and add them to the policy's CLI-level lists. */
static int apply_paths(struct cg_strlist *dst, const struct cg_cli_list *l, const char *workspace,
		       const char *flag, struct cg_error *err)
{
	for (size_t i = 0; i < l->n; i++) {
		char buf[4096];
		snprintf(buf, sizeof(buf), "%s", l->values[i]);
		for (char *save = NULL, *s = strtok_r(buf, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
			char path[PATH_MAX];
			if (cg_path_normalize(workspace, s, path, sizeof(path)) < 0) {
				cg_error_set(err, "", 0, flag, "path too long: %s", s);
				return -EINVAL;
			}
			if (cg_strlist_add(dst, path) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

static int apply_words(struct cg_strlist *dst, const struct cg_cli_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		char buf[4096];
		snprintf(buf, sizeof(buf), "%s", l->values[i]);
		for (char *save = NULL, *s = strtok_r(buf, ",", &save); s; s = strtok_r(NULL, ",", &save))
			if (cg_strlist_add(dst, s) < 0)
				return -ENOMEM;
	}
	return 0;
}

static int apply_runs(struct cg_policy *p, const struct cg_cli_list *l, bool is_allow,
		      struct cg_error *err)
{
	for (size_t i = 0; i < l->n; i++) {
		char buf[4096];
		snprintf(buf, sizeof(buf), "%s", l->values[i]);
		for (char *save = NULL, *s = strtok_r(buf, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
			int rc = cg_policy_add_cli_run(p, s, is_allow, err);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

static const char *policy_path(const struct cg_cli *o)
{
	const char *env = getenv("GUARD_CONFIG");

	if (o->config_path)
		return o->config_path;
	if (env && env[0])
		return env;
	if (access(SYSCONFDIR "/commandguard/guard.conf", F_OK) == 0)
		return SYSCONFDIR "/commandguard/guard.conf";
	if (access("/etc/commandguard/guard.conf", F_OK) == 0)
		return "/etc/commandguard/guard.conf";
	return NULL;
}

int cg_cli_env_load(struct cg_cli_env *env, const struct cg_cli *o, struct cg_error *err)
{
	struct cg_settings *st;
	const char *ws = o->workspace_arg ? o->workspace_arg : ".";
	const char *env_state = getenv("GUARD_STATE_DIR");
	int rc;

	memset(env, 0, sizeof(*env));
	rc = cg_policy_load(&env->policy, policy_path(o), err);
	if (rc < 0)
		return rc;
	if (!realpath(ws, env->workspace)) {
		rc = -errno;
		cg_error_set(err, ws, 0, "--workspace", "workspace is not usable: %s", strerror(errno));
		return rc;
	}
	st = cg_policy_settings_mut(env->policy);
	if ((rc = apply_paths(&st->cli_allow_read, &o->allow_read, env->workspace, "--allow-read", err)) < 0 ||
	    (rc = apply_paths(&st->cli_deny_read, &o->deny_read, env->workspace, "--deny-read", err)) < 0 ||
	    (rc = apply_paths(&st->cli_allow_write, &o->allow_write, env->workspace, "--allow-write", err)) < 0 ||
	    (rc = apply_paths(&st->cli_deny_write, &o->deny_write, env->workspace, "--deny-write", err)) < 0 ||
	    (rc = apply_words(&st->cli_allow_net, &o->allow_net)) < 0 ||
	    (rc = apply_words(&st->cli_deny_net, &o->deny_net)) < 0 ||
	    (rc = apply_runs(env->policy, &o->allow_run, true, err)) < 0 ||
	    (rc = apply_runs(env->policy, &o->deny_run, false, err)) < 0) {
		if (rc == -ENOMEM)
			cg_error_set(err, "", 0, "", "out of memory");
		return rc;
	}
	if (o->monitor)
		st->monitor = true;

	if (o->state_dir_arg)
		snprintf(env->state_dir, sizeof(env->state_dir), "%s", o->state_dir_arg);
	else if (env_state && env_state[0])
		snprintf(env->state_dir, sizeof(env->state_dir), "%s", env_state);
	else if (st->state_dir)
		snprintf(env->state_dir, sizeof(env->state_dir), "%s", st->state_dir);
	else if ((rc = cg_state_dir_default(env->state_dir, sizeof(env->state_dir))) < 0) {
		cg_error_set(err, "", 0, "state_dir", "cannot find a state directory: %s", strerror(-rc));
		return rc;
	}
	if (st->audit_file)
		snprintf(env->audit_file, sizeof(env->audit_file), "%s", st->audit_file);
	else if (snprintf(env->audit_file, sizeof(env->audit_file), "%.*s/%s",
			  (int)(sizeof(env->audit_file) - sizeof(CG_AUDIT_FILE) - 2), env->state_dir,
			  CG_AUDIT_FILE) < 0)
		return -EINVAL;

	if (o->profile_path && (rc = cg_profile_load(&env->profile, o->profile_path, err)) < 0)
		return rc;
	if ((rc = cg_egress_new(&env->egress, env->policy, err)) < 0)
		return rc;
	env->ctx = (struct cg_context){
		.policy = env->policy,
		.workspace = env->workspace,
		.profile = env->profile,
		.egress = env->egress,
	};
	return 0;
}

void cg_cli_env_free(struct cg_cli_env *env)
{
	cg_egress_free(env->egress);
	cg_profile_free(env->profile);
	cg_policy_free(env->policy);
	memset(env, 0, sizeof(*env));
}
