/* interpose-exec.c - starting programs: the exec family, posix_spawn,
 * system() and popen().
 *
 * execve may run in a vfork child, on the parent's stack, with the
 * parent's other threads still holding whatever locks they hold: nothing
 * here allocates (argument and environment arrays are on the stack, or
 * mmap'd when they are too big for it).  system() and popen() are
 * ordinary calls and may parse their string with the allocating shell
 * parser.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "preload/shim.h"

extern char **environ;

/* Above this many pointers the arrays go to mmap, not the stack: a vfork
 * child or a small thread stack cannot take 64 KiB more. */
#define STACK_SLOTS 1024

struct slots {
	char **v;
	size_t n;
	bool is_mapped;
};

static int slots_get(struct slots *s, size_t n, char **stack_buf)
{
	s->n = n;
	s->is_mapped = n > STACK_SLOTS;
	if (!s->is_mapped) {
		s->v = stack_buf;
		return 0;
	}
	s->v = mmap(NULL, n * sizeof(char *), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->v == MAP_FAILED) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

static void slots_put(struct slots *s)
{
	int saved = errno;

	if (s->is_mapped)
		munmap(s->v, s->n * sizeof(char *));
	errno = saved;
}

/* Run fn with envp made whole again (LD_PRELOAD and GUARD_*). */
struct env_call {
	int kind;
	int fd;
	const char *path;
	char *const *argv;
	int flags;
	pid_t *pid;
	const posix_spawn_file_actions_t *actions;
	const posix_spawnattr_t *attr;
};

enum { CALL_EXECVE, CALL_EXECVPE, CALL_FEXECVE, CALL_EXECVEAT, CALL_SPAWN, CALL_SPAWNP };

static int call_real(const struct env_call *c, char *const env[])
{
	switch (c->kind) {
	case CALL_EXECVE:
		return shim_real.execve(c->path, c->argv, env);
	case CALL_EXECVPE:
		return shim_real.execvpe(c->path, c->argv, env);
	case CALL_FEXECVE:
		return shim_real.fexecve(c->fd, c->argv, env);
	case CALL_EXECVEAT:
		if (!shim_real.execveat) {
			errno = ENOSYS;
			return -1;
		}
		return shim_real.execveat(c->fd, c->path, c->argv, env, c->flags);
	case CALL_SPAWN:
		return shim_real.posix_spawn(c->pid, c->path, c->actions, c->attr, c->argv, env);
	default:
		return shim_real.posix_spawnp(c->pid, c->path, c->actions, c->attr, c->argv, env);
	}
}

static int with_env(const struct env_call *c, char *const envp[])
{
	char *stack_buf[STACK_SLOTS];
	char preload[PATH_MAX * 2];
	struct slots s;
	char *const *env;
	int rc;

	if (slots_get(&s, shim_env_slots(envp), stack_buf) < 0)
		return c->kind >= CALL_SPAWN ? ENOMEM : -1;
	env = shim_fix_env(envp, s.v, s.n, preload, sizeof(preload));
	rc = call_real(c, env ? env : envp);
	slots_put(&s);
	return rc;
}

static int do_execve(const char *call, const char *path, char *const argv[], char *const envp[])
{
	shim_init();
	if (shim_check_exec(call, AT_FDCWD, path, argv) < 0)
		return -1;
	struct env_call c = { .kind = CALL_EXECVE, .path = path, .argv = argv };
	return with_env(&c, envp);
}

static int do_execvpe(const char *call, const char *file, char *const argv[], char *const envp[])
{
	char found[PATH_MAX];

	shim_init();
	if (shim_is_null(file)) {
		errno = EFAULT;
		return -1;
	}
	if (shim_check_exec(call, AT_FDCWD, shim_find_program(file, getenv("PATH"), found), argv) < 0)
		return -1;
	struct env_call c = { .kind = CALL_EXECVPE, .path = file, .argv = argv };
	return with_env(&c, envp);
}

CG_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	return do_execve("execve", path, argv, envp);
}

CG_EXPORT int execv(const char *path, char *const argv[])
{
	return do_execve("execv", path, argv, environ);
}

CG_EXPORT int execvp(const char *file, char *const argv[])
{
	return do_execvpe("execvp", file, argv, environ);
}

CG_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	return do_execvpe("execvpe", file, argv, envp);
}

/* execl and friends: the arguments into an array on the stack (glibc
 * does the same).  Counted first, then copied: two passes over the list. */
#define MAX_LIST_ARGS 65536

static size_t count_list(const char *arg, va_list *ap)
{
	size_t n = 1;

	if (shim_is_null(arg))
		return 0;
	while (n <= MAX_LIST_ARGS && va_arg(*ap, const char *))
		n++;
	return n;
}

static void fill_list(char **argv, size_t n, const char *arg, va_list *ap)
{
	argv[0] = (char *)arg;
	for (size_t i = 1; i < n; i++)
		argv[i] = va_arg(*ap, char *);
	argv[n] = NULL;
}

CG_EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, arg);
	n = count_list(arg, &ap);
	va_end(ap);
	if (n > MAX_LIST_ARGS) {
		errno = E2BIG;
		return -1;
	}
	char *argv[n + 1];
	va_start(ap, arg);
	fill_list(argv, n, arg, &ap);
	va_end(ap);
	return do_execve("execl", path, argv, environ);
}

CG_EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, arg);
	n = count_list(arg, &ap);
	va_end(ap);
	if (n > MAX_LIST_ARGS) {
		errno = E2BIG;
		return -1;
	}
	char *argv[n + 1];
	va_start(ap, arg);
	fill_list(argv, n, arg, &ap);
	va_end(ap);
	return do_execvpe("execlp", file, argv, environ);
}

CG_EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	size_t n;
	char *const *envp;

	va_start(ap, arg);
	n = count_list(arg, &ap);
	va_end(ap);
	if (n > MAX_LIST_ARGS) {
		errno = E2BIG;
		return -1;
	}
	char *argv[n + 1];
	va_start(ap, arg);
	fill_list(argv, n, arg, &ap);
	if (!shim_is_null(arg))
		(void)va_arg(ap, char *);   /* the terminating NULL */
	envp = va_arg(ap, char *const *);
	va_end(ap);
	return do_execve("execle", path, argv, envp);
}

CG_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	char proc[64];

	shim_init();
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (shim_check_exec("fexecve", AT_FDCWD, proc, argv) < 0)
		return -1;
	struct env_call c = { .kind = CALL_FEXECVE, .fd = fd, .argv = argv };
	return with_env(&c, envp);
}

CG_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
		       int flags)
{
	char proc[64];
	const char *what = path;

	shim_init();
	if (!shim_is_null(path) && !path[0] && (flags & AT_EMPTY_PATH)) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dirfd);
		what = proc;
	}
	if (shim_check_exec("execveat", what == path ? dirfd : AT_FDCWD, what, argv) < 0)
		return -1;
	struct env_call c = { .kind = CALL_EXECVEAT, .fd = dirfd, .path = path, .argv = argv,
			      .flags = flags };
	return with_env(&c, envp);
}

CG_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions,
			  const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	shim_init();
	if (shim_check_exec("posix_spawn", AT_FDCWD, path, argv) < 0)
		return errno;
	struct env_call c = { .kind = CALL_SPAWN, .path = path, .argv = argv, .pid = pid,
			      .actions = actions, .attr = attr };
	return with_env(&c, envp ? envp : environ);
}

CG_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *actions,
			   const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	char found[PATH_MAX];

	shim_init();
	if (!shim_is_null(file) && shim_check_exec("posix_spawnp", AT_FDCWD,
				    shim_find_program(file, getenv("PATH"), found), argv) < 0)
		return errno;
	struct env_call c = { .kind = CALL_SPAWNP, .path = file, .argv = argv, .pid = pid,
			      .actions = actions, .attr = attr };
	return with_env(&c, envp ? envp : environ);
}

CG_EXPORT int system(const char *command)
{
	shim_init();
	if (!command)
		return shim_real.system(command);
	if (shim_check_shell("system", command) < 0)
		return -1;
	shim_restore_environ();
	return shim_real.system(command);
}

CG_EXPORT FILE *popen(const char *command, const char *mode)
{
	shim_init();
	if (shim_check_shell("popen", command) < 0)
		return NULL;
	shim_restore_environ();
	return shim_real.popen(command, mode);
}
