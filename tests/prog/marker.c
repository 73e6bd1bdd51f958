/* marker: proof that a program ran.  Appends its own name and argv[1..]
 * to the file named by argv[1], prints "marker ran", exits 0.  Copied
 * under a blocked name (mount, sudo), it is the program that must not run. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int fd;

	if (argc > 1) {
		fd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dprintf(fd, "%s ran\n", argv[0]);
			close(fd);
		}
	}
	puts("marker ran");
	return 0;
}
