/* atk-exec MODE PROGRAM MARKER - start PROGRAM by one exec path.
 *
 * The new program gets argv { "true", MARKER }: argv[0] lies about its
 * name, so only the program's real identity can give it away.  Built
 * dynamically (the preload shim sees the libc calls) and statically
 * (atk-exec-static: only the kernel layers can see it).
 *
 * MODE: execve execveat execveat-empty fexecve memfd syscall asm int80 x32
 *   execveat-empty  execveat(fd, "", AT_EMPTY_PATH) on an O_PATH fd
 *   memfd           copy PROGRAM into a memfd named after it, fexecve it
 *   memfd-innocent  the same with the memfd named "true"
 *   syscall         syscall(SYS_execve), no libc wrapper
 *   asm             the `syscall` instruction itself (no libc at all)
 *   int80           the ia32 entry (int $0x80, eax=11) from 64-bit code
 *   x32             the x32 ABI (nr 520 | __X32_SYSCALL_BIT)
 *   unsetenv        unsetenv("LD_PRELOAD"), then execv
 *   emptyenv        execve with an empty environment
 *   ldso            execve the dynamic loader with PROGRAM as its argument
 *                   (the loader maps PROGRAM: no exec of PROGRAM at all)
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "atk.h"

extern char **environ;

static int copy_to_memfd(const char *program, const char *name)
{
	int in = open(program, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		atk_die("open %s: %m", program);
	int fd = memfd_create(name, MFD_CLOEXEC);
	if (fd < 0)
		atk_die("memfd_create: %m");
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(fd, buf, (size_t)n) != n)
			atk_die("write memfd: %m");
	close(in);
	return fd;
}

/* ia32 and x32 take 32-bit pointers: put the strings and the argv array
 * below 4 GiB. */
struct low32 {
	char path[4096];
	char arg0[8];
	char marker[4096];
	uint32_t argv[3];
};

static struct low32 *low32_args(const char *program, const char *marker)
{
	struct low32 *l = mmap(NULL, sizeof *l, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (l == MAP_FAILED)
		atk_die("mmap MAP_32BIT: %m");
	snprintf(l->path, sizeof l->path, "%s", program);
	snprintf(l->arg0, sizeof l->arg0, "true");
	snprintf(l->marker, sizeof l->marker, "%s", marker);
	l->argv[0] = (uint32_t)(uintptr_t)l->arg0;
	l->argv[1] = (uint32_t)(uintptr_t)l->marker;
	l->argv[2] = 0;
	return l;
}

int main(int argc, char **argv)
{
	if (argc != 4)
		atk_die("usage: atk-exec MODE PROGRAM MARKER");
	const char *mode = argv[1], *program = argv[2], *marker = argv[3];
	char *args[] = { "true", (char *)marker, NULL };
	long rc = -1;

	if (!strcmp(mode, "execve")) {
		rc = execve(program, args, environ);
	} else if (!strcmp(mode, "execveat")) {
		rc = execveat(AT_FDCWD, program, args, environ, 0);
	} else if (!strcmp(mode, "execveat-empty")) {
		int fd = open(program, O_PATH | O_CLOEXEC);
		if (fd < 0)
			atk_die("open O_PATH %s: %m", program);
		rc = execveat(fd, "", args, environ, AT_EMPTY_PATH);
	} else if (!strcmp(mode, "fexecve")) {
		int fd = open(program, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			atk_die("open %s: %m", program);
		rc = fexecve(fd, args, environ);
	} else if (!strcmp(mode, "memfd") || !strcmp(mode, "memfd-innocent")) {
		const char *base = strrchr(program, '/') ? strrchr(program, '/') + 1 : program;
		int fd = copy_to_memfd(program, !strcmp(mode, "memfd") ? base : "true");
		rc = fexecve(fd, args, environ);
	} else if (!strcmp(mode, "syscall")) {
		rc = syscall(SYS_execve, program, args, environ);
	} else if (!strcmp(mode, "asm")) {
		__asm__ volatile("syscall"
				 : "=a"(rc)
				 : "a"((long)SYS_execve), "D"(program), "S"(args), "d"(environ)
				 : "rcx", "r11", "memory");
		if (rc < 0) {
			errno = (int)-rc;
			rc = -1;
		}
	} else if (!strcmp(mode, "int80")) {
		struct low32 *l = low32_args(program, marker);
		int ret;
		/* 11 is execve in the i386 table (and munmap in the x86-64 one:
		 * a filter that ignores the architecture lets it through). */
		__asm__ volatile("int $0x80"
				 : "=a"(ret)
				 : "a"(11), "b"(l->path), "c"(l->argv), "d"(0)
				 : "r8", "r9", "r10", "r11", "memory");
		rc = ret < 0 ? -1 : ret;
		if (ret < 0)
			errno = -ret;
	} else if (!strcmp(mode, "x32")) {
		struct low32 *l = low32_args(program, marker);
		__asm__ volatile("syscall"
				 : "=a"(rc)
				 : "a"(0x40000000L | 520), "D"((long)(uintptr_t)l->path),
				   "S"((long)(uintptr_t)l->argv), "d"(0L)
				 : "rcx", "r11", "memory");
		if (rc < 0) {
			errno = (int)-rc;
			rc = -1;
		}
	} else if (!strcmp(mode, "unsetenv")) {
		unsetenv("LD_PRELOAD");
		rc = execv(program, args);
	} else if (!strcmp(mode, "ldso")) {
		char *ld_args[] = { "ld.so", (char *)program, (char *)marker, NULL };
		rc = execve("/lib64/ld-linux-x86-64.so.2", ld_args, environ);
	} else if (!strcmp(mode, "emptyenv")) {
		char *empty[] = { NULL };
		rc = execve(program, args, empty);
	} else {
		atk_die("unknown mode %s", mode);
	}
	atk_report(mode, rc, errno);
	return 1;
}
