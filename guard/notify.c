/* notify.c - answering the seccomp notifications of a run.
 *
 * The supervisor reads a call's arguments from the target's memory, asks
 * cg_decide() and answers.  The target can rewrite that memory after we
 * read it and before the kernel does, so nothing allowed is continued on
 * memory the target still controls where it matters:
 *   - exec: allowed at the notification, then re-checked when the new
 *     image is in place (PTRACE_EVENT_EXEC, before its first
 *     instruction; its memory is its own again) and killed if blocked.
 *     An allowed image is detached from: its next exec is notified and
 *     followed again, and meanwhile neither its signals nor its exit
 *     wait for the supervisor to be scheduled;
 *   - connect, bind and sends with an address: performed by the
 *     supervisor on a pidfd_getfd() copy of the socket with its own copy
 *     of the address and data, the result returned to the caller;
 *   - paths: Landlock's, in the kernel; the file calls come here only on
 *     kernels without it (and in monitor mode), and are then racy. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard/supervisor-internal.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

enum { MAX_ARGS = 8192 };

int cg_notify_init(struct cg_supervisor *sup, struct cg_error *err)
{
	if (seccomp_notify_alloc(&sup->req, &sup->resp)) {
		cg_error_set(err, NULL, 0, "seccomp", "seccomp_notify_alloc failed");
		return -ENOMEM;
	}
	sup->scratch = malloc(CG_SCRATCH_BYTES);
	if (!sup->scratch) {
		cg_error_set(err, NULL, 0, "seccomp", "out of memory");
		return -ENOMEM;
	}
	for (int i = 0; i < CG_MAX_PENDING; i++)
		sup->pending[i].sock_fd = -1;
	return 0;
}

void cg_notify_free(struct cg_supervisor *sup)
{
	for (int i = 0; i < CG_MAX_PENDING; i++)
		if (sup->pending[i].in_use)
			close(sup->pending[i].sock_fd);
	if (sup->req)
		seccomp_notify_free(sup->req, sup->resp);
	sup->req = NULL;
	sup->resp = NULL;
	free(sup->scratch);
	sup->scratch = NULL;
}

/* ---------- reading the target ---------- */

static ssize_t peek(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len };
	struct iovec remote = { (void *)(uintptr_t)addr, len };

	return process_vm_readv(pid, &local, 1, &remote, 1, 0);
}

/* Copy the NUL-terminated string at addr; -EFAULT, -ENAMETOOLONG. */
static int peek_string(pid_t pid, uint64_t addr, char *buf, size_t size)
{
	size_t got = 0;

	if (!addr)
		return -EFAULT;
	while (got < size) {
		/* Stop at page ends: the next page may not be mapped. */
		size_t want = 4096 - ((addr + got) & 4095);
		ssize_t n;
		if (want > size - got)
			want = size - got;
		n = peek(pid, addr + got, buf + got, want);
		if (n <= 0)
			return -EFAULT;
		if (memchr(buf + got, '\0', (size_t)n))
			return 0;
		got += (size_t)n;
	}
	return -ENAMETOOLONG;
}

static bool still_valid(struct cg_supervisor *sup)
{
	return seccomp_notify_id_valid(sup->listener_fd, sup->req->id) == 0;
}

static int read_link(const char *path, char *out, size_t size)
{
	ssize_t n = readlink(path, out, size - 1);

	if (n < 0)
		return -errno;
	out[n] = '\0';
	return 0;
}

/* The absolute path `path` names for the target, relative to its cwd or
 * to the directory fd `dirfd`, with symlinks resolved as far as it exists
 * (a path to be created resolves its parent). */
static int target_path(pid_t pid, int dirfd, const char *path, char *out, size_t size)
{
	char base[PATH_MAX], joined[PATH_MAX * 2], link[64], resolved[PATH_MAX];
	char *slash;

	if (path[0] == '/') {
		snprintf(joined, sizeof(joined), "%s", path);
	} else {
		if (dirfd == AT_FDCWD)
			snprintf(link, sizeof(link), "/proc/%d/cwd", pid);
		else
			snprintf(link, sizeof(link), "/proc/%d/fd/%d", pid, dirfd);
		if (read_link(link, base, sizeof(base)))
			return -EBADF;
		if (!path[0])
			snprintf(joined, sizeof(joined), "%s", base);
		else
			snprintf(joined, sizeof(joined), "%s/%s", base, path);
	}
	if (realpath(joined, resolved)) {
		snprintf(out, size, "%s", resolved);
		return 0;
	}
	if (cg_path_normalize("/", joined, out, size))
		return -ENAMETOOLONG;
	slash = strrchr(out, '/');
	if (slash && slash != out) {
		*slash = '\0';
		if (realpath(out, resolved) &&
		    snprintf(joined, sizeof(joined), "%s/%s", strcmp(resolved, "/") ? resolved : "",
			     slash + 1) < (int)size) {
			memcpy(out, joined, strlen(joined) + 1);
			return 0;
		}
		*slash = '/';
	}
	return 0;
}

/* ---------- answering ---------- */

static void respond(struct cg_supervisor *sup, int error, int64_t val, bool is_continue)
{
	struct seccomp_notif_resp *resp = sup->resp;

	memset(resp, 0, sizeof(*resp));
	resp->id = sup->req->id;
	resp->error = error;
	resp->val = val;
	resp->flags = is_continue ? SECCOMP_USER_NOTIF_FLAG_CONTINUE : 0;
	/* ENOENT: the caller died or was interrupted; nothing to answer. */
	seccomp_notify_respond(sup->listener_fd, resp);
}

static void record(struct cg_supervisor *sup, const char *syscall_name, const char *detail,
		   pid_t pid, const struct cg_reason *why, bool is_enforced, bool should_print);

void cg_supervisor_deny(struct cg_supervisor *sup, const char *syscall_name, const char *detail,
			pid_t pid, const struct cg_reason *why)
{
	record(sup, syscall_name, detail, pid, why, !sup->opt->monitor, true);
}

void cg_notify_preload_reports(struct cg_supervisor *sup)
{
	char msg[1100];
	ssize_t n;

	while ((n = recv(sup->report_fd, msg, sizeof(msg) - 1, MSG_DONTWAIT)) > 0) {
		/* "v1 PID CALL DETAIL CATEGORY RULE blocked|allowed MESSAGE", tab-separated */
		char *field[8], *p = msg;
		struct cg_reason why;
		int k = 0;

		msg[n] = '\0';
		for (; k < 8 && p; k++) {
			field[k] = p;
			p = k < 7 ? strchr(p, '\t') : NULL;
			if (p)
				*p++ = '\0';
		}
		if (k < 8 || strcmp(field[0], "v1"))
			continue;   /* not the shim's, or a newer shim: nothing to trust */
		memset(&why, 0, sizeof(why));
		snprintf(why.category, sizeof(why.category), "%s", field[4]);
		snprintf(why.rule, sizeof(why.rule), "%s", field[5]);
		snprintf(why.message, sizeof(why.message), "%s", field[7]);
		snprintf(why.layer, sizeof(why.layer), "preload");
		record(sup, field[2], field[3], (pid_t)atoi(field[1]), &why,
		       !strcmp(field[6], "blocked"), false);
	}
}

static void record(struct cg_supervisor *sup, const char *syscall_name, const char *detail,
		   pid_t pid, const struct cg_reason *why, bool is_enforced, bool should_print)
{
	struct cg_run_result *res = sup->res;
	struct cg_denial *d;
	char line[1024];
	int n;

	if (res->n_denials == sup->denials_cap) {
		size_t cap = sup->denials_cap ? sup->denials_cap * 2 : 8;
		struct cg_denial *p = realloc(res->denials, cap * sizeof(*p));
		if (p) {
			res->denials = p;
			sup->denials_cap = cap;
		}
	}
	if (res->n_denials < sup->denials_cap) {
		d = &res->denials[res->n_denials++];
		memset(d, 0, sizeof(*d));
		snprintf(d->syscall, sizeof(d->syscall), "%s", syscall_name);
		snprintf(d->detail, sizeof(d->detail), "%s", detail);
		d->why = *why;
		if (!d->why.layer[0])
			snprintf(d->why.layer, sizeof(d->why.layer), "seccomp");
		d->pid = pid;
		if (sup->opt->audit) {
			struct cg_audit_info info = {
				.run_id = sup->opt->run_id,
				.ticket = sup->opt->ticket,
				.workspace = sup->opt->ctx.workspace,
			};
			struct cg_error err;
			cg_audit_denial(sup->opt->audit, &info, d, is_enforced ? CG_BLOCK : CG_ALLOW,
					&err);
		}
	}
	if (!should_print)
		return;
	n = snprintf(line, sizeof(line), "guard: %s %s %s: %s\n",
		     sup->opt->monitor ? "would deny" : "denied", syscall_name, detail,
		     why->message[0] ? why->message : why->category);
	if (n > (int)sizeof(line))
		n = sizeof(line);
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;   /* nowhere left to say it; the result holds it */
}

/* Decide, record a block; true when the call may go ahead (always in
 * monitor mode). */
static bool judge(struct cg_supervisor *sup, const struct cg_event *ev, const char *syscall_name,
		  const char *detail, pid_t pid)
{
	struct cg_reason why;

	memset(&why, 0, sizeof(why));
	if (cg_decide(&sup->opt->ctx, ev, &why) == CG_ALLOW)
		return true;
	cg_supervisor_deny(sup, syscall_name, detail, pid, &why);
	return sup->opt->monitor;
}

/* ---------- exec ---------- */

static int attach_for_exec(struct cg_supervisor *sup, pid_t tid)
{
	char path[64], line[256];
	FILE *f;
	long tracer = -1;

	if (ptrace(PTRACE_SEIZE, tid, 0, PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL) == 0)
		return 0;
	if (errno != EPERM)
		return -errno;
	/* EPERM also means "already traced": by us, since an earlier exec. */
	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "re");
	if (!f)
		return -ESRCH;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "TracerPid:", 10))
			tracer = strtol(line + 10, NULL, 10);
	fclose(f);
	return tracer == sup->self ? 0 : -EPERM;
}

static bool child_in_our_code(struct cg_supervisor *sup)
{
	struct pollfd pfd = { .fd = sup->child_status_fd, .events = POLLIN };

	return sup->child_status_fd >= 0 && poll(&pfd, 1, 0) >= 0 && !(pfd.revents & POLLHUP);
}

static void on_exec(struct cg_supervisor *sup, bool is_at)
{
	const struct seccomp_data *d = &sup->req->data;
	pid_t pid = sup->req->pid;
	char raw[PATH_MAX], path[PATH_MAX];
	char **argv = NULL;
	size_t argc = 0, used = 0;
	int dirfd = is_at ? (int)d->args[0] : AT_FDCWD;
	uint64_t path_addr = is_at ? d->args[1] : d->args[0];
	uint64_t argv_addr = is_at ? d->args[2] : d->args[1];
	struct cg_event ev = { .kind = CG_EV_EXEC };
	int rc;

	rc = peek_string(pid, path_addr, raw, sizeof(raw));
	if (rc) {
		/* Let the kernel report the bad pointer: exec of nothing runs nothing. */
		respond(sup, rc == -EFAULT ? -EFAULT : -ENAMETOOLONG, 0, false);
		return;
	}
	if (target_path(pid, dirfd, raw, path, sizeof(path))) {
		respond(sup, -EBADF, 0, false);
		return;
	}
	for (size_t cap = 0; argv_addr && argc < MAX_ARGS; argc++) {
		uint64_t p;
		if (argc + 1 >= cap) {
			char **grown = realloc(argv, (cap = cap ? cap * 2 : 64) * sizeof(*argv));
			if (!grown)
				break;
			argv = grown;
		}
		if (peek(pid, argv_addr + argc * 8, &p, 8) != 8 || !p)
			break;
		if (used >= CG_SCRATCH_BYTES ||
		    peek_string(pid, p, sup->scratch + used, CG_SCRATCH_BYTES - used)) {
			/* argv we cannot read whole is judged as far as it goes: the
			 * re-check after the exec sees the real one. */
			break;
		}
		argv[argc] = sup->scratch + used;
		used += strlen(argv[argc]) + 1;
	}
	if (argv)
		argv[argc] = NULL;
	if (!still_valid(sup))
		goto out;
	ev.u.exec.path = path;
	ev.u.exec.argv = argv;
	ev.u.exec.argc = argc;
	if (!judge(sup, &ev, is_at ? "execveat" : "execve", path, pid)) {
		respond(sup, -EPERM, 0, false);
		goto out;
	}
	/* The command's own exec comes from our child, single-threaded and
	 * still running our code (its end of the status pipe, closed on exec,
	 * is open): its path cannot change under us. */
	if (pid == sup->child && child_in_our_code(sup)) {
		respond(sup, 0, 0, true);
		goto out;
	}
	/* The target may swap the path before the kernel reads it: follow
	 * the exec and judge what actually started (cg_notify_ptrace_stop). */
	if (attach_for_exec(sup, pid)) {
		struct cg_reason why;
		cg_reason_set(&why, "exec-check", "", "cannot follow the exec: %s", strerror(EPERM));
		cg_supervisor_deny(sup, is_at ? "execveat" : "execve", path, pid, &why);
		respond(sup, -EPERM, 0, false);
		goto out;
	}
	respond(sup, 0, 0, true);
out:
	free(argv);
}

static void recheck_exec(struct cg_supervisor *sup, pid_t pid)
{
	char link[64], exe[PATH_MAX];
	char *argv[1024];
	size_t argc = 0;
	ssize_t n = 0, got;
	int fd;
	struct cg_event ev = { .kind = CG_EV_EXEC };
	struct cg_reason why;

	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	if (read_link(link, exe, sizeof(exe)))
		goto kill_it;
	snprintf(link, sizeof(link), "/proc/%d/cmdline", pid);
	fd = open(link, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto kill_it;
	while ((got = read(fd, sup->scratch + n, CG_SCRATCH_BYTES - 1 - n)) > 0)
		n += got;
	close(fd);
	sup->scratch[n] = '\0';
	for (ssize_t i = 0; i < n && argc < 1023; i += (ssize_t)strlen(sup->scratch + i) + 1)
		argv[argc++] = sup->scratch + i;
	argv[argc] = NULL;
	ev.u.exec.path = exe;
	ev.u.exec.argv = argv;
	ev.u.exec.argc = argc;
	memset(&why, 0, sizeof(why));
	if (cg_decide(&sup->opt->ctx, &ev, &why) == CG_ALLOW) {
		ptrace(PTRACE_DETACH, pid, 0, 0);
		return;
	}
	snprintf(why.layer, sizeof(why.layer), "exec-check");
	cg_supervisor_deny(sup, "execve", exe, pid, &why);
	if (sup->opt->monitor) {
		ptrace(PTRACE_CONT, pid, 0, 0);
		return;
	}
kill_it:
	/* Stopped before its first instruction: the new image never runs. */
	kill(pid, SIGKILL);
}

bool cg_notify_ptrace_stop(struct cg_supervisor *sup, pid_t pid, int status)
{
	int event = status >> 16, sig = WSTOPSIG(status);

	if (!WIFSTOPPED(status))
		return false;
	if (event == PTRACE_EVENT_EXEC) {
		recheck_exec(sup, pid);
	} else if (event == PTRACE_EVENT_STOP) {
		if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
			ptrace(PTRACE_LISTEN, pid, 0, 0);
		else
			ptrace(PTRACE_CONT, pid, 0, 0);
	} else if (event) {
		ptrace(PTRACE_CONT, pid, 0, 0);
	} else {
		/* a signal on its way to the tracee: deliver it unchanged */
		ptrace(PTRACE_CONT, pid, 0, sig);
	}
	return true;
}

/* ---------- network ---------- */

static int copy_socket(pid_t tid, int fd)
{
	int pidfd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD), copy;

	if (pidfd < 0)
		pidfd = (int)syscall(SYS_pidfd_open, tid, 0);
	if (pidfd < 0)
		return -errno;
	copy = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	copy = copy < 0 ? -errno : copy;
	close(pidfd);
	return copy;
}

static int read_addr(pid_t pid, uint64_t addr, uint64_t len, struct sockaddr_storage *out,
		     socklen_t *out_len)
{
	if (!addr)
		return -EFAULT;
	if (len > sizeof(*out) || len < sizeof(sa_family_t))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (peek(pid, addr, out, len) != (ssize_t)len)
		return -EFAULT;
	*out_len = (socklen_t)len;
	return 0;
}

static bool is_abstract_unix(const struct sockaddr_storage *ss, socklen_t len)
{
	const struct sockaddr_un *un = (const struct sockaddr_un *)ss;

	return ss->ss_family == AF_UNIX && len > offsetof(struct sockaddr_un, sun_path) &&
	       un->sun_path[0] == '\0';
}

/* A pathname Unix address is resolved (relative to the target's cwd) and
 * its socket file pinned with an O_PATH fd: we judge the path that fd
 * has and connect through /proc/self/fd/N (use_pinned), so a directory
 * or the socket swapped for a symlink after the check (toward
 * /var/run/docker.sock) changes nothing.  Landlock (ABI 7) has no rule
 * for connecting to pathname sockets; this is the only check. */
static int absolutize_unix(struct cg_supervisor *sup, pid_t pid, struct sockaddr_storage *ss,
			   socklen_t *len)
{
	struct sockaddr_un *un = (struct sockaddr_un *)ss;
	char name[sizeof(un->sun_path) + 1], path[PATH_MAX], link[64];
	struct stat st;
	size_t n;
	int fd;

	if (ss->ss_family != AF_UNIX || *len <= offsetof(struct sockaddr_un, sun_path) ||
	    !un->sun_path[0])
		return 0;
	n = *len - offsetof(struct sockaddr_un, sun_path);
	memcpy(name, un->sun_path, n);
	name[n] = '\0';
	if (target_path(pid, AT_FDCWD, name, path, sizeof(path)))
		return -EBADF;
	fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		close(fd);
		return S_ISLNK(st.st_mode) ? -ELOOP : -ECONNREFUSED;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if (read_link(link, path, sizeof(path))) {
		close(fd);
		return -EBADF;
	}
	if (sup->pinned_fd >= 0)
		close(sup->pinned_fd);
	sup->pinned_fd = fd;
	if (strlen(path) >= sizeof(un->sun_path))
		return -ENAMETOOLONG;
	memset(un->sun_path, 0, sizeof(un->sun_path));
	memcpy(un->sun_path, path, strlen(path));
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
	return 0;
}

/* Our copy of a judged pathname address, made to reach the pinned file. */
static void use_pinned(struct cg_supervisor *sup, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_un *un = (struct sockaddr_un *)ss;
	int n;

	if (sup->pinned_fd < 0 || ss->ss_family != AF_UNIX)
		return;
	memset(un->sun_path, 0, sizeof(un->sun_path));
	n = snprintf(un->sun_path, sizeof(un->sun_path), "/proc/self/fd/%d", sup->pinned_fd);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)n + 1);
}

static void describe_addr(const struct sockaddr_storage *ss, char *out, size_t size)
{
	char host[64];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(out, size, "%s:%u", host, ntohs(in->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(out, size, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else if (ss->ss_family == AF_UNIX) {
		const struct sockaddr_un *un = (const struct sockaddr_un *)ss;
		if (un->sun_path[0])
			snprintf(out, size, "unix:%.*s", (int)sizeof(un->sun_path), un->sun_path);
		else
			snprintf(out, size, "unix:@%.*s", (int)sizeof(un->sun_path) - 1, un->sun_path + 1);
	} else {
		snprintf(out, size, "family %d", ss->ss_family);
	}
}

static bool judge_addr(struct cg_supervisor *sup, enum cg_event_kind kind, const char *name,
		       const struct sockaddr_storage *ss, socklen_t len, pid_t pid)
{
	struct cg_event ev = { .kind = kind };
	char detail[160];

	/* the supervisor's own report socket, which the shim sends to */
	if (ss->ss_family == AF_UNIX && sup->report_path[0] &&
	    !strncmp(((const struct sockaddr_un *)ss)->sun_path, sup->report_path,
		     sizeof(sup->report_path)))
		return true;
	ev.u.net.addr = (const struct sockaddr *)ss;
	ev.u.net.len = len;
	describe_addr(ss, detail, sizeof(detail));
	return judge(sup, &ev, name, detail, pid);
}

/* Landlock's scope judges an abstract socket in the caller's own connect
 * (only sockets made inside the run), but a connect continued on the
 * caller's memory could be switched to a pathname socket after we read
 * it.  So we perform it, after asking the same question Landlock would:
 * is the socket bound to that name held by a process of the run? */
static bool abstract_in_run(struct cg_supervisor *sup, const struct sockaddr_storage *ss,
			    socklen_t len)
{
	const struct sockaddr_un *un = (const struct sockaddr_un *)ss;
	size_t name_len = len - offsetof(struct sockaddr_un, sun_path);
	char want[sizeof(un->sun_path) + 2], line[512], procs[8192], link[64], target[64];
	unsigned long inodes[16];
	size_t n_inodes = 0;
	const char *dir = sup->cgroup ? cg_cgroup_tracking_dir(sup->cgroup) : NULL;
	bool found = false;
	FILE *f;
	int fd;
	ssize_t got;

	if (!dir || name_len < 1 || name_len > sizeof(un->sun_path))
		return false;
	/* /proc/net/unix shows an abstract name with '@' for each NUL */
	for (size_t i = 0; i < name_len; i++)
		want[i] = un->sun_path[i] ? un->sun_path[i] : '@';
	want[name_len] = '\0';
	f = fopen("/proc/net/unix", "re");
	if (!f)
		return false;
	while (n_inodes < 16 && fgets(line, sizeof(line), f)) {
		unsigned long inode;
		char path[sizeof(want) + 8] = "";
		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%*s %*s %*s %*s %*s %*s %lu %109s", &inode, path) == 2 &&
		    !strcmp(path, want))
			inodes[n_inodes++] = inode;
	}
	fclose(f);
	if (!n_inodes)
		return false;
	snprintf(line, sizeof(line), "%s/cgroup.procs", dir);
	fd = open(line, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	got = read(fd, procs, sizeof(procs) - 1);
	close(fd);
	procs[got > 0 ? got : 0] = '\0';
	for (char *p = procs, *end; !found && *p; p = end) {
		long pid = strtol(p, &end, 10);
		struct dirent *de;
		DIR *fds;
		if (end == p)
			break;
		snprintf(line, sizeof(line), "/proc/%ld/fd", pid);
		if (!(fds = opendir(line)))
			continue;
		while (!found && (de = readdir(fds))) {
			snprintf(link, sizeof(link), "/proc/%ld/fd/%.20s", pid, de->d_name);
			if (read_link(link, target, sizeof(target)))
				continue;
			for (size_t i = 0; i < n_inodes && !found; i++) {
				char want_link[40];
				snprintf(want_link, sizeof(want_link), "socket:[%lu]", inodes[i]);
				found = !strcmp(target, want_link);
			}
		}
		closedir(fds);
	}
	return found;
}

/* Judge an abstract address the way Landlock's scope would: false and a
 * denial when its socket is outside the run. */
static bool abstract_allowed(struct cg_supervisor *sup, const char *name,
			     const struct sockaddr_storage *ss, socklen_t len, pid_t pid)
{
	struct cg_reason why;
	char detail[160];

	if (abstract_in_run(sup, ss, len))
		return true;
	describe_addr(ss, detail, sizeof(detail));
	cg_reason_set(&why, "network", "abstract-socket",
		      "Abstract socket '%s' is not one of this run's", detail + 5);
	cg_supervisor_deny(sup, name, detail, pid, &why);
	return sup->opt->monitor;
}

static struct cg_pending_connect *pending_slot(struct cg_supervisor *sup)
{
	for (int i = 0; i < CG_MAX_PENDING; i++)
		if (!sup->pending[i].in_use)
			return &sup->pending[i];
	return NULL;
}

static void on_connect(struct cg_supervisor *sup)
{
	const struct seccomp_data *d = &sup->req->data;
	pid_t pid = sup->req->pid;
	struct sockaddr_storage ss;
	socklen_t len;
	int rc, sock, flags;
	struct cg_pending_connect *pc;

	rc = read_addr(pid, d->args[1], d->args[2], &ss, &len);
	if (!rc)
		rc = absolutize_unix(sup, pid, &ss, &len);
	if (rc) {
		respond(sup, rc, 0, false);
		return;
	}
	if (!still_valid(sup))
		return;
	if (!judge_addr(sup, CG_EV_CONNECT, "connect", &ss, len, pid)) {
		respond(sup, -EPERM, 0, false);
		return;
	}
	if (is_abstract_unix(&ss, len) && !abstract_allowed(sup, "connect", &ss, len, pid)) {
		respond(sup, -EPERM, 0, false);
		return;
	}
	if (sup->opt->monitor) {
		respond(sup, 0, 0, true);
		return;
	}
	sock = copy_socket(pid, (int)d->args[0]);
	if (sock < 0) {
		respond(sup, sock == -EBADF ? -EBADF : -EPERM, 0, false);
		return;
	}
	/* The copy shares the caller's file status flags: make the connect
	 * non-blocking for us, put the flags back, and if the caller wanted
	 * to block, keep it waiting until the handshake ends. */
	use_pinned(sup, &ss, &len);
	flags = fcntl(sock, F_GETFL);
	fcntl(sock, F_SETFL, flags | O_NONBLOCK);
	rc = connect(sock, (struct sockaddr *)&ss, len) < 0 ? -errno : 0;
	fcntl(sock, F_SETFL, flags);
	if (rc == -EINPROGRESS && !(flags & O_NONBLOCK) && (pc = pending_slot(sup))) {
		pc->in_use = true;
		pc->id = sup->req->id;
		pc->sock_fd = sock;
		return;
	}
	close(sock);
	respond(sup, rc, 0, false);
}

void cg_notify_connect_done(struct cg_supervisor *sup, struct cg_pending_connect *pc)
{
	struct seccomp_notif_resp *resp = sup->resp;
	int so_error = 0;
	socklen_t len = sizeof(so_error);

	if (getsockopt(pc->sock_fd, SOL_SOCKET, SO_ERROR, &so_error, &len) < 0)
		so_error = errno;
	memset(resp, 0, sizeof(*resp));
	resp->id = pc->id;
	resp->error = -so_error;
	seccomp_notify_respond(sup->listener_fd, resp);
	close(pc->sock_fd);
	pc->sock_fd = -1;
	pc->in_use = false;
}

static bool lacks_bind_service(pid_t pid)
{
	char path[64], line[256];
	unsigned long long caps = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return true;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "CapEff:", 7))
			caps = strtoull(line + 7, NULL, 16);
	fclose(f);
	return !(caps & (1ULL << 10));   /* CAP_NET_BIND_SERVICE */
}

static unsigned addr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return 0;
}

static void on_bind(struct cg_supervisor *sup)
{
	const struct seccomp_data *d = &sup->req->data;
	pid_t pid = sup->req->pid;
	struct sockaddr_storage ss;
	socklen_t len;
	int rc, sock;
	unsigned port;

	rc = read_addr(pid, d->args[1], d->args[2], &ss, &len);
	if (rc) {
		respond(sup, rc, 0, false);
		return;
	}
	if (!still_valid(sup))
		return;
	if (!judge_addr(sup, CG_EV_BIND, "bind", &ss, len, pid)) {
		respond(sup, -EPERM, 0, false);
		return;
	}
	/* A Unix socket's file is created by the caller's own bind so that
	 * Landlock judges the path; a swapped address can only become another
	 * Unix address, which Landlock judges the same way. */
	if (ss.ss_family == AF_UNIX || sup->opt->monitor) {
		respond(sup, 0, 0, true);
		return;
	}
	port = addr_port(&ss);
	if (port && port < 1024 && lacks_bind_service(pid)) {
		respond(sup, -EACCES, 0, false);
		return;
	}
	sock = copy_socket(pid, (int)d->args[0]);
	if (sock < 0) {
		respond(sup, sock, 0, false);
		return;
	}
	rc = bind(sock, (struct sockaddr *)&ss, len) < 0 ? -errno : 0;
	close(sock);
	respond(sup, rc, 0, false);
}

static void on_listen(struct cg_supervisor *sup)
{
	pid_t pid = sup->req->pid;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int sock = copy_socket(pid, (int)sup->req->data.args[0]);

	if (sock < 0) {
		respond(sup, sock, 0, false);
		return;
	}
	/* The bound address is kernel state, not the caller's memory: what
	 * we judge here is what listen() will use. */
	memset(&ss, 0, sizeof(ss));
	if (getsockname(sock, (struct sockaddr *)&ss, &len) < 0) {
		close(sock);
		respond(sup, -errno, 0, false);
		return;
	}
	close(sock);
	if (!judge_addr(sup, CG_EV_LISTEN, "listen", &ss, len, pid)) {
		respond(sup, -EPERM, 0, false);
		return;
	}
	respond(sup, 0, 0, true);
}

/* Send one message ourselves: `name` (ours, already judged, may be NULL)
 * and the data gathered from the caller's iovecs. */
enum { MAX_CONTROL_BYTES = 4096, MAX_PASSED_FDS = 253 };

/* The real uid, gid and thread group of pid, from /proc. */
static bool caller_ids(pid_t pid, pid_t *tgid, uid_t *uid, gid_t *gid)
{
	char path[64], line[256];
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (!(f = fopen(path, "re")))
		return false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long v;
		if (sscanf(line, "Tgid: %lu", &v) == 1)
			*tgid = (pid_t)v, found++;
		else if (sscanf(line, "Uid: %lu", &v) == 1)
			*uid = (uid_t)v, found++;
		else if (sscanf(line, "Gid: %lu", &v) == 1)
			*gid = (gid_t)v, found++;
	}
	fclose(f);
	return found == 3;
}

/* The caller's ancillary data, made ours: the fds of SCM_RIGHTS become
 * copies of the caller's (pidfd_getfd), credentials must be the caller's
 * own (the kernel would check them against ours, and we may claim
 * anything), the rest (IP_PKTINFO, UDP_SEGMENT, ...) is copied as is.
 * Copied fds go to fds[] for the caller to close.  0 or -errno. */
static int copy_control(pid_t pid, char *control, size_t len, int *fds, size_t *n_fds)
{
	struct msghdr mh = { .msg_control = control, .msg_controllen = len };
	int pidfd = -1, rc = 0;

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm && !rc; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET)
			continue;
		if (cm->cmsg_type == SCM_RIGHTS) {
			size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			int *slot = (int *)CMSG_DATA(cm);
			if (pidfd < 0 && (pidfd = (int)syscall(SYS_pidfd_open, pid, PIDFD_THREAD)) < 0 &&
			    (pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) < 0)
				return -errno;
			for (size_t i = 0; i < n && !rc; i++) {
				int theirs, ours;
				memcpy(&theirs, slot + i, sizeof(int));
				ours = (int)syscall(SYS_pidfd_getfd, pidfd, theirs, 0);
				if (ours < 0 || *n_fds >= MAX_PASSED_FDS) {
					rc = ours < 0 ? -EBADF : -ETOOMANYREFS;
					if (ours >= 0)
						close(ours);
					break;
				}
				fds[(*n_fds)++] = ours;
				memcpy(slot + i, &ours, sizeof(int));
			}
		} else if (cm->cmsg_type == SCM_CREDENTIALS) {
			struct ucred cred;
			pid_t tgid;
			uid_t uid;
			gid_t gid;
			memcpy(&cred, CMSG_DATA(cm), sizeof(cred));
			if (!caller_ids(pid, &tgid, &uid, &gid) || cred.pid != tgid || cred.uid != uid ||
			    cred.gid != gid)
				rc = -EPERM;
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	return rc;
}

static ssize_t send_copy(struct cg_supervisor *sup, int sock, pid_t pid, const struct msghdr *m,
			 const struct sockaddr_storage *name, socklen_t name_len, int flags)
{
	uint64_t iov_addr = (uint64_t)(uintptr_t)m->msg_iov;
	size_t iovlen = m->msg_iovlen, used = 0, n_fds = 0;
	struct iovec iov[64];
	struct msghdr mh = { 0 };
	struct iovec data;
	char control[MAX_CONTROL_BYTES] __attribute__((aligned(8)));
	int fds[MAX_PASSED_FDS];
	ssize_t rc;

	if (iovlen > 64)
		return -EMSGSIZE;
	if (iovlen && peek(pid, iov_addr, iov, iovlen * sizeof(*iov)) != (ssize_t)(iovlen * sizeof(*iov)))
		return -EFAULT;
	for (size_t i = 0; i < iovlen; i++) {
		size_t len = iov[i].iov_len;
		if (len > CG_SCRATCH_BYTES - used)
			return -EMSGSIZE;
		if (len && peek(pid, (uint64_t)(uintptr_t)iov[i].iov_base, sup->scratch + used, len) !=
				   (ssize_t)len)
			return -EFAULT;
		used += len;
	}
	data.iov_base = sup->scratch;
	data.iov_len = used;
	mh.msg_name = (void *)name;
	mh.msg_namelen = name ? name_len : 0;
	mh.msg_iov = &data;
	mh.msg_iovlen = 1;
	if (m->msg_controllen) {
		if (m->msg_controllen > sizeof(control))
			return -ENOBUFS;
		if (peek(pid, (uint64_t)(uintptr_t)m->msg_control, control, m->msg_controllen) !=
		    (ssize_t)m->msg_controllen)
			return -EFAULT;
		rc = copy_control(pid, control, m->msg_controllen, fds, &n_fds);
		if (!rc) {
			mh.msg_control = control;
			mh.msg_controllen = m->msg_controllen;
		}
	} else {
		rc = 0;
	}
	if (!rc)
		rc = sendmsg(sock, &mh, flags | MSG_DONTWAIT | MSG_NOSIGNAL) < 0 ? -errno : (ssize_t)used;
	for (size_t i = 0; i < n_fds; i++)
		close(fds[i]);
	return rc;
}

static int sock_type(int sock)
{
	int type = 0;
	socklen_t len = sizeof(type);

	getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &len);
	return type;
}

/* One message of sendmsg/sendmmsg on a datagram socket (stream sockets
 * are continued by on_send: their peer was judged at connect).  Returns 1
 * when the call is to be continued (monitor mode); otherwise *result is
 * what sending it ourselves, data, address and ancillary data copied, gave. */
static int send_one(struct cg_supervisor *sup, int sock, pid_t pid, const struct msghdr *m,
		    int flags, const char *name, ssize_t *result)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	bool has_name = m->msg_name && m->msg_namelen;
	int rc;

	if (has_name) {
		rc = read_addr(pid, (uint64_t)(uintptr_t)m->msg_name, m->msg_namelen, &ss, &len);
		if (!rc)
			rc = absolutize_unix(sup, pid, &ss, &len);
		if (rc) {
			*result = rc;
			return 0;
		}
		if (!judge_addr(sup, CG_EV_CONNECT, name, &ss, len, pid)) {
			*result = -EPERM;
			return 0;
		}
	}
	if (has_name && is_abstract_unix(&ss, len) && !abstract_allowed(sup, name, &ss, len, pid)) {
		*result = -EPERM;
		return 0;
	}
	if (sup->opt->monitor)
		return 1;
	if (has_name)
		use_pinned(sup, &ss, &len);
	*result = send_copy(sup, sock, pid, m, has_name ? &ss : NULL, len, flags);
	if (sup->pinned_fd >= 0) {
		close(sup->pinned_fd);   /* sendmmsg: one per message */
		sup->pinned_fd = -1;
	}
	return 0;
}

static void on_send(struct cg_supervisor *sup, int nr)
{
	const struct seccomp_data *d = &sup->req->data;
	pid_t pid = sup->req->pid;
	int sock, type, flags;
	ssize_t result = 0;
	const char *name = nr == SCMP_SYS(sendto) ? "sendto" : nr == SCMP_SYS(sendmsg) ? "sendmsg"
											   : "sendmmsg";

	sock = copy_socket(pid, (int)d->args[0]);
	if (sock < 0) {
		respond(sup, sock, 0, false);
		return;
	}
	type = sock_type(sock);
	flags = nr == SCMP_SYS(sendto) ? (int)d->args[3] : (int)d->args[2];
	if (nr == SCMP_SYS(sendmmsg))
		flags = (int)d->args[3];
	/* A connected stream socket sends to its peer whatever address is
	 * passed; only TCP fast open connects from here. */
	if ((type == SOCK_STREAM || type == SOCK_SEQPACKET) && !(flags & MSG_FASTOPEN)) {
		close(sock);
		respond(sup, 0, 0, true);
		return;
	}
	if (nr == SCMP_SYS(sendto)) {
		struct sockaddr_storage ss;
		socklen_t len;
		size_t data_len = (size_t)d->args[2];
		int rc = read_addr(pid, d->args[4], d->args[5], &ss, &len);
		if (!rc)
			rc = absolutize_unix(sup, pid, &ss, &len);
		if (rc) {
			result = rc;
		} else if (!judge_addr(sup, CG_EV_CONNECT, name, &ss, len, pid)) {
			result = -EPERM;
		} else if (is_abstract_unix(&ss, len) && !abstract_allowed(sup, name, &ss, len, pid)) {
			result = -EPERM;
		} else if (sup->opt->monitor) {
			close(sock);
			respond(sup, 0, 0, true);
			return;
		} else if (data_len > CG_SCRATCH_BYTES) {
			result = -EMSGSIZE;
		} else if (data_len && peek(pid, d->args[1], sup->scratch, data_len) != (ssize_t)data_len) {
			result = -EFAULT;
		} else {
			use_pinned(sup, &ss, &len);
			result = sendto(sock, sup->scratch, data_len, flags | MSG_DONTWAIT | MSG_NOSIGNAL,
					(struct sockaddr *)&ss, len) < 0 ? -errno : (ssize_t)data_len;
		}
	} else if (nr == SCMP_SYS(sendmsg)) {
		struct msghdr m;
		if (peek(pid, d->args[1], &m, sizeof(m)) != sizeof(m)) {
			result = -EFAULT;
		} else if (send_one(sup, sock, pid, &m, flags, name, &result)) {
			close(sock);
			respond(sup, 0, 0, true);
			return;
		}
	} else {
		struct mmsghdr mm;
		unsigned vlen = (unsigned)d->args[2], sent = 0;
		if (vlen > 1024)
			vlen = 1024;
		for (; sent < vlen; sent++) {
			uint64_t at = d->args[1] + sent * sizeof(mm);
			unsigned len;
			if (peek(pid, at, &mm, sizeof(mm)) != sizeof(mm)) {
				result = -EFAULT;
				break;
			}
			if (send_one(sup, sock, pid, &mm.msg_hdr, flags, name, &result)) {
				/* a message we cannot send for the caller: only when it is
				 * the first can the whole call be continued */
				if (sent == 0) {
					close(sock);
					respond(sup, 0, 0, true);
					return;
				}
				break;
			}
			if (result < 0)
				break;
			len = (unsigned)result;
			struct iovec local = { &len, sizeof(len) };
			struct iovec remote = { (void *)(uintptr_t)(at + offsetof(struct mmsghdr, msg_len)),
						sizeof(len) };
			process_vm_writev(pid, &local, 1, &remote, 1, 0);
		}
		if (sent > 0)
			result = sent;
	}
	close(sock);
	respond(sup, result < 0 ? (int)result : 0, result < 0 ? 0 : result, false);
}

/* ---------- signals (no Landlock signal scope, or monitor mode) ---------- */

/* The pid, parent and process group of pid from /proc; false when gone. */
static bool proc_stat(pid_t pid, pid_t *ppid, pid_t *pgrp)
{
	char path[64], buf[512], *paren;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	paren = strrchr(buf, ')');   /* the command name may hold anything */
	return paren && sscanf(paren + 1, " %*c %d %d", ppid, pgrp) == 2;
}

/* A process of the run: a descendant of the supervisor (the orphans of the
 * tree are ours too, as child subreaper), not the supervisor itself.  The
 * pid is a register argument, not memory: no race but pid reuse. */
static bool in_run(struct cg_supervisor *sup, pid_t pid)
{
	pid_t ppid, pgrp;

	if (pid <= 1 || pid == sup->self || (sup->cgroup && pid == sup->cgroup->watchdog_pid))
		return false;
	for (int depth = 0; depth < 256 && proc_stat(pid, &ppid, &pgrp); depth++) {
		if (ppid == sup->self)
			return true;
		if (ppid <= 1)
			return false;
		pid = ppid;
	}
	return false;
}

/* The process a pidfd of the caller refers to, from its fdinfo. */
static pid_t pidfd_target(pid_t caller, int fd)
{
	char path[64], line[128];
	pid_t pid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", caller, fd);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Pid: %d", &pid) == 1)
			break;
	fclose(f);
	return pid;
}

static void on_signal(struct cg_supervisor *sup, int nr)
{
	const struct seccomp_data *d = &sup->req->data;
	pid_t caller = sup->req->pid, target = (pid_t)d->args[0], ppid, pgrp;
	const char *name = "kill";
	bool allowed;
	struct cg_reason why;
	char detail[64];

	if (nr == SCMP_SYS(kill)) {
		if (target == 0) {
			/* the caller's process group: a member may have joined a
			 * group of the session outside the run */
			allowed = proc_stat(caller, &ppid, &pgrp) && in_run(sup, pgrp);
			target = -pgrp;
		} else if (target == -1) {
			allowed = false;
		} else {
			allowed = in_run(sup, target < 0 ? -target : target);
		}
	} else if (nr == SCMP_SYS(pidfd_send_signal)) {
		name = "pidfd_send_signal";
		target = pidfd_target(caller, (int)d->args[0]);
		allowed = in_run(sup, target);
	} else {
		name = nr == SCMP_SYS(tkill) ? "tkill" : nr == SCMP_SYS(tgkill) ? "tgkill"
							 : "rt_sigqueueinfo";
		/* tkill names a thread: its process is the thread group */
		allowed = in_run(sup, target);
	}
	if (allowed) {
		respond(sup, 0, 0, true);
		return;
	}
	snprintf(detail, sizeof(detail), "%s %d", target < 0 ? "group" : "pid",
		 target < 0 ? -target : target);
	cg_reason_set(&why, "process-control", "signal-outside",
		      "Signal to a process outside the run (%s)", detail);
	cg_supervisor_deny(sup, name, detail, caller, &why);
	if (sup->opt->monitor)
		respond(sup, 0, 0, true);
	else
		respond(sup, -EPERM, 0, false);
}

/* ---------- files (no Landlock, or monitor mode) ---------- */

struct file_call {
	int nr;
	const char *name;
	int dirfd_arg;     /* -1: AT_FDCWD */
	int path_arg;
	int flags_arg;     /* open flags, -1: none */
	unsigned access;   /* when flags_arg < 0 */
	int path2_dirfd_arg, path2_arg;   /* rename/link targets, -1: none */
};

static unsigned open_access(uint64_t flags)
{
	unsigned access = CG_ACCESS_READ;

	if ((flags & O_ACCMODE) != O_RDONLY || flags & (O_CREAT | O_TRUNC))
		access = (flags & O_ACCMODE) == O_WRONLY ? CG_ACCESS_WRITE
							   : CG_ACCESS_READ | CG_ACCESS_WRITE;
	return access;
}

static bool judge_path(struct cg_supervisor *sup, const char *name, pid_t pid, int dirfd,
		       uint64_t addr, unsigned access, int *error)
{
	char raw[PATH_MAX], path[PATH_MAX];
	struct cg_event ev = { .kind = CG_EV_OPEN };
	int rc = peek_string(pid, addr, raw, sizeof(raw));

	if (!rc)
		rc = target_path(pid, dirfd, raw, path, sizeof(path));
	if (rc) {
		*error = rc;
		return false;
	}
	ev.u.open.path = path;
	ev.u.open.access = access;
	ev.u.open.pid = pid;
	*error = -EACCES;
	return judge(sup, &ev, name, path, pid);
}

static void on_file(struct cg_supervisor *sup, const struct file_call *fc)
{
	const struct seccomp_data *d = &sup->req->data;
	pid_t pid = sup->req->pid;
	unsigned access = fc->access;
	int error = 0;

	if (fc->flags_arg >= 0) {
		uint64_t flags = d->args[fc->flags_arg];
		if (fc->nr == SCMP_SYS(openat2)) {
			uint64_t how_flags = 0;
			if (peek(pid, d->args[2], &how_flags, 8) != 8) {
				respond(sup, -EFAULT, 0, false);
				return;
			}
			flags = how_flags;
		}
		access = open_access(flags);
	}
	if (!judge_path(sup, fc->name, pid, fc->dirfd_arg < 0 ? AT_FDCWD : (int)d->args[fc->dirfd_arg],
			d->args[fc->path_arg], access, &error) ||
	    (fc->path2_arg >= 0 &&
	     !judge_path(sup, fc->name, pid,
			 fc->path2_dirfd_arg < 0 ? AT_FDCWD : (int)d->args[fc->path2_dirfd_arg],
			 d->args[fc->path2_arg], CG_ACCESS_WRITE, &error))) {
		respond(sup, error, 0, false);
		return;
	}
	if (!still_valid(sup))
		return;
	respond(sup, 0, 0, true);
}

/* ---------- metadata (always: Landlock has no right for it) ---------- */

struct attr_call {
	int nr;
	const char *name;
	int dirfd_arg;   /* AT_FDCWD when -1; -2: the call takes only an fd, in arg 0 */
	int path_arg;    /* -1: none */
};

static const struct attr_call attr_calls[] = {
	{ SCMP_SYS(chmod), "chmod", -1, 0 },
	{ SCMP_SYS(fchmod), "fchmod", -2, -1 },
	{ SCMP_SYS(fchmodat), "fchmodat", 0, 1 },
	{ 452, "fchmodat2", 0, 1 },
	{ SCMP_SYS(chown), "chown", -1, 0 },
	{ SCMP_SYS(fchown), "fchown", -2, -1 },
	{ SCMP_SYS(lchown), "lchown", -1, 0 },
	{ SCMP_SYS(fchownat), "fchownat", 0, 1 },
	{ SCMP_SYS(utime), "utime", -1, 0 },
	{ SCMP_SYS(utimes), "utimes", -1, 0 },
	{ SCMP_SYS(utimensat), "utimensat", 0, 1 },
	{ SCMP_SYS(futimesat), "futimesat", 0, 1 },
	{ SCMP_SYS(setxattr), "setxattr", -1, 0 },
	{ SCMP_SYS(lsetxattr), "lsetxattr", -1, 0 },
	{ SCMP_SYS(fsetxattr), "fsetxattr", -2, -1 },
	{ SCMP_SYS(removexattr), "removexattr", -1, 0 },
	{ SCMP_SYS(lremovexattr), "lremovexattr", -1, 0 },
	{ SCMP_SYS(fremovexattr), "fremovexattr", -2, -1 },
	{ 463, "setxattrat", 0, 1 },
	{ 466, "removexattrat", 0, 1 },
};

/* The file whose metadata the call changes, judged as a write.  A path is
 * continued after the check and may be swapped for a symlink meanwhile;
 * an fd names its file for good. */
static void on_attr(struct cg_supervisor *sup, const struct attr_call *ac)
{
	const struct seccomp_data *d = &sup->req->data;
	pid_t pid = sup->req->pid;
	char raw[PATH_MAX] = "", path[PATH_MAX];
	struct cg_event ev = { .kind = CG_EV_OPEN };
	int dirfd = ac->dirfd_arg == -1 ? AT_FDCWD : (int)d->args[ac->dirfd_arg < 0 ? 0 : ac->dirfd_arg];
	int rc = 0;

	/* utimensat(fd, NULL, ...) and AT_EMPTY_PATH: the fd itself */
	if (ac->path_arg >= 0 && d->args[ac->path_arg])
		rc = peek_string(pid, d->args[ac->path_arg], raw, sizeof(raw));
	if (!rc && !raw[0] && dirfd == AT_FDCWD && ac->path_arg >= 0 && d->args[ac->path_arg])
		rc = -ENOENT;
	if (!rc)
		rc = target_path(pid, dirfd, raw, path, sizeof(path));
	if (rc) {
		respond(sup, rc == -EBADF ? -EBADF : rc, 0, false);
		return;
	}
	if (!still_valid(sup))
		return;
	ev.u.open.path = path;
	ev.u.open.access = CG_ACCESS_WRITE;
	ev.u.open.pid = pid;
	if (!judge(sup, &ev, ac->name, path, pid)) {
		respond(sup, -EPERM, 0, false);
		return;
	}
	respond(sup, 0, 0, true);
}

static const struct attr_call *find_attr_call(int nr)
{
	for (size_t i = 0; i < sizeof(attr_calls) / sizeof(attr_calls[0]); i++)
		if (attr_calls[i].nr == nr)
			return &attr_calls[i];
	return NULL;
}

static const struct file_call *find_file_call(int nr)
{
	static const struct file_call calls[] = {
		{ SCMP_SYS(open), "open", -1, 0, 1, 0, -1, -1 },
		{ SCMP_SYS(openat), "openat", 0, 1, 2, 0, -1, -1 },
		{ SCMP_SYS(openat2), "openat2", 0, 1, 2, 0, -1, -1 },
		{ SCMP_SYS(creat), "creat", -1, 0, -1, CG_ACCESS_WRITE, -1, -1 },
		{ SCMP_SYS(rename), "rename", -1, 0, -1, CG_ACCESS_WRITE, -1, 1 },
		{ SCMP_SYS(renameat), "renameat", 0, 1, -1, CG_ACCESS_WRITE, 2, 3 },
		{ SCMP_SYS(renameat2), "renameat2", 0, 1, -1, CG_ACCESS_WRITE, 2, 3 },
		{ SCMP_SYS(link), "link", -1, 0, -1, CG_ACCESS_READ, -1, 1 },
		{ SCMP_SYS(linkat), "linkat", 0, 1, -1, CG_ACCESS_READ, 2, 3 },
		{ SCMP_SYS(symlink), "symlink", -1, 1, -1, CG_ACCESS_WRITE, -1, -1 },
		{ SCMP_SYS(symlinkat), "symlinkat", 1, 2, -1, CG_ACCESS_WRITE, -1, -1 },
		{ SCMP_SYS(unlink), "unlink", -1, 0, -1, CG_ACCESS_WRITE, -1, -1 },
		{ SCMP_SYS(unlinkat), "unlinkat", 0, 1, -1, CG_ACCESS_WRITE, -1, -1 },
		{ SCMP_SYS(mkdir), "mkdir", -1, 0, -1, CG_ACCESS_WRITE, -1, -1 },
		{ SCMP_SYS(mkdirat), "mkdirat", 0, 1, -1, CG_ACCESS_WRITE, -1, -1 },
		{ SCMP_SYS(rmdir), "rmdir", -1, 0, -1, CG_ACCESS_WRITE, -1, -1 },
		{ SCMP_SYS(truncate), "truncate", -1, 0, -1, CG_ACCESS_WRITE, -1, -1 },
		{ SCMP_SYS(mknod), "mknod", -1, 0, -1, CG_ACCESS_WRITE, -1, -1 },
		{ SCMP_SYS(mknodat), "mknodat", 0, 1, -1, CG_ACCESS_WRITE, -1, -1 },
	};

	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		if (calls[i].nr == nr)
			return &calls[i];
	return NULL;
}

void cg_notify_handle(struct cg_supervisor *sup)
{
	const struct file_call *fc;
	const struct attr_call *ac;
	int nr;

	memset(sup->req, 0, sizeof(*sup->req));
	if (seccomp_notify_receive(sup->listener_fd, sup->req)) {
		/* ENOENT: the caller went away before we looked. */
		return;
	}
	nr = sup->req->data.nr;
	if (nr == SCMP_SYS(execve))
		on_exec(sup, false);
	else if (nr == SCMP_SYS(execveat))
		on_exec(sup, true);
	else if (nr == SCMP_SYS(connect))
		on_connect(sup);
	else if (nr == SCMP_SYS(bind))
		on_bind(sup);
	else if (nr == SCMP_SYS(listen))
		on_listen(sup);
	else if (nr == SCMP_SYS(sendto) || nr == SCMP_SYS(sendmsg) || nr == SCMP_SYS(sendmmsg))
		on_send(sup, nr);
	else if (nr == SCMP_SYS(kill) || nr == SCMP_SYS(tkill) || nr == SCMP_SYS(tgkill) ||
		 nr == SCMP_SYS(rt_sigqueueinfo) || nr == SCMP_SYS(rt_tgsigqueueinfo) ||
		 nr == SCMP_SYS(pidfd_send_signal))
		on_signal(sup, nr);
	else if ((fc = find_file_call(nr)))
		on_file(sup, fc);
	else if ((ac = find_attr_call(nr)))
		on_attr(sup, ac);
	else
		respond(sup, -ENOSYS, 0, false);   /* a call we never asked for: fail closed */
	if (sup->pinned_fd >= 0) {
		close(sup->pinned_fd);
		sup->pinned_fd = -1;
	}
}
