/* cg-forbidden - stands in for a blocked program.  run.sh installs copies
 * of it as "mount" (blocked by name) and under innocent names.  When it
 * runs it appends one line to the marker file named by argv[1], so a test
 * can count how often a forbidden program really started, whatever argv[0]
 * the attacker chose. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		perror(argv[1]);
		return 3;
	}
	char line[64];
	int n = snprintf(line, sizeof line, "ran %d\n", (int)getpid());
	if (write(fd, line, (size_t)n) != n)
		return 4;
	close(fd);
	puts("FORBIDDEN-PROGRAM-RAN");
	return 0;
}
