/* atk-limits MODE ARG... - resource abuse.
 *
 * MODE:
 *   flood BYTES        write BYTES to stdout as fast as possible
 *   forkbomb LOG       every process forks forever and logs one line per
 *                      child it made; capped at 1000 processes and 30 s of
 *                      its own so that a broken guard cannot take the
 *                      machine down with it
 *   memory BYTES       allocate and touch BYTES; prints ALLOCATED-ALL
 *   fsize PATH BYTES   write BYTES to PATH; prints the size reached
 */
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atk.h"

static int flood(uint64_t bytes)
{
	static char buf[65536];
	memset(buf, 'A', sizeof buf);
	buf[sizeof buf - 1] = '\n';
	uint64_t done = 0;
	while (done < bytes) {
		ssize_t n = write(STDOUT_FILENO, buf, sizeof buf);
		if (n <= 0)
			return 1;
		done += (uint64_t)n;
	}
	return 0;
}

static int forkbomb(const char *log)
{
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		atk_die("open %s: %m", log);
	/* The safety cap, exact: a counter shared by the whole tree. */
	atomic_int *made = mmap(NULL, sizeof *made, PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (made == MAP_FAILED)
		atk_die("mmap: %m");
	time_t end = time(NULL) + 30;
	for (;;) {
		if (time(NULL) > end)
			_exit(0);
		if (atomic_fetch_add(made, 1) >= 1000) {
			atomic_fetch_sub(made, 1);
			sleep(1);
			continue;
		}
		pid_t pid = fork();
		if (pid == 0) {
			if (write(fd, "made\n", 5) != 5)
				_exit(1);
			continue;
		}
		if (pid < 0) {
			atomic_fetch_sub(made, 1);
			usleep(10000);
		}
	}
}

static int memory(uint64_t bytes)
{
	const uint64_t chunk = 64u << 20;
	uint64_t done = 0;
	while (done < bytes) {
		char *p = mmap(NULL, chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			printf("allocated %llu MiB, then: %m\n", (unsigned long long)(done >> 20));
			return 1;
		}
		for (uint64_t i = 0; i < chunk; i += 4096)
			p[i] = 1;
		done += chunk;
	}
	printf("ALLOCATED-ALL %llu MiB\n", (unsigned long long)(done >> 20));
	return 0;
}

static int fsize(const char *path, uint64_t bytes)
{
	static char buf[1 << 20];
	memset(buf, 'B', sizeof buf);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		atk_die("open %s: %m", path);
	/* Ignore SIGXFSZ so that the limit shows as EFBIG and we can report. */
	signal(SIGXFSZ, SIG_IGN);
	uint64_t done = 0;
	while (done < bytes) {
		ssize_t n = write(fd, buf, sizeof buf);
		if (n <= 0) {
			printf("wrote %llu bytes, then: %m\n", (unsigned long long)done);
			return 1;
		}
		done += (uint64_t)n;
	}
	printf("WROTE-ALL %llu\n", (unsigned long long)done);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		atk_die("usage: atk-limits MODE ARG...");
	const char *mode = argv[1];
	if (!strcmp(mode, "flood"))
		return flood(strtoull(argv[2], NULL, 10));
	if (!strcmp(mode, "forkbomb"))
		return forkbomb(argv[2]);
	if (!strcmp(mode, "memory"))
		return memory(strtoull(argv[2], NULL, 10));
	if (!strcmp(mode, "fsize") && argc == 4)
		return fsize(argv[2], strtoull(argv[3], NULL, 10));
	atk_die("unknown mode %s", mode);
}
