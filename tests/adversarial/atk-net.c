/* atk-net MODE ADDR PORT - talk to the network where the policy says no.
 *
 * MODE:
 *   tcp           connect(2) over TCP, then send a line
 *   udp-connect   connect(2) a UDP socket, then send(2)
 *   udp-sendto    sendto(2) with the address
 *   udp-sendmsg   sendmsg(2) with msg_name
 *   udp-sendmmsg  sendmmsg(2) with two messages
 *   tcp-fastopen  sendto(2) with MSG_FASTOPEN on a TCP socket
 *   listen        bind(ADDR, PORT) and listen(2); prints LISTENING
 * ADDR is IPv4 or IPv6.  run.sh judges by the listener's log.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "atk.h"

static const char line[] = "CG-EGRESS\n";

int main(int argc, char **argv)
{
	if (argc != 4)
		atk_die("usage: atk-net MODE ADDR PORT");
	const char *mode = argv[1];
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int family;
	unsigned short port = (unsigned short)strtoul(argv[3], NULL, 10);
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, argv[2], &sin->sin_addr) == 1) {
		family = sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		len = sizeof *sin;
	} else if (inet_pton(AF_INET6, argv[2], &sin6->sin6_addr) == 1) {
		family = sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		len = sizeof *sin6;
	} else {
		atk_die("bad address %s", argv[2]);
	}
	struct sockaddr *sa = (struct sockaddr *)&ss;
	int is_tcp = !strcmp(mode, "tcp") || !strcmp(mode, "tcp-fastopen") || !strcmp(mode, "listen");
	int fd = socket(family, (is_tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		atk_die("socket: %m");
	long rc;

	if (!strcmp(mode, "tcp") || !strcmp(mode, "udp-connect")) {
		rc = connect(fd, sa, len);
		atk_report("connect", rc, errno);
		if (rc == 0)
			rc = send(fd, line, sizeof line - 1, MSG_NOSIGNAL);
	} else if (!strcmp(mode, "udp-sendto")) {
		rc = sendto(fd, line, sizeof line - 1, 0, sa, len);
	} else if (!strcmp(mode, "tcp-fastopen")) {
		rc = sendto(fd, line, sizeof line - 1, MSG_FASTOPEN | MSG_NOSIGNAL, sa, len);
	} else if (!strcmp(mode, "udp-sendmsg")) {
		struct iovec iov = { (void *)line, sizeof line - 1 };
		struct msghdr msg = { .msg_name = sa, .msg_namelen = len, .msg_iov = &iov, .msg_iovlen = 1 };
		rc = sendmsg(fd, &msg, 0);
	} else if (!strcmp(mode, "udp-sendmmsg")) {
		struct iovec iov = { (void *)line, sizeof line - 1 };
		struct mmsghdr msgs[2];
		memset(msgs, 0, sizeof msgs);
		for (int i = 0; i < 2; i++) {
			msgs[i].msg_hdr.msg_name = sa;
			msgs[i].msg_hdr.msg_namelen = len;
			msgs[i].msg_hdr.msg_iov = &iov;
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		rc = sendmmsg(fd, msgs, 2, 0);
	} else if (!strcmp(mode, "listen")) {
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		rc = bind(fd, sa, len);
		atk_report("bind", rc, errno);
		if (rc == 0) {
			rc = listen(fd, 8);
			if (rc == 0)
				printf("LISTENING\n");
		}
	} else {
		atk_die("unknown mode %s", mode);
	}
	atk_report(mode, rc, errno);
	close(fd);
	return rc < 0 ? 1 : 0;
}
