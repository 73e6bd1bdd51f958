/* atk-notify FORBIDDEN MARKER - answer our own exec notifications.
 *
 * When several seccomp filters return USER_NOTIF for one system call, the
 * kernel notifies the listener of the newest filter.  If the command could
 * stack a filter of its own with a listener, it would receive its own
 * execve notifications and say CONTINUE, and the supervisor would never
 * see the exec.  The kernel refuses a second listener in one filter chain
 * (EBUSY); this attack checks that it does here, and carries the attack
 * through if it does not.
 */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atk.h"

extern char **environ;

int main(int argc, char **argv)
{
	if (argc != 3)
		atk_die("usage: atk-notify FORBIDDEN MARKER");
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_execve, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof code / sizeof code[0], .filter = code };
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	long listener = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	atk_report("seccomp listener", listener, errno);
	if (listener < 0)
		return 1;

	pid_t pid = fork();
	if (pid == 0) {
		char *args[] = { "true", argv[2], NULL };
		execve(argv[1], args, environ);
		_exit(1);
	}
	/* Answer every notification of ours with CONTINUE until the child
	 * ends (we hold the filter too, so the listener never reports the
	 * end: poll with a timeout and look at the child). */
	for (int i = 0; i < 50; i++) {
		struct pollfd pfd = { .fd = (int)listener, .events = POLLIN };
		if (poll(&pfd, 1, 200) == 1) {
			struct seccomp_notif req;
			struct seccomp_notif_resp resp;
			memset(&req, 0, sizeof req);
			if (ioctl((int)listener, SECCOMP_IOCTL_NOTIF_RECV, &req) == 0) {
				memset(&resp, 0, sizeof resp);
				resp.id = req.id;
				resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
				if (ioctl((int)listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) == 0)
					printf("answered CONTINUE for pid %d\n", (int)req.pid);
			}
		}
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return 0;
	}
	waitpid(pid, NULL, 0);
	return 0;
}
