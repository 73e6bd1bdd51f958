/* cg-calls - make one libc call named on the command line, for the
 * preload tests.
 *
 *   cg-calls CALL ARG...
 *
 * Prints "ok" (and exits 0) when the call succeeded, or "errno=NAME"
 * (exit 1) when it failed; lookups print "gai=N" or "h_errno=N".  The exec
 * calls print nothing when they succeed: the program they start speaks.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int result(int rc)
{
	if (rc < 0) {
		printf("errno=%s\n", strerrorname_np(errno));
		return 1;
	}
	printf("ok\n");
	return 0;
}

static int fd_result(int fd)
{
	if (fd >= 0)
		close(fd);
	return result(fd < 0 ? -1 : 0);
}

static struct sockaddr_in ipv4(const char *ip, const char *port)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
	inet_pton(AF_INET, ip, &in.sin_addr);
	return in;
}

static int spawn_result(int rc, pid_t pid)
{
	int status;

	if (rc != 0) {
		errno = rc;
		return result(-1);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* In a vfork child the shim's exec check runs on the parent's stack, with
 * the parent's memory: it must not allocate or take a lock it can leave
 * held. */
static int vfork_execve(char **argv)
{
	int status;
	pid_t pid = vfork();

	if (pid == 0) {
		execve(argv[0], argv, environ);
		_exit(errno == EPERM ? 42 : 43);
	}
	waitpid(pid, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 42) {
		errno = EPERM;
		return result(-1);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Is the policy snapshot mapped in this process?  Read with raw system
 * calls, which the shim does not see (an open would load it). */
static const char *snapshot_mapped(void)
{
	static char maps[1 << 16];
	size_t len = 0;
	long n;
	int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return "unknown";
	while (len < sizeof(maps) - 1 &&
	       (n = syscall(SYS_read, fd, maps + len, sizeof(maps) - 1 - len)) > 0)
		len += (size_t)n;
	syscall(SYS_close, fd);
	maps[len] = '\0';
	return strstr(maps, "policy.snapshot") ? "yes" : "no";
}

int main(int argc, char **argv)
{
	const char *call = argc > 1 ? argv[1] : "";
	const char *a = argc > 2 ? argv[2] : NULL, *b = argc > 3 ? argv[3] : NULL;
	char **rest = argv + 2;   /* for the exec calls: program and arguments */

	setvbuf(stdout, NULL, _IONBF, 0);
	/* Whether a forked child finds the policy already loaded. */
	if (!strcmp(call, "fork-mapped")) {
		printf("before fork: %s\n", snapshot_mapped());
		pid_t pid = fork();
		if (pid == 0) {
			printf("child: %s\n", snapshot_mapped());
			_exit(0);
		}
		return pid > 0 && waitpid(pid, NULL, 0) == pid ? 0 : 1;
	}
	if (!strcmp(call, "open-read"))
		return fd_result(open(a, O_RDONLY));
	if (!strcmp(call, "open-write"))
		return fd_result(open(a, O_WRONLY | O_CREAT | O_TRUNC, 0644));
	if (!strcmp(call, "open64-read"))
		return fd_result(open64(a, O_RDONLY));
	if (!strcmp(call, "openat-read") || !strcmp(call, "openat-write")) {
		int dir = open(a, O_RDONLY | O_DIRECTORY);
		int flags = call[7] == 'r' ? O_RDONLY : O_WRONLY | O_CREAT;
		return fd_result(openat(dir, b, flags, 0644));
	}
	if (!strcmp(call, "openat64-write")) {
		int dir = open(a, O_RDONLY | O_DIRECTORY);
		return fd_result(openat64(dir, b, O_WRONLY | O_CREAT, 0644));
	}
	if (!strcmp(call, "creat"))
		return fd_result(creat(a, 0644));
	if (!strcmp(call, "creat64"))
		return fd_result(creat64(a, 0644));
	if (!strcmp(call, "fopen-read") || !strcmp(call, "fopen-write") ||
	    !strcmp(call, "fopen64-read")) {
		FILE *f = !strcmp(call, "fopen64-read") ? fopen64(a, "r") :
			  fopen(a, !strcmp(call, "fopen-read") ? "r" : "w");
		if (f)
			fclose(f);
		return result(f ? 0 : -1);
	}
	if (!strcmp(call, "freopen-write")) {
		FILE *f = freopen(a, "w", stdin);
		return result(f ? 0 : -1);
	}
	if (!strcmp(call, "rename"))
		return result(rename(a, b));
	if (!strcmp(call, "renameat"))
		return result(renameat(AT_FDCWD, a, AT_FDCWD, b));
	if (!strcmp(call, "renameat2"))
		return result(renameat2(AT_FDCWD, a, AT_FDCWD, b, 0));
	if (!strcmp(call, "link"))
		return result(link(a, b));
	if (!strcmp(call, "linkat"))
		return result(linkat(AT_FDCWD, a, AT_FDCWD, b, 0));
	if (!strcmp(call, "symlink"))
		return result(symlink(a, b));
	if (!strcmp(call, "symlinkat"))
		return result(symlinkat(a, AT_FDCWD, b));
	if (!strcmp(call, "unlink"))
		return result(unlink(a));
	if (!strcmp(call, "unlinkat"))
		return result(unlinkat(AT_FDCWD, a, 0));
	if (!strcmp(call, "rmdir"))
		return result(rmdir(a));
	if (!strcmp(call, "mkdir"))
		return result(mkdir(a, 0755));
	if (!strcmp(call, "mkdirat"))
		return result(mkdirat(AT_FDCWD, a, 0755));
	if (!strcmp(call, "truncate"))
		return result(truncate(a, 0));
	if (!strcmp(call, "chmod"))
		return result(chmod(a, 0600));
	if (!strcmp(call, "fchmodat"))
		return result(fchmodat(AT_FDCWD, a, 0600, 0));
	if (!strcmp(call, "chown"))
		return result(chown(a, 0, 0));
	if (!strcmp(call, "lchown"))
		return result(lchown(a, 0, 0));
	if (!strcmp(call, "fchownat"))
		return result(fchownat(AT_FDCWD, a, 0, 0, 0));

	if (!strcmp(call, "execve"))
		return result(execve(rest[0], rest, environ));
	if (!strcmp(call, "execv"))
		return result(execv(rest[0], rest));
	if (!strcmp(call, "execvp"))
		return result(execvp(rest[0], rest));
	if (!strcmp(call, "execvpe"))
		return result(execvpe(rest[0], rest, environ));
	if (!strcmp(call, "execl"))
		return result(execl(a, a, b, (char *)NULL));
	if (!strcmp(call, "execlp"))
		return result(execlp(a, a, b, (char *)NULL));
	if (!strcmp(call, "execle"))
		return result(execle(a, a, b, (char *)NULL, environ));
	if (!strcmp(call, "fexecve")) {
		int fd = open(rest[0], O_RDONLY | O_CLOEXEC);
		return result(fexecve(fd, rest, environ));
	}
	/* A copy of the program in a memfd named after it. */
	if (!strcmp(call, "fexecve-memfd")) {
		int in = open(rest[0], O_RDONLY | O_CLOEXEC);
		const char *name = strrchr(rest[0], '/');
		int fd = memfd_create(name ? name + 1 : rest[0], MFD_CLOEXEC);
		char buf[65536];
		ssize_t n;
		while ((n = read(in, buf, sizeof(buf))) > 0)
			if (write(fd, buf, (size_t)n) != n)
				return result(-1);
		return result(fexecve(fd, rest, environ));
	}
	if (!strcmp(call, "execveat"))
		return result(execveat(AT_FDCWD, rest[0], rest, environ, 0));
	if (!strcmp(call, "vfork-execve"))
		return vfork_execve(rest);
	if (!strcmp(call, "posix_spawn")) {
		pid_t pid;
		return spawn_result(posix_spawn(&pid, rest[0], NULL, NULL, rest, environ), pid);
	}
	if (!strcmp(call, "posix_spawnp")) {
		pid_t pid;
		return spawn_result(posix_spawnp(&pid, rest[0], NULL, NULL, rest, environ), pid);
	}
	if (!strcmp(call, "system")) {
		int rc = system(a);
		if (rc == -1)
			return result(-1);
		printf("status=%d\n", WIFEXITED(rc) ? WEXITSTATUS(rc) : 128);
		return 0;
	}
	if (!strcmp(call, "popen")) {
		FILE *f = popen(a, "r");
		char line[256];
		if (!f)
			return result(-1);
		while (fgets(line, sizeof(line), f))
			fputs(line, stdout);
		pclose(f);
		return 0;
	}
	/* A fresh environment with none of the guard's variables: the shim
	 * must put them back for the child. */
	if (!strcmp(call, "execve-clean-env")) {
		char *env[] = { "PATH=/usr/bin:/bin", "HELLO=1", NULL };
		return result(execve(rest[0], rest, env));
	}
	if (!strcmp(call, "env")) {
		for (int i = 2; i < argc; i++) {
			const char *v = getenv(argv[i]);
			printf("%s=%s\n", argv[i], v ? v : "(unset)");
		}
		return 0;
	}

	if (!strcmp(call, "connect") || !strcmp(call, "bind") || !strcmp(call, "listen") ||
	    !strcmp(call, "sendto")) {
		struct sockaddr_in in = ipv4(a, b);
		int type = !strcmp(call, "sendto") ? SOCK_DGRAM : SOCK_STREAM;
		int fd = socket(AF_INET, type, 0);
		if (!strcmp(call, "connect"))
			return result(connect(fd, (struct sockaddr *)&in, sizeof(in)));
		if (!strcmp(call, "sendto"))
			return result((int)sendto(fd, "x", 1, 0, (struct sockaddr *)&in, sizeof(in)));
		if (!strcmp(call, "bind"))
			return result(bind(fd, (struct sockaddr *)&in, sizeof(in)));
		if (bind(fd, (struct sockaddr *)&in, sizeof(in)) < 0) {
			printf("bind failed: ");
			return result(-1);
		}
		return result(listen(fd, 1));
	}
	if (!strcmp(call, "sendmmsg")) {
		struct sockaddr_in in = ipv4(a, b);
		int fd = socket(AF_INET, SOCK_DGRAM, 0);
		struct iovec iov = { .iov_base = "x", .iov_len = 1 };
		struct mmsghdr m = { .msg_hdr = { .msg_name = &in, .msg_namelen = sizeof(in),
						  .msg_iov = &iov, .msg_iovlen = 1 } };
		return result(sendmmsg(fd, &m, 1, 0) < 0 ? -1 : 0);
	}
	if (!strcmp(call, "gethostbyname_r")) {
		struct hostent h, *res = NULL;
		char buf[4096];
		int err = 0;
		int rc = gethostbyname_r(a, &h, buf, sizeof(buf), &res, &err);
		printf("rc=%d h_errno=%d\n", rc, res ? 0 : err);
		return res ? 0 : 1;
	}
	if (!strcmp(call, "getaddrinfo")) {
		struct addrinfo *res = NULL;
		int rc = getaddrinfo(a, NULL, NULL, &res);
		if (res)
			freeaddrinfo(res);
		printf("gai=%d\n", rc);
		return rc == 0 ? 0 : 1;
	}
	if (!strcmp(call, "gethostbyname")) {
		struct hostent *h = gethostbyname(a);
		printf("h_errno=%d\n", h ? 0 : h_errno);
		return h ? 0 : 1;
	}
	fprintf(stderr, "cg-calls: unknown call '%s'\n", call);
	return 2;
}
