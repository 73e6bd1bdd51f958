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
 * When FORBIDDEN and MARKER follow, the attack then tries to execve
 * FORBIDDEN, to show that the guard still holds after the attempt.
 */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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
