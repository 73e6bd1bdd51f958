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
		rc = cg_peek_string(pid, d->args[ac->path_arg], raw, sizeof(raw));
	if (!rc && !raw[0] && dirfd == AT_FDCWD && ac->path_arg >= 0 && d->args[ac->path_arg])
		rc = -ENOENT;
	if (!rc)
		rc = cg_target_path(pid, dirfd, raw, path, sizeof(path));
	if (rc) {
		cg_notify_respond(sup, rc == -EBADF ? -EBADF : rc, 0, false);
		return;
	}
	if (!cg_notify_valid(sup))
		return;
	ev.u.open.path = path;
	ev.u.open.access = CG_ACCESS_WRITE;
	ev.u.open.pid = pid;
	if (!cg_notify_judge(sup, &ev, ac->name, path, pid)) {
		cg_notify_respond(sup, -EPERM, 0, false);
		return;
	}
	cg_notify_respond(sup, 0, 0, true);
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
