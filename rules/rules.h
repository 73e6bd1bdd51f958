/* rules.h - the CommandGuard rule engine.
 *
 * A policy is a libconfig file (conf/guard.conf is the built-in default,
 * compiled into the library).  Loading parses and validates it; PCRE2
 * patterns are compiled lazily, the first time a command with a matching
 * program name is judged, so a run pays only for what it can meet.
 */
#ifndef CG_RULES_H
#define CG_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Filled by every function that can fail; printable with cg_error_format(). */
struct cg_error {
	char file[256];  /* "" when not about a file; "<built-in>" for the default */
	int line;        /* 0 when unknown */
	char key[128];   /* the setting concerned, "" when none */
	char message[512];
};

void cg_error_set(struct cg_error *err, const char *file, int line, const char *key,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* "file:line: key: message" with the empty parts left out. */
const char *cg_error_format(const struct cg_error *err, char *buf, size_t size);

struct cg_strlist {
	char **items;
	size_t n;
};

bool cg_strlist_contains(const struct cg_strlist *list, const char *s);
int cg_strlist_add(struct cg_strlist *list, const char *s);   /* 0 or -ENOMEM */
void cg_strlist_clear(struct cg_strlist *list);

enum cg_level { CG_LEVEL_BUILTIN = 0, CG_LEVEL_FILE = 1, CG_LEVEL_CLI = 2 };

/* The settings of a loaded policy, read-only for everyone but rules/. */
struct cg_settings {
	/* Static check: every path a command names must lie under `allowed`
	 * (plus the workspace); `blocked` wins over an allowed parent;
	 * `always` (/dev/null, ...) is always allowed. */
	struct cg_strlist paths_allowed;
	struct cg_strlist paths_blocked;
	struct cg_strlist paths_always;
	/* Runtime (kernel layers): readable = allowed + readable - secret;
	 * writable = allowed + always. */
	struct cg_strlist paths_readable;
	struct cg_strlist paths_secret;
	/* Per-level path overrides from --allow-read/--deny-read/...: */
	struct cg_strlist cli_allow_read, cli_deny_read, cli_allow_write, cli_deny_write;

	struct cg_strlist net_hosts;     /* egress allowlist (host names or addresses) */
	struct cg_strlist cli_allow_net, cli_deny_net;
	bool net_allow_loopback;

	uint64_t output_limit_bytes;
	unsigned timeout_s;
	unsigned max_timeout_s;
	uint64_t memory_bytes;
	unsigned max_processes;
	uint64_t file_size_bytes;
	double cpu_cores;
	unsigned kill_grace_ms;

	unsigned rate_count;
	unsigned rate_window_s;
	char *state_dir;                 /* NULL: the default for the user */

	char *audit_file;                /* NULL: state_dir/audit.jsonl */
	bool audit_syslog;
	bool audit_best_effort;

	struct cg_strlist env_deny;      /* PCRE2 patterns on variable names */
	struct cg_strlist keep_caps;     /* capability names kept, e.g. "CAP_CHOWN" */
	bool monitor;
};

struct cg_policy;  /* opaque */

/* Load a policy.  path == NULL loads the built-in default alone; otherwise
 * the file is layered over the built-in default (unless it says
 * `defaults = false;`): its settings replace the default ones key by key,
 * its rules join at level CG_LEVEL_FILE and a rule with a built-in rule's
 * id replaces it.  On success *out owns the policy (cg_policy_free). */
int cg_policy_load(struct cg_policy **out, const char *path, struct cg_error *err);
/* Same, from a string in memory; `name` is used in error messages. */
int cg_policy_load_string(struct cg_policy **out, const char *text, const char *name,
			  struct cg_error *err);
void cg_policy_free(struct cg_policy *p);

/* The text of the built-in default policy (conf/guard.conf). */
const char *cg_policy_builtin_text(size_t *len);

const struct cg_settings *cg_policy_settings(const struct cg_policy *p);
struct cg_settings *cg_policy_settings_mut(struct cg_policy *p);
/* Where the policy came from: the file name, or "<built-in>". */
const char *cg_policy_source(const struct cg_policy *p);

/* Add a CLI-level command rule from --allow-run/--deny-run: `program` is a
 * program name or glob; it beats file and built-in rules.  0 or -errno. */
int cg_policy_add_cli_run(struct cg_policy *p, const char *program, bool is_allow,
			  struct cg_error *err);

/* A rule that matched. */
struct cg_rule_match {
	const char *id;
	const char *category;
	const char *reason;
	bool is_allow;
	enum cg_level level;
};

/* Judge one canonical command: `program` is the program's name (basename,
 * already resolved), argv[0..argc) the arguments after it.  Returns true
 * and fills *m when the command is blocked.  Compiles the patterns of the
 * rules keyed to `program` on first use (not thread-safe).  A pattern that
 * fails at match time (resource limit) blocks: fail closed. */
bool cg_rules_blocks(struct cg_policy *p, const char *program, char *const argv[],
		     size_t argc, struct cg_rule_match *m);

/* Compile every pattern now (JIT when `jit`); for benchmarks and for the
 * preload snapshot.  0 or -errno with err filled. */
int cg_policy_compile_all(struct cg_policy *p, bool jit, struct cg_error *err);

/* Iterate the rules for `guardctl config check`: index 0.. until it
 * returns false. */
struct cg_rule_info {
	const char *id, *category, *reason, *action, *pattern;
	const struct cg_strlist *programs;
	enum cg_level level;
};
bool cg_policy_rule_at(const struct cg_policy *p, size_t index, struct cg_rule_info *info);

/* Environment variable names the policy strips: true when `name` matches. */
bool cg_policy_env_denied(struct cg_policy *p, const char *name);

/* ---------- snapshot (snapshot.c): the compiled policy for the preload shim ---------- */

/* The environment that hands a run its snapshot (see preload/preload.c). */
#define CG_SNAPSHOT_ENV "GUARD_SNAPSHOT"     /* absolute path of the read-only snapshot file */
#define CG_WORKSPACE_ENV "GUARD_WORKSPACE"   /* the run's resolved workspace */
#define CG_MONITOR_ENV "GUARD_MONITOR"       /* "1": report, block nothing */
#define CG_REPORT_ENV "GUARD_REPORT"         /* optional: Unix datagram socket for denials */

/* Write the policy as a snapshot to fd: settings, rules and every pattern
 * compiled and serialized with PCRE2.  Compiles what is not compiled yet;
 * a pattern that does not compile is an error naming the rule.  0 or
 * -errno with err filled. */
int cg_policy_snapshot_write(struct cg_policy *p, int fd, struct cg_error *err);
/* Rebuild a policy from a snapshot (len bytes at data, borrowed): no
 * libconfig, no pcre2_compile.  Damaged, truncated or foreign data is
 * -EINVAL with err filled; never a crash.  *out owned by the caller
 * (cg_policy_free). */
int cg_policy_snapshot_load(struct cg_policy **out, const void *data, size_t len,
			    struct cg_error *err);
/* Use a snapshot in place (the shim): the policy's strings stay in `data`
 * (len bytes), which must stay mapped while the policy is used, and its
 * tables and decoded patterns are carved from `mem` (mem_size bytes,
 * 16-byte aligned).  Calls neither malloc nor free.  -ENOMEM when mem is
 * too small; damaged data is -EINVAL with err filled, as for the copying
 * loader.  The policy is never passed to cg_policy_free: it lasts as long
 * as data and mem do. */
int cg_policy_snapshot_view(struct cg_policy **out, const void *data, size_t len, void *mem,
			    size_t mem_size, struct cg_error *err);
/* The integrity checksum the snapshot uses (not cryptographic). */
uint64_t cg_snapshot_checksum(const void *data, size_t len);
/* Take the memory for matching from alloc/release instead of malloc (the
 * shim's static arena: matching in a vfork child or a signal handler must
 * not call malloc).  Replaces the policy's match block.  0 or -ENOMEM. */
int cg_policy_set_match_memory(struct cg_policy *p, void *(*alloc)(size_t, void *),
			       void (*release)(void *, void *), void *data);
/* For the supervisor: write the snapshot to RUN_DIR/policy.snapshot (new,
 * mode 0444) and fill env_out with the entries the command's environment
 * needs, "GUARD_SNAPSHOT=...", "GUARD_WORKSPACE=..." (when workspace is
 * not NULL) and "GUARD_MONITOR=1" (when is_monitor), each NUL-terminated,
 * the list ended by an empty string.  0 or -errno with err filled. */
int cg_snapshot_publish(struct cg_policy *p, const char *workspace, const char *run_dir,
			bool is_monitor, char *env_out, size_t size, struct cg_error *err);

#endif
