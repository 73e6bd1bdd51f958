/* notify.c - receiving the seccomp notifications of a run and answering
 * them: reading the caller's memory and paths, recording denials, and
 * handing each call to the file that judges its kind (notify-proc.c:
 * exec and signals; notify-net.c: sockets; notify-files.c: paths and
 * metadata).
 *
 * The target can rewrite its memory after we read it and before the
 * kernel does, so nothing allowed is continued on memory the target
 * still controls where it matters:
 *   - exec: allowed at the notification, then re-checked when the new
 *     image is in place (PTRACE_EVENT_EXEC, before its first
 *     instruction; its memory is its own again) and killed if blocked;
 *   - connect, bind and sends with an address: performed by the
 *     supervisor on a pidfd_getfd() copy of the socket with its own copy
 *     of the address and data, the result returned to the caller;
 *   - paths: Landlock's, in the kernel; the file calls come here only on
 *     kernels without it (and in monitor mode), and are then racy, as
 *     metadata changes (chmod, chown, utime, xattrs) always are. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "guard/supervisor-internal.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL   /* Linux 6.9 */
#endif

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
	cg_identity_init(&sup->identity, sup->opt->ctx.policy);
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
	cg_identity_free(&sup->identity);
}

/* ---------- reading the target ---------- */

ssize_t cg_peek(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len };
	struct iovec remote = { (void *)(uintptr_t)addr, len };

	return process_vm_readv(pid, &local, 1, &remote, 1, 0);
}

/* Copy the NUL-terminated string at addr; -EFAULT, -ENAMETOOLONG. */
int cg_peek_string(pid_t pid, uint64_t addr, char *buf, size_t size)
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
		n = cg_peek(pid, addr + got, buf + got, want);
		if (n <= 0)
			return -EFAULT;
		if (memchr(buf + got, '\0', (size_t)n))
			return 0;
		got += (size_t)n;
	}
	return -ENAMETOOLONG;
}

bool cg_notify_valid(struct cg_supervisor *sup)
{
	return seccomp_notify_id_valid(sup->listener_fd, sup->req->id) == 0;
}

ssize_t cg_read_text(const char *path, char *buf, size_t size)
{
	ssize_t n, total = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while ((size_t)total < size - 1 && (n = read(fd, buf + total, size - 1 - total)) > 0)
		total += n;
	close(fd);
	buf[total] = '\0';
	return total;
}

int cg_target_pidfd(pid_t tid)
{
	int pidfd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);

	if (pidfd < 0)   /* before Linux 6.9: the thread-group leader's table */
		pidfd = (int)syscall(SYS_pidfd_open, tid, 0);
	return pidfd < 0 ? -errno : pidfd;
}

int cg_copy_target_fd(pid_t tid, int fd)
{
	int pidfd = cg_target_pidfd(tid), copy;

	if (pidfd < 0)
		return pidfd;
	copy = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	copy = copy < 0 ? -errno : copy;
	close(pidfd);
	return copy;
}

int cg_read_link(const char *path, char *out, size_t size)
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
int cg_target_path(pid_t pid, int dirfd, const char *path, char *out, size_t size)
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
		if (cg_read_link(link, base, sizeof(base)))
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

void cg_notify_respond(struct cg_supervisor *sup, int error, int64_t val, bool is_continue)
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

	/* A run can make denials (or forge shim reports) by the hundred
	 * thousand: past the cap they are counted, not kept, so that the
	 * supervisor's memory, the result and the audit log stay bounded. */
	if (res->n_denials >= CG_MAX_DENIALS) {
		if (res->denials_dropped++ == 0 && should_print) {
			n = snprintf(line, sizeof(line), "guard: more than %d denials: the rest are counted, "
				     "not recorded\n", CG_MAX_DENIALS);
			if (write(STDERR_FILENO, line, (size_t)n) < 0)
				return;
		}
		return;
	}
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
bool cg_notify_judge(struct cg_supervisor *sup, const struct cg_event *ev, const char *syscall_name,
		  const char *detail, pid_t pid)
{
	struct cg_reason why;

	memset(&why, 0, sizeof(why));
	if (cg_decide(&sup->opt->ctx, ev, &why) == CG_ALLOW)
		return true;
	cg_supervisor_deny(sup, syscall_name, detail, pid, &why);
	return sup->opt->monitor;
}


void cg_notify_handle(struct cg_supervisor *sup)
{
	int nr;

	memset(sup->req, 0, sizeof(*sup->req));
	if (seccomp_notify_receive(sup->listener_fd, sup->req)) {
		/* ENOENT: the caller went away before we looked. */
		return;
	}
	nr = sup->req->data.nr;
	if (nr == SCMP_SYS(execve))
		cg_notify_exec(sup, false);
	else if (nr == SCMP_SYS(execveat))
		cg_notify_exec(sup, true);
	else if (nr == SCMP_SYS(connect))
		cg_notify_connect(sup);
	else if (nr == SCMP_SYS(bind))
		cg_notify_bind(sup);
	else if (nr == SCMP_SYS(listen))
		cg_notify_listen(sup);
	else if (nr == SCMP_SYS(sendto) || nr == SCMP_SYS(sendmsg) || nr == SCMP_SYS(sendmmsg))
		cg_notify_send(sup, nr);
	else if (nr == SCMP_SYS(kill) || nr == SCMP_SYS(tkill) || nr == SCMP_SYS(tgkill) ||
		 nr == SCMP_SYS(rt_sigqueueinfo) || nr == SCMP_SYS(rt_tgsigqueueinfo) ||
		 nr == SCMP_SYS(pidfd_send_signal))
		cg_notify_signal(sup, nr);
	else if (!cg_notify_file(sup, nr))
		cg_notify_respond(sup, -ENOSYS, 0, false);   /* a call we never asked for: fail closed */
	if (sup->pinned_fd >= 0) {
		close(sup->pinned_fd);
		sup->pinned_fd = -1;
	}
}
