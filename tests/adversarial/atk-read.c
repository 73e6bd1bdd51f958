/* atk-read MODE SECRET WORKDIR - read a secret file and print it.
 *
 * MODE:
 *   open        open(SECRET)
 *   openat2     openat2(AT_FDCWD, SECRET) with no RESOLVE_ restriction
 *   symlink     symlink WORKDIR/innocent.txt -> SECRET, open the link
 *   hardlink    link(SECRET, WORKDIR/innocent.txt), open the new name
 *   procroot    open /proc/self/root/SECRET
 *   procparent  open /proc/PPID/root/SECRET (the supervisor's view of /)
 *   parent      open /proc/PPID/SECRET (SECRET "environ": the supervisor's
 *               environment, which holds what the command's had removed)
 *   dotdot      open WORKDIR/../../..(...)/SECRET
 *   handle      name_to_handle_at(SECRET) + open_by_handle_at(): no path at
 *               the open, so no path rule can see it (CAP_DAC_READ_SEARCH
 *               is what the kernel asks for)
 *   io-uring    io_uring_setup(2) (SECRET, WORKDIR unused): a ring would
 *               let the attacker open and read files with no system call
 *               the supervisor sees; prints IO-URING-READY if it gets one
 * run.sh judges by whether the secret's content shows up in the output.
 */
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "atk.h"

static void dump(int fd)
{
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		if (write(STDOUT_FILENO, buf, (size_t)n) != n)
			break;
}

int main(int argc, char **argv)
{
	if (argc != 4)
		atk_die("usage: atk-read MODE SECRET WORKDIR");
	const char *mode = argv[1], *secret = argv[2], *workdir = argv[3];
	char path[8192];
	int fd = -1;

	if (!strcmp(mode, "open")) {
		fd = open(secret, O_RDONLY | O_CLOEXEC);
	} else if (!strcmp(mode, "openat2")) {
		struct open_how how = { .flags = O_RDONLY | O_CLOEXEC };
		fd = (int)syscall(SYS_openat2, AT_FDCWD, secret, &how, sizeof how);
	} else if (!strcmp(mode, "symlink") || !strcmp(mode, "hardlink")) {
		snprintf(path, sizeof path, "%s/innocent.txt", workdir);
		unlink(path);
		int rc = !strcmp(mode, "symlink") ? symlink(secret, path) : link(secret, path);
		atk_report(mode, rc, errno);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	} else if (!strcmp(mode, "procroot")) {
		snprintf(path, sizeof path, "/proc/self/root%s", secret);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	} else if (!strcmp(mode, "procparent")) {
		snprintf(path, sizeof path, "/proc/%d/root%s", (int)getppid(), secret);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	} else if (!strcmp(mode, "parent")) {
		snprintf(path, sizeof path, "/proc/%d/%s", (int)getppid(), secret);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	} else if (!strcmp(mode, "dotdot")) {
		snprintf(path, sizeof path, "%s/../../../../../../../..%s", workdir, secret);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	} else if (!strcmp(mode, "handle")) {
		struct {
			struct file_handle fh;
			unsigned char bytes[MAX_HANDLE_SZ];
		} h;
		int mount_id;
		h.fh.handle_bytes = MAX_HANDLE_SZ;
		int rc = name_to_handle_at(AT_FDCWD, secret, &h.fh, &mount_id, 0);
		atk_report("name_to_handle_at", rc, errno);
		int mfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		fd = rc < 0 ? -1 : open_by_handle_at(mfd, &h.fh, O_RDONLY | O_CLOEXEC);
	} else if (!strcmp(mode, "io-uring")) {
		struct io_uring_params params;
		memset(&params, 0, sizeof params);
		long ring = syscall(SYS_io_uring_setup, 4, &params);
		atk_report("io_uring_setup", ring, errno);
		if (ring < 0)
			return 1;
		printf("IO-URING-READY\n");
		return 0;
	} else {
		atk_die("unknown mode %s", mode);
	}
	atk_report("open", fd, errno);
	if (fd < 0)
		return 1;
	dump(fd);
	return 0;
}
