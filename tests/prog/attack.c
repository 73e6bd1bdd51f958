/* attack: one forbidden action per invocation, reporting what happened
 * on stdout so that a test can judge by effect.
 *   execve PATH MARKER | rawexec PATH MARKER | execveat PATH MARKER
 *   read PATH          -> "read ok" | "read errno N"
 *   openat2 PATH | proc-root PATH | symlink-read PATH LINK
 *   create PATH        -> "create ok" | "create errno N"
 *   rawwrite PATH      -> "rawwrite ok" | "rawwrite errno N" (no libc wrapper: past the shim)
 *   chmod|chown|utime|setxattr|fchmod PATH -> "OP ok" | "OP errno N" (raw syscalls)
 *   setflags|file_setattr PATH -> the same: the nodump inode flag by ioctl on an fd
 *                      opened for reading, or by file_setattr(2) (kernel 6.17)
 *   open_tree_attr     -> "open_tree_attr ok" | "open_tree_attr errno N" (kernel 6.15)
 *   io_uring | ptrace | unshare | clone-newuser | seccomp-listener
 *   kill PID           -> "kill ok" | "kill errno N"
 *   setsid-grandchild PIDFILE: the grandchild writes its pid, sleeps
 *   forkbomb           -> "forks N" (processes alive at once at most)
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int report(const char *what, long rc)
{
	if (rc < 0)
		printf("%s errno %d\n", what, errno);
	else
		printf("%s ok\n", what);
	fflush(stdout);
	return 0;
}

static int try_read(const char *what, int fd)
{
	char buf[64];

	if (fd < 0)
		return report(what, -1);
	return report(what, read(fd, buf, sizeof(buf)));
}

int main(int argc, char **argv)
{
	const char *op = argc > 1 ? argv[1] : "";
	const char *arg = argc > 2 ? argv[2] : "";
	char *args[] = { (char *)arg, argc > 3 ? argv[3] : NULL, NULL };

	if (!strcmp(op, "execve")) {
		execve(arg, args, (char *[]){ NULL });
		return report("execve", -1);
	}
	if (!strcmp(op, "rawexec")) {
		syscall(SYS_execve, arg, args, (char *[]){ NULL });
		return report("execve", -1);
	}
	if (!strcmp(op, "execveat")) {
		syscall(SYS_execveat, AT_FDCWD, arg, args, (char *[]){ NULL }, 0);
		return report("execveat", -1);
	}
	if (!strcmp(op, "fexecve")) {
		int fd = open(arg, O_RDONLY | O_CLOEXEC);
		syscall(SYS_execveat, fd, "", args, (char *[]){ NULL }, AT_EMPTY_PATH);
		return report("fexecve", -1);
	}
	if (!strcmp(op, "read"))
		return try_read("read", open(arg, O_RDONLY));
	if (!strcmp(op, "openat2")) {
		struct open_how how = { .flags = O_RDONLY };
		return try_read("read", (int)syscall(SYS_openat2, AT_FDCWD, arg, &how, sizeof(how)));
	}
	if (!strcmp(op, "proc-root")) {
		char path[4096];
		snprintf(path, sizeof(path), "/proc/self/root%s", arg);
		return try_read("read", open(path, O_RDONLY));
	}
	if (!strcmp(op, "symlink-read")) {
		const char *link = argc > 3 ? argv[3] : "";
		if (symlink(arg, link) < 0)
			return report("symlink", -1);
		return try_read("read", open(link, O_RDONLY));
	}
	if (!strcmp(op, "chmod"))
		return report(op, syscall(SYS_chmod, arg, 0777));
	if (!strcmp(op, "chown"))
		return report(op, syscall(SYS_chown, arg, 1, 1));
	if (!strcmp(op, "utime"))
		return report(op, syscall(SYS_utimensat, AT_FDCWD, arg, NULL, 0));
	if (!strcmp(op, "setxattr"))
		return report(op, syscall(SYS_setxattr, arg, "user.cg", "x", 1, 0));
	if (!strcmp(op, "fchmod")) {
		int fd = open(arg, O_RDONLY);
		return report(op, syscall(SYS_fchmod, fd, 0777));
	}
	if (!strcmp(op, "setflags")) {
		int fd = open(arg, O_RDONLY), flags = 0;
		if (fd >= 0 && ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0)
			flags = 0;
		flags |= FS_NODUMP_FL;
		return report(op, ioctl(fd, FS_IOC_SETFLAGS, &flags));
	}
	if (!strcmp(op, "file_setattr")) {
		/* struct file_attr: fa_xflags, then four u32; not in our headers */
		struct { uint64_t xflags; uint32_t extsize, nextents, projid, cowextsize; } fa = { 0 };
		syscall(468 /* file_getattr */, AT_FDCWD, arg, &fa, sizeof(fa), 0);
		fa.xflags |= 0x80;   /* FS_XFLAG_NODUMP */
		return report(op, syscall(469 /* file_setattr */, AT_FDCWD, arg, &fa, sizeof(fa), 0));
	}
	if (!strcmp(op, "open_tree_attr"))
		return report(op, syscall(467, AT_FDCWD, "/", 0, NULL, 0));
	if (!strcmp(op, "rawwrite"))
		return report("rawwrite", syscall(SYS_openat, AT_FDCWD, arg, O_WRONLY | O_APPEND));
	if (!strcmp(op, "create"))
		return report("create", open(arg, O_WRONLY | O_CREAT | O_EXCL, 0644));
	if (!strcmp(op, "io_uring"))
		return report("io_uring_setup", syscall(SYS_io_uring_setup, 8, calloc(1, 256)));
	if (!strcmp(op, "ptrace")) {
		pid_t pid = fork();
		if (pid == 0) {
			pause();
			_exit(0);
		}
		long rc = ptrace(PTRACE_ATTACH, pid, 0, 0);
		report("ptrace", rc);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return 0;
	}
	if (!strcmp(op, "seccomp-listener")) {
		/* a filter of our own that would take execve notifications first */
		struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
		struct sock_fprog prog = { 1, &allow };
		return report("seccomp", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
						 SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog));
	}
	if (!strcmp(op, "unshare"))
		return report("unshare", unshare(CLONE_NEWUSER | CLONE_NEWNS));
	if (!strcmp(op, "clone-newuser")) {
		long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
		if (pid == 0)
			_exit(0);
		if (pid > 0)
			waitpid((pid_t)pid, NULL, 0);
		return report("clone", pid);
	}
	if (!strcmp(op, "kill"))
		return report("kill", kill((pid_t)atoi(arg), 0));
	if (!strcmp(op, "setsid-grandchild")) {
		if (fork() == 0) {
			setsid();
			if (fork() == 0) {
				char tmp[4096];
				FILE *f;
				/* whole or not at all: the parent waits for the name */
				snprintf(tmp, sizeof(tmp), "%s.tmp", arg);
				f = fopen(tmp, "w");
				fprintf(f, "%d\n", getpid());
				fclose(f);
				rename(tmp, arg);
				for (;;)
					pause();
			}
			_exit(0);
		}
		wait(NULL);
		for (int i = 0; i < 200 && access(arg, F_OK); i++)
			usleep(10000);
		puts("parent done");
		return 0;
	}
	if (!strcmp(op, "forkbomb")) {
		int n = 0;
		for (int i = 0; i < 2000; i++) {
			pid_t pid = fork();
			if (pid == 0) {
				pause();
				_exit(0);
			}
			if (pid < 0)
				break;
			n++;
		}
		printf("forks %d\n", n);
		fflush(stdout);
		kill(0, SIGKILL);
		return 0;
	}
	fprintf(stderr, "attack: unknown operation '%s'\n", op);
	return 2;
}
