/* flood: write MEGABYTES MiB to stdout as fast as possible (default 100),
 * then print "flood done" on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static char buf[65536];
	long total = (argc > 1 ? atol(argv[1]) : 100) * 1024 * 1024;

	memset(buf, 'x', sizeof(buf));
	while (total > 0) {
		ssize_t n = write(STDOUT_FILENO, buf, total < (long)sizeof(buf) ? (size_t)total : sizeof(buf));
		if (n <= 0)
			return 1;
		total -= n;
	}
	fputs("flood done\n", stderr);
	return 0;
}
