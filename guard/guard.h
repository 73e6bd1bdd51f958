/* guard.h - CommandGuard: validation, runtime decisions, repo profiles,
 * rate limits, the audit log and the supervisor that runs a command.
 *
 * One function, cg_decide(), makes every decision, whether the question
 * comes from the static check (guardctl check, guard-exec before it
 * starts anything), the seccomp supervisor or the LD_PRELOAD shim.
 */
#ifndef CG_GUARD_H
#define CG_GUARD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "rules/rules.h"

enum cg_verdict { CG_ALLOW = 0, CG_BLOCK = 1 };

/* Why a command was blocked (or, for CG_ALLOW, empty strings). */
struct cg_reason {
	char category[32];   /* "system-modification", "path", "injection", "rate-limit", ... */
	char rule[64];       /* rule id, "" when the category says it all */
	char message[512];   /* "Command contains blocked operation: rm -rf /" */
	char layer[16];      /* "static", "seccomp", "preload", "landlock" */
};

void cg_reason_set(struct cg_reason *why, const char *category, const char *rule,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* "guard: blocked (category/rule): message" without a newline. */
const char *cg_reason_format(const struct cg_reason *why, char *buf, size_t size);

struct cg_profile;  /* a repo profile (repo_profile.json); see profile.c */

/* The context of a decision that the policy file does not hold. */
struct cg_egress;  /* resolved egress allowlist; see cg_egress_resolve() */

struct cg_context {
	struct cg_policy *policy;          /* required; patterns compile lazily */
	const char *workspace;             /* absolute, resolved; always allowed */
	const struct cg_profile *profile;  /* NULL: no profile allowlist */
	struct cg_egress *egress;          /* NULL: only loopback (if the policy allows it); resolved lazily */
	const char *preload;               /* the shim's file, readable at run time; NULL: none */
	const char *run_dir;               /* the run's own files (snapshot), readable; NULL: none */
};

/* The egress allowlist of a run: the policy's allowed hosts and
 * --allow-net, plus the name servers of /etc/resolv.conf (port 53 only).
 * Host names are resolved once, at the first non-loopback connection a
 * decision meets, so that runs that never leave the machine pay nothing.
 * Not thread-safe.  *out owned by caller (cg_egress_free). */
int cg_egress_new(struct cg_egress **out, const struct cg_policy *p, struct cg_error *err);
void cg_egress_free(struct cg_egress *e);
/* The run's name servers: the supervisor's stub at `stub` (port 53; the
 * real ones of /etc/resolv.conf leave the allowlist), or NULL: the real
 * ones.  Call before the first decision.  0 or -ENOMEM. */
struct sockaddr_in;
int cg_egress_use_dns(struct cg_egress *e, const struct sockaddr_in *stub);

enum cg_event_kind {
	CG_EV_ARGV,     /* static: a command as argv, run without a shell */
	CG_EV_SCRIPT,   /* static: a shell string (-c), checked fully incl. injection */
	CG_EV_SHELL,    /* runtime: system()/popen() string; command rules only */
	CG_EV_EXEC,     /* runtime: a program starting: path + real argv */
	CG_EV_OPEN,     /* runtime: a file access */
	CG_EV_CONNECT,  /* runtime: connect/sendto with an address */
	CG_EV_BIND,     /* runtime: bind */
	CG_EV_LISTEN,   /* runtime: listen on a socket bound to `addr` */
	CG_EV_HOST,     /* runtime: name lookup of `host` (preload getaddrinfo) */
};

enum {
	CG_ACCESS_READ = 1u << 0,
	CG_ACCESS_WRITE = 1u << 1,   /* includes create, truncate, unlink, rename, mkdir, chmod ... */
	CG_ACCESS_EXEC = 1u << 2,
};

struct cg_event {
	enum cg_event_kind kind;
	union {
		struct { char *const *argv; size_t argc; } argv;       /* ARGV, EXEC (path in exec.path) */
		struct { const char *text; size_t len; } script;        /* SCRIPT, SHELL */
		struct { const char *path; char *const *argv; size_t argc; } exec;
		/* path absolute and resolved; pid: the caller, for /proc/PID (0: unknown) */
		struct { const char *path; unsigned access; pid_t pid; } open;
		struct { const struct sockaddr *addr; socklen_t len; } net;  /* CONNECT, BIND, LISTEN */
		struct { const char *host; } host;
	} u;
};

/* Decide.  Returns CG_ALLOW or CG_BLOCK and fills *why for a block.
 * A malformed event or script is a block with category "parse" (fail
 * closed).  Does not consult or consume the rate limit. */
enum cg_verdict cg_decide(const struct cg_context *ctx, const struct cg_event *ev,
			  struct cg_reason *why);

/* Canonical form of a command for rate-limit keys, profiles and logs:
 * the argv after quote removal, joined by single spaces.  Caller frees. */
char *cg_canonical_join(char *const argv[], size_t argc);

/* Path helpers shared by the static check, the supervisor and the shim. */
/* Lexically normalise `path` (relative to `base` when not absolute):
 * collapses //, ., and .. without touching the file system. */
int cg_path_normalize(const char *base, const char *path, char *out, size_t size);
/* true when `path` equals `prefix` or lies below it, component-wise. */
bool cg_path_under(const char *path, const char *prefix);

/* ---------- repo profiles (profile.c) ---------- */

/* Load repo_profile.json.  Errors name line and column.  *out owned by
 * caller (cg_profile_free). */
int cg_profile_load(struct cg_profile **out, const char *path, struct cg_error *err);
void cg_profile_free(struct cg_profile *p);
size_t cg_profile_count(const struct cg_profile *p);
/* name and command string of entry i, in file order */
bool cg_profile_entry(const struct cg_profile *p, size_t i, const char **name, const char **command);
/* the command string for `task`, or NULL */
const char *cg_profile_task(const struct cg_profile *p, const char *task);
/* true when the canonical argv matches an entry (exact, or an entry ending
 * in the documented wildcard " ..." that admits extra arguments). */
bool cg_profile_allows(const struct cg_profile *p, char *const argv[], size_t argc);
/* Same for the words of a parsed simple command (guard/shell.h): besides
 * the text, a word that the shell expands ($VAR, $(...), a glob, ~) only
 * matches an entry word that expands the same way, so `echo $HOME` does
 * not pass as the entry `echo '$HOME'`, nor the reverse. */
struct cg_word;
bool cg_profile_allows_words(const struct cg_profile *p, const struct cg_word *words, size_t n);

/* ---------- rate limit (ratelimit.c) ---------- */

struct cg_ratelimit;  /* an open SQLite state file */

/* Default state directory: GUARD_STATE_DIR, else /var/lib/commandguard for
 * root, else $XDG_STATE_HOME/commandguard (~/.local/state/commandguard). */
int cg_state_dir_default(char *out, size_t size);
int cg_ratelimit_open(struct cg_ratelimit **out, const char *state_dir, struct cg_error *err);
void cg_ratelimit_close(struct cg_ratelimit *rl);
/* Atomically: if fewer than `count` runs of (ticket, command) in the last
 * `window_s` seconds, record one and return CG_ALLOW; else CG_BLOCK with
 * *retry_after_s set.  Errors (locked, corrupt) return negative errno. */
int cg_ratelimit_take(struct cg_ratelimit *rl, const char *ticket, const char *command,
		      unsigned count, unsigned window_s, unsigned *retry_after_s,
		      struct cg_error *err);
/* Same question without consuming: how many used, and when the next frees. */
int cg_ratelimit_peek(struct cg_ratelimit *rl, const char *ticket, const char *command,
		      unsigned count, unsigned window_s, unsigned *used, unsigned *retry_after_s,
		      struct cg_error *err);
/* Returns the number of runs forgotten (>= 0) or a negative errno. */
int cg_ratelimit_reset(struct cg_ratelimit *rl, const char *ticket, struct cg_error *err);

/* The file names inside the state directory. */
#define CG_RATELIMIT_FILE "ratelimit.db"
#define CG_AUDIT_FILE "audit.jsonl"

/* Create `dir` and its missing parents with mode 0700 (existing ones are
 * left as they are).  0 or -errno with err naming the directory. */
int cg_state_dir_make(const char *dir, struct cg_error *err);

/* Fill *why for a take that returned CG_BLOCK: category "rate-limit",
 * "Command execution rate limited (10 per 60s for ticket T); next run
 * allowed in Ns". */
void cg_ratelimit_explain(struct cg_reason *why, const char *ticket, unsigned count,
			  unsigned window_s, unsigned retry_after_s);

/* For `guardctl ratelimit show`: every command of `ticket` with runs that
 * have not expired yet (each run expires after the window it was taken
 * with), in command order.  fn returns 0 to go on; a non-zero return stops
 * and is returned.  0 or -errno. */
struct cg_ratelimit_usage {
	const char *command;
	unsigned runs;          /* unexpired runs */
	unsigned next_free_s;   /* seconds until the oldest of them expires */
};
int cg_ratelimit_list(struct cg_ratelimit *rl, const char *ticket,
		      int (*fn)(void *arg, const struct cg_ratelimit_usage *usage), void *arg,
		      struct cg_error *err);

/* ---------- audit log (audit.c) ---------- */

struct cg_audit;
int cg_audit_open(struct cg_audit **out, const char *file, bool use_syslog, struct cg_error *err);
void cg_audit_close(struct cg_audit *a);
/* Append one record (a jansson object, borrowed) as one line with one
 * write(2) on an O_APPEND fd; adds "time" when missing. */
struct json_t;
int cg_audit_write(struct cg_audit *a, struct json_t *record, struct cg_error *err);

/* Builders of the standard records (schema at the top of audit.c).  A NULL
 * field of info is left out, except user, which defaults to the caller's
 * user name.  Strings that are not UTF-8 are logged with '?' for the bad
 * bytes.  0 or -errno. */
struct cg_run_result;
struct cg_denial;
struct cg_audit_info {
	const char *run_id;
	const char *ticket;
	const char *user;
	const char *workspace;
	const char *command;     /* canonical command or the -c string */
};
int cg_audit_decision(struct cg_audit *a, const struct cg_audit_info *info,
		      enum cg_verdict verdict, const struct cg_reason *why, struct cg_error *err);
int cg_audit_run(struct cg_audit *a, const struct cg_audit_info *info,
		 const struct cg_run_result *res, struct cg_error *err);
/* verdict: CG_BLOCK for an enforced denial, CG_ALLOW when --monitor let it
 * through. */
int cg_audit_denial(struct cg_audit *a, const struct cg_audit_info *info,
		    const struct cg_denial *denial, enum cg_verdict verdict,
		    struct cg_error *err);

/* Search an audit file.  type: NULL (all), "decision", "run", "denial"
 * (the record type), "blocked" (verdict "block") or "allowed" (verdict
 * "allow").  since_s: records whose time is at or after this epoch second
 * (0: all).  ticket: NULL (all) or exact.  fn gets each matching record
 * (borrowed) in file order, which is time order; a non-zero return stops
 * the search and is returned.  Lines that are not JSON objects are counted
 * in *n_malformed (may be NULL) and skipped.  Returns 0 or -errno
 * (-ENOENT: no such file). */
struct cg_audit_filter {
	int64_t since_s;
	const char *type;
	const char *ticket;
};
bool cg_audit_type_valid(const char *type);
int cg_audit_query(const char *file, const struct cg_audit_filter *filter,
		   int (*fn)(void *arg, struct json_t *record), void *arg,
		   size_t *n_malformed, struct cg_error *err);
/* "2026-11-24T11:37:30.123Z" to milliseconds since the epoch; 0 or -EINVAL. */
int cg_audit_time_parse(const char *text, int64_t *epoch_ms);

/* ---------- the supervisor (supervisor.c and friends) ---------- */

/* Moving a process into a cgroup takes the kernel's
 * cgroup_threadgroup_rwsem for writing, and the first writer after a
 * quiet spell waits for an RCU grace period: 4-20 ms on our machines,
 * most of guard-exec's start-up.  Writers within a grace period of the
 * last one do not wait.  A v2 group needs no move (the child is made in
 * it: CLONE_INTO_CGROUP); the v1 pids group does.  cg_run_warm_up()
 * starts such a wait at once in a thread (by moving this process into the
 * v1 group it is already in, which changes nothing), so that it passes
 * while the caller loads the policy and checks the command; cg_run() joins
 * the thread before it makes the run's groups, and the run's own moves
 * find the wait done.  Optional; nothing happens without a v1 pids
 * hierarchy or where the caller may not write a cgroup. */
struct cg_warm_up {
	pthread_t thread;
	bool is_running;
};
void cg_run_warm_up(struct cg_warm_up *w);
void cg_run_warm_up_join(struct cg_warm_up *w);   /* idempotent */

struct cg_run_options {
	struct cg_context ctx;
	char *const *argv;              /* what to exec (already checked) */
	const char *run_id;
	unsigned timeout_s;
	uint64_t output_limit_bytes;
	bool monitor;                   /* record violations, block nothing */
	bool verbose;
	bool capture;                   /* keep stdout/stderr (up to the cap) for --json / --log-dir */
	bool is_quiet;                  /* --json: capture only; nothing is passed through */
	const char *log_dir;            /* NULL or DIR: writes DIR/RUN_ID/{stdout.log,stderr.log} */
	const char *preload_path;       /* libguard-preload.so, NULL: none */
	uid_t uid; gid_t gid; bool set_user;
	struct cg_audit *audit;         /* NULL: no audit records of denials */
	const char *ticket;
	const char *home;               /* NULL: the inherited HOME; else HOME for the command */
	struct cg_warm_up *warm_up;     /* NULL, or started by cg_run_warm_up: joined before the fork */
};

struct cg_denial {
	char syscall[24];
	char detail[256];        /* path, program or address */
	struct cg_reason why;
	pid_t pid;
};

/* Denials kept in a result (and written to the audit log) per run. */
#define CG_MAX_DENIALS 1000

struct cg_run_result {
	int exit_code;            /* 0..255 as the shell would report; 124 timed out; 128+N signal */
	int signal;               /* 0 or the signal that killed the child */
	bool timed_out;
	double duration_s;
	uint64_t stdout_bytes, stderr_bytes;    /* produced */
	uint64_t dropped_bytes;                 /* past the cap */
	bool truncated;
	char *stdout_buf; size_t stdout_len;    /* captured up to the cap when capture */
	char *stderr_buf; size_t stderr_len;
	struct cg_denial *denials; size_t n_denials;
	uint64_t denials_dropped;               /* past CG_MAX_DENIALS: counted only */
	char layers[256];         /* "seccomp-notify,landlock(abi 7),cgroup-v1(pids,memory),preload" */
	int exec_errno;           /* exit_code 126/127: why the command itself did not start, else 0 */
	int interrupt_signal;     /* 0, or SIGINT/SIGTERM/SIGHUP the supervisor got and passed on */
};

/* Run argv under enforcement.  Returns 0 with *res filled (caller frees
 * with cg_run_result_free) once the command has run, or a negative errno
 * with err filled when a layer could not be installed and !monitor:
 * the command did not run (guard-exec exits 125). */
int cg_run(const struct cg_run_options *opt, struct cg_run_result *res, struct cg_error *err);
/* May a run under ctx read (or write) `path`, an absolute normalized
 * path: the run-time read and write sets (Landlock's and the
 * supervisor's), not the static check's. */
bool cg_run_may_access(const struct cg_context *ctx, const char *path, bool is_write);
void cg_run_result_free(struct cg_run_result *res);

/* ---------- kernel feature probes (probe.c) ---------- */

/* What this machine offers the runtime layers, found by trying rather than
 * by reading version numbers: a feature that a container's seccomp profile,
 * an LSM or a nested guard takes away counts as missing.  The tests that
 * must try for real (a seccomp listener, PTRACE_SEIZE, unshare) run in
 * short-lived forked children, so the caller is left as it was. */

enum {
	CG_CONTROLLER_PIDS = 1u << 0,
	CG_CONTROLLER_MEMORY = 1u << 1,
	CG_CONTROLLER_CPU = 1u << 2,
	CG_CONTROLLER_FREEZER = 1u << 3,
};

struct cg_probe {
	bool is_root;                       /* effective uid 0 */
	bool has_cap_sys_admin;             /* in the effective set */
	bool in_container;
	char container_evidence[128];       /* what gave it away, "" when not in one */
	bool has_seccomp_notify;            /* a filter with a listener can be installed */
	int seccomp_errno;                  /* why not; 0 when it can */
	int landlock_abi;                   /* 0: no Landlock */
	int landlock_errno;                 /* ENOSYS: not built in; EOPNOTSUPP: disabled at boot */
	int ptrace_scope;                   /* kernel.yama.ptrace_scope; -1: no Yama */
	bool can_ptrace_child;              /* PTRACE_SEIZE of our own child works */
	int ptrace_errno;
	unsigned cgroup_v1;                 /* CG_CONTROLLER_* mounted as cgroup v1 */
	unsigned cgroup_v1_writable;        /* ... where a group can be created in ours */
	bool has_cgroup_v2;                 /* a cgroup2 hierarchy is mounted */
	bool cgroup_v2_writable;            /* a group can be created in ours */
	bool has_cgroup_kill;               /* cgroup.kill (Linux 5.14+) in a new group */
	unsigned cgroup_v2_controllers;     /* CG_CONTROLLER_* available in our v2 group */
	char cgroup_v2_dir[4096];           /* our group, "" when none */
	bool can_unshare_pid;               /* unshare(CLONE_NEWPID) works */
	int unshare_pid_errno;
	bool can_unshare_user;              /* unshare(CLONE_NEWUSER) works */
	int unshare_user_errno;
};

/* Probe everything.  Never fails: each field says what was found.  Costs
 * a few milliseconds (three forks, one mkdir/rmdir per cgroup hierarchy). */
void cg_probe_all(struct cg_probe *out);

/* The Landlock ABI version, 0 when absent (*error: the errno, may be NULL). */
int cg_probe_landlock_abi(int *error);
/* true when a seccomp filter with a user-notification listener can be
 * installed by a child of the caller; *error the errno when not. */
bool cg_probe_seccomp_notify(int *error);
/* Container heuristics (/.dockerenv, /run/.containerenv,
 * /run/systemd/container, /proc/1/cgroup, /proc/1/sched) read below
 * `root` ("/" for this machine; a directory in tests).  Fills `evidence`
 * with the first hint found. */
bool cg_probe_container(const char *root, char *evidence, size_t size);
/* "cpu,memory" for a CG_CONTROLLER_* set, "" for none. */
const char *cg_probe_controllers(unsigned set, char *buf, size_t size);
/* The layers a guarded run will use on this machine, in order, e.g.
 * "static,no_new_privs,rlimits,seccomp-notify,ptrace-exec-check,
 * landlock(abi 7),cgroup-v1(pids,memory,cpu,freezer)".  The LD_PRELOAD
 * shim is not a kernel feature: callers add it. */
const char *cg_probe_layers(const struct cg_probe *probe, char *buf, size_t size);

#endif
