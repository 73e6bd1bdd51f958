/* atk-write MODE TARGET WORKDIR - put a file where writes are not allowed.
 *
 * MODE:
 *   create   open(TARGET, O_CREAT|O_WRONLY) and write
 *   append   open(TARGET, O_WRONLY|O_APPEND) (TARGET may be a symlink in
 *            the workspace that points outside) and write
 *   rename   create WORKDIR/payload, rename(2) it to TARGET
 *   renameat2 the same with renameat2(RENAME_NOREPLACE)
 *   link     create WORKDIR/payload, link(2) it to TARGET
 *   mkdir    mkdir(TARGET)
 *   chmod    chmod(TARGET, 0777)       (Landlock has no right for this)
 *   chown    chown(TARGET, 65534, 65534)
 *   utime    utimensat(TARGET, 2001-09-09)
 *   setxattr setxattr(TARGET, "user.cg", "pwned")
 *   truncate truncate(TARGET, 0)
 *   fchmod, fchown, futimens, fsetxattr, ftruncate
 *            the same through an fd that open(O_RDONLY) gave (reading
 *            /etc is allowed)
 *   fchmodat-empty  fchmodat2(O_PATH fd, "", 0777, AT_EMPTY_PATH)
 *   chmod-procfd    chmod("/proc/self/fd/N") of an O_PATH fd
 * run.sh judges by whether TARGET appeared or changed.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "atk.h"

static const char payload[] = "CG-PWNED\n";

static int write_payload(int fd)
{
	return write(fd, payload, sizeof payload - 1) == (ssize_t)(sizeof payload - 1) ? 0 : -1;
}

static void make_payload(const char *path)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_payload(fd) < 0)
		atk_die("create %s: %m", path);
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc != 4)
		atk_die("usage: atk-write MODE TARGET WORKDIR");
	const char *mode = argv[1], *target = argv[2], *workdir = argv[3];
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s/payload", workdir);
	long rc;

	if (!strcmp(mode, "create") || !strcmp(mode, "append")) {
		int flags = O_WRONLY | O_CLOEXEC | (!strcmp(mode, "create") ? O_CREAT : O_APPEND);
		int fd = open(target, flags, 0644);
		rc = fd < 0 ? -1 : write_payload(fd);
	} else if (!strcmp(mode, "rename")) {
		make_payload(tmp);
		rc = rename(tmp, target);
	} else if (!strcmp(mode, "renameat2")) {
		make_payload(tmp);
		rc = renameat2(AT_FDCWD, tmp, AT_FDCWD, target, RENAME_NOREPLACE);
	} else if (!strcmp(mode, "link")) {
		make_payload(tmp);
		rc = link(tmp, target);
	} else if (!strcmp(mode, "chmod")) {
		rc = chmod(target, 0777);
	} else if (!strcmp(mode, "chown")) {
		rc = chown(target, 65534, 65534);
	} else if (!strcmp(mode, "utime")) {
		struct timespec ts[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
		rc = utimensat(AT_FDCWD, target, ts, 0);
	} else if (!strcmp(mode, "setxattr")) {
		rc = setxattr(target, "user.cg", "pwned", 5, 0);
	} else if (!strcmp(mode, "truncate")) {
		rc = truncate(target, 0);
	} else if (!strncmp(mode, "f", 1) && strcmp(mode, "fchmodat-empty") != 0) {
		int fd = open(target, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			atk_report("open", -1, errno);
			return 1;
		}
		if (!strcmp(mode, "fchmod")) {
			rc = fchmod(fd, 0777);
		} else if (!strcmp(mode, "fchown")) {
			rc = fchown(fd, 65534, 65534);
		} else if (!strcmp(mode, "futimens")) {
			struct timespec ts[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
			rc = futimens(fd, ts);
		} else if (!strcmp(mode, "fsetxattr")) {
			rc = fsetxattr(fd, "user.cg", "pwned", 5, 0);
		} else if (!strcmp(mode, "ftruncate")) {
			rc = ftruncate(fd, 0);
		} else {
			atk_die("unknown mode %s", mode);
		}
	} else if (!strcmp(mode, "fchmodat-empty")) {
		int fd = open(target, O_PATH | O_CLOEXEC);
		rc = fd < 0 ? -1 : syscall(452, fd, "", 0777, AT_EMPTY_PATH);
	} else if (!strcmp(mode, "chmod-procfd")) {
		int fd = open(target, O_PATH | O_CLOEXEC);
		char link[64];
		snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
		rc = fd < 0 ? -1 : chmod(link, 0777);
	} else if (!strcmp(mode, "mkdir")) {
		rc = mkdir(target, 0755);
	} else {
		atk_die("unknown mode %s", mode);
	}
	atk_report(mode, rc, errno);
	return rc < 0 ? 1 : 0;
}
