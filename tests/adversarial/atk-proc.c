/* atk-proc MODE [ARG] [FORBIDDEN MARKER] - attacks on processes outside the
 * run, and on the run's own boundaries.
 *
 * MODE:
 *   ptrace-parent   PTRACE_ATTACH to getppid() (the supervisor)
 *   kill-parent     kill(getppid(), SIGKILL)
 *   kill PID        kill(PID, SIGKILL): a process the run did not start
 *   kill-all        kill(-1, SIGKILL)  (run.sh runs this one only inside a
 *                   PID namespace of its own)
 *   kill-group      kill(0, SIGKILL): the process group we were born in
 *   unshare-user    unshare(CLONE_NEWUSER)
 *   clone-user      clone(CLONE_NEWUSER) via the raw syscall
 *   unshare-net     unshare(CLONE_NEWNET)
 *   daemon PIDFILE  double fork + setsid; the grandchild writes its pid to
 *                   PIDFILE, ignores SIGTERM/SIGHUP and lives for 60 s
 *   daemon-deep PIDFILE  the same, but the middle process stays alive
 *                   (ignoring SIGTERM) so that the daemon is a grandchild,
 *                   not an orphan, when the command exits
 *   runner PIDFILE  a process that forks and exits in a loop, so that its
 *                   pid keeps changing; each hop appends its pid to PIDFILE
 *                   (stops after 20 s, or when PIDFILE.stop exists)
 *   clone3-user     clone3() with CLONE_NEWUSER (seccomp cannot read the
 *                   flags behind the pointer)
 *   pidfd-kill PID  pidfd_open(PID) + pidfd_send_signal(SIGKILL)
 *   tgkill PID      tgkill(PID, PID, SIGKILL)
 *   parent-mem      open /proc/PPID/mem (the supervisor's memory) for writing
 *   fds             list every open fd above 2 and read what it gives
 *   persist HEARTBEAT FORBIDDEN MARKER  for 20 s: append a line to
 *                   HEARTBEAT and try to start FORBIDDEN, every 50 ms (run.sh
 *                   kills the supervisor meanwhile: the guard must fail
 *                   closed)
 *   persist-deep HEARTBEAT FORBIDDEN MARKER  the same in a setsid grandchild
 *                   while the main process waits
 * When FORBIDDEN and MARKER follow, the attack then tries to execve
 * FORBIDDEN, to show that the guard still holds after the attempt.
 */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <dirent.h>
#include <linux/sched.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "atk.h"

extern char **environ;

/* Prints NEWNS when the caller now lives in a different namespace of the
 * given kind than the one it started in. */
static void report_ns(const char *kind, const char *before)
{
	char path[64], now[128] = "";
	snprintf(path, sizeof path, "/proc/self/ns/%s", kind);
	ssize_t n = readlink(path, now, sizeof now - 1);
	if (n > 0)
		now[n] = '\0';
	if (strcmp(now, before) != 0)
		printf("NEWNS %s %s -> %s\n", kind, before, now);
}

static void daemonize(const char *pidfile)
{
	pid_t pid = fork();
	if (pid < 0)
		atk_die("fork: %m");
	if (pid > 0) {
		waitpid(pid, NULL, 0);
		/* Leave only once the daemon is up, so that the test sees it. */
		for (int i = 0; i < 200 && access(pidfile, F_OK) != 0; i++)
			usleep(10000);
		printf("daemon: parent done\n");
		return;
	}
	setsid();
	pid = fork();
	if (pid != 0)
		_exit(0);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	int fd = open(pidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		dprintf(fd, "%d\n", (int)getpid());
		close(fd);
	}
	int devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
	}
	for (int i = 0; i < 60; i++)
		sleep(1);
	_exit(0);
}

/* Fork-and-exit forever: each hop writes its pid, the parent exits. */
static void runner(const char *pidfile)
{
	time_t end = time(NULL) + 20;
	if (fork() != 0)
		return;
	setsid();
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	char stop[4096];
	snprintf(stop, sizeof stop, "%s.stop", pidfile);
	while (time(NULL) < end && access(stop, F_OK) != 0) {
		pid_t pid = fork();
		if (pid > 0)
			_exit(0);
		if (pid < 0)
			usleep(1000);
		int fd = open(pidfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd >= 0) {
			dprintf(fd, "%d\n", (int)getpid());
			close(fd);
		}
		usleep(5000);
	}
	_exit(0);
}

static void list_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int self = d ? dirfd(d) : -1;
	while (d && (e = readdir(d))) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] == '.' || fd <= 2 || fd == self)
			continue;
		char link[64], target[512] = "";
		snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
		ssize_t n = readlink(link, target, sizeof target - 1);
		if (n > 0)
			target[n] = '\0';
		char buf[256];
		ssize_t got = pread(fd, buf, sizeof buf - 1, 0);
		if (got < 0)
			got = read(fd, buf, sizeof buf - 1);
		buf[got > 0 ? got : 0] = '\0';
		printf("LEAKED-FD %d -> %s: %s\n", fd, target, buf);
	}
	if (d)
		closedir(d);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		atk_die("usage: atk-proc MODE [ARG] [FORBIDDEN MARKER]");
	const char *mode = argv[1];
	int next = 2;
	long rc = 0;
	char userns[128] = "", netns[128] = "";
	ssize_t n = readlink("/proc/self/ns/user", userns, sizeof userns - 1);
	if (n > 0)
		userns[n] = '\0';
	n = readlink("/proc/self/ns/net", netns, sizeof netns - 1);
	if (n > 0)
		netns[n] = '\0';

	if (!strcmp(mode, "ptrace-parent")) {
		pid_t parent = getppid();
		rc = ptrace(PTRACE_ATTACH, parent, NULL, NULL);
		if (rc == 0) {
			waitpid(parent, NULL, __WALL);
			printf("TRACED %d\n", (int)parent);
			/* Hold the supervisor stopped for a while, as an attacker would. */
			sleep(2);
			ptrace(PTRACE_DETACH, parent, NULL, NULL);
		}
	} else if (!strcmp(mode, "kill-parent")) {
		rc = kill(getppid(), SIGKILL);
	} else if (!strcmp(mode, "kill")) {
		if (argc < 3)
			atk_die("kill needs a PID");
		rc = kill((pid_t)strtol(argv[2], NULL, 10), SIGKILL);
		next = 3;
	} else if (!strcmp(mode, "kill-all")) {
		rc = kill(-1, SIGKILL);
	} else if (!strcmp(mode, "kill-group")) {
		signal(SIGTERM, SIG_IGN);
		rc = kill(0, SIGTERM);
	} else if (!strcmp(mode, "unshare-user")) {
		rc = unshare(CLONE_NEWUSER);
		report_ns("user", userns);
	} else if (!strcmp(mode, "unshare-net")) {
		rc = unshare(CLONE_NEWNET);
		report_ns("net", netns);
	} else if (!strcmp(mode, "clone-user")) {
		rc = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);
		if (rc == 0) {
			report_ns("user", userns);
			fflush(stdout);
			_exit(0);
		}
		if (rc > 0)
			waitpid((pid_t)rc, NULL, 0);
	} else if (!strcmp(mode, "clone3-user")) {
		struct clone_args ca;
		memset(&ca, 0, sizeof ca);
		ca.flags = CLONE_NEWUSER;
		ca.exit_signal = SIGCHLD;
		rc = syscall(SYS_clone3, &ca, sizeof ca);
		if (rc == 0) {
			report_ns("user", userns);
			fflush(stdout);
			_exit(0);
		}
		if (rc > 0)
			waitpid((pid_t)rc, NULL, 0);
	} else if (!strcmp(mode, "pidfd-kill") || !strcmp(mode, "tgkill")) {
		if (argc < 3)
			atk_die("%s needs a PID", mode);
		pid_t pid = (pid_t)strtol(argv[2], NULL, 10);
		next = 3;
		if (!strcmp(mode, "tgkill")) {
			rc = syscall(SYS_tgkill, pid, pid, SIGKILL);
		} else {
			int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
			rc = pfd < 0 ? -1 : syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
		}
	} else if (!strcmp(mode, "parent-mem")) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/mem", (int)getppid());
		rc = open(path, O_RDWR | O_CLOEXEC);
		if (rc >= 0)
			printf("PARENT-MEM-OPEN\n");
	} else if (!strcmp(mode, "persist") || !strcmp(mode, "persist-deep")) {
		if (argc < 5)
			atk_die("persist needs HEARTBEAT FORBIDDEN MARKER");
		if (!strcmp(mode, "persist-deep")) {
			pid_t pid = fork();
			if (pid > 0) {
				for (int i = 0; i < 20; i++)
					sleep(1);
				return 0;
			}
			setsid();
		}
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
		for (int i = 0; i < 400; i++) {
			int fd = open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
			if (fd >= 0) {
				dprintf(fd, "beat %d\n", i);
				close(fd);
			}
			pid_t pid = fork();
			if (pid == 0) {
				char *args[] = { "true", argv[4], NULL };
				execve(argv[3], args, environ);
				_exit(1);
			}
			if (pid > 0)
				waitpid(pid, NULL, 0);
			usleep(50000);
		}
		return 0;
	} else if (!strcmp(mode, "fds")) {
		list_fds();
	} else if (!strcmp(mode, "runner")) {
		if (argc < 3)
			atk_die("runner needs a PIDFILE");
		runner(argv[2]);
		usleep(300000);
		next = 3;
	} else if (!strcmp(mode, "daemon-deep")) {
		if (argc < 3)
			atk_die("daemon-deep needs a PIDFILE");
		next = 3;
		if (fork() == 0) {
			/* The middle: stays, ignores SIGTERM, parent of the daemon. */
			signal(SIGTERM, SIG_IGN);
			signal(SIGHUP, SIG_IGN);
			if (fork() == 0) {
				setsid();
				signal(SIGTERM, SIG_IGN);
				signal(SIGHUP, SIG_IGN);
				int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
				if (fd >= 0) {
					dprintf(fd, "%d\n", (int)getpid());
					close(fd);
				}
				for (int i = 0; i < 60; i++)
					sleep(1);
				_exit(0);
			}
			for (int i = 0; i < 60; i++)
				sleep(1);
			_exit(0);
		}
		usleep(200000);
	} else if (!strcmp(mode, "daemon")) {
		if (argc < 3)
			atk_die("daemon needs a PIDFILE");
		daemonize(argv[2]);
		next = 3;
	} else {
		atk_die("unknown mode %s", mode);
	}
	atk_report(mode, rc, errno);

	if (argc >= next + 2) {
		char *args[] = { "true", argv[next + 1], NULL };
		execve(argv[next], args, environ);
		atk_report("execve after attack", -1, errno);
	}
	return 0;
}
