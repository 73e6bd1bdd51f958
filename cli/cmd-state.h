/* cmd-state.h - guardctl's subcommands for repo profiles, rate limits and
 * the audit log.  Each takes the arguments from its own name on
 * (argv[0] is "events", "profile" or "ratelimit"), prints, and returns
 * the exit status: 0 ok, 125 usage or file error, and for profile check
 * 126 when the profile lists a command the policy blocks. */
#ifndef CG_CMD_STATE_H
#define CG_CMD_STATE_H

struct cg_policy;

/* guardctl events [--since DUR] [--type T] [--ticket ID] [--json] [--file F]
 * F defaults to STATE_DIR/audit.jsonl. */
int cg_cmd_events(int argc, char **argv, const char *state_dir);
/* Same with another default file (the policy's audit.file). */
int cg_cmd_events_in(int argc, char **argv, const char *default_file);
/* guardctl profile check FILE */
int cg_cmd_profile_check(int argc, char **argv, struct cg_policy *policy, const char *workspace);
/* guardctl ratelimit reset --ticket ID | guardctl ratelimit show --ticket ID */
int cg_cmd_ratelimit(int argc, char **argv, const char *state_dir);

#endif
