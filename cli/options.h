/* options.h - the options guard-exec and guardctl share, and the steps
 * both take before deciding: find and load the policy, apply the
 * command-line overrides, resolve the workspace, load the profile. */
#ifndef CG_CLI_OPTIONS_H
#define CG_CLI_OPTIONS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "guard/guard.h"

/* Exit statuses of DESIGN.md's command-line contract. */
enum {
	CG_EXIT_TIMEOUT = 124,
	CG_EXIT_GUARD_ERROR = 125,
	CG_EXIT_BLOCKED = 126,
};

struct cg_cli_list {
	const char *values[32];   /* each a comma-separated LIST as given */
	size_t n;
};

struct cg_cli {
	const char *config_path;      /* --config, else NULL (see cg_cli_policy) */
	const char *profile_path;
	const char *ticket;
	const char *workspace_arg;
	const char *state_dir_arg;
	const char *log_dir;
	const char *script;           /* -c STRING */
	const char *task;             /* --task NAME */
	const char *user;             /* --user UID[:GID] */
	const char *home;             /* --home DIR */
	char **argv;                  /* the command after the options */
	int argc;
	unsigned timeout_s;
	bool has_timeout;
	uint64_t output_limit_bytes;
	bool has_output_limit;
	bool json;
	bool monitor;
	bool verbose;
	struct cg_cli_list allow_read, deny_read, allow_write, deny_write;
	struct cg_cli_list allow_net, deny_net, allow_run, deny_run;
};

/* Everything loaded from the options; cg_cli_env_free releases it. */
struct cg_cli_env {
	struct cg_policy *policy;
	struct cg_profile *profile;
	struct cg_egress *egress;
	char workspace[PATH_MAX];
	char state_dir[PATH_MAX];
	char audit_file[PATH_MAX];
	struct cg_context ctx;
};

/* Parse argv[first..).  `program` names the tool in messages.  Returns 0,
 * 1 when --help was printed, or -EINVAL with a message in err. */
int cg_cli_parse(struct cg_cli *o, int argc, char **argv, int first, char *err, size_t size);
void cg_cli_usage(const char *program, bool is_exec);

/* Load the policy (--config, else $GUARD_CONFIG, else
 * /etc/commandguard/guard.conf when it exists, else the built-in),
 * apply the command-line overrides, resolve workspace and state dir, and
 * load the profile.  0 or -errno with err filled. */
int cg_cli_env_load(struct cg_cli_env *env, const struct cg_cli *o, struct cg_error *err);
void cg_cli_env_free(struct cg_cli_env *env);

/* "10M", "512K", "1048576" -> bytes; -EINVAL when malformed. */
int cg_parse_size(const char *text, uint64_t *out);

#endif
