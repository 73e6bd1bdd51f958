/* netprobe: connect (tcp) or send (udp) to ADDR PORT and print
 * "connect ok" / "connect errno N" or "send ok" / "send errno N". */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd;

	if (argc < 4)
		return 2;
	sin.sin_port = htons((unsigned short)atoi(argv[3]));
	if (inet_pton(AF_INET, argv[2], &sin.sin_addr) != 1)
		return 2;
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
