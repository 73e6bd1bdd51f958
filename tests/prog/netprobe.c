/* netprobe: connect (tcp) or send (udp) to ADDR PORT and print
 * "connect ok" / "connect errno N" or "send ok" / "send errno N".
 *   netprobe abstract NAME   connect to the abstract Unix socket @NAME
 *   netprobe abstract-own NAME   listen on @NAME, then connect to it
 *   netprobe unix PATH           connect to the Unix socket at PATH
 *   netprobe pass-fd             send a pipe's write end over a datagram
 *                                socketpair with SCM_RIGHTS, write through
 *                                the received fd; prints "pass-fd ok"
 *   netprobe udp-mmsg ADDR PORT  connect a UDP socket, then sendmmsg two
 *                                datagrams ("one", "two"), as glibc's
 *                                resolver does; prints "sent N" */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static socklen_t abstract_addr(struct sockaddr_un *un, const char *name)
{
	memset(un, 0, sizeof(*un));
	un->sun_family = AF_UNIX;
	strncpy(un->sun_path + 1, name, sizeof(un->sun_path) - 2);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd;

	if (argc == 2 && !strcmp(argv[1], "pass-fd")) {
		int pair[2], pipe_fd[2], got_fd = -1;
		char byte = 'x', buf[8] = "";
		union { struct cmsghdr hdr; char space[CMSG_SPACE(sizeof(int))]; } control;
		struct iovec iov = { &byte, 1 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = control.space, .msg_controllen = sizeof(control.space) };
		struct cmsghdr *cm;
		if (socketpair(AF_UNIX, SOCK_DGRAM, 0, pair) || pipe(pipe_fd))
			return 2;
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &pipe_fd[1], sizeof(int));
		if (sendmsg(pair[0], &mh, 0) != 1) {
			printf("sendmsg errno %d\n", errno);
			return 0;
		}
		close(pipe_fd[1]);
		mh.msg_controllen = sizeof(control.space);
		if (recvmsg(pair[1], &mh, 0) != 1 || !(cm = CMSG_FIRSTHDR(&mh)))
			return 3;
		memcpy(&got_fd, CMSG_DATA(cm), sizeof(int));
		if (write(got_fd, "ok", 2) != 2)
			return 4;
		close(got_fd);
		if (read(pipe_fd[0], buf, sizeof(buf) - 1) != 2)
			return 5;
		printf("pass-fd %s\n", buf);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "unix")) {
		struct sockaddr_un un = { .sun_family = AF_UNIX };
		strncpy(un.sun_path, argv[2], sizeof(un.sun_path) - 1);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (connect(fd, (struct sockaddr *)&un, sizeof(un)) == 0)
			printf("connect ok\n");
		else
			printf("connect errno %d\n", errno);
		return 0;
	}
	if (argc == 3 && !strncmp(argv[1], "abstract", 8)) {
		struct sockaddr_un un;
		socklen_t len = abstract_addr(&un, argv[2]);
		if (!strcmp(argv[1], "abstract-own")) {
			int server = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (bind(server, (struct sockaddr *)&un, len) || listen(server, 1))
				printf("listen errno %d\n", errno);
		}
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (connect(fd, (struct sockaddr *)&un, len) == 0)
			printf("connect ok\n");
		else
			printf("connect errno %d\n", errno);
		return 0;
	}
	if (argc < 4)
		return 2;
	sin.sin_port = htons((unsigned short)atoi(argv[3]));
	if (inet_pton(AF_INET, argv[2], &sin.sin_addr) != 1)
		return 2;
	if (!strcmp(argv[1], "udp-mmsg")) {
		struct iovec iov[2] = { { "one", 3 }, { "two", 3 } };
		struct mmsghdr mm[2];
		int n;
		memset(mm, 0, sizeof(mm));
		for (int i = 0; i < 2; i++) {
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
		}
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
			printf("connect errno %d\n", errno);
			return 0;
		}
		n = sendmmsg(fd, mm, 2, 0);
		if (n < 0)
			printf("sendmmsg errno %d\n", errno);
		else
			printf("sent %d (%u %u)\n", n, mm[0].msg_len, mm[1].msg_len);
		return 0;
	}
	if (!strcmp(argv[1], "tcp")) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
			printf("connect ok\n");
		else
			printf("connect errno %d\n", errno);
	} else {
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (sendto(fd, "x", 1, 0, (struct sockaddr *)&sin, sizeof(sin)) == 1)
			printf("send ok\n");
		else
			printf("send errno %d\n", errno);
	}
	close(fd);
	return 0;
}
