/* notify-net.c - sockets: connect, bind, listen and the sends with an
 * address, performed by the supervisor on a copy of the caller's socket
 * with its own copy of the address and data. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

#include "guard/supervisor-internal.h"

/* ---------- network ---------- */

static int read_addr(pid_t pid, uint64_t addr, uint64_t len, struct sockaddr_storage *out,
		     socklen_t *out_len)
{
	if (!addr)
		return -EFAULT;
	if (len > sizeof(*out) || len < sizeof(sa_family_t))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (cg_peek(pid, addr, out, len) != (ssize_t)len)
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
	if (cg_target_path(pid, AT_FDCWD, name, path, sizeof(path)))
		return -EBADF;
	fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		close(fd);
		return S_ISLNK(st.st_mode) ? -ELOOP : -ECONNREFUSED;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if (cg_read_link(link, path, sizeof(path))) {
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
	return cg_notify_judge(sup, &ev, name, detail, pid);
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
	if (cg_read_text(line, procs, sizeof(procs)) < 0)
		return false;
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
			if (cg_read_link(link, target, sizeof(target)))
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

void cg_notify_connect(struct cg_supervisor *sup)
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
		cg_notify_respond(sup, rc, 0, false);
		return;
	}
	if (!cg_notify_valid(sup))
		return;
	if (!judge_addr(sup, CG_EV_CONNECT, "connect", &ss, len, pid)) {
		cg_notify_respond(sup, -EPERM, 0, false);
		return;
	}
	if (is_abstract_unix(&ss, len) && !abstract_allowed(sup, "connect", &ss, len, pid)) {
		cg_notify_respond(sup, -EPERM, 0, false);
		return;
	}
	if (sup->opt->monitor) {
		cg_notify_respond(sup, 0, 0, true);
		return;
	}
	sock = cg_copy_target_fd(pid, (int)d->args[0]);
	if (sock < 0) {
		cg_notify_respond(sup, sock == -EBADF ? -EBADF : -EPERM, 0, false);
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
	cg_notify_respond(sup, rc, 0, false);
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

void cg_notify_bind(struct cg_supervisor *sup)
{
	const struct seccomp_data *d = &sup->req->data;
	pid_t pid = sup->req->pid;
	struct sockaddr_storage ss;
	socklen_t len;
	int rc, sock;
	unsigned port;

	rc = read_addr(pid, d->args[1], d->args[2], &ss, &len);
	if (rc) {
		cg_notify_respond(sup, rc, 0, false);
		return;
	}
	if (!cg_notify_valid(sup))
		return;
	if (!judge_addr(sup, CG_EV_BIND, "bind", &ss, len, pid)) {
		cg_notify_respond(sup, -EPERM, 0, false);
		return;
	}
	/* A Unix socket's file is created by the caller's own bind so that
	 * Landlock judges the path; a swapped address can only become another
	 * Unix address, which Landlock judges the same way. */
	if (ss.ss_family == AF_UNIX || sup->opt->monitor) {
		cg_notify_respond(sup, 0, 0, true);
		return;
	}
	port = addr_port(&ss);
	if (port && port < 1024 && lacks_bind_service(pid)) {
		cg_notify_respond(sup, -EACCES, 0, false);
		return;
	}
	sock = cg_copy_target_fd(pid, (int)d->args[0]);
	if (sock < 0) {
		cg_notify_respond(sup, sock, 0, false);
		return;
	}
	rc = bind(sock, (struct sockaddr *)&ss, len) < 0 ? -errno : 0;
	close(sock);
	cg_notify_respond(sup, rc, 0, false);
}

void cg_notify_listen(struct cg_supervisor *sup)
{
	pid_t pid = sup->req->pid;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int sock = cg_copy_target_fd(pid, (int)sup->req->data.args[0]);

	if (sock < 0) {
		cg_notify_respond(sup, sock, 0, false);
		return;
	}
	/* The bound address is kernel state, not the caller's memory: what
	 * we judge here is what listen() will use. */
	memset(&ss, 0, sizeof(ss));
	if (getsockname(sock, (struct sockaddr *)&ss, &len) < 0) {
		close(sock);
		cg_notify_respond(sup, -errno, 0, false);
		return;
	}
	close(sock);
	if (!judge_addr(sup, CG_EV_LISTEN, "listen", &ss, len, pid)) {
		cg_notify_respond(sup, -EPERM, 0, false);
		return;
	}
	cg_notify_respond(sup, 0, 0, true);
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
			if (pidfd < 0 && (pidfd = cg_target_pidfd(pid)) < 0)
				return pidfd;
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
	if (iovlen && cg_peek(pid, iov_addr, iov, iovlen * sizeof(*iov)) != (ssize_t)(iovlen * sizeof(*iov)))
		return -EFAULT;
	for (size_t i = 0; i < iovlen; i++) {
		size_t len = iov[i].iov_len;
		if (len > CG_SCRATCH_BYTES - used)
			return -EMSGSIZE;
		if (len && cg_peek(pid, (uint64_t)(uintptr_t)iov[i].iov_base, sup->scratch + used, len) !=
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
		if (cg_peek(pid, (uint64_t)(uintptr_t)m->msg_control, control, m->msg_controllen) !=
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

void cg_notify_send(struct cg_supervisor *sup, int nr)
{
	const struct seccomp_data *d = &sup->req->data;
	pid_t pid = sup->req->pid;
	int sock, type, flags;
	ssize_t result = 0;
	const char *name = nr == SCMP_SYS(sendto) ? "sendto" : nr == SCMP_SYS(sendmsg) ? "sendmsg"
											   : "sendmmsg";

	sock = cg_copy_target_fd(pid, (int)d->args[0]);
	if (sock < 0) {
		cg_notify_respond(sup, sock, 0, false);
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
		cg_notify_respond(sup, 0, 0, true);
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
			cg_notify_respond(sup, 0, 0, true);
			return;
		} else if (data_len > CG_SCRATCH_BYTES) {
			result = -EMSGSIZE;
		} else if (data_len && cg_peek(pid, d->args[1], sup->scratch, data_len) != (ssize_t)data_len) {
			result = -EFAULT;
		} else {
			use_pinned(sup, &ss, &len);
			result = sendto(sock, sup->scratch, data_len, flags | MSG_DONTWAIT | MSG_NOSIGNAL,
					(struct sockaddr *)&ss, len) < 0 ? -errno : (ssize_t)data_len;
		}
	} else if (nr == SCMP_SYS(sendmsg)) {
		struct msghdr m;
		if (cg_peek(pid, d->args[1], &m, sizeof(m)) != sizeof(m)) {
			result = -EFAULT;
		} else if (send_one(sup, sock, pid, &m, flags, name, &result)) {
			close(sock);
			cg_notify_respond(sup, 0, 0, true);
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
			if (cg_peek(pid, at, &mm, sizeof(mm)) != sizeof(mm)) {
				result = -EFAULT;
				break;
			}
			if (send_one(sup, sock, pid, &mm.msg_hdr, flags, name, &result)) {
				/* a message we cannot send for the caller: only when it is
				 * the first can the whole call be continued */
				if (sent == 0) {
					close(sock);
					cg_notify_respond(sup, 0, 0, true);
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
	cg_notify_respond(sup, result < 0 ? (int)result : 0, result < 0 ? 0 : result, false);
}

