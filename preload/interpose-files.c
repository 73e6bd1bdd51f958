/* interpose-files.c - opens and name changes against the read and write
 * path sets.
 *
 * A read is judged after the real open, by the file the kernel actually
 * opened (one readlink of /proc/self/fd/N; the fd is closed again when
 * the policy says no, and nothing was read).  Everything that changes the
 * file system is judged before the call, on the path resolved as the
 * kernel resolves it, so that a refused write leaves no trace.  A denial
 * is EACCES, as a permission check in the kernel would give.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "preload/shim.h"

static unsigned open_access(int flags)
{
	unsigned access;

	switch (flags & O_ACCMODE) {
	case O_RDONLY: access = CG_ACCESS_READ; break;
	case O_WRONLY: access = CG_ACCESS_WRITE; break;
	default: access = CG_ACCESS_READ | CG_ACCESS_WRITE; break;
	}
	if (flags & (O_CREAT | O_TRUNC))
		access |= CG_ACCESS_WRITE;
	/* O_TMPFILE names the directory the unnamed file is made in. */
	if ((flags & O_TMPFILE) == O_TMPFILE)
		access |= CG_ACCESS_WRITE;
	return access;
}

static bool needs_mode(int flags)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

/* Which real function an open goes to: they differ only in name. */
enum open_kind { OPEN, OPEN64, OPENAT, OPENAT64, OPEN_2, OPEN64_2, OPENAT_2, OPENAT64_2 };

static int real_open(enum open_kind kind, int dirfd, const char *path, int flags, mode_t mode)
{
	switch (kind) {
	case OPEN: return shim_real.open(path, flags, mode);
	case OPEN64: return shim_real.open64(path, flags, mode);
	case OPENAT: return shim_real.openat(dirfd, path, flags, mode);
	case OPENAT64: return shim_real.openat64(dirfd, path, flags, mode);
	case OPEN_2: return shim_real.open_2(path, flags);
	case OPEN64_2: return shim_real.open64_2(path, flags);
	case OPENAT_2: return shim_real.openat_2(dirfd, path, flags);
	default: return shim_real.openat64_2(dirfd, path, flags);
	}
}

static int guarded_open(const char *call, enum open_kind kind, int dirfd, const char *path,
			int flags, mode_t mode)
{
	unsigned access;
	int fd;

	shim_init();
	/* O_PATH reads and writes nothing: the call that uses the fd is judged. */
	if (flags & O_PATH)
		return real_open(kind, dirfd, path, flags, mode);
	access = open_access(flags);
	/* O_RDONLY|O_CREAT of a file that exists only reads it (lock files,
	 * caches opened "create if missing"). */
	if ((flags & O_ACCMODE) == O_RDONLY && (flags & O_CREAT) && !(flags & (O_EXCL | O_TRUNC)) &&
	    (flags & O_TMPFILE) != O_TMPFILE && faccessat(dirfd, path, F_OK, 0) == 0)
		access = CG_ACCESS_READ;
	if (access & CG_ACCESS_WRITE) {
		if (shim_check_path(call, dirfd, path, access, (flags & O_NOFOLLOW) != 0) < 0)
			return -1;
		return real_open(kind, dirfd, path, flags, mode);
	}
	fd = real_open(kind, dirfd, path, flags, mode);
	if (fd >= 0 && shim_check_opened(call, fd, path, access) < 0) {
		close(fd);
		errno = EACCES;
		return -1;
	}
	/* Landlock refused it first: say why in the policy's words. */
	if (fd < 0 && errno == EACCES)
		shim_explain_refusal(call, dirfd, path, access);
	return fd;
}

#define MODE_ARG(flags, mode)                          \
	do {                                           \
		if (needs_mode(flags)) {               \
			va_list ap;                    \
			va_start(ap, flags);           \
			mode = va_arg(ap, mode_t);     \
			va_end(ap);                    \
		}                                      \
	} while (0)

CG_EXPORT int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	MODE_ARG(flags, mode);
	return guarded_open("open", OPEN, AT_FDCWD, path, flags, mode);
}

CG_EXPORT int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;
	MODE_ARG(flags, mode);
	return guarded_open("open64", OPEN64, AT_FDCWD, path, flags, mode);
}

CG_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	MODE_ARG(flags, mode);
	return guarded_open("openat", OPENAT, dirfd, path, flags, mode);
}

CG_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	MODE_ARG(flags, mode);
	return guarded_open("openat64", OPENAT64, dirfd, path, flags, mode);
}

/* _FORTIFY_SOURCE turns open() with non-constant flags into these. */
CG_EXPORT int __open_2(const char *path, int flags)
{
	return guarded_open("open", OPEN_2, AT_FDCWD, path, flags, 0);
}

CG_EXPORT int __open64_2(const char *path, int flags)
{
	return guarded_open("open64", OPEN64_2, AT_FDCWD, path, flags, 0);
}

CG_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	return guarded_open("openat", OPENAT_2, dirfd, path, flags, 0);
}

CG_EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	return guarded_open("openat64", OPENAT64_2, dirfd, path, flags, 0);
}

CG_EXPORT int creat(const char *path, mode_t mode)
{
	shim_init();
	if (shim_check_path("creat", AT_FDCWD, path, CG_ACCESS_WRITE, false) < 0)
		return -1;
	return shim_real.creat(path, mode);
}

CG_EXPORT int creat64(const char *path, mode_t mode)
{
	shim_init();
	if (shim_check_path("creat64", AT_FDCWD, path, CG_ACCESS_WRITE, false) < 0)
		return -1;
	return shim_real.creat64(path, mode);
}

/* "r", "rb", "r+", "w", "a+", "re", "wx", ... */
static unsigned fopen_access(const char *mode)
{
	unsigned access = mode && mode[0] == 'r' ? CG_ACCESS_READ : CG_ACCESS_WRITE;

	if (mode && strchr(mode, '+'))
		access |= CG_ACCESS_READ | CG_ACCESS_WRITE;
	return access;
}

static FILE *guarded_fopen(const char *call, const char *path, const char *mode, bool is_64)
{
	unsigned access = fopen_access(mode);
	FILE *f;

	shim_init();
	if (access & CG_ACCESS_WRITE) {
		if (shim_check_path(call, AT_FDCWD, path, access, false) < 0)
			return NULL;
		return is_64 ? shim_real.fopen64(path, mode) : shim_real.fopen(path, mode);
	}
	f = is_64 ? shim_real.fopen64(path, mode) : shim_real.fopen(path, mode);
	if (f && shim_check_opened(call, fileno(f), path, access) < 0) {
		fclose(f);
		errno = EACCES;
		return NULL;
	}
	if (!f && errno == EACCES)
		shim_explain_refusal(call, AT_FDCWD, path, access);
	return f;
}

CG_EXPORT FILE *fopen(const char *path, const char *mode)
{
	return guarded_fopen("fopen", path, mode, false);
}

CG_EXPORT FILE *fopen64(const char *path, const char *mode)
{
	return guarded_fopen("fopen64", path, mode, true);
}

CG_EXPORT FILE *freopen(const char *path, const char *mode, FILE *stream)
{
	shim_init();
	if (path && shim_check_path("freopen", AT_FDCWD, path, fopen_access(mode), false) < 0)
		return NULL;
	return shim_real.freopen(path, mode, stream);
}

CG_EXPORT FILE *freopen64(const char *path, const char *mode, FILE *stream)
{
	shim_init();
	if (path && shim_check_path("freopen64", AT_FDCWD, path, fopen_access(mode), false) < 0)
		return NULL;
	return shim_real.freopen64(path, mode, stream);
}

/* Both ends of a rename or a link change the file system. */
static int check_two(const char *call, int dir1, const char *p1, bool is_nofollow1, int dir2,
		     const char *p2)
{
	shim_init();
	if (shim_check_path(call, dir1, p1, CG_ACCESS_WRITE, is_nofollow1) < 0 ||
	    shim_check_path(call, dir2, p2, CG_ACCESS_WRITE, true) < 0)
		return -1;
	return 0;
}

CG_EXPORT int rename(const char *old, const char *new)
{
	if (check_two("rename", AT_FDCWD, old, true, AT_FDCWD, new) < 0)
		return -1;
	return shim_real.rename(old, new);
}

CG_EXPORT int renameat(int olddir, const char *old, int newdir, const char *new)
{
	if (check_two("renameat", olddir, old, true, newdir, new) < 0)
		return -1;
	return shim_real.renameat(olddir, old, newdir, new);
}

CG_EXPORT int renameat2(int olddir, const char *old, int newdir, const char *new, unsigned flags)
{
	if (check_two("renameat2", olddir, old, true, newdir, new) < 0)
		return -1;
	if (!shim_real.renameat2) {
		errno = ENOSYS;
		return -1;
	}
	return shim_real.renameat2(olddir, old, newdir, new, flags);
}

/* A hard link gives a file outside the allowed paths a name inside them:
 * the existing file needs write permission too. */
CG_EXPORT int link(const char *old, const char *new)
{
	if (check_two("link", AT_FDCWD, old, true, AT_FDCWD, new) < 0)
		return -1;
	return shim_real.link(old, new);
}

CG_EXPORT int linkat(int olddir, const char *old, int newdir, const char *new, int flags)
{
	if (check_two("linkat", olddir, old, !(flags & AT_SYMLINK_FOLLOW), newdir, new) < 0)
		return -1;
	return shim_real.linkat(olddir, old, newdir, new, flags);
}

/* The target of a symlink is only text; what matters is where it is made
 * (and every open through it is judged by where it leads). */
CG_EXPORT int symlink(const char *target, const char *path)
{
	shim_init();
	if (shim_check_path("symlink", AT_FDCWD, path, CG_ACCESS_WRITE, true) < 0)
		return -1;
	return shim_real.symlink(target, path);
}

CG_EXPORT int symlinkat(const char *target, int dirfd, const char *path)
{
	shim_init();
	if (shim_check_path("symlinkat", dirfd, path, CG_ACCESS_WRITE, true) < 0)
		return -1;
	return shim_real.symlinkat(target, dirfd, path);
}

CG_EXPORT int unlink(const char *path)
{
	shim_init();
	if (shim_check_path("unlink", AT_FDCWD, path, CG_ACCESS_WRITE, true) < 0)
		return -1;
	return shim_real.unlink(path);
}

CG_EXPORT int unlinkat(int dirfd, const char *path, int flags)
{
	shim_init();
	if (shim_check_path("unlinkat", dirfd, path, CG_ACCESS_WRITE, true) < 0)
		return -1;
	return shim_real.unlinkat(dirfd, path, flags);
}

CG_EXPORT int rmdir(const char *path)
{
	shim_init();
	if (shim_check_path("rmdir", AT_FDCWD, path, CG_ACCESS_WRITE, true) < 0)
		return -1;
	return shim_real.rmdir(path);
}

CG_EXPORT int mkdir(const char *path, mode_t mode)
{
	shim_init();
	if (shim_check_path("mkdir", AT_FDCWD, path, CG_ACCESS_WRITE, true) < 0)
		return -1;
	return shim_real.mkdir(path, mode);
}

CG_EXPORT int mkdirat(int dirfd, const char *path, mode_t mode)
{
	shim_init();
	if (shim_check_path("mkdirat", dirfd, path, CG_ACCESS_WRITE, true) < 0)
		return -1;
	return shim_real.mkdirat(dirfd, path, mode);
}

CG_EXPORT int truncate(const char *path, off_t length)
{
	shim_init();
	if (shim_check_path("truncate", AT_FDCWD, path, CG_ACCESS_WRITE, false) < 0)
		return -1;
	return shim_real.truncate(path, length);
}

CG_EXPORT int truncate64(const char *path, off_t length)
{
	shim_init();
	if (shim_check_path("truncate64", AT_FDCWD, path, CG_ACCESS_WRITE, false) < 0)
		return -1;
	return shim_real.truncate64(path, length);
}

CG_EXPORT int chmod(const char *path, mode_t mode)
{
	shim_init();
	if (shim_check_path("chmod", AT_FDCWD, path, CG_ACCESS_WRITE, false) < 0)
		return -1;
	return shim_real.chmod(path, mode);
}

CG_EXPORT int fchmodat(int dirfd, const char *path, mode_t mode, int flags)
{
	shim_init();
	if (shim_check_path("fchmodat", dirfd, path, CG_ACCESS_WRITE,
			    (flags & AT_SYMLINK_NOFOLLOW) != 0) < 0)
		return -1;
	return shim_real.fchmodat(dirfd, path, mode, flags);
}

CG_EXPORT int chown(const char *path, uid_t owner, gid_t group)
{
	shim_init();
	if (shim_check_path("chown", AT_FDCWD, path, CG_ACCESS_WRITE, false) < 0)
		return -1;
	return shim_real.chown(path, owner, group);
}

CG_EXPORT int lchown(const char *path, uid_t owner, gid_t group)
{
	shim_init();
	if (shim_check_path("lchown", AT_FDCWD, path, CG_ACCESS_WRITE, true) < 0)
		return -1;
	return shim_real.lchown(path, owner, group);
}

CG_EXPORT int fchownat(int dirfd, const char *path, uid_t owner, gid_t group, int flags)
{
	shim_init();
	/* fchownat(fd, "", ..., AT_EMPTY_PATH) is fchown(fd): no path. */
	if (!(!shim_is_null(path) && !path[0] && (flags & AT_EMPTY_PATH)) &&
	    shim_check_path("fchownat", dirfd, path, CG_ACCESS_WRITE,
			    (flags & AT_SYMLINK_NOFOLLOW) != 0) < 0)
		return -1;
	return shim_real.fchownat(dirfd, path, owner, group, flags);
}
