/* atk-report forge TOKEN | flood N - write to the shim's report socket.
 *
 * The shim reports its denials to the supervisor as datagrams on
 * $GUARD_REPORT; the shim lives in the command's own process, so the
 * command can send the same datagrams.  forge: one denial record naming
 * another pid, with TOKEN as its message.  flood: N records of 1 KiB, as
 * fast as the socket takes them.  run.sh judges by the run's result.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "atk.h"

int main(int argc, char **argv)
{
	if (argc != 3)
		atk_die("usage: atk-report forge TOKEN | flood N");
	const char *path = getenv("GUARD_REPORT");
	if (!path)
		atk_die("no GUARD_REPORT in the environment");
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		atk_die("socket: %m");
	char msg[1024];
	long n = 1, sent = 0;
	if (!strcmp(argv[1], "forge")) {
		snprintf(msg, sizeof msg, "v1\t1\texecve\t/usr/bin/innocent\tforged\tforged\tblocked\t%s", argv[2]);
	} else if (!strcmp(argv[1], "flood")) {
		n = strtol(argv[2], NULL, 10);
		memset(msg, 'A', sizeof msg - 1);
		msg[sizeof msg - 1] = '\0';
		static const char head[] = "v1\t1\texecve\t/flood\tforged\tforged\tblocked\t";
		memcpy(msg, head, sizeof head - 1);
	} else {
		atk_die("unknown mode %s", argv[1]);
	}
	for (long i = 0; i < n; i++) {
		if (sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&sun, sizeof sun) > 0)
			sent++;
		else if (errno == EAGAIN || errno == ENOBUFS)
			usleep(100);
		else
			break;
	}
	atk_report(argv[1], sent ? sent : -1, errno);
	return 0;
}
