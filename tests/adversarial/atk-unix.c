/* atk-unix PATH - connect to a Unix socket and send a line.  A PATH that
 * starts with '@' names an abstract socket.  run.sh judges by the
 * listener's log. */
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "atk.h"

int main(int argc, char **argv)
{
	if (argc != 3)
		atk_die("usage: atk-unix stream|dgram PATH");
	int type = !strcmp(argv[1], "dgram") ? SOCK_DGRAM : SOCK_STREAM;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t n = strlen(argv[2]);
	if (n >= sizeof sun.sun_path)
		atk_die("path too long");
	memcpy(sun.sun_path, argv[2], n);
	if (argv[2][0] == '@')
		sun.sun_path[0] = '\0';
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (argv[2][0] == '@' ? 0 : 1));
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		atk_die("socket: %m");
	static const char line[] = "CG-UNIX\n";
	long rc;
	if (type == SOCK_DGRAM) {
		rc = sendto(fd, line, sizeof line - 1, 0, (struct sockaddr *)&sun, len);
	} else {
		rc = connect(fd, (struct sockaddr *)&sun, len);
		atk_report("connect", rc, errno);
		if (rc == 0)
			rc = write(fd, line, sizeof line - 1);
	}
	atk_report(argv[1], rc, errno);
	return rc < 0 ? 1 : 0;
}
