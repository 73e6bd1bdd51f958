/* notify-files.c - paths and metadata: the file calls where Landlock
 * cannot carry the path rules (no Landlock, monitor mode), and the
 * metadata changes Landlock has no right for (chmod, chown, utime,
 * xattrs), judged as writes. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <linux/limits.h>
#include <utime.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guard/supervisor-internal.h"

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
	int rc = cg_peek_string(pid, addr, raw, sizeof(raw));

	if (!rc)
		rc = cg_target_path(pid, dirfd, raw, path, sizeof(path));
	if (rc) {
		*error = rc;
		return false;
	}
	ev.u.open.path = path;
	ev.u.open.access = access;
	ev.u.open.pid = pid;
	*error = -EACCES;
	return cg_notify_judge(sup, &ev, name, path, pid);
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
			if (cg_peek(pid, d->args[2], &how_flags, 8) != 8) {
				cg_notify_respond(sup, -EFAULT, 0, false);
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
		cg_notify_respond(sup, error, 0, false);
		return;
	}
	if (!cg_notify_valid(sup))
		return;
	cg_notify_respond(sup, 0, 0, true);
}

/* ---------- metadata (always: Landlock has no right for it) ---------- */

enum attr_kind { ATTR_MODE, ATTR_OWNER, ATTR_TIMES, ATTR_TIMEVAL, ATTR_UTIMBUF, ATTR_SETXATTR,
		 ATTR_REMOVEXATTR, ATTR_UNSUPPORTED };

struct attr_call {
	int nr;
	const char *name;
	int dirfd_arg;   /* AT_FDCWD when -1; -2: the call takes only an fd, in arg 0 */
	int path_arg;    /* -1: none */
	enum attr_kind kind;   /* the change's own arguments follow the path (or the fd) */
	int flags_arg;   /* AT_SYMLINK_NOFOLLOW lives here, -1: none */
	bool is_nofollow;/* the l* forms */
};

static const struct attr_call attr_calls[] = {
	{ SCMP_SYS(chmod), "chmod", -1, 0, ATTR_MODE, -1, false },
	{ SCMP_SYS(fchmod), "fchmod", -2, -1, ATTR_MODE, -1, false },
	{ SCMP_SYS(fchmodat), "fchmodat", 0, 1, ATTR_MODE, -1, false },
	{ 452, "fchmodat2", 0, 1, ATTR_MODE, 3, false },
	{ SCMP_SYS(chown), "chown", -1, 0, ATTR_OWNER, -1, false },
	{ SCMP_SYS(fchown), "fchown", -2, -1, ATTR_OWNER, -1, false },
	{ SCMP_SYS(lchown), "lchown", -1, 0, ATTR_OWNER, -1, true },
	{ SCMP_SYS(fchownat), "fchownat", 0, 1, ATTR_OWNER, 4, false },
	{ SCMP_SYS(utime), "utime", -1, 0, ATTR_UTIMBUF, -1, false },
	{ SCMP_SYS(utimes), "utimes", -1, 0, ATTR_TIMEVAL, -1, false },
	{ SCMP_SYS(utimensat), "utimensat", 0, 1, ATTR_TIMES, 3, false },
	{ SCMP_SYS(futimesat), "futimesat", 0, 1, ATTR_TIMEVAL, -1, false },
	{ SCMP_SYS(setxattr), "setxattr", -1, 0, ATTR_SETXATTR, -1, false },
	{ SCMP_SYS(lsetxattr), "lsetxattr", -1, 0, ATTR_SETXATTR, -1, true },
	{ SCMP_SYS(fsetxattr), "fsetxattr", -2, -1, ATTR_SETXATTR, -1, false },
	{ SCMP_SYS(removexattr), "removexattr", -1, 0, ATTR_REMOVEXATTR, -1, false },
	{ SCMP_SYS(lremovexattr), "lremovexattr", -1, 0, ATTR_REMOVEXATTR, -1, true },
	{ SCMP_SYS(fremovexattr), "fremovexattr", -2, -1, ATTR_REMOVEXATTR, -1, false },
	{ 463, "setxattrat", 0, 1, ATTR_UNSUPPORTED, -1, false },
	{ 466, "removexattrat", 0, 1, ATTR_UNSUPPORTED, -1, false },
};

/* Pin the file the call names, as the target would reach it: through
 * its root, its cwd or its dirfd.  O_PATH, so nothing is opened for real;
 * the l* forms and AT_SYMLINK_NOFOLLOW keep a final symlink itself. */
static int pin_file(pid_t pid, int dirfd, const char *raw, bool is_nofollow)
{
	char path[PATH_MAX * 2];

	if (!raw[0])
		return dirfd == AT_FDCWD ? -ENOENT : cg_copy_target_fd(pid, dirfd);
	if (raw[0] == '/')
		snprintf(path, sizeof(path), "/proc/%d/root%s", pid, raw);
	else if (dirfd == AT_FDCWD)
		snprintf(path, sizeof(path), "/proc/%d/cwd/%s", pid, raw);
	else
		snprintf(path, sizeof(path), "/proc/%d/fd/%d/%s", pid, dirfd, raw);
	int fd = open(path, O_PATH | O_CLOEXEC | (is_nofollow ? O_NOFOLLOW : 0));
	return fd < 0 ? -errno : fd;
}

static int peek_times(pid_t pid, uint64_t addr, bool is_timeval, struct timespec ts[2])
{
	if (!is_timeval)
		return cg_peek(pid, addr, ts, 2 * sizeof(*ts)) == 2 * sizeof(*ts) ? 0 : -EFAULT;
	struct timeval tv[2];
	if (cg_peek(pid, addr, tv, sizeof(tv)) != sizeof(tv))
		return -EFAULT;
	for (int i = 0; i < 2; i++)
		ts[i] = (struct timespec){ tv[i].tv_sec, tv[i].tv_usec * 1000 };
	return 0;
}

/* Perform the change on the pinned file; 0 or -errno, as the call would
 * have returned it. */
static int apply_attr(pid_t pid, const struct attr_call *ac, const __u64 *args, int fd)
{
	char proc[64], name[XATTR_NAME_MAX + 1];
	struct timespec ts[2], *times = NULL;
	int a = ac->path_arg < 0 ? 0 : ac->path_arg;   /* the argument before the change's own */
	int rc;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	switch (ac->kind) {
	case ATTR_MODE:
		rc = fchmodat(AT_FDCWD, proc, (mode_t)args[a + 1], 0);
		break;
	case ATTR_OWNER:
		rc = fchownat(fd, "", (uid_t)args[a + 1], (gid_t)args[a + 2], AT_EMPTY_PATH);
		break;
	case ATTR_TIMES:
	case ATTR_TIMEVAL:
	case ATTR_UTIMBUF:
		if (args[a + 1]) {
			if (ac->kind == ATTR_UTIMBUF) {
				struct utimbuf ub;
				if (cg_peek(pid, args[a + 1], &ub, sizeof(ub)) != sizeof(ub))
					return -EFAULT;
				ts[0] = (struct timespec){ ub.actime, 0 };
				ts[1] = (struct timespec){ ub.modtime, 0 };
			} else if ((rc = peek_times(pid, args[a + 1], ac->kind == ATTR_TIMEVAL, ts)) < 0) {
				return rc;
			}
			times = ts;
		}
		rc = utimensat(AT_FDCWD, proc, times, 0);
		break;
	case ATTR_SETXATTR:
	case ATTR_REMOVEXATTR: {
		if (cg_peek_string(pid, args[a + 1], name, sizeof(name)))
			return -EFAULT;
		if (ac->kind == ATTR_REMOVEXATTR) {
			rc = removexattr(proc, name);
			break;
		}
		size_t size = (size_t)args[a + 3];
		if (size > XATTR_SIZE_MAX)
			return -E2BIG;
		char *value = malloc(size ? size : 1);
		if (!value)
			return -ENOMEM;
		rc = size && cg_peek(pid, args[a + 2], value, size) != (ssize_t)size ? (errno = EFAULT, -1)
			: setxattr(proc, name, value, size, (int)args[a + 4]);
		free(value);
		break;
	}
	default:
		return -ENOSYS;
	}
	return rc < 0 ? -errno : 0;
}

/* Metadata changes (Landlock has no right for them), judged as writes.
 * When the command runs as root the supervisor performs the change itself
 * on a file it pinned and judged: a path the target rewrites after our
 * read, or a symlink swapped in, cannot redirect it to /etc.  A command
 * under --user (not root) is continued after the check: file permissions
 * already keep it off what it does not own. */
static void on_attr(struct cg_supervisor *sup, const struct attr_call *ac)
{
	const struct seccomp_data *d = &sup->req->data;
	pid_t pid = sup->req->pid;
	char raw[PATH_MAX] = "", path[PATH_MAX], link[64];
	struct cg_event ev = { .kind = CG_EV_OPEN };
	int dirfd = ac->dirfd_arg == -1 ? AT_FDCWD : (int)d->args[ac->dirfd_arg < 0 ? 0 : ac->dirfd_arg];
	bool is_root = !(sup->opt->set_user && sup->opt->uid != 0);
	bool is_nofollow = ac->is_nofollow ||
			   (ac->flags_arg >= 0 && (d->args[ac->flags_arg] & AT_SYMLINK_NOFOLLOW));
	int rc = 0, fd = -1;

	if (ac->kind == ATTR_UNSUPPORTED) {
		/* setxattrat/removexattrat: struct arguments we do not emulate;
		 * libc does not use them, and ENOSYS sends callers to setxattr. */
		cg_notify_respond(sup, -ENOSYS, 0, false);
		return;
	}
	/* utimensat(fd, NULL, ...) and AT_EMPTY_PATH: the fd itself */
	if (ac->path_arg >= 0 && d->args[ac->path_arg])
		rc = cg_peek_string(pid, d->args[ac->path_arg], raw, sizeof(raw));
	if (!rc && !raw[0] && dirfd == AT_FDCWD && ac->path_arg >= 0 && d->args[ac->path_arg])
		rc = -ENOENT;
	if (!rc && is_root)
		rc = fd = pin_file(pid, ac->dirfd_arg == -2 ? (int)d->args[0] : dirfd, raw, is_nofollow);
	if (!rc || fd >= 0) {
		if (fd >= 0) {
			snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
			rc = cg_read_link(link, path, sizeof(path)) ? -EBADF : 0;
		} else {
			rc = cg_target_path(pid, dirfd, raw, path, sizeof(path));
		}
	}
	if (rc < 0) {
		if (fd >= 0)
			close(fd);
		cg_notify_respond(sup, rc, 0, false);
		return;
	}
	if (!cg_notify_valid(sup)) {
		if (fd >= 0)
			close(fd);
		return;
	}
	ev.u.open.path = path;
	ev.u.open.access = CG_ACCESS_WRITE;
	ev.u.open.pid = pid;
	if (!cg_notify_judge(sup, &ev, ac->name, path, pid)) {
		if (fd >= 0)
			close(fd);
		cg_notify_respond(sup, -EPERM, 0, false);
		return;
	}
	if (fd < 0) {
		cg_notify_respond(sup, 0, 0, true);
		return;
	}
	rc = apply_attr(pid, ac, d->args, fd);
	close(fd);
	cg_notify_respond(sup, rc, 0, false);
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


bool cg_notify_file(struct cg_supervisor *sup, int nr)
{
	const struct file_call *fc = find_file_call(nr);
	const struct attr_call *ac = find_attr_call(nr);

	if (fc)
		on_file(sup, fc);
	else if (ac)
		on_attr(sup, ac);
	return fc || ac;
}
