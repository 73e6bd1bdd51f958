/* supervisor.c - cg_run(): start the command inside every layer and
 * watch it in one poll loop until nothing it started is left.
 *
 * Everything the child needs is prepared before fork (environment,
 * resolved program path, BPF, Landlock ruleset, cgroup fds): between fork
 * and exec the child makes only async-signal-safe calls, so cg_run() is
 * safe to call from a threaded program. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <sched.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <dirent.h>
#include <grp.h>
#include <time.h>
#include <unistd.h>

#include "guard/guard-internal.h"
#include "guard/supervisor-internal.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

extern char **environ;

/* What the child tells the parent over the status pipe. */
enum child_stage {
	STAGE_READY = 0,    /* value: the listener fd number in the child */
	STAGE_SETUP,        /* a layer failed; value: errno */
	STAGE_EXEC,         /* execve failed; value: errno */
	STAGE_EXIT,         /* over the set-up socket, from the pid namespace's
			     * init or its parent; value: the command's wait status */
};

struct child_msg {
	int stage;
	int step;           /* which set-up step, for the message */
	int value;
};

static const char *const step_names[] = {
	"parent death signal", "process group", "cgroup", "output", "rlimits",
	"capability bounding set", "user", "capabilities", "no_new_privs", "landlock",
	"seccomp", "set-up channel", "pid namespace",
};

enum child_step {
	STEP_PDEATHSIG, STEP_PGROUP, STEP_CGROUP, STEP_OUTPUT, STEP_RLIMITS, STEP_BOUNDING,
	STEP_USER, STEP_CAPS, STEP_NNP, STEP_LANDLOCK, STEP_SECCOMP, STEP_SETUP, STEP_PIDNS,
};

enum { MAX_BPF_INSNS = 4096 };

/* Everything the child uses, built before fork. */
struct child_plan {
	char **paths;               /* where the program may be, in PATH order, NULL-ended */
	char *const *argv;
	char **envp;
	struct rlimit limits[4];
	int limit_res[4];
	size_t n_limits;
	bool drop_caps;
	uint64_t keep_caps;         /* bit per capability */
	int cap_last;
	bool set_user;
	uid_t uid;
	gid_t gid;
	int stdout_fd, stderr_fd;
	int status_fd;              /* write end of the status pipe */
	pid_t parent;
	sigset_t old_mask;
	int setup_fd;               /* the child's end of the set-up socket */
	const struct cg_landlock *landlock;   /* the ruleset, ready (ruleset_fd -1: none) */
	uint64_t proc_rights;       /* Landlock rights for the run's own /proc */
	const struct cg_filter *filter;
	const char *resolv_conf;    /* bound over /etc/resolv.conf in the run's mount namespace; NULL: none */
	bool private_shm;           /* an empty tmpfs on /dev/shm in the run's mount namespace */
	char shm_options[64];       /* its mount options */
	const struct cg_cgroup *cgroup;
	bool pid_ns;                /* try a pid namespace of its own */
};

static const char *const cap_names[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
	"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

/* ---------- the child ---------- */

static void child_fail(const struct child_plan *plan, int stage, int step, int error)
{
	struct child_msg msg = { stage, step, error };

	if (write(plan->status_fd, &msg, sizeof(msg)) < 0)
		_exit(125);
	_exit(stage == STAGE_EXEC ? (error == ENOENT ? 127 : 126) : 125);
}

static void child_drop_caps(const struct child_plan *plan)
{
	for (int cap = 0; cap <= plan->cap_last; cap++)
		if (!(plan->keep_caps & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 &&
		    errno != EINVAL)
			child_fail(plan, STAGE_SETUP, STEP_BOUNDING, errno);
}

static void child_set_caps(const struct child_plan *plan)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data) < 0)
		child_fail(plan, STAGE_SETUP, STEP_CAPS, errno);
	data[0].permitted &= (uint32_t)plan->keep_caps;
	data[1].permitted &= (uint32_t)(plan->keep_caps >> 32);
	data[0].effective = data[0].permitted;
	data[1].effective = data[1].permitted;
	data[0].inheritable = data[1].inheritable = 0;
	if (syscall(SYS_capset, &hdr, data) < 0)
		child_fail(plan, STAGE_SETUP, STEP_CAPS, errno);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
}

/* The wait status of `pid` to the supervisor, which takes the first one
 * it finds as the command's (see child_enter_pidns); then exit. */
static __attribute__((noreturn)) void child_pass_status(const struct child_plan *plan, pid_t pid,
							 bool any)
{
	int status = 0;
	pid_t got;

	for (;;) {
		got = waitpid(any ? -1 : pid, &status, 0);
		if (got == pid)
			break;
		if (got < 0 && errno != EINTR)
			_exit(125);
	}
	struct child_msg msg = { STAGE_EXIT, 0, status };
	if (send(plan->setup_fd, &msg, sizeof(msg), MSG_NOSIGNAL) < 0) {
		/* the supervisor is gone; nobody to tell */
	}
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* Put the command in a pid namespace of its own with its own /proc, so
 * that /proc shows the run's processes only (another process's command
 * line can carry a token; Landlock cannot carve /proc/PID), and so that
 * the whole tree dies with the namespace's init.  Returns in the command
 * (true), or at once without a namespace when the kernel or our
 * privileges refuse one (false).  Three processes: this one stays
 * outside (the supervisor's child, in its process group and cgroup, so
 * that the supervisor's signals and waits are unchanged); its child is
 * pid 1, which mounts /proc (only a process inside the namespace mounts
 * its view) and reaps; pid 1's child is the command.  Neither keeps the
 * status pipe: the command's end must hang up at its exec (the exec
 * check relies on it).  Their reports go over the set-up socket. */
static bool child_enter_pidns(const struct child_plan *plan)
{
	int keep[] = { plan->setup_fd, plan->status_fd, plan->landlock->ruleset_fd };
	unsigned next = 3;
	sigset_t all;
	pid_t init, command;

	/* These two never exec, so close-on-exec would leave them holding the
	 * caller's files (and sockets the supervisor would count as the
	 * run's); the set-up needs only the channel, the status pipe and the
	 * ruleset from here on.  Closed: every gap between them, in order. */
	for (size_t i = 0; i < 3; i++)
		for (size_t j = i + 1; j < 3; j++)
			if (keep[j] < keep[i]) {
				int t = keep[i];
				keep[i] = keep[j];
				keep[j] = t;
			}
	for (size_t i = 0; i < 3; i++) {
		if (keep[i] < (int)next)
			continue;
		if ((unsigned)keep[i] > next)
			syscall(SYS_close_range, next, keep[i] - 1, 0);
		next = (unsigned)keep[i] + 1;
	}
	syscall(SYS_close_range, next, ~0U, 0);
	if (unshare(CLONE_NEWPID | CLONE_NEWNS) < 0)
		return false;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		child_fail(plan, STAGE_SETUP, STEP_PIDNS, errno);
	/* The run's name server (dns.c): in this namespace only, read-only. */
	if (plan->resolv_conf &&
	    (mount(plan->resolv_conf, "/etc/resolv.conf", NULL, MS_BIND, NULL) < 0 ||
	     mount(NULL, "/etc/resolv.conf", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0))
		child_fail(plan, STAGE_SETUP, STEP_PIDNS, errno);
	/* Shared memory of the run's own: nothing in it from other runs, and
	 * nothing of it left for them (see private_shm in cg_run). */
	if (plan->private_shm &&
	    mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, plan->shm_options) < 0)
		child_fail(plan, STAGE_SETUP, STEP_PIDNS, errno);
	sigfillset(&all);
	init = fork();
	if (init < 0)
		child_fail(plan, STAGE_SETUP, STEP_PIDNS, errno);
	if (init > 0) {
		/* Signals reach the command directly (cgroup, process group);
		 * this process ends when pid 1 does. */
		close(plan->status_fd);
		sigprocmask(SIG_BLOCK, &all, NULL);
		child_pass_status(plan, init, false);
	}
	/* pid 1: getppid() is 0 here whoever the parent is, so a parent
	 * killed before this line goes unnoticed (the command's report then
	 * finds no reader and it exits 125; an exec it tried anyway would
	 * find no listener and fail). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		child_fail(plan, STAGE_SETUP, STEP_PDEATHSIG, errno);
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		child_fail(plan, STAGE_SETUP, STEP_PIDNS, errno);
	command = fork();
	if (command < 0)
		child_fail(plan, STAGE_SETUP, STEP_PIDNS, errno);
	if (command == 0)
		return true;
	/* Unhandled signals do not reach a namespace's pid 1 anyway; blocked,
	 * they cannot interrupt the waits.  Its exit kills whatever is left
	 * in the namespace. */
	close(plan->status_fd);
	sigprocmask(SIG_BLOCK, &all, NULL);
	child_pass_status(plan, command, true);
}

/* The run's /proc is not the one the parent granted when it built the
 * ruleset (a rule on the covered mount point does not reach the mount on
 * top), so the same rights go to the new one. */
static int child_grant_proc(const struct child_plan *plan, int ruleset_fd)
{
	struct landlock_path_beneath_attr attr = { .allowed_access = plan->proc_rights };
	int rc = 0;

	if (ruleset_fd < 0 || !attr.allowed_access)
		return 0;
	attr.parent_fd = open("/proc", O_PATH | O_CLOEXEC);
	if (attr.parent_fd < 0)
		return -errno;
	if (syscall(SYS_landlock_add_rule, ruleset_fd, LANDLOCK_RULE_PATH_BENEATH, &attr, 0) < 0)
		rc = -errno;
	close(attr.parent_fd);
	return rc;
}

static __attribute__((noreturn)) void child_main(const struct child_plan *plan)
{
	struct child_msg msg = { STAGE_READY, 0, 0 };
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	int rc, listener;
	bool in_pidns;
	char hello = 0;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		child_fail(plan, STAGE_SETUP, STEP_PDEATHSIG, errno);
	if (getppid() != plan->parent)
		_exit(125);   /* the parent is already gone; PDEATHSIG came too late */
	if (setpgid(0, 0) < 0)
		child_fail(plan, STAGE_SETUP, STEP_PGROUP, errno);
	if ((rc = cg_cgroup_join(plan->cgroup)))
		child_fail(plan, STAGE_SETUP, STEP_CGROUP, -rc);
	if (dup2(plan->stdout_fd, STDOUT_FILENO) < 0 || dup2(plan->stderr_fd, STDERR_FILENO) < 0)
		child_fail(plan, STAGE_SETUP, STEP_OUTPUT, errno);
	/* Whatever the caller left open must not reach the command (its audit
	 * log, its state database). */
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &dfl, NULL);
	sigprocmask(SIG_SETMASK, &plan->old_mask, NULL);
	in_pidns = plan->pid_ns && child_enter_pidns(plan);
	for (size_t i = 0; i < plan->n_limits; i++)
		if (setrlimit(plan->limit_res[i], &plan->limits[i]) < 0)
			child_fail(plan, STAGE_SETUP, STEP_RLIMITS, errno);
	if (plan->drop_caps)
		child_drop_caps(plan);
	if (plan->set_user) {
		if (setgroups(1, &plan->gid) < 0 || setresgid(plan->gid, plan->gid, plan->gid) < 0 ||
		    setresuid(plan->uid, plan->uid, plan->uid) < 0)
			child_fail(plan, STAGE_SETUP, STEP_USER, errno);
	}
	if (plan->drop_caps && !(plan->set_user && plan->uid != 0))
		child_set_caps(plan);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail(plan, STAGE_SETUP, STEP_NNP, errno);
	/* The supervisor learns our pid in its namespace from the
	 * credentials the kernel attaches to this byte (SO_PASSCRED). */
	if (send(plan->setup_fd, &hello, 1, MSG_NOSIGNAL) != 1)
		child_fail(plan, STAGE_SETUP, STEP_SETUP, errno);
	if (in_pidns && (rc = child_grant_proc(plan, plan->landlock->ruleset_fd)))
		child_fail(plan, STAGE_SETUP, STEP_LANDLOCK, -rc);
	if (in_pidns && plan->private_shm && (rc = cg_landlock_grant_own_dir(plan->landlock, "/dev/shm")))
		child_fail(plan, STAGE_SETUP, STEP_LANDLOCK, -rc);
	if ((rc = cg_landlock_apply(plan->landlock)))
		child_fail(plan, STAGE_SETUP, STEP_LANDLOCK, -rc);
	listener = cg_filter_install(plan->filter);
	if (listener < 0)
		child_fail(plan, STAGE_SETUP, STEP_SECCOMP, -listener);
	/* From here every execve waits for the supervisor, which takes the
	 * listener from us with pidfd_getfd() after reading this. */
	msg.value = listener;
	msg.step = in_pidns;
	if (write(plan->status_fd, &msg, sizeof(msg)) != sizeof(msg))
		_exit(125);
	/* Like execvp: a candidate Landlock or the file mode refuses
	 * (/root/.pyenv/shims/python3) gives way to the next one. */
	rc = ENOENT;
	for (char **p = plan->paths; *p; p++) {
		execve(*p, plan->argv, plan->envp);
		if (errno == EACCES)
			rc = EACCES;
		else if (errno != ENOENT && errno != ENOTDIR) {
			rc = errno;
			break;
		}
	}
	child_fail(plan, STAGE_EXEC, 0, rc);
	_exit(127);
}

/* ---------- preparing ---------- */

/* The executable files `name` may mean, in PATH order (the child's PATH);
 * name itself when it has a slash or nothing is found (execve then says
 * why).  NULL on ENOMEM; free with free_env. */
static char **find_program(const char *name, char **envp)
{
	enum { MAX_CANDIDATES = 16 };
	const char *path = "/usr/local/bin:/usr/bin:/bin";
	char **paths = calloc(MAX_CANDIDATES + 1, sizeof(*paths));
	char buf[PATH_MAX];
	size_t n = 0;

	if (!paths)
		return NULL;
	for (char **e = envp; *e; e++)
		if (!strncmp(*e, "PATH=", 5))
			path = *e + 5;
	while (!strchr(name, '/') && *path && n < MAX_CANDIDATES) {
		size_t len = strcspn(path, ":");
		if (len && snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, path, name) < (int)sizeof(buf) &&
		    access(buf, X_OK) == 0 && !(paths[n++] = strdup(buf)))
			goto fail;
		path += len + (path[len] == ':');
	}
	if (!n && !(paths[n++] = strdup(name)))
		goto fail;
	return paths;
fail:
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	return NULL;
}

static void free_env(char **envp)
{
	if (!envp)
		return;
	for (char **e = envp; *e; e++)
		free(*e);
	free(envp);
}

/* The caller's environment without GUARD_* and the policy's denied
 * names, plus the shim's: LD_PRELOAD and `shim_env` (cg_snapshot_publish's
 * NUL-separated list, ended by an empty string). */
static char **build_env(const struct cg_run_options *opt, const char *shim_env)
{
	size_t n = 0, k = 0;
	char **envp;
	const char *preload_old = NULL;

	for (char **e = environ; *e; e++)
		n++;
	for (const char *e = shim_env; *e; e += strlen(e) + 1)
		n++;
	envp = calloc(n + 3, sizeof(*envp));
	if (!envp)
		return NULL;
	for (char **e = environ; *e; e++) {
		char name[256];
		size_t len = strcspn(*e, "=");
		if (len >= sizeof(name) || !strncmp(*e, "GUARD_", 6))
			continue;
		memcpy(name, *e, len);
		name[len] = '\0';
		if (cg_policy_env_denied(opt->ctx.policy, name))
			continue;
		if (opt->preload_path && !strcmp(name, "LD_PRELOAD")) {
			preload_old = *e + len + 1;
			continue;
		}
		if (opt->home && !strcmp(name, "HOME"))
			continue;
		if (!(envp[k++] = strdup(*e)))
			goto fail;
	}
	if (opt->preload_path) {
		size_t len = strlen(opt->preload_path) + (preload_old ? strlen(preload_old) : 0) + 16;
		if (!(envp[k] = malloc(len)))
			goto fail;
		snprintf(envp[k++], len, "LD_PRELOAD=%s%s%s", opt->preload_path,
			 preload_old && *preload_old ? " " : "", preload_old ? preload_old : "");
	}
	if (opt->home && asprintf(&envp[k++], "HOME=%s", opt->home) < 0) {
		envp[--k] = NULL;
		goto fail;
	}
	for (const char *e = shim_env; *e; e += strlen(e) + 1)
		if (!(envp[k++] = strdup(e)))
			goto fail;
	return envp;
fail:
	free_env(envp);
	return NULL;
}

/* A directory for the run's files that the run can read but not write
 * (outside every allowed path): the shim's policy snapshot. */
static int make_run_dir(char *out, size_t size, const char *run_id, struct cg_error *err)
{
	char bases[3][PATH_MAX];
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	size_t n = 0;

	snprintf(bases[n++], PATH_MAX, "/run/commandguard");
	if (xdg && xdg[0] == '/')
		snprintf(bases[n++], PATH_MAX, "%.*s/commandguard", PATH_MAX - 16, xdg);
	snprintf(bases[n++], PATH_MAX, "/dev/shm/commandguard-%u", (unsigned)geteuid());
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (mkdir(bases[i], 0755) < 0 && errno != EEXIST)
			continue;
		/* someone else's directory, or a symlink planted there, is not ours */
		if (lstat(bases[i], &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
		    (st.st_mode & 022))
			continue;
		if (snprintf(out, size, "%s/%s.%d", bases[i], run_id, (int)getpid()) >= (int)size)
			continue;
		if (mkdir(out, 0755) == 0)
			return 0;
	}
	out[0] = '\0';
	cg_error_set(err, NULL, 0, "run", "no directory for the run's own files (/run/commandguard, "
		     "$XDG_RUNTIME_DIR, /dev/shm): the shim's policy snapshot needs one");
	return -EACCES;
}

static void remove_run_dir(const char *dir)
{
	char path[PATH_MAX + 32];

	if (!dir[0])
		return;
	snprintf(path, sizeof(path), "%s/policy.snapshot", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/preload.sock", dir);
	unlink(path);
	rmdir(dir);
}

/* RUN_DIR/preload.sock, where the shim reports its denials, and its
 * GUARD_REPORT entry appended to the shim's environment block. */
static int open_report_socket(struct cg_supervisor *sup, const char *run_dir, char *env,
			      size_t size, struct cg_error *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	size_t used = 0;
	int n;

	if (snprintf(sup->report_path, sizeof(sup->report_path), "%s/preload.sock", run_dir) >=
	    (int)sizeof(sup->report_path)) {
		sup->report_path[0] = '\0';
		return 0;   /* optional: the shim's stderr lines remain */
	}
	memcpy(addr.sun_path, sup->report_path, strlen(sup->report_path));
	sup->report_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (sup->report_fd < 0 || bind(sup->report_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    chmod(sup->report_path, 0666) < 0) {
		cg_error_set(err, sup->report_path, 0, "preload", "report socket: %s", strerror(errno));
		return -errno;
	}
	while (env[used])
		used += strlen(env + used) + 1;
	n = snprintf(env + used, size - used, "%s=%s", CG_REPORT_ENV, sup->report_path);
	if (n < 0 || (size_t)n + 2 > size - used) {
		env[used] = '\0';
		return 0;
	}
	env[used + (size_t)n + 1] = '\0';
	return 0;
}

static uint64_t parse_caps(const struct cg_strlist *names)
{
	uint64_t mask = 0;

	for (size_t i = 0; i < names->n; i++)
		for (size_t c = 0; c < sizeof(cap_names) / sizeof(cap_names[0]); c++)
			if (!strcasecmp(names->items[i], cap_names[c]))
				mask |= 1ULL << c;
	return mask;
}

static int cap_last(void)
{
	char buf[16] = "";
	int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	return n > 0 ? atoi(buf) : CAP_LAST_CAP;
}

static void add_limit(struct child_plan *plan, int resource, rlim_t value)
{
	plan->limit_res[plan->n_limits] = resource;
	plan->limits[plan->n_limits].rlim_cur = value;
	plan->limits[plan->n_limits].rlim_max = value;
	plan->n_limits++;
}

/* ---------- the tree ---------- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Without a cgroup: every descendant of ours.  As child subreaper we
 * inherit the orphans of the tree, so a process that double-forked is
 * still below us. */
static int signal_descendants(pid_t self, int sig)
{
	enum { MAX_PROCS = 8192 };
	pid_t (*procs)[2] = malloc(sizeof(*procs) * MAX_PROCS);
	pid_t *tree;
	size_t n = 0, n_tree = 1;
	struct dirent *de;
	DIR *dir;
	int killed = 0;

	if (!procs)
		return -ENOMEM;
	tree = malloc(sizeof(*tree) * (MAX_PROCS + 1));
	dir = opendir("/proc");
	if (!tree || !dir) {
		free(procs);
		free(tree);
		if (dir)
			closedir(dir);
		return -ENOMEM;
	}
	while ((de = readdir(dir)) && n < MAX_PROCS) {
		char path[64], buf[512], *close_paren;
		pid_t pid = (pid_t)atoi(de->d_name);
		int fd;
		ssize_t len;
		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		close_paren = strrchr(buf, ')');
		if (!close_paren)
			continue;
		procs[n][0] = pid;
		procs[n][1] = (pid_t)atoi(close_paren + 4);   /* ") S PPID" */
		n++;
	}
	closedir(dir);
	tree[0] = self;
	for (bool grew = true; grew;) {
		grew = false;
		for (size_t i = 0; i < n; i++) {
			bool in_tree = false, parent_in_tree = false;
			for (size_t t = 0; t < n_tree; t++) {
				in_tree |= tree[t] == procs[i][0];
				parent_in_tree |= tree[t] == procs[i][1];
			}
			if (!in_tree && parent_in_tree) {
				tree[n_tree++] = procs[i][0];
				grew = true;
			}
		}
	}
	for (size_t t = 1; t < n_tree; t++)
		if (kill(tree[t], sig) == 0)
			killed++;
	free(procs);
	free(tree);
	return killed;
}

struct run_state {
	struct cg_supervisor sup;
	struct cg_output out;
	struct cg_cgroup cgroup;
	pid_t child;
	bool child_exited;
	int child_status;
	bool timed_out;
	int64_t deadline_ms;      /* next timer: timeout, then the SIGKILL */
	bool term_sent, kill_sent;
	int interrupt_signal;     /* SIGINT/SIGTERM/SIGHUP that reached the supervisor */
	int64_t eof_deadline_ms;  /* after the child's exit: how long to wait for EOF */
	unsigned kill_grace_ms;
	struct cg_dns dns;        /* the run's name server, when it has a mount namespace */
};

static void signal_tree(struct run_state *rs, int sig)
{
	if (cg_cgroup_tracks(&rs->cgroup))
		cg_cgroup_signal(&rs->cgroup, sig);
	kill(-rs->child, sig);
	if (!rs->child_exited)
		kill(rs->child, sig);
	if (!cg_cgroup_tracks(&rs->cgroup))
		signal_descendants(rs->sup.self, sig);
}

static void reap(struct run_state *rs)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG | __WALL)) > 0) {
		if (cg_notify_ptrace_stop(&rs->sup, pid, status))
			continue;
		if (pid == rs->child && (WIFEXITED(status) || WIFSIGNALED(status))) {
			rs->child_exited = true;
			rs->child_status = status;
		}
	}
}

/* guard-exec interrupted (Ctrl-C, a CI job cancelled): the tree gets the
 * same signal, then SIGKILL after the grace period, as at a timeout; a
 * second signal does not wait. */
static void pass_on(struct run_state *rs, int sig)
{
	if (rs->child_exited)
		return;
	if (rs->interrupt_signal || rs->term_sent) {
		signal_tree(rs, SIGKILL);
		rs->kill_sent = true;
		rs->deadline_ms = INT64_MAX;
		return;
	}
	rs->interrupt_signal = sig;
	rs->term_sent = true;
	signal_tree(rs, sig);
	rs->deadline_ms = now_ms() + rs->kill_grace_ms;
}

/* Until the child has exited and both pipes are closed; then whatever is
 * left of the tree is killed (cg_run's end). */
static void poll_loop(struct run_state *rs, int signal_fd)
{
	struct pollfd pfd[7 + CG_MAX_PENDING];
	struct cg_pending_connect *pending_at[7 + CG_MAX_PENDING];

	for (;;) {
		int64_t now = now_ms(), wait_ms = -1;
		nfds_t n = 0;
		int ready;

		if (rs->child_exited && !cg_output_open_streams(&rs->out))
			return;
		if (rs->child_exited && !rs->kill_sent) {
			/* The command is done: nothing it started outlives it. */
			signal_tree(rs, SIGKILL);
			rs->kill_sent = true;
			rs->eof_deadline_ms = now + rs->kill_grace_ms;
		}
		if (rs->child_exited && now >= rs->eof_deadline_ms)
			return;   /* a pipe held open by something we cannot see */
		if (!rs->child_exited && now >= rs->deadline_ms) {
			if (!rs->term_sent) {
				rs->timed_out = true;
				rs->term_sent = true;
				signal_tree(rs, SIGTERM);
				rs->deadline_ms = now + rs->kill_grace_ms;
			} else if (!rs->kill_sent) {
				signal_tree(rs, SIGKILL);
				rs->kill_sent = true;
				rs->deadline_ms = INT64_MAX;
			}
		}
		if (!rs->child_exited && rs->deadline_ms != INT64_MAX)
			wait_ms = rs->deadline_ms - now;
		if (rs->child_exited)
			wait_ms = rs->eof_deadline_ms - now;
		if (wait_ms < 0)
			wait_ms = 0;
		if (wait_ms > INT32_MAX)
			wait_ms = INT32_MAX;

		pfd[n++] = (struct pollfd){ .fd = signal_fd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = rs->sup.listener_fd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = rs->out.pipe_rd[0], .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = rs->out.pipe_rd[1], .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = rs->sup.report_fd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = rs->dns.listen_fd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = rs->dns.upstream_fd, .events = POLLIN };
		for (int i = 0; i < CG_MAX_PENDING; i++)
			if (rs->sup.pending[i].in_use) {
				pending_at[n] = &rs->sup.pending[i];
				pfd[n++] = (struct pollfd){ .fd = rs->sup.pending[i].sock_fd,
							    .events = POLLOUT };
			}
		ready = poll(pfd, n, (int)wait_ms);
		if (ready < 0 && errno != EINTR)
			return;
		if (ready <= 0)
			continue;
		if (pfd[1].revents & POLLIN)
			cg_notify_handle(&rs->sup);
		else if (pfd[1].revents & (POLLHUP | POLLERR | POLLNVAL)) {
			/* every filtered process is gone */
			close(rs->sup.listener_fd);
			rs->sup.listener_fd = -1;
		}
		for (int i = 0; i < 2; i++)
			if (pfd[2 + i].revents)
				cg_output_drain(&rs->out, i);
		if (pfd[4].revents & POLLIN)
			cg_notify_preload_reports(&rs->sup);
		/* POLLERR too: an ICMP error must be read off the socket */
		if (pfd[5].revents)
			cg_dns_on_query(&rs->sup, &rs->dns);
		if (pfd[6].revents)
			cg_dns_on_answer(&rs->dns);
		for (nfds_t i = 7; i < n; i++)
			if (pfd[i].revents)
				cg_notify_connect_done(&rs->sup, pending_at[i]);
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si[8];
			ssize_t got = read(signal_fd, si, sizeof(si));
			if (got < 0 && errno != EAGAIN)
				return;
			for (ssize_t i = 0; i < got / (ssize_t)sizeof(si[0]); i++)
				if (si[i].ssi_signo != SIGCHLD)
					pass_on(rs, (int)si[i].ssi_signo);
			reap(rs);
		}
	}
}

/* Children of ours other than the watchdog: a PID namespace's init that
 * outlived our child (we are the subreaper) is one, until its kernel has
 * reaped every process of the namespace and we reap it.  -1: the kernel
 * cannot list them (CONFIG_PROC_CHILDREN). */
static int children_left(const struct run_state *rs)
{
	char path[64], buf[4096];
	int n = 0;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)rs->sup.self);
	if (cg_read_text(path, buf, sizeof(buf)) < 0)
		return -1;
	for (char *p = buf, *end; *p; p = end) {
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		n += pid != rs->cgroup.watchdog_pid;
	}
	return n;
}

/* Kill and reap whatever is left, then remove the groups.  An empty
 * cgroup comes a moment before the end: killed tasks leave it before
 * they are reaped, and a PID namespace's init leaves it before its
 * kernel has reaped the namespace; so also until our child and the
 * init are reaped. */
static void end_tree(struct run_state *rs)
{
	for (int i = 0; i < 2000; i++) {
		int left;
		reap(rs);
		if (cg_cgroup_tracks(&rs->cgroup)) {
			if (cg_cgroup_empty(&rs->cgroup) && rs->child_exited && children_left(rs) <= 0)
				break;
			cg_cgroup_signal(&rs->cgroup, SIGKILL);
		} else {
			kill(-rs->child, SIGKILL);
			left = signal_descendants(rs->sup.self, SIGKILL);
			if (left <= 0 && rs->child_exited)
				break;
		}
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	reap(rs);
	cg_cgroup_destroy(&rs->cgroup);
}

static void describe_layers(const struct run_state *rs, const struct cg_landlock *ll,
			    const struct cg_filter *filter, bool drop_caps, bool pid_ns,
			    const struct cg_run_options *opt, char *buf, size_t size)
{
	char cgroups[160];
	size_t n;

	cg_cgroup_describe(&rs->cgroup, cgroups, sizeof(cgroups));
	n = snprintf(buf, size, "seccomp-notify%s",
		     filter->traps_files ? "(files,signals)" : filter->traps_signals ? "(signals)" : "");
	if (ll->ruleset_fd >= 0 && n < size)
		n += snprintf(buf + n, size - n, ",landlock(abi%d)", ll->abi);
	if (cgroups[0] && n < size)
		n += snprintf(buf + n, size - n, ",%s", cgroups);
	else if (n < size)
		n += snprintf(buf + n, size - n, ",pgroup+subreaper");
	if (n < size)
		n += snprintf(buf + n, size - n, ",ptrace-exec-check,no_new_privs%s,rlimits%s%s%s",
			      drop_caps ? ",caps" : "", opt->preload_path ? ",preload" : "",
			      pid_ns ? ",pidns" : "", cg_dns_active(&rs->dns) ? ",dns-stub" : "");
}

/* The rights the policy gives "/proc" itself, for the run's own /proc. */
static uint64_t proc_rights(const struct cg_settings *s)
{
	const struct cg_strlist *lists[] = { &s->paths_readable, &s->paths_allowed,
					     &s->cli_allow_read, &s->cli_allow_write };

	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++)
		if (cg_strlist_contains(lists[l], "/proc") || cg_strlist_contains(lists[l], "/proc/"))
			return LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE |
			       LANDLOCK_ACCESS_FS_READ_DIR;
	return 0;
}

/* The command's pid in our namespace, from the credentials on the byte it
 * sent before its filter (it may sit in a pid namespace of its own). */
static pid_t command_pid(int fd)
{
	char byte;
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} control;
	struct iovec iov = { &byte, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = control.buf, .msg_controllen = sizeof(control.buf) };
	struct ucred cred;

	if (recvmsg(fd, &mh, MSG_DONTWAIT) != 1)
		return -1;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS) {
			memcpy(&cred, CMSG_DATA(cm), sizeof(cred));
			return cred.pid > 0 ? cred.pid : -1;
		}
	return -1;
}

/* In a pid namespace our child is not the command: the command's wait
 * status comes from pid 1 (or, when pid 1 itself was killed, from our
 * child, which saw that); the first report is the command's. */
static void command_status(int fd, struct run_state *rs)
{
	struct child_msg msg;

	while (recv(fd, &msg, sizeof(msg), MSG_DONTWAIT) == sizeof(msg))
		if (msg.stage == STAGE_EXIT) {
			rs->child_status = msg.value;
			return;
		}
}

/* Take back the /dev/shm that cg_run added to the write list. */
static void drop_private_shm(const struct cg_run_options *opt, bool *added)
{
	struct cg_strlist *list = &cg_policy_settings_mut(opt->ctx.policy)->cli_allow_write;

	if (!*added)
		return;
	free(list->items[--list->n]);
	*added = false;
}

int cg_run(const struct cg_run_options *opt, struct cg_run_result *res, struct cg_error *err)
{
	const struct cg_settings *s = cg_policy_settings(opt->ctx.policy);
	struct cg_run_options run_opt = *opt;   /* with the run directory in its context */
	struct run_state rs;
	struct child_plan plan;
	struct cg_filter filter = { 0 };
	struct cg_landlock landlock = { .ruleset_fd = -1 };
	struct child_msg msg;
	char run_dir[PATH_MAX] = "", preload[PATH_MAX];
	char shim_env[2 * PATH_MAX + 64] = "";
	int status_pipe[2] = { -1, -1 }, setup_sock[2] = { -1, -1 };
	int signal_fd = -1, pidfd = -1, was_subreaper = 0, one = 1;
	bool in_pidns = false, shm_added = false;
	int64_t start_ms = now_ms();
	sigset_t chld;
	ssize_t got;
	int rc = 0;
	bool mask_set = false;

	memset(res, 0, sizeof(*res));
	memset(&rs, 0, sizeof(rs));
	memset(&plan, 0, sizeof(plan));
	rs.sup.opt = &run_opt;
	rs.sup.res = res;
	rs.sup.settings = s;
	rs.sup.self = getpid();
	rs.sup.listener_fd = -1;
	rs.sup.child_status_fd = -1;
	rs.sup.report_fd = -1;
	rs.sup.pinned_fd = -1;
	rs.kill_grace_ms = s->kill_grace_ms ? s->kill_grace_ms : 2000;
	rs.deadline_ms = opt->timeout_s ? start_ms + (int64_t)opt->timeout_s * 1000 : INT64_MAX;
	for (int i = 0; i <= CG_V1_COUNT; i++)
		rs.cgroup.procs_fd[i] = -1;
	rs.cgroup.watchdog_fd = -1;
	rs.dns.listen_fd = rs.dns.upstream_fd = -1;
	rs.out.null_fd = -1;
	for (int i = 0; i < 2; i++)
		rs.out.pipe_rd[i] = rs.out.pipe_wr[i] = rs.out.log_fd[i] = -1;

	if (!opt->argv || !opt->argv[0]) {
		cg_error_set(err, NULL, 0, "run", "no command");
		return -EINVAL;
	}
	/* The run's own files: the shim's snapshot and report socket (which
	 * need it), the name server's resolv.conf (which goes without). */
	if ((rc = make_run_dir(run_dir, sizeof(run_dir), opt->run_id ? opt->run_id : "run", err))) {
		if (opt->preload_path)
			goto out;
		rc = 0;
	}
	if (run_dir[0])
		run_opt.ctx.run_dir = run_dir;
	if (opt->preload_path) {
		/* The run may read the shim wherever it is installed. */
		if (!realpath(opt->preload_path, preload)) {
			rc = -errno;
			cg_error_set(err, opt->preload_path, 0, "preload", "%s", strerror(errno));
			goto out;
		}
		run_opt.preload_path = run_opt.ctx.preload = preload;
	}
	if (opt->ctx.egress && run_dir[0] && (rc = cg_dns_open(&rs.dns, run_dir, err)))
		goto out;
	plan.resolv_conf = cg_dns_active(&rs.dns) ? rs.dns.conf_path : NULL;

	/* The layers, while the cgroup warm-up's grace period passes.
	 * Monitor mode records file accesses instead of refusing them, which
	 * only the notifications can do, so it goes without Landlock. */
	if (!opt->monitor && (rc = cg_landlock_prepare(&landlock, s, &rs.sup.opt->ctx, err)))
		goto out;
	if (cg_dns_active(&rs.dns) && (rc = cg_landlock_grant_file(&landlock, rs.dns.conf_path))) {
		cg_error_set(err, rs.dns.conf_path, 0, "landlock", "%s", strerror(-rc));
		goto out;
	}
	if ((rc = cg_filter_build(&filter, landlock.ruleset_fd < 0, landlock.abi < 6, err)))
		goto out;
	if (filter.prog.len > MAX_BPF_INSNS) {
		rc = -E2BIG;
		cg_error_set(err, NULL, 0, "seccomp", "filter too long (%u instructions)", filter.prog.len);
		goto out;
	}
	rs.sup.traps_files = filter.traps_files;
	plan.landlock = &landlock;
	plan.proc_rights = proc_rights(s);
	plan.filter = &filter;

	/* Python's multiprocessing and others need /dev/shm writable; the
	 * host's would be a channel between runs.  Where the run gets a mount
	 * namespace (root), it gets an empty tmpfs there instead, which the
	 * child grants itself in Landlock; the shim and our checks learn it
	 * from the write list, extended after the ruleset was built (Landlock
	 * never grants the host's /dev/shm) and restored at the end. */
	if (geteuid() == 0 && !opt->monitor && !cg_run_may_access(&opt->ctx, "/dev/shm/x", true)) {
		shm_added = cg_strlist_add(&cg_policy_settings_mut(opt->ctx.policy)->cli_allow_write,
					   "/dev/shm") == 0;
		plan.private_shm = shm_added;
		snprintf(plan.shm_options, sizeof(plan.shm_options), "mode=1777,size=%llu",
			 (unsigned long long)(s->memory_bytes ? s->memory_bytes : 64ULL << 20));
	}
	if (opt->preload_path) {
		rc = cg_snapshot_publish(opt->ctx.policy, opt->ctx.workspace, run_dir, opt->monitor,
					 shim_env, sizeof(shim_env), err);
		if (!rc)
			rc = open_report_socket(&rs.sup, run_dir, shim_env, sizeof(shim_env), err);
		if (rc)
			goto out;
	}
	plan.envp = build_env(&run_opt, shim_env);
	if (!plan.envp) {
		rc = -ENOMEM;
		cg_error_set(err, NULL, 0, "run", "out of memory");
		goto out;
	}
	plan.paths = find_program(opt->argv[0], plan.envp);
	if (!plan.paths) {
		rc = -ENOMEM;
		cg_error_set(err, NULL, 0, "run", "out of memory");
		goto out;
	}
	plan.argv = opt->argv;
	add_limit(&plan, RLIMIT_CORE, 0);
	if (s->file_size_bytes)
		add_limit(&plan, RLIMIT_FSIZE, s->file_size_bytes);
	if (s->memory_bytes)
		add_limit(&plan, RLIMIT_DATA, s->memory_bytes);
	if (s->max_processes && (opt->set_user ? opt->uid : geteuid()) != 0)
		add_limit(&plan, RLIMIT_NPROC, s->max_processes);
	plan.drop_caps = geteuid() == 0;
	plan.keep_caps = parse_caps(&s->keep_caps);
	plan.cap_last = cap_last();
	plan.set_user = opt->set_user;
	plan.uid = opt->uid;
	plan.gid = opt->gid;
	plan.parent = rs.sup.self;
	plan.pid_ns = true;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, setup_sock) ||
	    setsockopt(setup_sock[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one))) {
		rc = -errno;
		cg_error_set(err, NULL, 0, "run", "set-up channel: %s", strerror(errno));
		goto out;
	}
	plan.setup_fd = setup_sock[1];
	if ((rc = cg_output_open(&rs.out, opt, err)))
		goto out;
	if ((rc = cg_notify_init(&rs.sup, err)))
		goto out;
	if (pipe2(status_pipe, O_CLOEXEC) < 0) {
		rc = -errno;
		cg_error_set(err, NULL, 0, "run", "pipe: %s", strerror(errno));
		goto out;
	}
	/* The warm-up holds cgroup_mutex while it waits: our mkdirs would
	 * wait for it anyway. */
	cg_run_warm_up_join(opt->warm_up);
	cg_cgroup_create(&rs.cgroup, opt->run_id ? opt->run_id : "run", s);
	/* RLIMIT_NPROC does not bind root: without a pids group a fork bomb
	 * would have no bound at all. */
	if (s->max_processes && (opt->set_user ? opt->uid : geteuid()) == 0 &&
	    !cg_cgroup_limits_processes(&rs.cgroup) && !opt->monitor) {
		rc = -EPERM;
		cg_error_set(err, NULL, 0, "limits", "no process limit can be set: a command run as "
			     "root is bounded only by a cgroup's pids controller, and none is ours here "
			     "(cgroup v2: run guard-exec in a group whose cgroup.subtree_control lists "
			     "pids, i.e. the root group or a delegated one; v1: mount the pids "
			     "hierarchy); or run the command with --user");
		goto out;
	}
	plan.cgroup = &rs.cgroup;
	rs.sup.cgroup = &rs.cgroup;
	plan.stdout_fd = rs.out.pipe_wr[0];
	plan.stderr_fd = rs.out.pipe_wr[1];
	plan.status_fd = status_pipe[1];

	/* SIGCHLD through a signalfd: the loop learns of exits and of the
	 * exec stops of the processes it traces.  SIGINT, SIGTERM and SIGHUP
	 * too: they end the tree rather than the supervisor alone. */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigaddset(&chld, SIGINT);
	sigaddset(&chld, SIGTERM);
	sigaddset(&chld, SIGHUP);
	sigprocmask(SIG_BLOCK, &chld, &plan.old_mask);
	mask_set = true;
	signal_fd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (signal_fd < 0) {
		rc = -errno;
		cg_error_set(err, NULL, 0, "run", "signalfd: %s", strerror(errno));
		goto out;
	}
	prctl(PR_GET_CHILD_SUBREAPER, &was_subreaper, 0, 0, 0);
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

	rs.child = cg_cgroup_fork(&rs.cgroup);
	if (rs.child < 0) {
		rc = -errno;
		cg_error_set(err, NULL, 0, "run", "fork: %s", strerror(errno));
		goto out;
	}
	if (rs.child == 0)
		child_main(&plan);
	rs.sup.child = rs.child;
	rs.sup.child_status_fd = status_pipe[0];
	setpgid(rs.child, rs.child);
	close(status_pipe[1]);
	status_pipe[1] = -1;
	close(setup_sock[1]);
	setup_sock[1] = -1;

	/* while the child installs its layers: the parent would only wait */
	cg_cgroup_watchdog_start(&rs.cgroup);
	for (int i = 0; i < 2; i++) {
		close(rs.out.pipe_wr[i]);
		rs.out.pipe_wr[i] = -1;
	}
	cg_cgroup_close_fds(&rs.cgroup);

	do
		got = read(status_pipe[0], &msg, sizeof(msg));
	while (got < 0 && errno == EINTR);
	if (got == sizeof(msg) && msg.stage == STAGE_READY) {
		in_pidns = rs.sup.pid_ns = msg.step != 0;
		rs.sup.child = command_pid(setup_sock[0]);
		errno = ESRCH;
		if (rs.sup.child > 0)
			pidfd = (int)syscall(SYS_pidfd_open, rs.sup.child, 0);
		if (pidfd >= 0)
			rs.sup.listener_fd = (int)syscall(SYS_pidfd_getfd, pidfd, msg.value, 0);
		if (rs.sup.listener_fd < 0) {
			rc = -errno;
			cg_error_set(err, NULL, 0, "seccomp", "taking the listener: %s", strerror(errno));
		}
		/* Without its own mount namespace the run reads the host's
		 * resolv.conf and keeps the real name servers. */
		if (!in_pidns) {
			cg_dns_close(&rs.dns);
			drop_private_shm(opt, &shm_added);
		} else if (!rc && cg_dns_active(&rs.dns) &&
			   (rc = cg_egress_use_dns(opt->ctx.egress, &rs.dns.addr))) {
			cg_error_set(err, NULL, 0, "dns", "out of memory");
		}
	} else {
		rc = got == sizeof(msg) ? -msg.value : -EIO;
		cg_error_set(err, NULL, 0, "run", "setting up the command (%s): %s",
			     got == sizeof(msg) && msg.step < (int)(sizeof(step_names) / sizeof(*step_names))
				     ? step_names[msg.step] : "child",
			     strerror(-rc ? -rc : EIO));
	}
	if (rc) {
		kill(rs.child, SIGKILL);
		waitpid(rs.child, NULL, __WALL);
		rs.child_exited = true;
		end_tree(&rs);
		goto out;
	}

	describe_layers(&rs, &landlock, &filter, plan.drop_caps, in_pidns, opt, res->layers,
			sizeof(res->layers));
	poll_loop(&rs, signal_fd);
	end_tree(&rs);
	if (in_pidns)
		command_status(setup_sock[0], &rs);
	if (rs.sup.report_fd >= 0)
		cg_notify_preload_reports(&rs.sup);

	if (rs.child_exited && WIFSTOPPED(rs.child_status) == 0) {
		if (WIFEXITED(rs.child_status)) {
			res->exit_code = WEXITSTATUS(rs.child_status);
		} else if (WIFSIGNALED(rs.child_status)) {
			res->signal = WTERMSIG(rs.child_status);
			res->exit_code = 128 + res->signal;
		}
	}
	if (res->exit_code == 126 || res->exit_code == 127) {
		if (read(status_pipe[0], &msg, sizeof(msg)) == sizeof(msg) && msg.stage == STAGE_EXEC)
			res->exec_errno = msg.value;
	}
	res->timed_out = rs.timed_out;
	res->interrupt_signal = rs.interrupt_signal;
	if (rs.timed_out)
		res->exit_code = 124;
out:
	cg_output_finish(&rs.out, res);
	if (rc == 0)
		res->duration_s = (double)(now_ms() - start_ms) / 1000.0;
	else
		cg_cgroup_destroy(&rs.cgroup);
	cg_cgroup_watchdog_stop(&rs.cgroup);
	if (rs.sup.listener_fd >= 0)
		close(rs.sup.listener_fd);
	if (rs.sup.report_fd >= 0)
		close(rs.sup.report_fd);
	cg_notify_free(&rs.sup);
	if (pidfd >= 0)
		close(pidfd);
	if (signal_fd >= 0)
		close(signal_fd);
	for (int i = 0; i < 2; i++) {
		if (status_pipe[i] >= 0)
			close(status_pipe[i]);
		if (setup_sock[i] >= 0)
			close(setup_sock[i]);
	}
	if (!was_subreaper)
		prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
	if (mask_set)
		sigprocmask(SIG_SETMASK, &plan.old_mask, NULL);
	cg_landlock_free(&landlock);
	cg_filter_free(&filter);
	free_env(plan.envp);
	free_env(plan.paths);
	cg_dns_close(&rs.dns);
	drop_private_shm(opt, &shm_added);
	remove_run_dir(run_dir);
	if (rc)
		cg_run_result_free(res);
	return rc;
}

bool cg_run_may_access(const struct cg_context *ctx, const char *path, bool is_write)
{
	return cg_path_is_allowed(ctx, path, is_write ? CG_PATHS_WRITE : CG_PATHS_READ);
}

void cg_run_result_free(struct cg_run_result *res)
{
	if (!res)
		return;
	free(res->stdout_buf);
	free(res->stderr_buf);
	free(res->denials);
	res->stdout_buf = res->stderr_buf = NULL;
	res->denials = NULL;
	res->n_denials = 0;
	res->stdout_len = res->stderr_len = 0;
}
