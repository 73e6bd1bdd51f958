/* cg-listener KIND ADDR PORT LOG - a listener that records every contact.
 *
 * KIND: tcp, udp (ADDR IPv4 or IPv6), unix, unix-dgram (ADDR a path, '@'
 * for abstract; PORT ignored; PORT 0 picks a free one).  Writes
 * "READY <port>" to LOG once it listens,
 * then one line per connection or datagram.  Runs until killed.  The
 * attacks' tests pass when nothing but READY is in LOG.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "atk.h"

/* One line per contact: the payload is cut at its first newline. */
static void log_line(int log, const char *what, const char *buf, ssize_t n)
{
	int len = (int)(n > 0 ? (n > 64 ? 64 : n) : 0);
	const char *nl = buf ? memchr(buf, '\n', (size_t)len) : NULL;
	if (nl)
		len = (int)(nl - buf);
	dprintf(log, "%s %.*s\n", what, len, buf ? buf : "");
}

int main(int argc, char **argv)
{
	if (argc != 5)
		atk_die("usage: cg-listener KIND ADDR PORT LOG");
	const char *kind = argv[1], *addr = argv[2];
	int log = open(argv[4], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log < 0)
		atk_die("open %s: %m", argv[4]);
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int family;
	int is_unix = !strncmp(kind, "unix", 4);
	int type = (!strcmp(kind, "udp") || !strcmp(kind, "unix-dgram")) ? SOCK_DGRAM : SOCK_STREAM;
	if (is_unix) {
		struct sockaddr_un *sun = (struct sockaddr_un *)&ss;
		size_t n = strlen(addr);
		if (n >= sizeof sun->sun_path)
			atk_die("path too long");
		family = sun->sun_family = AF_UNIX;
		memcpy(sun->sun_path, addr, n);
		if (addr[0] == '@')
			sun->sun_path[0] = '\0';
		else
			unlink(addr);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (addr[0] == '@' ? 0 : 1));
	} else {
		unsigned short port = (unsigned short)strtoul(argv[3], NULL, 10);
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
			family = sin->sin_family = AF_INET;
			sin->sin_port = htons(port);
			len = sizeof *sin;
		} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
			family = sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons(port);
			len = sizeof *sin6;
		} else {
			atk_die("bad address %s", addr);
		}
	}
	int fd = socket(family, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		atk_die("socket: %m");
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		atk_die("bind %s: %m", addr);
	if (type == SOCK_STREAM && listen(fd, 64) < 0)
		atk_die("listen: %m");
	/* PORT 0 lets the kernel choose: the log says which. */
	struct sockaddr_storage bound;
	socklen_t bound_len = sizeof bound;
	unsigned bound_port = 0;
	if (!is_unix && getsockname(fd, (struct sockaddr *)&bound, &bound_len) == 0)
		bound_port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port
						     : ((struct sockaddr_in6 *)&bound)->sin6_port);
	dprintf(log, "READY %u\n", bound_port);
	char buf[256];
	for (;;) {
		if (type == SOCK_DGRAM) {
			ssize_t n = recv(fd, buf, sizeof buf, 0);
			if (n >= 0)
				log_line(log, "DATAGRAM", buf, n);
			continue;
		}
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		log_line(log, "CONNECTION", NULL, 0);
		/* Read what the client sends, but never wait long for it. */
		struct timeval tv = { 1, 0 };
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		ssize_t n = read(c, buf, sizeof buf);
		if (n > 0)
			log_line(log, "DATA", buf, n);
		close(c);
	}
}
