/* supervisor-internal.h - what the files of the supervisor share:
 * supervisor.c (fork, child set-up, the poll loop), filter.c (the seccomp
 * program), notify.c (answering notifications, the exec re-check),
 * landlock.c, cgroup.c and output.c. */
#ifndef CG_SUPERVISOR_INTERNAL_H
#define CG_SUPERVISOR_INTERNAL_H

#include <limits.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "guard/guard.h"

/* ---------- filter.c ---------- */

/* The seccomp program of a run, generated at build time by gen-filter
 * (filter-bpf.c), loaded in the child with the raw seccomp(2) call. */
struct cg_filter {
	struct sock_fprog prog;   /* prog.filter points at the built-in program */
	bool traps_files;         /* the file calls go to the supervisor */
	bool traps_signals;       /* kill and friends go to the supervisor */
};

extern const struct sock_filter cg_bpf_landlock_paths[];
extern const unsigned short cg_bpf_landlock_paths_len;
extern const struct sock_filter cg_bpf_trap_signals[];
extern const unsigned short cg_bpf_trap_signals_len;
extern const struct sock_filter cg_bpf_trap_files[];
extern const unsigned short cg_bpf_trap_files_len;

/* Point f at the built-in program: file calls notified when trap_files,
 * signals when trap_files or trap_signals. */
int cg_filter_build(struct cg_filter *f, bool trap_files, bool trap_signals, struct cg_error *err);
void cg_filter_free(struct cg_filter *f);
/* In the child: install, return the listener fd or -errno.  AS-safe. */
int cg_filter_install(const struct cg_filter *f);

/* ---------- landlock.c ---------- */

struct cg_landlock {
	int abi;           /* 0: no Landlock */
	int ruleset_fd;    /* -1: none prepared */
	unsigned n_rules;
};

/* The kernel's Landlock ABI version, 0 when absent or disabled. */
int cg_landlock_abi(void);
/* Build the ruleset in the parent (reads and writes per the policy, the
 * secrets carved out of readable directories; the context's workspace
 * read-write, its shim and run directory readable).  ll->abi == 0 and 0
 * returned when the kernel has no Landlock. */
int cg_landlock_prepare(struct cg_landlock *ll, const struct cg_settings *s,
			const struct cg_context *ctx, struct cg_error *err);
/* Read access to one more file, by its own inode: a file bound over
 * another in the run's mount namespace is reached through the mount
 * point, where Landlock does not look at the directory it came from.
 * 0 or -errno (0 without Landlock). */
int cg_landlock_grant_file(struct cg_landlock *ll, const char *path);
/* In the child: read and write below `dir`, a mount of the run's own
 * (its private /dev/shm), which no rule of the parent's reaches.
 * AS-safe.  0 or -errno (0 without Landlock). */
int cg_landlock_grant_own_dir(const struct cg_landlock *ll, const char *dir);
/* In the child, after no_new_privs.  AS-safe.  0 or -errno. */
int cg_landlock_apply(const struct cg_landlock *ll);
void cg_landlock_free(struct cg_landlock *ll);

/* ---------- cgroup.c ---------- */

enum { CG_V1_PIDS, CG_V1_MEMORY, CG_V1_CPU, CG_V1_FREEZER, CG_V1_COUNT };

struct cg_cgroup {
	char v2_dir[256];                   /* "" when no v2 group */
	bool v2_limits;                     /* pids.max set in v2 (then v1 is not used) */
	bool v2_memory, v2_cpu;             /* memory.max, cpu.max set too */
	bool v2_born_in;                    /* the child was made in it (CLONE_INTO_CGROUP) */
	char v1_dir[CG_V1_COUNT][256];      /* "" per controller not used */
	int procs_fd[CG_V1_COUNT + 1];      /* cgroup.procs, for the child; -1 unused */
	pid_t watchdog_pid;                 /* 0: none */
	int watchdog_fd;                    /* our end of its pipe, -1: none */
};

/* Create the run's groups and set the limits; whatever cannot be created
 * is left out (see cg_cgroup_describe).  Never fails the run by itself. */
void cg_cgroup_create(struct cg_cgroup *cg, const char *run_id, const struct cg_settings *s);
/* fork(), but with the child made inside the v2 group where the kernel
 * can (clone3 CLONE_INTO_CGROUP, 5.7+): no move, so no wait for the
 * kernel's RCU grace period, and the child is in it before it runs.  The
 * parent's and the child's cg say so (v2_born_in).  The raw clone3 runs
 * no atfork handlers and leaves glibc's cached tid the parent's: call it
 * single-threaded (cg_run joins the warm-up first), and keep the child to
 * async-signal-safe calls until it execs, as after fork(). */
pid_t cg_cgroup_fork(struct cg_cgroup *cg);
/* In the child: join every group it was not born in.  AS-safe.  0 or -errno. */
int cg_cgroup_join(const struct cg_cgroup *cg);
/* Close the child's fds in the parent once the child has joined. */
void cg_cgroup_close_fds(struct cg_cgroup *cg);
bool cg_cgroup_tracks(const struct cg_cgroup *cg);
bool cg_cgroup_limits_processes(const struct cg_cgroup *cg);
/* Signal every process in the run's group; SIGKILL uses cgroup.kill or the
 * freezer so that nothing forks away.  Returns how many were signalled
 * (cgroup.kill: 1 when any), -errno when the group cannot be read. */
int cg_cgroup_signal(const struct cg_cgroup *cg, int sig);
bool cg_cgroup_empty(const struct cg_cgroup *cg);
/* The group whose cgroup.procs lists the whole run, NULL: none. */
const char *cg_cgroup_tracking_dir(const struct cg_cgroup *cg);
void cg_cgroup_destroy(struct cg_cgroup *cg);
/* A helper process outside the run that kills and removes the groups if
 * the supervisor dies without doing it (SIGKILL): the run's descendants do
 * not outlive us, not even until the next run's sweep.  Start after
 * cg_cgroup_create; stop after cg_cgroup_destroy. */
void cg_cgroup_watchdog_start(struct cg_cgroup *cg);
void cg_cgroup_watchdog_stop(struct cg_cgroup *cg);
/* "cgroup-v2(kill),cgroup-v1(pids,memory,cpu,freezer)" */
void cg_cgroup_describe(const struct cg_cgroup *cg, char *buf, size_t size);

/* ---------- output.c ---------- */

enum { CG_OUT_STDOUT = 0, CG_OUT_STDERR = 1 };

struct cg_output {
	int pipe_rd[2];          /* the supervisor's ends; -1 once at EOF */
	int pipe_wr[2];          /* the child's ends (closed in the parent after fork) */
	int pass_fd[2];          /* where the streams go: our stdout, stderr */
	int log_fd[2];           /* LOG_DIR/RUN_ID/std{out,err}.log, -1: none */
	int null_fd;             /* /dev/null, the sink for splice past the cap */
	uint64_t limit_bytes;
	uint64_t kept_bytes;     /* passed through, both streams */
	uint64_t produced[2];
	uint64_t dropped_bytes;
	bool capture;
	char *buf[2];
	size_t len[2], cap[2];
};

int cg_output_open(struct cg_output *out, const struct cg_run_options *opt, struct cg_error *err);
/* Read what is there on stream `i`; at EOF close it.  0 or -errno. */
int cg_output_drain(struct cg_output *out, int i);
bool cg_output_open_streams(const struct cg_output *out);
/* Move the counters and captures into the result; close everything. */
void cg_output_finish(struct cg_output *out, struct cg_run_result *res);

/* ---------- notify.c ---------- */

struct cg_supervisor;

/* One pending notification: a connect the supervisor performs itself on
 * a copy of the caller's socket, waiting for the handshake. */
struct cg_pending_connect {
	uint64_t id;
	int sock_fd;      /* our copy (pidfd_getfd) */
	bool in_use;
};

enum { CG_MAX_PENDING = 16 };

/* ---------- dns.c ---------- */

enum { CG_DNS_PENDING = 64 };

struct cg_dns_pending {
	bool in_use;
	uint16_t client_id, our_id;
	struct sockaddr_in client;
	int64_t deadline_ms;
};

/* The run's name server (see dns.c). */
struct cg_dns {
	int listen_fd, upstream_fd;        /* -1: none */
	struct sockaddr_in addr;           /* the stub's address, port 53 */
	char conf_path[PATH_MAX];          /* RUN_DIR/resolv.conf naming it; "": no stub */
	uint16_t next_id;
	struct cg_dns_pending pending[CG_DNS_PENDING];
};

/* Stand in for the host's first IPv4 name server: bind the stub (root:
 * port 53) and write RUN_DIR/resolv.conf.  0 with cg_dns_active() false
 * when it cannot (the run keeps the real servers), -errno when the file
 * cannot be written. */
int cg_dns_open(struct cg_dns *dns, const char *run_dir, struct cg_error *err);
bool cg_dns_active(const struct cg_dns *dns);
/* listen_fd is readable: judge the question, answer NXDOMAIN or pass it on. */
void cg_dns_on_query(struct cg_supervisor *sup, struct cg_dns *dns);
/* upstream_fd is readable: an answer back to whoever asked. */
void cg_dns_on_answer(struct cg_dns *dns);
void cg_dns_close(struct cg_dns *dns);

/* ---------- identity.c ---------- */

struct cg_known_program;
struct cg_identity {
	const struct cg_policy *policy;
	struct cg_known_program *known;
	size_t n;
	bool is_built;
};

void cg_identity_init(struct cg_identity *id, const struct cg_policy *p);
/* Is the program file open as `fd` one of the files the block rules name
 * or a dynamic loader: the same inode, or a byte-for-byte copy?  1 with
 * that file's real path in `known`, 0 when it is none, -errno.  The table
 * is built at the first lookup. */
int cg_identity_lookup(struct cg_identity *id, int fd, char *known, size_t size);
void cg_identity_free(struct cg_identity *id);

struct cg_supervisor {
	const struct cg_run_options *opt;
	struct cg_run_result *res;
	const struct cg_settings *settings;
	pid_t child;                     /* the command, as we number it */
	pid_t self;
	bool pid_ns;                     /* the run has a pid namespace of its own */
	int listener_fd;                 /* -1 after the last filtered process is gone */
	bool traps_files;
	int child_status_fd;             /* hangs up once the child has exec'd the command */
	const struct cg_cgroup *cgroup;
	int report_fd;                   /* the shim's denials (GUARD_REPORT), -1: none */
	int pinned_fd;                   /* the Unix socket file of this notification, -1: none */
	char report_path[108];
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	size_t denials_cap;
	struct cg_pending_connect pending[CG_MAX_PENDING];
	char *scratch;                   /* argv reading, CG_SCRATCH_BYTES */
	struct cg_identity identity;     /* programs by inode and content */
};

enum { CG_SCRATCH_BYTES = 256 * 1024 };

int cg_notify_init(struct cg_supervisor *sup, struct cg_error *err);
void cg_notify_free(struct cg_supervisor *sup);
/* The listener is readable: receive one notification and answer it. */
void cg_notify_handle(struct cg_supervisor *sup);
/* A pending connect's socket is writable (or failed): answer it. */
void cg_notify_connect_done(struct cg_supervisor *sup, struct cg_pending_connect *pc);
/* A traced process stopped (waitpid status): the exec re-check, or pass
 * the signal on.  Returns true when it was a ptrace stop. */
bool cg_notify_ptrace_stop(struct cg_supervisor *sup, pid_t pid, int status);
/* ---------- shared by notify*.c ---------- */

/* Copy len bytes of the target's memory; bytes read or -1. */
ssize_t cg_peek(pid_t pid, uint64_t addr, void *buf, size_t len);
/* The NUL-terminated string at addr: 0, -EFAULT or -ENAMETOOLONG. */
int cg_peek_string(pid_t pid, uint64_t addr, char *buf, size_t size);
/* true while the current notification's caller is still waiting: what
 * was read is the caller's and not a recycled pid's. */
bool cg_notify_valid(struct cg_supervisor *sup);
int cg_read_link(const char *path, char *out, size_t size);
/* A small file (/proc, cgroupfs) read whole into buf, NUL-terminated;
 * the bytes read, or -errno.  No allocation: the watchdog uses it too. */
ssize_t cg_read_text(const char *path, char *buf, size_t size);
/* A pidfd of the target thread (so that pidfd_getfd reads its own fd
 * table where threads do not share one), or -errno. */
int cg_target_pidfd(pid_t tid);
/* A copy of the target thread's fd `fd` (pidfd_getfd), or -errno. */
int cg_copy_target_fd(pid_t tid, int fd);
/* The absolute path `path` names for the target (relative to its cwd or
 * to its fd `dirfd`; "" is dirfd itself), symlinks resolved as far as it
 * exists.  0 or -errno. */
int cg_target_path(pid_t pid, int dirfd, const char *path, char *out, size_t size);
/* Answer the current notification: an error, a value, or CONTINUE. */
void cg_notify_respond(struct cg_supervisor *sup, int error, int64_t val, bool is_continue);
/* cg_decide(), and a denial recorded when blocked; true when the call may
 * go ahead (always in monitor mode). */
bool cg_notify_judge(struct cg_supervisor *sup, const struct cg_event *ev, const char *syscall_name,
		     const char *detail, pid_t pid);

/* The handlers, one per kind of call (notify-proc.c, notify-net.c,
 * notify-files.c). */
void cg_notify_exec(struct cg_supervisor *sup, bool is_at);
void cg_notify_signal(struct cg_supervisor *sup, int nr);
void cg_notify_connect(struct cg_supervisor *sup);
void cg_notify_bind(struct cg_supervisor *sup);
void cg_notify_listen(struct cg_supervisor *sup);
void cg_notify_send(struct cg_supervisor *sup, int nr);
/* false when nr is not a file or metadata call */
bool cg_notify_file(struct cg_supervisor *sup, int nr);

/* Record a denial: result, one stderr line, audit record. */
void cg_supervisor_deny(struct cg_supervisor *sup, const char *syscall, const char *detail,
			pid_t pid, const struct cg_reason *why);
/* The report socket is readable: record the shim's denials (it printed
 * them already). */
void cg_notify_preload_reports(struct cg_supervisor *sup);

#endif
