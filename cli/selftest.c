/* selftest.c - `guardctl selftest [--config FILE] [--json]`.
 *
 * Proves, on this machine with this build and this policy, that every
 * layer is there and refuses what it should, judging each check by its
 * effect: the marker file was not created, the secret's content did not
 * appear, the grandchild's end of a FIFO was closed.  Three groups:
 *
 *   environment  what the kernel offers (guard/probe.c) and so which
 *                layers a run will use; a missing feature is a failed
 *                check with a sentence on what it means and how to get it
 *   static       cg_decide() on safe and dangerous commands, paths, a
 *                repo profile; the rate limiter on a private state dir
 *   runtime      real runs through guard-exec (found beside this binary)
 *                of this same binary's hidden `selftest --child ACTION`,
 *                which attempts the forbidden thing with raw system calls
 *                so that the kernel layers, not the shim, are what stop it
 *
 * Everything it creates lives in private temporary directories that are
 * removed at the end; the real rate-limit state is never opened.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/options.h"
#include "cli/selftest.h"

extern char **environ;

#define PRELOAD_NAME "libguard-preload.so"
#define CHILD_FLAG "--child"

/* Each run is bounded, and all of them together too: the self-test
 * promises an answer in under 10 s even when guard-exec hangs. */
enum { MAX_CHECKS = 64, CAPTURE_BYTES = 64 * 1024, RUN_BOUND_MS = 5000, BUDGET_MS = 9000 };

enum result { RESULT_PASS, RESULT_FAIL, RESULT_INFO };

struct check {
	char name[96];
	const char *layer;
	enum result result;
	double ms;
	char detail[768];
};

struct selftest {
	struct check checks[MAX_CHECKS];
	size_t n_checks;
	const char *config_path;
	struct cg_cli_env env;
	bool has_env;
	struct cg_probe probe;
	char self[PATH_MAX];          /* this binary: the helper the runs start */
	char guard_exec[PATH_MAX];
	bool has_guard_exec;
	char preload[PATH_MAX];
	bool has_preload;
	char root_dir[64];            /* private: workspace and state below it */
	char workspace[96];
	char state_dir[96];
	char secret_dir[64];          /* outside every readable path */
	char ticket[64];
	char token[40];               /* random; the secret's content */
	double deadline_ms;           /* now_ms() past which no run starts */
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Record one check.  `detail` says what was seen and, for a failure, what
 * it means and how to fix it. */
static void record(struct selftest *st, const char *layer, const char *name, enum result result,
		   double started_ms, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void record(struct selftest *st, const char *layer, const char *name, enum result result,
		   double started_ms, const char *fmt, ...)
{
	struct check *c;
	va_list ap;

	if (st->n_checks == MAX_CHECKS)
		return;
	c = &st->checks[st->n_checks++];
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->layer = layer;
	c->result = result;
	c->ms = started_ms > 0 ? now_ms() - started_ms : 0;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ */
/* The helper: `guardctl selftest --child ACTION`, run under guard-exec.
 * It reports with "key=value" lines on stdout.  Raw syscall() is used
 * where the LD_PRELOAD shim would otherwise answer first, so that these
 * checks see the kernel layers. */

/* Start the two copies of this binary, the allowed and the blocked one,
 * each told to create its marker file. */
static void child_exec(void)
{
	const char *names[2] = { "allowed", "blocked" };
	const char *paths[2] = { getenv("CG_SELFTEST_EXEC_ALLOWED"), getenv("CG_SELFTEST_EXEC_BLOCKED") };
	const char *markers[2] = { getenv("CG_SELFTEST_MARKER_ALLOWED"),
				   getenv("CG_SELFTEST_MARKER_BLOCKED") };

	for (int i = 0; i < 2; i++) {
		int status = 0;
		pid_t pid;

		if (!paths[i] || !markers[i])
			continue;
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			char *argv[] = { (char *)paths[i], "selftest", CHILD_FLAG, "marker",
					 (char *)markers[i], NULL };
			syscall(SYS_execve, paths[i], argv, environ);
			printf("%s_errno=%d\n", names[i], errno);
			fflush(stdout);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &status, 0) < 0)
			printf("%s_wait=%d\n", names[i], errno);
		else
			printf("%s_status=%d\n", names[i], status);
	}
}

static void child_marker(const char *path)
{
	long fd = syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	if (fd >= 0)
		close((int)fd);
	printf("marker=%s\n", fd >= 0 ? "created" : strerror(errno));
}

static void child_read(void)
{
	const char *names[2] = { "public", "secret" };
	const char *paths[2] = { getenv("CG_SELFTEST_READ_PUBLIC"), getenv("CG_SELFTEST_READ_SECRET") };
	char buf[256];

	for (int i = 0; i < 2; i++) {
		long fd;
		ssize_t n;

		if (!paths[i])
			continue;
		fd = syscall(SYS_openat, AT_FDCWD, paths[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			printf("%s_errno=%d\n", names[i], errno);
			continue;
		}
		n = read((int)fd, buf, sizeof(buf) - 1);
		close((int)fd);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		printf("%s_content=%s\n", names[i], buf);
	}
}

static void child_system(void)
{
	const char *names[2] = { "allowed", "blocked" };
	const char *commands[2] = { getenv("CG_SELFTEST_SHELL_ALLOWED"), getenv("CG_SELFTEST_SHELL_BLOCKED") };

	for (int i = 0; i < 2; i++) {
		int rc;

		if (!commands[i])
			continue;
		fflush(stdout);
		errno = 0;
		rc = system(commands[i]);
		printf("%s_system=%d\n%s_errno=%d\n", names[i], rc, names[i], errno);
	}
}

static void child_fork_loop(unsigned max)
{
	pid_t *pids = calloc(max, sizeof(*pids));
	unsigned n = 0;
	int error = 0;

	if (!pids)
		return;
	fflush(stdout);
	for (; n < max; n++) {
		pid_t pid = fork();
		if (pid < 0) {
			error = errno;
			break;
		}
		if (pid == 0) {
			pause();
			_exit(0);
		}
		pids[n] = pid;
	}
	for (unsigned i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	for (unsigned i = 0; i < n; i++)
		waitpid(pids[i], NULL, 0);
	free(pids);
	printf("forked=%u\nfork_errno=%d\n", n, error);
}

static void child_flood(unsigned long bytes)
{
	char block[65536];

	memset(block, 'x', sizeof(block));
	while (bytes > 0) {
		size_t chunk = bytes < sizeof(block) ? bytes : sizeof(block);
		ssize_t n = write(STDOUT_FILENO, block, chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		bytes -= (unsigned long)n;
	}
}

/* A daemon the usual way: fork, setsid, fork again, let the middle one
 * exit.  The grandchild holds the FIFO open for writing for as long as it
 * lives, which the parent checks after guard-exec has returned; its other
 * fds go to /dev/null so that only process cleanup, not a held pipe, is
 * under test. */
static void child_daemon(void)
{
	const char *fifo = getenv("CG_SELFTEST_FIFO");
	int ready[2], status;
	pid_t middle;
	char pid_text[32] = "";

	if (!fifo || pipe2(ready, O_CLOEXEC) < 0)
		return;
	fflush(stdout);
	middle = fork();
	if (middle == 0) {
		close(ready[0]);
		setsid();
		if (fork() == 0) {
			/* raw calls: the shim is not what this check is about */
			int fd = (int)syscall(SYS_openat, AT_FDCWD, fifo, O_RDWR | O_CLOEXEC);
			int null_fd = (int)syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDWR | O_CLOEXEC);
			char text[32];
			int len = snprintf(text, sizeof(text), "%d", fd < 0 ? -errno : (int)getpid());
			signal(SIGHUP, SIG_IGN);
			if (write(ready[1], text, (size_t)len) < 0)
				_exit(1);
			close(ready[1]);
			dup2(null_fd, STDIN_FILENO);
			dup2(null_fd, STDOUT_FILENO);
			dup2(null_fd, STDERR_FILENO);
			for (;;)
				pause();
		}
		_exit(0);
	}
	close(ready[1]);
	if (middle > 0) {
		ssize_t n = read(ready[0], pid_text, sizeof(pid_text) - 1);
		pid_text[n > 0 ? n : 0] = '\0';
		waitpid(middle, &status, 0);
	}
	close(ready[0]);
	printf("daemon=%s\n", pid_text[0] ? pid_text : "none");
}

/* Who the command runs as, and with which capabilities (read with a raw
 * call: the shim must not be what answers). */
static void child_ids(void)
{
	char buf[4096];
	long fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read((int)fd, buf, sizeof(buf) - 1) : -1;
	const char *eff, *bnd;

	if (fd >= 0)
		close((int)fd);
	buf[n > 0 ? n : 0] = '\0';
	eff = strstr(buf, "\nCapEff:");
	bnd = strstr(buf, "\nCapBnd:");
	printf("uid=%d\neuid=%d\ngid=%d\n", (int)getuid(), (int)geteuid(), (int)getgid());
	printf("cap_eff=%llx\ncap_bnd=%llx\n",
	       eff ? strtoull(eff + strlen("\nCapEff:"), NULL, 16) : ~0ULL,
	       bnd ? strtoull(bnd + strlen("\nCapBnd:"), NULL, 16) : ~0ULL);
}

/* "ok", or "errno=N@step". */
static void try_listen(const char *name, uint32_t addr)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(addr) };
	long fd = syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	const char *step = "socket";

	if (fd >= 0) {
		step = "bind";
		if (syscall(SYS_bind, fd, (struct sockaddr *)&sin, sizeof(sin)) == 0) {
			step = "listen";
			if (syscall(SYS_listen, fd, 1) == 0)
				step = NULL;
		}
	}
	if (step)
		printf("%s=errno=%d@%s\n", name, errno, step);
	else
		printf("%s=ok\n", name);
	if (fd >= 0)
		close((int)fd);
}

/* One DNS question (type A) for `name` to the first name server of the
 * run's /etc/resolv.conf: "nameserver=IP", then "rcode=N" or why not. */
static void child_dns(const char *name)
{
	unsigned char q[300] = { 0x43, 0x47, 0x01, 0x00, 0, 1 }, a[512];
	struct sockaddr_in ns = { .sin_family = AF_INET, .sin_port = htons(53) };
	char line[256], addr[64] = "";
	size_t at = 12;
	FILE *f = fopen("/etc/resolv.conf", "re");
	int fd;

	while (f && fgets(line, sizeof(line), f) && !addr[0])
		if (sscanf(line, " nameserver %63s", addr) != 1)
			addr[0] = '\0';
	if (f)
		fclose(f);
	printf("nameserver=%s\n", addr[0] ? addr : "none");
	if (!addr[0] || inet_pton(AF_INET, addr, &ns.sin_addr) != 1)
		return;
	for (const char *label = name; *label; ) {
		size_t len = strcspn(label, ".");
		q[at++] = (unsigned char)len;
		memcpy(q + at, label, len);
		at += len;
		label += len + (label[len] == '.');
	}
	q[at++] = 0;
	q[at++] = 0, q[at++] = 1, q[at++] = 0, q[at++] = 1;   /* A, IN */
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || sendto(fd, q, at, 0, (struct sockaddr *)&ns, sizeof(ns)) < 0) {
		printf("send=errno=%d\n", errno);
	} else {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n = poll(&pfd, 1, 3000) == 1 ? recv(fd, a, sizeof(a), 0) : -1;
		if (n >= 12 && a[0] == q[0] && a[1] == q[1])
			printf("rcode=%d\n", a[3] & 0x0f);
		else
			printf("answer=none\n");
	}
	if (fd >= 0)
		close(fd);
}

static int run_child(int argc, char **argv)
{
	const char *action = argc > 2 ? argv[2] : "";

	if (strcmp(action, "exec") == 0)
		child_exec();
	else if (strcmp(action, "read") == 0)
		child_read();
	else if (strcmp(action, "system") == 0)
		child_system();
	else if (strcmp(action, "nnp") == 0)
		printf("no_new_privs=%d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	else if (strcmp(action, "forkloop") == 0 && argc > 3)
		child_fork_loop((unsigned)strtoul(argv[3], NULL, 10));
	else if (strcmp(action, "ids") == 0)
		child_ids();
	else if (strcmp(action, "marker") == 0 && argc > 3)
		child_marker(argv[3]);
	else if (strcmp(action, "flood") == 0 && argc > 3)
		child_flood(strtoul(argv[3], NULL, 10));
	else if (strcmp(action, "daemon") == 0)
		child_daemon();
	else if (strcmp(action, "listen") == 0) {
		try_listen("any", INADDR_ANY);
		try_listen("loopback", INADDR_LOOPBACK);
	} else if (strcmp(action, "dns") == 0 && argc > 3) {
		child_dns(argv[3]);
	} else {
		fprintf(stderr, "guardctl selftest: unknown helper action '%s'\n", action);
		return 2;
	}
	fflush(stdout);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Running guard-exec */

struct run {
	int status;          /* guard-exec's exit status; -1 when it did not exit */
	bool over_bound;     /* our own time bound was hit and it was killed */
	double ms;
	char out[CAPTURE_BYTES], err[CAPTURE_BYTES];
	size_t out_len, err_len;
	unsigned long long out_total, err_total;
	char failure[PATH_MAX + 128];   /* why it could not be started */
};

/* The value of "key=" in the helper's output, copied into buf; NULL when
 * the key is not there. */
static const char *field(const struct run *r, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);

	for (const char *line = r->out; line && *line; ) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		if (len > klen && strncmp(line, key, klen) == 0 && line[klen] == '=') {
			snprintf(buf, size, "%.*s", (int)(len - klen - 1), line + klen + 1);
			return buf;
		}
		line = end ? end + 1 : NULL;
	}
	return NULL;
}

static long field_long(const struct run *r, const char *key, long missing)
{
	char buf[64];

	return field(r, key, buf, sizeof(buf)) ? strtol(buf, NULL, 10) : missing;
}

/* The first "guard:" line guard-exec wrote to stderr, for details. */
static const char *guard_line(const struct run *r, char *buf, size_t size)
{
	const char *at = strstr(r->err, "guard:");

	buf[0] = '\0';
	if (at)
		snprintf(buf, size, "%.*s", (int)strcspn(at, "\n"), at);
	return buf;
}

/* The environment of the run: ours, with `extra` ("NAME=value") added. */
static char **build_env(char *const *extra)
{
	size_t n = 0, n_extra = 0;
	char **envp;

	while (environ[n])
		n++;
	while (extra && extra[n_extra])
		n_extra++;
	envp = calloc(n + n_extra + 1, sizeof(*envp));
	if (!envp)
		return NULL;
	n = 0;
	for (size_t i = 0; environ[i]; i++)
		if (strncmp(environ[i], "CG_SELFTEST_", 12) != 0)
			envp[n++] = environ[i];
	for (size_t i = 0; i < n_extra; i++)
		envp[n++] = extra[i];
	return envp;
}

static void drain(int *fd, char *buf, size_t *len, unsigned long long *total)
{
	char scratch[16384];
	ssize_t n = read(*fd, scratch, sizeof(scratch));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close(*fd);
		*fd = -1;
		return;
	}
	*total += (unsigned long long)n;
	size_t room = CAPTURE_BYTES - 1 - *len;
	size_t keep = (size_t)n < room ? (size_t)n : room;
	memcpy(buf + *len, scratch, keep);
	*len += keep;
	buf[*len] = '\0';
}

/* guard-exec [common options] OPTS -- CMD, with a time bound: past
 * bound_ms it is killed (its children follow through the supervisor's
 * death signal) and r->over_bound is set. */
static int run_guarded(const struct selftest *st, const char *const *opts, const char *const *cmd,
		       char *const *extra_env, int bound_ms, struct run *r)
{
	const char *argv[48];
	size_t n = 0;
	int out_pipe[2] = { -1, -1 }, err_pipe[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	char **envp;
	pid_t pid;
	int rc, status = 0;
	bool is_reaped = false;
	double started = now_ms();

	memset(r, 0, sizeof(*r));
	r->status = -1;
	if (!st->has_guard_exec) {
		snprintf(r->failure, sizeof(r->failure), "guard-exec not found at %s", st->guard_exec);
		return -ENOENT;
	}
	if (started + bound_ms > st->deadline_ms)
		bound_ms = (int)(st->deadline_ms - started);
	if (bound_ms <= 0) {
		snprintf(r->failure, sizeof(r->failure), "not run: the earlier runs used up the "
			 "self-test's %d s budget", BUDGET_MS / 1000);
		return -ETIME;
	}
	argv[n++] = st->guard_exec;
	argv[n++] = "--workspace";
	argv[n++] = st->workspace;
	argv[n++] = "--state-dir";
	argv[n++] = st->state_dir;
	argv[n++] = "--ticket";
	argv[n++] = st->ticket;
	if (st->config_path) {
		argv[n++] = "--config";
		argv[n++] = st->config_path;
	}
	/* The helper is this binary, wherever it was built or installed. */
	if (!strcmp(cmd[0], st->self)) {
		argv[n++] = "--allow-read";
		argv[n++] = st->self;
	}
	for (size_t i = 0; opts && opts[i] && n < 24; i++)
		argv[n++] = opts[i];
	argv[n++] = "--";
	for (size_t i = 0; cmd[i] && n < 47; i++)
		argv[n++] = cmd[i];
	argv[n] = NULL;

	envp = build_env(extra_env);
	if (!envp || pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0) {
		rc = -errno;
		snprintf(r->failure, sizeof(r->failure), "cannot set up the run: %s", strerror(errno));
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_pipe[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, err_pipe[1], STDERR_FILENO);
	rc = posix_spawn(&pid, st->guard_exec, &fa, NULL, (char *const *)argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(out_pipe[1]);
	close(err_pipe[1]);
	out_pipe[1] = err_pipe[1] = -1;
	if (rc != 0) {
		snprintf(r->failure, sizeof(r->failure), "cannot start %s: %s", st->guard_exec, strerror(rc));
		rc = -rc;
		goto out;
	}
	while (out_pipe[0] >= 0 || err_pipe[0] >= 0) {
		struct pollfd fds[2] = { { out_pipe[0], POLLIN, 0 }, { err_pipe[0], POLLIN, 0 } };
		int left = bound_ms - (int)(now_ms() - started);
		if (left <= 0) {
			r->over_bound = true;
			kill(pid, SIGKILL);
			break;
		}
		if (poll(fds, 2, left) < 0 && errno != EINTR)
			break;
		if (out_pipe[0] >= 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)))
			drain(&out_pipe[0], r->out, &r->out_len, &r->out_total);
		if (err_pipe[0] >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)))
			drain(&err_pipe[0], r->err, &r->err_len, &r->err_total);
	}
	/* The pipes can close before guard-exec exits; the bound holds here too. */
	for (;;) {
		pid_t got = waitpid(pid, &status, WNOHANG);
		if (got == pid) {
			is_reaped = true;
			break;
		}
		if (got < 0 && errno != EINTR)
			break;
		if (now_ms() - started > bound_ms && !r->over_bound) {
			r->over_bound = true;
			kill(pid, SIGKILL);
		}
		struct timespec ts = { 0, 2 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	if (is_reaped && !r->over_bound)
		r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	rc = 0;
out:
	r->ms = now_ms() - started;
	for (int i = 0; i < 2; i++) {
		if (out_pipe[i] >= 0)
			close(out_pipe[i]);
		if (err_pipe[i] >= 0)
			close(err_pipe[i]);
	}
	free(envp);
	return rc;
}

/* Run the helper: guard-exec OPTS -- SELF selftest --child ACTION [ARG]. */
static int run_helper(const struct selftest *st, const char *const *opts, const char *action,
		      const char *arg, char *const *extra_env, int bound_ms, struct run *r)
{
	const char *cmd[] = { st->self, "selftest", CHILD_FLAG, action, arg, NULL };

	return run_guarded(st, opts, cmd, extra_env, bound_ms, r);
}

/* A run that did not get as far as a verdict: one sentence for the row. */
static bool run_broken(struct selftest *st, const char *layer, const char *name, double t0,
		       int rc, const struct run *r)
{
	char line[256];

	if (rc == -ETIME) {
		record(st, layer, name, RESULT_FAIL, t0, "%s", r->failure);
		return true;
	}
	if (rc < 0) {
		record(st, layer, name, RESULT_FAIL, t0, "%s; build guard-exec (make) or install it "
		       "beside guardctl", r->failure);
		return true;
	}
	if (r->over_bound) {
		record(st, layer, name, RESULT_FAIL, t0, "guard-exec did not finish within %.1f s and "
		       "was killed", r->ms / 1000);
		return true;
	}
	if (strstr(r->err, "AddressSanitizer failed to allocate") ||
	    strstr(r->err, "ReserveShadowMemoryRange")) {
		record(st, layer, name, RESULT_FAIL, t0, "inconclusive: this guardctl is built with "
		       "sanitizers, whose shadow memory does not fit under the run's memory limit, so "
		       "the helper could not start; run the self-test from a build without "
		       "--enable-sanitizers");
		return true;
	}
	if (r->status == CG_EXIT_GUARD_ERROR) {
		record(st, layer, name, RESULT_FAIL, t0, "guard-exec could not set the run up (125): %s",
		       guard_line(r, line, sizeof(line)));
		return true;
	}
	return false;
}

/* ------------------------------------------------------------------ */
/* Private files */

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static void remove_tree(const char *dir)
{
	if (dir[0])
		nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int write_text(const char *dir, const char *name, const char *text, mode_t mode)
{
	char path[PATH_MAX];
	int fd;
	size_t len = strlen(text);

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		return -EIO;
	}
	close(fd);
	return 0;
}

static int copy_file(const char *from, const char *dir, const char *name)
{
	char path[PATH_MAX];
	int in, out, rc = 0;
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	if (out < 0 || fstat(in, &sb) < 0) {
		rc = -errno;
		goto done;
	}
	for (off_t left = sb.st_size; left > 0; ) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			break;
		}
		left -= n;
	}
done:
	if (out >= 0)
		close(out);
	close(in);
	return rc;
}

static bool exists_in(const char *dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

/* The secret goes where the run may not read: /root (a secret path in the
 * default policy) as root, else /var/tmp, which no readable list holds. */
static int make_secret(struct selftest *st)
{
	char text[64];

	snprintf(st->secret_dir, sizeof(st->secret_dir), "%s",
		 geteuid() == 0 ? "/root/.cg-selftest-XXXXXX" : "/var/tmp/cg-selftest-XXXXXX");
	if (!mkdtemp(st->secret_dir)) {
		st->secret_dir[0] = '\0';
		return -errno;
	}
	snprintf(text, sizeof(text), "%s\n", st->token);
	return write_text(st->secret_dir, "secret", text, 0600);
}

static int setup_dirs(struct selftest *st)
{
	unsigned char rnd[8];
	char text[PATH_MAX + 64];

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -EIO;
	snprintf(st->token, sizeof(st->token), "cg-selftest-%02x%02x%02x%02x%02x%02x%02x%02x",
		 rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	snprintf(st->ticket, sizeof(st->ticket), "selftest-%d", (int)getpid());
	snprintf(st->root_dir, sizeof(st->root_dir), "/tmp/cg-selftest-XXXXXX");
	if (!mkdtemp(st->root_dir)) {
		st->root_dir[0] = '\0';
		return -errno;
	}
	snprintf(st->workspace, sizeof(st->workspace), "%s/workspace", st->root_dir);
	snprintf(st->state_dir, sizeof(st->state_dir), "%s/state", st->root_dir);
	/* mkdtemp's 0700 would keep a --user run out of its own workspace */
	if (chmod(st->root_dir, 0755) < 0 || mkdir(st->workspace, 0755) < 0 ||
	    mkdir(st->state_dir, 0700) < 0)
		return -errno;
	/* Two copies of this binary: only the name differs, and the name is
	 * what the command rules judge.  Copies, not symlinks, so that the
	 * resolved program is the one named. */
	if (copy_file(st->self, st->workspace, "cg-selftest-true") < 0 ||
	    copy_file(st->self, st->workspace, "mount") < 0)
		return -EIO;
	snprintf(text, sizeof(text), "public-%s\n", st->token);
	if (write_text(st->workspace, "public", text, 0644) < 0)
		return -EIO;
	snprintf(text, sizeof(text), "%s/fifo", st->workspace);
	if (mkfifo(text, 0600) < 0)
		return -errno;
	snprintf(text, sizeof(text), "%s/etc-link", st->workspace);
	if (symlink("/etc", text) < 0)
		return -errno;
	return make_secret(st);
}

/* ------------------------------------------------------------------ */
/* Environment */

static const char *errno_text(int e)
{
	return e ? strerror(e) : "no error";
}

static void check_environment(struct selftest *st)
{
	const struct cg_probe *pr = &st->probe;
	char layers[384], list[64], list2[64];
	double t0 = now_ms();

	cg_probe_all(&st->probe);
	record(st, "environment", "where it runs", RESULT_INFO, t0, "%s",
	       pr->in_container ? pr->container_evidence : "not in a container (no container hints found)");
	t0 = 0;
	record(st, "environment", "user", RESULT_INFO, t0, "%s%s",
	       pr->is_root ? "root" : "not root",
	       pr->is_root && !pr->has_cap_sys_admin ? " without CAP_SYS_ADMIN" : "");

	if (pr->has_seccomp_notify)
		record(st, "kernel", "seccomp user notification", RESULT_PASS, t0,
		       "a filter with a listener installs");
	else
		record(st, "kernel", "seccomp user notification", RESULT_FAIL, t0,
		       "cannot install a listener (%s): guard-exec cannot supervise system calls and "
		       "refuses to run commands (fail closed). It needs Linux 5.0+ with "
		       "CONFIG_SECCOMP_FILTER, seccomp(2) allowed by the container runtime, and no "
		       "other user-notify supervisor above this process (EBUSY)",
		       errno_text(pr->seccomp_errno));

	if (pr->landlock_abi > 0)
		record(st, "kernel", "Landlock", RESULT_PASS, t0, "ABI %d", pr->landlock_abi);
	else
		record(st, "kernel", "Landlock", RESULT_FAIL, t0,
		       "not available (%s): file access is then checked only by the seccomp "
		       "supervisor, which a thread rewriting the path can race. Get it with Linux "
		       "5.13+ built with CONFIG_SECURITY_LANDLOCK=y and 'landlock' in the lsm= boot "
		       "parameter", pr->landlock_errno == EOPNOTSUPP ? "disabled at boot" :
		       errno_text(pr->landlock_errno));

	if (pr->can_ptrace_child)
		record(st, "kernel", "ptrace of the run's processes", RESULT_PASS, t0,
		       "PTRACE_SEIZE of a child works (Yama ptrace_scope %s)",
		       pr->ptrace_scope < 0 ? "absent" : pr->ptrace_scope == 0 ? "0" :
		       pr->ptrace_scope == 1 ? "1" : pr->ptrace_scope == 2 ? "2" : "3");
	else
		record(st, "kernel", "ptrace of the run's processes", RESULT_FAIL, t0,
		       "PTRACE_SEIZE of a child fails (%s; Yama ptrace_scope %d): the race-free "
		       "re-check of each exec is off, so a thread that swaps an exec path after the "
		       "check can run a blocked program. Set kernel.yama.ptrace_scope to 2 or less "
		       "and allow ptrace(2) in the container's seccomp profile",
		       errno_text(pr->ptrace_errno), pr->ptrace_scope);

	if ((pr->cgroup_v1_writable & CG_CONTROLLER_PIDS) ||
	    (pr->cgroup_v2_writable && (pr->cgroup_v2_controllers & CG_CONTROLLER_PIDS)))
		record(st, "kernel", "cgroups", RESULT_PASS, t0,
		       "v1 controllers writable: %s; v2 %s%s%s (controllers: %s)",
		       pr->cgroup_v1_writable ?
		       cg_probe_controllers(pr->cgroup_v1_writable, list, sizeof(list)) : "none",
		       !pr->has_cgroup_v2 ? "not mounted" :
		       pr->cgroup_v2_writable ? "writable at " : "read-only at ",
		       pr->cgroup_v2_dir, pr->has_cgroup_kill ? ", cgroup.kill" : "",
		       pr->cgroup_v2_controllers ?
		       cg_probe_controllers(pr->cgroup_v2_controllers, list2, sizeof(list2)) : "none");
	else
		record(st, "kernel", "cgroups", RESULT_FAIL, t0,
		       "no writable cgroup with the pids controller (v1 mounted: %s; v2 %s): "
		       "RLIMIT_NPROC does not bind root, so guard-exec refuses (125) to run a "
		       "command as root here, and a setsid grandchild can only be found through the "
		       "subreaper. Run as root with /sys/fs/cgroup writable and pids delegated to "
		       "guard-exec's group (v2: its cgroup.subtree_control lists pids), or run "
		       "commands with --user",
		       pr->cgroup_v1 ? cg_probe_controllers(pr->cgroup_v1, list, sizeof(list)) : "none",
		       !pr->has_cgroup_v2 ? "not mounted" : pr->cgroup_v2_writable ?
		       "writable, without pids" : "read-only");

	if (pr->can_unshare_pid)
		record(st, "kernel", "PID namespaces", RESULT_PASS, t0, "unshare(CLONE_NEWPID) works");
	else
		record(st, "kernel", "PID namespaces", RESULT_FAIL, t0,
		       "unshare(CLONE_NEWPID) fails (%s): a run cannot get its own PID namespace, so "
		       "keeping it from signalling outside processes rests on seccomp and Landlock's "
		       "signal scope. Needs CAP_SYS_ADMIN (root) or unprivileged user namespaces",
		       errno_text(pr->unshare_pid_errno));

	cg_probe_layers(pr, layers, sizeof(layers));
	if (st->has_preload)
		strncat(layers, ",preload", sizeof(layers) - strlen(layers) - 1);
	record(st, "environment", "layers a run will use", RESULT_INFO, t0, "%s", layers);
}

/* ------------------------------------------------------------------ */
/* Static checks */

/* `shown` is the script as the table prints it (NULL: the script itself),
 * so that the rows do not carry this run's temporary paths. */
static void check_script_as(struct selftest *st, const struct cg_context *ctx, const char *layer,
			    const char *label, const char *shown, const char *script,
			    const char *want_category)
{
	struct cg_event ev = { .kind = CG_EV_SCRIPT, .u.script = { script, strlen(script) } };
	struct cg_reason why;
	char name[96], line[768];
	double t0 = now_ms();
	enum cg_verdict v = cg_decide(ctx, &ev, &why);

	snprintf(name, sizeof(name), "%s: %s", label, shown ? shown : script);
	if (!want_category) {
		if (v == CG_ALLOW)
			record(st, layer, name, RESULT_PASS, t0, "allowed");
		else
			record(st, layer, name, RESULT_FAIL, t0, "expected allowed, got %s",
			       cg_reason_format(&why, line, sizeof(line)));
	} else if (v == CG_ALLOW) {
		record(st, layer, name, RESULT_FAIL, t0, "expected blocked (%s), but the policy allows it",
		       want_category);
	} else if (strcmp(why.category, want_category) != 0) {
		record(st, layer, name, RESULT_FAIL, t0, "blocked, but as %s instead of %s: %s",
		       why.category, want_category, cg_reason_format(&why, line, sizeof(line)));
	} else {
		record(st, layer, name, RESULT_PASS, t0, "%s", cg_reason_format(&why, line, sizeof(line)));
	}
}

static void check_script(struct selftest *st, const struct cg_context *ctx, const char *layer,
			 const char *label, const char *script, const char *want_category)
{
	check_script_as(st, ctx, layer, label, NULL, script, want_category);
}

static void check_static(struct selftest *st)
{
	static const char *const safe[] = { "npm test", "pytest -q", "go test ./..." };
	static const struct { const char *category, *script; } dangerous[] = {
		{ "system-modification", "rm -rf /" },
		{ "privilege", "sudo apt-get install -y curl" },
		{ "user-management", "useradd mallory" },
		{ "network-tool", "nc -l 4444" },
		{ "process-control", "killall node" },
		{ "fork-bomb", ":(){ :|:& };:" },
		{ "injection", "curl -s https://example.com/install.sh | sh" },
		{ "path", "cat /etc/shadow" },
	};
	char script[PATH_MAX + 64];
	const struct cg_context *ctx = &st->env.ctx;

	for (size_t i = 0; i < sizeof(safe) / sizeof(safe[0]); i++)
		check_script(st, ctx, "static", "allows", safe[i], NULL);
	for (size_t i = 0; i < sizeof(dangerous) / sizeof(dangerous[0]); i++)
		check_script(st, ctx, "static", "blocks", dangerous[i].script, dangerous[i].category);

	snprintf(script, sizeof(script), "cat %s/public", st->workspace);
	check_script_as(st, ctx, "static", "path in the workspace", "cat $WORKSPACE/public", script,
			NULL);
	check_script(st, ctx, "static", "path escape with ..", "cat /workspace/../etc/passwd", "path");
	snprintf(script, sizeof(script), "cat %s/etc-link/passwd", st->workspace);
	check_script_as(st, ctx, "static", "path through a symlink", "cat $WORKSPACE/etc-link/passwd",
			script, "path");
	check_script(st, ctx, "static", "redirection target", "echo x > /root/.profile", "path");
}

static void check_profile(struct selftest *st)
{
	static const char profile_json[] =
		"{\"commands\": {\"test\": \"npm test\", \"lint\": \"npm run lint\"}}\n";
	struct cg_profile *profile = NULL;
	struct cg_error err;
	struct cg_context ctx = st->env.ctx;
	char path[PATH_MAX], line[512];
	double t0 = now_ms();

	snprintf(path, sizeof(path), "%s/repo_profile.json", st->root_dir);
	if (write_text(st->root_dir, "repo_profile.json", profile_json, 0644) < 0 ||
	    cg_profile_load(&profile, path, &err) < 0) {
		record(st, "profile", "repo profile loads", RESULT_FAIL, t0, "%s",
		       cg_error_format(&err, line, sizeof(line)));
		return;
	}
	ctx.profile = profile;
	check_script(st, &ctx, "profile", "profile allows", "npm test", NULL);
	check_script(st, &ctx, "profile", "profile allows", "npm run lint", NULL);
	struct cg_event ev = { .kind = CG_EV_SCRIPT, .u.script = { "npm run build", 13 } };
	struct cg_reason why;
	t0 = now_ms();
	if (cg_decide(&ctx, &ev, &why) == CG_BLOCK)
		record(st, "profile", "profile refuses: npm run build", RESULT_PASS, t0, "%s",
		       cg_reason_format(&why, line, sizeof(line)));
	else
		record(st, "profile", "profile refuses: npm run build", RESULT_FAIL, t0,
		       "a command the profile does not list was allowed");
	ev.u.script.text = "npm test && npm run build";
	ev.u.script.len = strlen(ev.u.script.text);
	t0 = now_ms();
	if (cg_decide(&ctx, &ev, &why) == CG_BLOCK)
		record(st, "profile", "profile refuses: npm test && npm run build", RESULT_PASS, t0, "%s",
		       cg_reason_format(&why, line, sizeof(line)));
	else
		record(st, "profile", "profile refuses: npm test && npm run build", RESULT_FAIL, t0,
		       "a compound command passed although one part is not in the profile");
	cg_profile_free(profile);
}

static void check_rate_limit(struct selftest *st)
{
	const struct cg_settings *s = cg_policy_settings(st->env.policy);
	struct cg_ratelimit *rl = NULL;
	struct cg_error err;
	struct cg_reason why;
	char dir[PATH_MAX + 16], name[96], line[768];
	unsigned retry = 0, allowed = 0;
	int rc = 0;
	double t0 = now_ms();

	snprintf(name, sizeof(name), "rate limit: run %u refused", s->rate_count + 1);
	snprintf(dir, sizeof(dir), "%s/ratelimit", st->root_dir);
	if (mkdir(dir, 0700) < 0 || (rc = cg_ratelimit_open(&rl, dir, &err)) < 0) {
		record(st, "ratelimit", name, RESULT_FAIL, t0, "cannot open a private state file: %s",
		       rc < 0 ? cg_error_format(&err, line, sizeof(line)) : strerror(errno));
		return;
	}
	for (unsigned i = 0; i <= s->rate_count && rc >= 0; i++) {
		rc = cg_ratelimit_take(rl, "SELFTEST-1", "npm test", s->rate_count, s->rate_window_s,
				       &retry, &err);
		if (rc == CG_ALLOW)
			allowed++;
	}
	cg_ratelimit_close(rl);
	if (rc < 0) {
		record(st, "ratelimit", name, RESULT_FAIL, t0, "%s", cg_error_format(&err, line, sizeof(line)));
	} else if (allowed != s->rate_count || rc != CG_BLOCK) {
		record(st, "ratelimit", name, RESULT_FAIL, t0, "%u of %u runs allowed (limit %u per %u s)",
		       allowed, s->rate_count + 1, s->rate_count, s->rate_window_s);
	} else {
		cg_ratelimit_explain(&why, "SELFTEST-1", s->rate_count, s->rate_window_s, retry);
		record(st, "ratelimit", name, RESULT_PASS, t0, "%u allowed, then %s", allowed,
		       cg_reason_format(&why, line, sizeof(line)));
	}
}

/* ------------------------------------------------------------------ */
/* Runtime checks through guard-exec */

static void check_blocked_start(struct selftest *st)
{
	static const char *const cmd[] = { "sudo", "id", NULL };
	const char *name = "guard-exec refuses to start: sudo id";
	char line[256];
	struct run *r = calloc(1, sizeof(*r));
	double t0 = now_ms();
	int rc;

	if (!r)
		return;
	rc = run_guarded(st, NULL, cmd, NULL, RUN_BOUND_MS, r);
	if (!run_broken(st, "static", name, t0, rc, r)) {
		if (r->status == CG_EXIT_BLOCKED)
			record(st, "static", name, RESULT_PASS, t0, "exit 126: %s",
			       guard_line(r, line, sizeof(line)));
		else
			record(st, "static", name, RESULT_FAIL, t0, "exit %d, expected 126", r->status);
	}
	free(r);
}

static void check_exec(struct selftest *st)
{
	const char *name = "exec of a blocked program refused";
	char allowed[160], blocked[160], marker_allowed[160], marker_blocked[160];
	char *env[] = { allowed, blocked, marker_allowed, marker_blocked, NULL };
	struct run *r = calloc(1, sizeof(*r));
	double t0 = now_ms();
	int rc;

	if (!r)
		return;
	snprintf(allowed, sizeof(allowed), "CG_SELFTEST_EXEC_ALLOWED=%s/cg-selftest-true", st->workspace);
	snprintf(blocked, sizeof(blocked), "CG_SELFTEST_EXEC_BLOCKED=%s/mount", st->workspace);
	snprintf(marker_allowed, sizeof(marker_allowed), "CG_SELFTEST_MARKER_ALLOWED=%s/ran-allowed",
		 st->workspace);
	snprintf(marker_blocked, sizeof(marker_blocked), "CG_SELFTEST_MARKER_BLOCKED=%s/ran-blocked",
		 st->workspace);
	rc = run_helper(st, NULL, "exec", NULL, env, RUN_BOUND_MS, r);
	if (!run_broken(st, "seccomp", name, t0, rc, r)) {
		bool control = exists_in(st->workspace, "ran-allowed");
		bool ran = exists_in(st->workspace, "ran-blocked");
		if (ran)
			record(st, "seccomp", name, RESULT_FAIL, t0,
			       "a program named mount, started with a raw execve(2), ran under guard-exec "
			       "and created its marker");
		else if (!control)
			record(st, "seccomp", name, RESULT_FAIL, t0,
			       "inconclusive: the allowed twin did not run either (exit %d): %s", r->status,
			       r->err);
		else
			record(st, "seccomp", name, RESULT_PASS, t0,
			       "mount did not run (execve errno %ld), its allowed twin did",
			       field_long(r, "blocked_errno", 0));
	}
	free(r);
}

static void check_read(struct selftest *st)
{
	const char *layer = st->probe.landlock_abi > 0 ? "landlock" : "seccomp";
	const char *name = "read of a secret file refused";
	char public_path[PATH_MAX + 32], secret_path[PATH_MAX + 32], value[256];
	char *env[] = { public_path, secret_path, NULL };
	struct run *r;
	double t0 = now_ms();
	int rc;

	if (!st->secret_dir[0]) {
		record(st, layer, name, RESULT_FAIL, t0, "could not create the secret file to attack");
		return;
	}
	if (!(r = calloc(1, sizeof(*r))))
		return;
	snprintf(public_path, sizeof(public_path), "CG_SELFTEST_READ_PUBLIC=%s/public", st->workspace);
	snprintf(secret_path, sizeof(secret_path), "CG_SELFTEST_READ_SECRET=%s/secret", st->secret_dir);
	rc = run_helper(st, NULL, "read", NULL, env, RUN_BOUND_MS, r);
	if (!run_broken(st, layer, name, t0, rc, r)) {
		char secret[256];
		const char *public = field(r, "public_content", value, sizeof(value));
		const char *stolen = field(r, "secret_content", secret, sizeof(secret));
		bool is_control_ok = public && strstr(public, st->token);
		if (stolen && strstr(stolen, st->token))
			record(st, layer, name, RESULT_FAIL, t0, "the content of %s/secret was read "
			       "under guard-exec", st->secret_dir);
		else if (!is_control_ok)
			record(st, layer, name, RESULT_FAIL, t0, "inconclusive: the workspace file was "
			       "not readable either (exit %d): %s", r->status, r->out);
		else
			record(st, layer, name, RESULT_PASS, t0, "%s/secret: open failed with errno %ld; "
			       "the workspace file was readable", st->secret_dir,
			       field_long(r, "secret_errno", 0));
	}
	free(r);
}

static void check_shim(struct selftest *st)
{
	const char *name = "system(\"mount\") refused in process";
	char *env[] = { "CG_SELFTEST_SHELL_ALLOWED=true", "CG_SELFTEST_SHELL_BLOCKED=mount", NULL };
	struct run *r;
	double t0 = now_ms();
	int rc;

	if (!st->has_preload) {
		record(st, "preload", name, RESULT_FAIL, t0,
		       "the LD_PRELOAD shim is not built (no %s beside guard-exec or in %s): "
		       "dynamically linked programs get no in-process refusal with the shell context "
		       "of system() and popen(); the seccomp layer still decides. Build preload/",
		       PRELOAD_NAME, PKGLIBDIR);
		return;
	}
	if (!(r = calloc(1, sizeof(*r))))
		return;
	rc = run_helper(st, NULL, "system", NULL, env, RUN_BOUND_MS, r);
	if (!run_broken(st, "preload", name, t0, rc, r)) {
		long control = field_long(r, "allowed_system", -2);
		long status = field_long(r, "blocked_system", -2);
		long error = field_long(r, "blocked_errno", 0);
		char line[256];
		bool listed = strstr(r->out, " on / ") || strstr(r->out, "proc on ") ||
			      strstr(r->out, "type proc");
		if (listed)
			record(st, "preload", name, RESULT_FAIL, t0, "mount ran and listed the mount table");
		else if (control != 0)
			record(st, "preload", name, RESULT_FAIL, t0, "inconclusive: system(\"true\") "
			       "returned %ld, so the shim (or the run) refuses every shell: %s", control,
			       guard_line(r, line, sizeof(line)));
		else if (status != -1)
			record(st, "preload", name, RESULT_FAIL, t0, "system() returned %ld: a shell was "
			       "started (a later layer stopped mount), so the shim did not refuse it", status);
		else
			record(st, "preload", name, RESULT_PASS, t0, "system() returned -1 (errno %ld, %s) "
			       "and no shell started; system(\"true\") ran", error, strerror((int)error));
	}
	free(r);
}

static void check_nnp(struct selftest *st)
{
	const char *name = "no_new_privs set in the command";
	struct run *r = calloc(1, sizeof(*r));
	double t0 = now_ms();
	int rc;

	if (!r)
		return;
	rc = run_helper(st, NULL, "nnp", NULL, NULL, RUN_BOUND_MS, r);
	if (!run_broken(st, "kernel", name, t0, rc, r)) {
		long nnp = field_long(r, "no_new_privs", -1);
		if (nnp == 1)
			record(st, "kernel", name, RESULT_PASS, t0, "PR_GET_NO_NEW_PRIVS is 1");
		else if (nnp < 0)
			record(st, "kernel", name, RESULT_FAIL, t0, "the helper did not report (exit %d)",
			       r->status);
		else
			record(st, "kernel", name, RESULT_FAIL, t0, "PR_GET_NO_NEW_PRIVS is %ld: a setuid "
			       "program could gain privileges", nnp);
	}
	free(r);
}

/* Capabilities that would let a command leave the room: mounts and
 * namespaces, tracing, modules, raw network, bypassing file permissions. */
#define DANGEROUS_CAPS ((1ULL << 1) | (1ULL << 2) | (1ULL << 12) | (1ULL << 13) | \
			(1ULL << 16) | (1ULL << 17) | (1ULL << 19) | (1ULL << 21))

static unsigned long long field_hex(const struct run *r, const char *key)
{
	char buf[64];

	return field(r, key, buf, sizeof(buf)) ? strtoull(buf, NULL, 16) : ~0ULL;
}

static void check_capabilities(struct selftest *st)
{
	const char *name = "dangerous capabilities dropped";
	struct run *r = calloc(1, sizeof(*r));
	double t0 = now_ms();
	int rc;

	if (!r)
		return;
	rc = run_helper(st, NULL, "ids", NULL, NULL, RUN_BOUND_MS, r);
	if (!run_broken(st, "kernel", name, t0, rc, r)) {
		unsigned long long eff = field_hex(r, "cap_eff"), bnd = field_hex(r, "cap_bnd");
		/* Only a root command gets its bounding set at exec; for
		 * another user with no_new_privs the effective set is all. */
		unsigned long long held = field_long(r, "euid", 0) == 0 ? eff | bnd : eff;
		if (held & DANGEROUS_CAPS)
			record(st, "kernel", name, RESULT_FAIL, t0, "the command kept CapEff %llx, CapBnd "
			       "%llx (CAP_SYS_ADMIN, CAP_SYS_PTRACE, CAP_DAC_OVERRIDE, ... must go)",
			       eff, bnd);
		else
			record(st, "kernel", name, RESULT_PASS, t0, "CapEff %llx, CapBnd %llx", eff, bnd);
	}
	free(r);
}

/* The seed's "non-root execution": as root, --user runs the command as an
 * unprivileged user with no capabilities left. */
static void check_user(struct selftest *st)
{
	static const char *const opts[] = { "--user", "65534:65534", NULL };
	const char *name = "--user 65534 runs the command unprivileged";
	struct run *r;
	double t0 = now_ms();
	int rc;

	if (geteuid() != 0) {
		record(st, "kernel", name, RESULT_INFO, t0, "not root: commands run as the calling user "
		       "(uid %d)", (int)geteuid());
		return;
	}
	if (!(r = calloc(1, sizeof(*r))))
		return;
	rc = run_helper(st, opts, "ids", NULL, NULL, RUN_BOUND_MS, r);
	if (!run_broken(st, "kernel", name, t0, rc, r)) {
		long uid = field_long(r, "uid", -1), euid = field_long(r, "euid", -1);
		unsigned long long eff = field_hex(r, "cap_eff");
		if (uid == 65534 && euid == 65534 && eff == 0)
			record(st, "kernel", name, RESULT_PASS, t0, "uid %ld, euid %ld, no capabilities",
			       uid, euid);
		else
			record(st, "kernel", name, RESULT_FAIL, t0, "uid %ld, euid %ld, CapEff %llx (exit "
			       "%d)", uid, euid, eff, r->status);
	}
	free(r);
}

static void check_process_limit(struct selftest *st)
{
	const struct cg_settings *s = cg_policy_settings(st->env.policy);
	unsigned try_max = s->max_processes * 2 + 20;
	char name[96], arg[16];
	struct run *r = calloc(1, sizeof(*r));
	double t0 = now_ms();
	int rc;

	if (!r)
		return;
	snprintf(name, sizeof(name), "fork loop stops at the process limit (%u)", s->max_processes);
	snprintf(arg, sizeof(arg), "%u", try_max);
	rc = run_helper(st, NULL, "forkloop", arg, NULL, RUN_BOUND_MS, r);
	if (!run_broken(st, "cgroup", name, t0, rc, r)) {
		long forked = field_long(r, "forked", -1);
		long error = field_long(r, "fork_errno", 0);
		if (forked < 0)
			record(st, "cgroup", name, RESULT_FAIL, t0, "the fork loop did not report (exit %d)",
			       r->status);
		else if ((unsigned long)forked >= s->max_processes)
			record(st, "cgroup", name, RESULT_FAIL, t0, "%ld processes forked; the limit is %u",
			       forked, s->max_processes);
		else
			record(st, "cgroup", name, RESULT_PASS, t0, "fork failed after %ld children (%s)",
			       forked, strerror((int)error));
	}
	free(r);
}

static void check_output_cap(struct selftest *st)
{
	static const char *const opts[] = { "--output-limit", "1K", NULL };
	const char *name = "output capped at 1K (1 MiB written)";
	char line[256];
	struct run *r = calloc(1, sizeof(*r));
	double t0 = now_ms();
	int rc;

	if (!r)
		return;
	rc = run_helper(st, opts, "flood", "1048576", NULL, RUN_BOUND_MS, r);
	if (!run_broken(st, "supervisor", name, t0, rc, r)) {
		/* stderr holds guard-exec's notice; the command wrote only to stdout */
		unsigned long long passed = r->out_total;
		if (passed > 1024)
			record(st, "supervisor", name, RESULT_FAIL, t0, "%llu bytes of output passed",
			       passed);
		else if (r->status != 0)
			record(st, "supervisor", name, RESULT_FAIL, t0, "the writer did not finish "
			       "(exit %d): the drain past the cap must not block it", r->status);
		else
			record(st, "supervisor", name, RESULT_PASS, t0, "%llu bytes passed; %s", passed,
			       guard_line(r, line, sizeof(line)));
	}
	free(r);
}

static void check_timeout(struct selftest *st)
{
	static const char *const opts[] = { "--timeout", "1", NULL };
	static const char *const cmd[] = { "sleep", "30", NULL };
	const char *name = "timeout 1 s ends sleep 30 with 124";
	const struct cg_settings *s = cg_policy_settings(st->env.policy);
	int bound_ms = 3000 + (int)s->kill_grace_ms;
	struct run *r = calloc(1, sizeof(*r));
	double t0 = now_ms();
	int rc;

	if (!r)
		return;
	rc = run_guarded(st, opts, cmd, NULL, bound_ms, r);
	if (!run_broken(st, "supervisor", name, t0, rc, r)) {
		if (r->status == CG_EXIT_TIMEOUT)
			record(st, "supervisor", name, RESULT_PASS, t0, "exit 124 after %.2f s", r->ms / 1000);
		else
			record(st, "supervisor", name, RESULT_FAIL, t0, "exit %d after %.2f s, expected 124",
			       r->status, r->ms / 1000);
	}
	free(r);
}

/* Kill what a failed cleanup check left, if it is our helper. */
static void kill_leftover(long pid)
{
	char path[64], cmdline[256] = "";
	int fd;
	ssize_t n;

	if (pid <= 1)
		return;
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, cmdline, sizeof(cmdline) - 1);
	close(fd);
	for (ssize_t i = 0; i < n; i++)
		if (cmdline[i] == '\0')
			cmdline[i] = ' ';
	if (n > 0 && strstr(cmdline, "selftest " CHILD_FLAG " daemon"))
		kill((pid_t)pid, SIGKILL);
}

static void check_cleanup(struct selftest *st)
{
	const char *name = "setsid grandchild gone after the run";
	char fifo[160], env_fifo[192];
	char *env[] = { env_fifo, NULL };
	struct run *r = calloc(1, sizeof(*r));
	double t0 = now_ms();
	int rc;

	if (!r)
		return;
	snprintf(fifo, sizeof(fifo), "%s/fifo", st->workspace);
	snprintf(env_fifo, sizeof(env_fifo), "CG_SELFTEST_FIFO=%s", fifo);
	rc = run_helper(st, NULL, "daemon", NULL, env, RUN_BOUND_MS, r);
	if (!run_broken(st, "supervisor", name, t0, rc, r)) {
		long pid = field_long(r, "daemon", -1);
		/* A FIFO opened for reading without blocking reads 0 when no
		 * writer is left and EAGAIN while one is: the grandchild's fd
		 * closes when it dies, whatever PID namespace it was in. */
		int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		char c;
		ssize_t n = fd >= 0 ? read(fd, &c, 1) : -1;
		int read_errno = errno;
		if (fd >= 0)
			close(fd);
		if (pid <= 0)
			record(st, "supervisor", name, RESULT_FAIL, t0, "inconclusive: the helper did not "
			       "start its grandchild (exit %d): %s", r->status, r->out);
		else if (n == 0)
			record(st, "supervisor", name, RESULT_PASS, t0, "grandchild %ld was killed with "
			       "the run", pid);
		else {
			record(st, "supervisor", name, RESULT_FAIL, t0, "grandchild %ld still holds its "
			       "FIFO open after guard-exec returned (%s): it outlived the run", pid,
			       n < 0 ? strerror(read_errno) : "data");
			kill_leftover(pid);
		}
	}
	free(r);
}

static void check_listen(struct selftest *st)
{
	const char *name = "listen on 0.0.0.0 refused, 127.0.0.1 allowed";
	char any[64], loopback[64];
	struct run *r = calloc(1, sizeof(*r));
	double t0 = now_ms();
	int rc;

	if (!r)
		return;
	rc = run_helper(st, NULL, "listen", NULL, NULL, RUN_BOUND_MS, r);
	if (!run_broken(st, "seccomp", name, t0, rc, r)) {
		if (!field(r, "any", any, sizeof(any)) || !field(r, "loopback", loopback, sizeof(loopback)))
			record(st, "seccomp", name, RESULT_FAIL, t0, "the helper did not report (exit %d)",
			       r->status);
		else if (strcmp(any, "ok") == 0)
			record(st, "seccomp", name, RESULT_FAIL, t0, "a socket listened on 0.0.0.0");
		else if (strcmp(loopback, "ok") != 0)
			record(st, "seccomp", name, RESULT_FAIL, t0, "0.0.0.0 refused (%s) but 127.0.0.1 "
			       "too (%s): loopback servers in tests would break", any, loopback);
		else
			record(st, "seccomp", name, RESULT_PASS, t0, "0.0.0.0: %s; 127.0.0.1: ok", any);
	}
	free(r);
}

/* A copy of /usr/bin/mount under another name is still mount. */
static void check_identity(struct selftest *st)
{
	const char *name = "a renamed copy of mount refused";
	char copy[PATH_MAX + 32];
	const char *cmd[] = { copy, NULL };
	struct run *r = calloc(1, sizeof(*r));
	double t0 = now_ms();
	int rc;

	if (!r)
		return;
	snprintf(copy, sizeof(copy), "%s/cg-selftest-lsmnt", st->workspace);
	if (copy_file("/usr/bin/mount", st->workspace, "cg-selftest-lsmnt") < 0) {
		record(st, "seccomp", name, RESULT_FAIL, t0, "inconclusive: no /usr/bin/mount to copy");
		free(r);
		return;
	}
	rc = run_guarded(st, NULL, cmd, NULL, RUN_BOUND_MS, r);
	if (!run_broken(st, "seccomp", name, t0, rc, r)) {
		if (strstr(r->out, " on / ") || strstr(r->out, " type proc "))
			record(st, "seccomp", name, RESULT_FAIL, t0, "the copy listed the mount table");
		else if (!strstr(r->err, "the file is"))
			record(st, "seccomp", name, RESULT_FAIL, t0, "inconclusive: not refused as a copy of "
			       "mount (exit %d): %s", r->status, r->err);
		else
			record(st, "seccomp", name, RESULT_PASS, t0, "refused as the file it is (exit %d)",
			       r->status);
	}
	free(r);
}

/* A question about a name outside the allowlist never reaches the host's
 * resolver: the run's name server answers it. */
static void check_dns(struct selftest *st)
{
	const char *name = "DNS for a name outside the allowlist";
	char question[64], ns[64], rcode[16];
	struct run *r = calloc(1, sizeof(*r));
	double t0 = now_ms();
	int rc;

	if (!r)
		return;
	snprintf(question, sizeof(question), "cg-selftest-%d.example.com", (int)getpid());
	rc = run_helper(st, NULL, "dns", question, NULL, RUN_BOUND_MS, r);
	if (!run_broken(st, "seccomp", name, t0, rc, r)) {
		if (!field(r, "nameserver", ns, sizeof(ns)))
			record(st, "seccomp", name, RESULT_FAIL, t0, "the helper did not report (exit %d)",
			       r->status);
		else if (strncmp(ns, "127.53.", 7) != 0)
			record(st, st->probe.can_unshare_pid ? "seccomp" : "environment", name,
			       st->probe.can_unshare_pid ? RESULT_FAIL : RESULT_INFO, t0,
			       "the run asks %s itself: any name can be asked about (the run's name "
			       "server needs a mount namespace, i.e. root)", ns);
		else if (!field(r, "rcode", rcode, sizeof(rcode)) || atoi(rcode) != 3)
			record(st, "seccomp", name, RESULT_FAIL, t0, "the run's name server at %s did not "
			       "answer NXDOMAIN (rcode %s)", ns, field(r, "rcode", rcode, sizeof(rcode)) ?
			       rcode : "none");
		else
			record(st, "seccomp", name, RESULT_PASS, t0, "answered NXDOMAIN by the run's name "
			       "server at %s; the host's resolvers are not reachable", ns);
	}
	free(r);
}

/* ------------------------------------------------------------------ */
/* Finding the binaries */

static void find_binaries(struct selftest *st)
{
	const char *env = getenv("GUARD_PRELOAD");
	char dir[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", st->self, sizeof(st->self) - 1);
	char *slash;

	st->self[n > 0 ? n : 0] = '\0';
	snprintf(dir, sizeof(dir), "%s", st->self);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	st->has_guard_exec = snprintf(st->guard_exec, sizeof(st->guard_exec), "%s/guard-exec",
				      dir) < (int)sizeof(st->guard_exec) &&
			     access(st->guard_exec, X_OK) == 0;

	/* The same search as guard-exec's, so that the row tells what a run gets. */
	if (env && env[0])
		n = snprintf(st->preload, sizeof(st->preload), "%s", env);
	else
		n = snprintf(st->preload, sizeof(st->preload), "%s/../preload/.libs/%s", dir, PRELOAD_NAME);
	st->has_preload = n < (ssize_t)sizeof(st->preload) && access(st->preload, R_OK) == 0;
	if (!st->has_preload && !(env && env[0])) {
		snprintf(st->preload, sizeof(st->preload), "%s/%s", PKGLIBDIR, PRELOAD_NAME);
		st->has_preload = access(st->preload, R_OK) == 0;
	}
	if (st->has_preload && realpath(st->preload, dir))
		memcpy(st->preload, dir, sizeof(st->preload));
}

/* ------------------------------------------------------------------ */
/* Output */

static const char *result_name(enum result r)
{
	return r == RESULT_PASS ? "PASS" : r == RESULT_FAIL ? "FAIL" : "INFO";
}

static void count(const struct selftest *st, unsigned *passed, unsigned *failed, unsigned *info)
{
	*passed = *failed = *info = 0;
	for (size_t i = 0; i < st->n_checks; i++) {
		if (st->checks[i].result == RESULT_PASS)
			(*passed)++;
		else if (st->checks[i].result == RESULT_FAIL)
			(*failed)++;
		else
			(*info)++;
	}
}

static void print_table(const struct selftest *st, double total_ms)
{
	unsigned passed, failed, info;
	struct utsname un;

	uname(&un);
	printf("CommandGuard self-test (%s, Linux %s)\n", PACKAGE_STRING, un.release);
	printf("policy: %s\nguard-exec: %s%s\nshim: %s\n\n", cg_policy_source(st->env.policy),
	       st->guard_exec, st->has_guard_exec ? "" : " (missing)",
	       st->has_preload ? st->preload : "not built");
	printf("%-52s %-11s %-6s %9s\n", "CHECK", "LAYER", "RESULT", "TIME");
	for (size_t i = 0; i < st->n_checks; i++) {
		const struct check *c = &st->checks[i];
		printf("%-52.52s %-11s %-6s %7.1f ms\n", c->name, c->layer, result_name(c->result), c->ms);
		if (c->result != RESULT_PASS || c->detail[0])
			printf("    %s\n", c->detail);
	}
	count(st, &passed, &failed, &info);
	printf("\nsummary: %u passed, %u failed, %u informational; %.2f s%s\n", passed, failed, info,
	       total_ms / 1000, failed ? "" : " - every check passed");
}

static void print_json(const struct selftest *st, double total_ms)
{
	const struct cg_probe *pr = &st->probe;
	unsigned passed, failed, info;
	char layers[384], list[64], list2[64];
	json_t *checks = json_array(), *root;
	char *text;

	for (size_t i = 0; i < st->n_checks; i++) {
		const struct check *c = &st->checks[i];
		json_array_append_new(checks, json_pack("{s:s, s:s, s:s, s:f, s:s}", "check", c->name,
							"layer", c->layer, "result",
							c->result == RESULT_PASS ? "pass" :
							c->result == RESULT_FAIL ? "fail" : "info",
							"time_ms", (double)(long long)(c->ms * 10 + 0.5) / 10,
							"detail", c->detail));
	}
	cg_probe_layers(pr, layers, sizeof(layers));
	if (st->has_preload)
		strncat(layers, ",preload", sizeof(layers) - strlen(layers) - 1);
	count(st, &passed, &failed, &info);
	root = json_pack("{s:s, s:s, s:s, s:s?, s:{s:b, s:s?, s:b, s:b, s:i, s:i, s:b, s:s, s:s, s:b, "
			 "s:b, s:s, s:b, s:b}, s:s, s:o, s:{s:i, s:i, s:i, s:f}, s:b}",
			 "version", PACKAGE_VERSION,
			 "policy", cg_policy_source(st->env.policy),
			 "guard_exec", st->guard_exec,
			 "shim", st->has_preload ? st->preload : NULL,
			 "environment",
			 "in_container", pr->in_container,
			 "container_evidence", pr->in_container ? pr->container_evidence : NULL,
			 "is_root", pr->is_root,
			 "seccomp_user_notification", pr->has_seccomp_notify,
			 "landlock_abi", pr->landlock_abi,
			 "ptrace_scope", pr->ptrace_scope,
			 "ptrace", pr->can_ptrace_child,
			 "cgroup_v1", cg_probe_controllers(pr->cgroup_v1, list, sizeof(list)),
			 "cgroup_v1_writable", cg_probe_controllers(pr->cgroup_v1_writable, list2, sizeof(list2)),
			 "cgroup_v2", pr->has_cgroup_v2,
			 "cgroup_v2_writable", pr->cgroup_v2_writable,
			 "cgroup_v2_dir", pr->cgroup_v2_dir,
			 "pid_namespaces", pr->can_unshare_pid,
			 "user_namespaces", pr->can_unshare_user,
			 "layers", layers,
			 "checks", checks,
			 "summary", "passed", passed, "failed", failed, "info", info,
			 "duration_ms", (double)(long long)(total_ms + 0.5),
			 "ok", failed == 0);
	text = root ? json_dumps(root, JSON_INDENT(2)) : NULL;
	if (text)
		printf("%s\n", text);
	free(text);
	json_decref(root);
}

/* ------------------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f, "usage: guardctl selftest [--config FILE] [--json]\n"
		"  Runs the security self-test of this machine, build and policy: what the kernel\n"
		"  offers, the static check, the repo profile, the rate limit (on a private state\n"
		"  directory), and real runs through guard-exec that each layer must stop.\n"
		"  Exit 0 when every check passes, 1 when one fails, 125 on a usage error.\n");
}

int cg_cmd_selftest(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct selftest *st;
	struct cg_cli o = { .ticket = "selftest" };
	struct cg_error err;
	bool json = false;
	double t0 = now_ms();
	char line[1024];
	int opt, status;

	if (argc > 1 && strcmp(argv[1], CHILD_FLAG) == 0)
		return run_child(argc, argv);

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': o.config_path = optarg; break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return CG_EXIT_GUARD_ERROR;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return CG_EXIT_GUARD_ERROR;
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return CG_EXIT_GUARD_ERROR;
	st->config_path = o.config_path;
	st->deadline_ms = t0 + BUDGET_MS;
	find_binaries(st);
	if (setup_dirs(st) < 0) {
		fprintf(stderr, "guardctl selftest: cannot create private directories under /tmp: %s\n",
			strerror(errno));
		status = CG_EXIT_GUARD_ERROR;
		goto out;
	}
	o.workspace_arg = st->workspace;
	o.state_dir_arg = st->state_dir;
	if (cg_cli_env_load(&st->env, &o, &err) < 0) {
		fprintf(stderr, "guardctl selftest: %s\n", cg_error_format(&err, line, sizeof(line)));
		status = CG_EXIT_GUARD_ERROR;
		goto out;
	}
	st->has_env = true;

	check_environment(st);
	check_static(st);
	check_profile(st);
	check_rate_limit(st);
	check_blocked_start(st);
	check_exec(st);
	check_read(st);
	check_shim(st);
	check_nnp(st);
	check_capabilities(st);
	check_user(st);
	check_process_limit(st);
	check_output_cap(st);
	check_timeout(st);
	check_cleanup(st);
	check_listen(st);
	check_identity(st);
	check_dns(st);

	if (json)
		print_json(st, now_ms() - t0);
	else
		print_table(st, now_ms() - t0);
	unsigned passed, failed, info;
	count(st, &passed, &failed, &info);
	status = failed ? 1 : 0;
out:
	if (st->has_env)
		cg_cli_env_free(&st->env);
	remove_tree(st->secret_dir);
	remove_tree(st->root_dir);
	free(st);
	return status;
}
