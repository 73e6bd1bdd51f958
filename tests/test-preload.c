/* test-preload.c - libguard-preload.so in real processes.
 *
 * Each test writes a snapshot with the engine, runs tests/preload/cg-calls
 * (one libc call per run) with LD_PRELOAD and the GUARD_* variables, and
 * judges by what the program reports and by the effect on the file
 * system: a refused write leaves nothing behind.  guard-exec is not
 * involved; these tests are about the shim alone.  They run as root, so a
 * write to /etc that the shim did not refuse would succeed.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rules/rules.h"

#define SHIM BUILDDIR "/preload/.libs/libguard-preload.so"
#define CALLS BUILDDIR "/tests/preload/cg-calls"
#define STRESS BUILDDIR "/tests/preload/cg-stress"

/* The run directory and workspace of a test, and its environment. */
static char dir[64];
static char env_block[4096];
static char *env_entries[16];
static size_t n_env_entries;

static void remove_tree(const char *path)
{
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	cr_assert_eq(system(cmd), 0);
}

/* Publish a snapshot of `conf` (NULL: the built-in policy) into a new
 * directory that is also the workspace. */
static void setup_policy(const char *conf, bool is_monitor)
{
	struct cg_policy *p = NULL;
	struct cg_error err = { 0 };

	snprintf(dir, sizeof(dir), "/tmp/cg-preload-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	if (conf)
		cr_assert_eq(cg_policy_load_string(&p, conf, "test.conf", &err), 0, "%s", err.message);
	else
		cr_assert_eq(cg_policy_load(&p, NULL, &err), 0, "%s", err.message);
	cr_assert_eq(cg_snapshot_publish(p, dir, dir, is_monitor, env_block, sizeof(env_block), &err),
		     0, "%s", err.message);
	cg_policy_free(p);
	n_env_entries = 0;
	for (char *e = env_block; *e; e += strlen(e) + 1)
		env_entries[n_env_entries++] = e;
}

static void setup_builtin(void)
{
	setup_policy(NULL, false);
}

static void teardown(void)
{
	if (dir[0])
		remove_tree(dir);
}

struct run {
	int status;        /* exit status, or 128+signal */
	char out[16384];   /* stdout and stderr together */
};

/* Run argv under the shim with the test's environment plus `extra`
 * entries (NULL-terminated; an entry "-NAME" removes NAME). */
static void run_env(struct run *r, const char *const extra[], char *const argv[])
{
	char *envp[32];
	size_t n = 0;
	int fds[2];
	pid_t pid;

	envp[n++] = "PATH=/usr/bin:/bin";
	envp[n++] = "LD_PRELOAD=" SHIM;
	for (size_t i = 0; i < n_env_entries; i++) {
		bool is_removed = false;
		for (size_t k = 0; extra && extra[k]; k++)
			if (extra[k][0] == '-' && strncmp(env_entries[i], extra[k] + 1, strlen(extra[k] + 1)) == 0)
				is_removed = true;
		if (!is_removed)
			envp[n++] = env_entries[i];
	}
	for (size_t k = 0; extra && extra[k]; k++)
		if (extra[k][0] != '-')
			envp[n++] = (char *)extra[k];
	envp[n] = NULL;

	cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		if (chdir(dir[0] ? dir : "/tmp") < 0)
			_exit(125);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	close(fds[1]);
	size_t len = 0;
	ssize_t got;
	while ((got = read(fds[0], r->out + len, sizeof(r->out) - 1 - len)) > 0)
		len += (size_t)got;
	r->out[len] = '\0';
	close(fds[0]);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* cg-calls CALL ARGS... under the shim. */
static void calls(struct run *r, const char *call, ...)
{
	char *argv[16] = { CALLS, (char *)call };
	size_t n = 2;
	va_list ap;

	va_start(ap, call);
	for (char *a; n < 15 && (a = va_arg(ap, char *)); )
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	run_env(r, NULL, argv);
}

static char *in_dir(const char *name)
{
	static char paths[8][PATH_MAX];
	static int next;
	char *p = paths[next++ % 8];
	snprintf(p, PATH_MAX, "%s/%s", dir, name);
	return p;
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

#define assert_refused(r, errname, what)                                                    \
	do {                                                                                \
		cr_assert(strstr((r)->out, "errno=" errname), "%s: %s", what, (r)->out);    \
		cr_assert(strstr((r)->out, "guard: denied "), "%s: %s", what, (r)->out);    \
		cr_assert(strstr((r)->out, "(layer preload"), "%s: %s", what, (r)->out);    \
	} while (0)

#define assert_ok(r, what)                                                                  \
	do {                                                                                \
		cr_assert(strstr((r)->out, "ok\n"), "%s: %s", what, (r)->out);              \
		cr_assert_null(strstr((r)->out, "guard: denied"), "%s: %s", what, (r)->out); \
	} while (0)

/* ---------------------------------------------------------------- files */

Test(preload_files, reading_a_secret_file_is_refused_with_eacces, .init = setup_builtin,
     .fini = teardown) {
	struct run r;
	const char *reads[] = { "open-read", "open64-read", "fopen-read", "fopen64-read" };

	for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
		calls(&r, reads[i], "/etc/shadow", NULL);
		assert_refused(&r, "EACCES", reads[i]);
		cr_assert(strstr(r.out, "Path '/etc/shadow' is not in allowed paths for reading"), "%s", r.out);
		cr_assert_eq(r.status, 1);
	}
	calls(&r, "openat-read", "/etc", "shadow", NULL);
	assert_refused(&r, "EACCES", "openat relative to a directory fd");
}

Test(preload_files, reading_allowed_files_works, .init = setup_builtin, .fini = teardown) {
	struct run r;

	calls(&r, "open-read", "/etc/hostname", NULL);
	assert_ok(&r, "/etc/hostname");
	calls(&r, "fopen-read", "/proc/self/status", NULL);
	assert_ok(&r, "own /proc entry");
	calls(&r, "openat-read", "/usr", "bin", NULL);
	assert_ok(&r, "openat");
}

Test(preload_files, a_symlink_in_the_workspace_does_not_open_a_secret, .init = setup_builtin,
     .fini = teardown) {
	struct run r;

	cr_assert_eq(symlink("/etc/shadow", in_dir("innocent")), 0);
	calls(&r, "open-read", in_dir("innocent"), NULL);
	assert_refused(&r, "EACCES", "symlink to /etc/shadow");
	calls(&r, "open-read", "innocent", NULL);
	assert_refused(&r, "EACCES", "relative symlink name");
}

Test(preload_files, creating_files_outside_the_allowed_paths_is_refused_and_creates_nothing,
     .init = setup_builtin, .fini = teardown) {
	struct run r;
	char target[PATH_MAX], dangling_target[PATH_MAX];
	const char *create_calls[] = { "open-write", "creat", "creat64", "fopen-write", "freopen-write",
				       "mkdir", "mkdirat", "truncate" };

	snprintf(target, sizeof(target), "/etc/cg-preload-%d", (int)getpid());
	write_file(in_dir("source"), "x");
	for (size_t i = 0; i < sizeof(create_calls) / sizeof(create_calls[0]); i++) {
		calls(&r, create_calls[i], target, NULL);
		cr_assert_not(exists(target), "%s created %s", create_calls[i], target);
		if (strcmp(create_calls[i], "truncate") == 0)
			continue;   /* the kernel would say ENOENT; the shim says no first or not at all */
		assert_refused(&r, "EACCES", create_calls[i]);
	}
	calls(&r, "openat-write", "/etc", target + 5, NULL);
	assert_refused(&r, "EACCES", "openat");
	calls(&r, "openat64-write", "/etc", target + 5, NULL);
	assert_refused(&r, "EACCES", "openat64");
	calls(&r, "symlink", "/tmp", target, NULL);
	assert_refused(&r, "EACCES", "symlink");
	calls(&r, "symlinkat", "/tmp", target, NULL);
	assert_refused(&r, "EACCES", "symlinkat");
	calls(&r, "link", in_dir("source"), target, NULL);
	assert_refused(&r, "EACCES", "link");
	calls(&r, "linkat", in_dir("source"), target, NULL);
	assert_refused(&r, "EACCES", "linkat");
	calls(&r, "rename", in_dir("source"), target, NULL);
	assert_refused(&r, "EACCES", "rename");
	cr_assert(exists(in_dir("source")), "rename refused: the source is still there");
	cr_assert_not(exists(target));

	/* A dangling symlink in the workspace would create its target. */
	snprintf(dangling_target, sizeof(dangling_target), "/etc/cg-preload-dangling-%d", (int)getpid());
	cr_assert_eq(symlink(dangling_target, in_dir("dangling")), 0);
	calls(&r, "open-write", in_dir("dangling"), NULL);
	assert_refused(&r, "EACCES", "write through a dangling symlink");
	cr_assert_not(exists(dangling_target));
}

Test(preload_files, changing_existing_files_outside_the_allowed_paths_is_refused,
     .init = setup_builtin, .fini = teardown) {
	struct run r;
	char victim[PATH_MAX], victim_dir[PATH_MAX];
	struct stat st;
	const char *change_calls[] = { "open-write", "truncate", "chmod", "fchmodat", "chown", "lchown",
				       "fchownat", "unlink", "unlinkat" };
	const char *move_calls[] = { "rename", "renameat", "renameat2" };

	snprintf(victim, sizeof(victim), "/etc/cg-preload-victim-%d", (int)getpid());
	snprintf(victim_dir, sizeof(victim_dir), "/etc/cg-preload-dir-%d", (int)getpid());
	write_file(victim, "keep me\n");
	cr_assert_eq(chmod(victim, 0644), 0);
	cr_assert_eq(mkdir(victim_dir, 0755), 0);
	for (size_t i = 0; i < sizeof(change_calls) / sizeof(change_calls[0]); i++) {
		calls(&r, change_calls[i], victim, NULL);
		assert_refused(&r, "EACCES", change_calls[i]);
	}
	for (size_t i = 0; i < sizeof(move_calls) / sizeof(move_calls[0]); i++) {
		calls(&r, move_calls[i], victim, in_dir("stolen"), NULL);
		assert_refused(&r, "EACCES", move_calls[i]);
	}
	calls(&r, "rmdir", victim_dir, NULL);
	assert_refused(&r, "EACCES", "rmdir");

	cr_assert_eq(stat(victim, &st), 0, "the victim still exists");
	cr_assert_eq(st.st_size, 8, "and still holds its text");
	cr_assert_eq(st.st_mode & 07777, 0644, "with its mode");
	cr_assert(exists(victim_dir));
	cr_assert_not(exists(in_dir("stolen")));
	unlink(victim);
	rmdir(victim_dir);
}

Test(preload_files, the_same_calls_inside_the_workspace_succeed, .init = setup_builtin,
     .fini = teardown) {
	struct run r;

	calls(&r, "open-write", in_dir("a"), NULL);
	assert_ok(&r, "open-write");
	calls(&r, "creat", in_dir("b"), NULL);
	assert_ok(&r, "creat");
	calls(&r, "fopen-write", in_dir("c"), NULL);
	assert_ok(&r, "fopen-write");
	calls(&r, "openat-write", dir, "d", NULL);
	assert_ok(&r, "openat-write");
	calls(&r, "truncate", in_dir("a"), NULL);
	assert_ok(&r, "truncate");
	calls(&r, "chmod", in_dir("a"), NULL);
	assert_ok(&r, "chmod");
	calls(&r, "rename", in_dir("a"), in_dir("a2"), NULL);
	assert_ok(&r, "rename");
	calls(&r, "link", in_dir("a2"), in_dir("a3"), NULL);
	assert_ok(&r, "link");
	calls(&r, "symlink", "a2", in_dir("a4"), NULL);
	assert_ok(&r, "symlink");
	calls(&r, "mkdir", in_dir("sub"), NULL);
	assert_ok(&r, "mkdir");
	calls(&r, "open-write", "sub/relative", NULL);
	assert_ok(&r, "relative to the cwd");
	cr_assert(exists(in_dir("sub/relative")));
	calls(&r, "unlink", in_dir("a3"), NULL);
	assert_ok(&r, "unlink");
	calls(&r, "open-write", "/dev/null", NULL);
	assert_ok(&r, "/dev/null is always allowed");
	calls(&r, "open-write", "/dev/stderr", NULL);
	assert_ok(&r, "/dev/stderr reopens the pipe the test reads");
	calls(&r, "open-write", "/proc/self/fd/1", NULL);
	assert_ok(&r, "so does /proc/self/fd/1");
	cr_assert(exists(in_dir("a2")) && exists(in_dir("a4")) && !exists(in_dir("a3")));
}

Test(preload_files, an_fd_opened_for_reading_does_not_become_writable_through_proc,
     .init = setup_builtin, .fini = teardown) {
	struct run r;
	char victim[PATH_MAX], script[PATH_MAX * 2];
	struct stat st;

	snprintf(victim, sizeof(victim), "/etc/cg-preload-reopen-%d", (int)getpid());
	write_file(victim, "keep me\n");
	/* The shell opens the file for reading as fd 5 (allowed: /etc is
	 * readable); the program then asks for it by fd name, for writing. */
	snprintf(script, sizeof(script), "exec 5<'%s'; '%s' open-write /proc/self/fd/5; "
		 "'%s' open-write /dev/fd/5", victim, CALLS, CALLS);
	char *argv[] = { "/bin/sh", "-c", script, NULL };
	run_env(&r, NULL, argv);
	cr_assert(strstr(r.out, "errno=EACCES"), "%s", r.out);
	cr_assert_null(strstr(r.out, "ok\n"), "%s", r.out);
	cr_assert_eq(stat(victim, &st), 0);
	cr_assert_eq(st.st_size, 8, "not truncated");
	unlink(victim);
}

/* ---------------------------------------------------------------- programs */

Test(preload_exec, every_exec_call_refuses_a_forbidden_program, .init = setup_builtin,
     .fini = teardown) {
	struct run r;
	const char *by_path[] = { "execve", "execv", "execveat", "fexecve", "fexecve-memfd",
				  "posix_spawn", "vfork-execve" };
	const char *by_name[] = { "execvp", "execvpe", "posix_spawnp" };

	for (size_t i = 0; i < sizeof(by_path) / sizeof(by_path[0]); i++) {
		calls(&r, by_path[i], "/usr/bin/mount", "--version", NULL);
		assert_refused(&r, "EPERM", by_path[i]);
		cr_assert_null(strstr(r.out, "util-linux"), "%s: mount ran: %s", by_path[i], r.out);
		cr_assert(strstr(r.out, "[system-modification/mount]"), "%s", r.out);
	}
	for (size_t i = 0; i < sizeof(by_name) / sizeof(by_name[0]); i++) {
		calls(&r, by_name[i], "mount", "--version", NULL);
		assert_refused(&r, "EPERM", by_name[i]);
		cr_assert_null(strstr(r.out, "util-linux"), "%s: mount ran: %s", by_name[i], r.out);
	}
	calls(&r, "execl", "/usr/bin/mount", "--version", NULL);
	assert_refused(&r, "EPERM", "execl");
	calls(&r, "execle", "/usr/bin/mount", "--version", NULL);
	assert_refused(&r, "EPERM", "execle");
	calls(&r, "execlp", "mount", "--version", NULL);
	assert_refused(&r, "EPERM", "execlp");
	cr_assert_null(strstr(r.out, "util-linux"));
}

Test(preload_exec, every_exec_call_starts_an_allowed_program, .init = setup_builtin,
     .fini = teardown) {
	struct run r;
	const char *by_path[] = { "execve", "execv", "execveat", "fexecve", "fexecve-memfd",
				  "posix_spawn", "vfork-execve" };
	const char *by_name[] = { "execvp", "execvpe", "posix_spawnp" };

	for (size_t i = 0; i < sizeof(by_path) / sizeof(by_path[0]); i++) {
		calls(&r, by_path[i], "/bin/echo", "started-fine", NULL);
		cr_assert(strstr(r.out, "started-fine"), "%s: %s", by_path[i], r.out);
		cr_assert_eq(r.status, 0);
	}
	for (size_t i = 0; i < sizeof(by_name) / sizeof(by_name[0]); i++) {
		calls(&r, by_name[i], "echo", "started-fine", NULL);
		cr_assert(strstr(r.out, "started-fine"), "%s: %s", by_name[i], r.out);
	}
	calls(&r, "execl", "/bin/echo", "started-fine", NULL);
	cr_assert(strstr(r.out, "started-fine"), "execl: %s", r.out);
	calls(&r, "execlp", "echo", "started-fine", NULL);
	cr_assert(strstr(r.out, "started-fine"), "execlp: %s", r.out);
}

Test(preload_exec, a_symlink_to_a_forbidden_program_is_refused, .init = setup_builtin,
     .fini = teardown) {
	struct run r;

	cr_assert_eq(symlink("/usr/bin/mount", in_dir("harmless")), 0);
	calls(&r, "execve", in_dir("harmless"), "--version", NULL);
	assert_refused(&r, "EPERM", "symlink to mount");
	cr_assert_null(strstr(r.out, "util-linux"));
}

Test(preload_exec, system_sudo_ls_is_refused_naming_the_rule, .init = setup_builtin,
     .fini = teardown) {
	struct run r;

	calls(&r, "system", "sudo ls", NULL);
	assert_refused(&r, "EPERM", "system");
	cr_assert(strstr(r.out, "guard: denied system sudo ls: Command contains blocked operation: sudo "
				"[privilege/sudo] (layer preload)"), "%s", r.out);
	calls(&r, "popen", "cat /etc/hostname; mount", NULL);
	assert_refused(&r, "EPERM", "popen");
	cr_assert(strstr(r.out, "[system-modification/mount]"), "%s", r.out);
}

Test(preload_exec, system_and_popen_run_allowed_commands, .init = setup_builtin, .fini = teardown) {
	struct run r;

	calls(&r, "system", "echo from-system", NULL);
	cr_assert(strstr(r.out, "from-system\nstatus=0"), "%s", r.out);
	calls(&r, "popen", "echo from-popen", NULL);
	cr_assert(strstr(r.out, "from-popen"), "%s", r.out);
	/* The shell system() starts carries the shim too. */
	calls(&r, "system", "cat /etc/shadow", NULL);
	cr_assert(strstr(r.out, "guard: denied open /etc/shadow"), "%s", r.out);
}

Test(preload_exec, descendants_keep_the_shim_in_a_fresh_environment, .init = setup_builtin,
     .fini = teardown) {
	struct run r;
	char want[PATH_MAX + 32];

	calls(&r, "execve-clean-env", CALLS, "env", "LD_PRELOAD", "GUARD_SNAPSHOT", "GUARD_WORKSPACE",
	      "HELLO", NULL);
	cr_assert(strstr(r.out, "LD_PRELOAD=" SHIM "\n"), "%s", r.out);
	snprintf(want, sizeof(want), "GUARD_SNAPSHOT=%s/policy.snapshot\n", dir);
	cr_assert(strstr(r.out, want), "%s", r.out);
	cr_assert(strstr(r.out, "HELLO=1"), "the program's own entries stay: %s", r.out);
	calls(&r, "execve-clean-env", CALLS, "open-read", "/etc/shadow", NULL);
	assert_refused(&r, "EACCES", "grandchild");
}

Test(preload_exec, python_os_system_mount_prints_a_denial_and_no_mount_table, .init = setup_builtin,
     .fini = teardown) {
	struct run r;
	char *argv[] = { "/usr/bin/python3", "-c",
			 "import os, subprocess\n"
			 "print('system', os.system('mount'))\n"
			 "try:\n"
			 "    subprocess.run(['mount'])\n"
			 "except PermissionError as e:\n"
			 "    print('subprocess', e.errno)\n", NULL };

	cr_assert_eq(access(argv[0], X_OK), 0, "python3 is needed for this test");
	run_env(&r, NULL, argv);
	cr_assert(strstr(r.out, "guard: denied system mount: Command contains blocked operation: mount "
				"[system-modification/mount] (layer preload)"), "%s", r.out);
	cr_assert(strstr(r.out, "system -1"), "%s", r.out);
	cr_assert(strstr(r.out, "subprocess 1"), "EPERM from the exec in the child: %s", r.out);
	cr_assert_null(strstr(r.out, " on / type "), "no mount table: %s", r.out);
	/* Python's child tries every PATH directory: said once. */
	char *first = strstr(r.out, "guard: denied execv");
	cr_assert_not_null(first, "%s", r.out);
	cr_assert_null(strstr(first + 1, "guard: denied execv"), "%s", r.out);
}

Test(preload_exec, a_shell_under_the_shim_cannot_read_secrets_or_start_forbidden_programs,
     .init = setup_builtin, .fini = teardown) {
	struct run r;
	char *argv[] = { "/bin/sh", "-c", "cat /etc/shadow; mount; echo still-here", NULL };

	run_env(&r, NULL, argv);
	cr_assert(strstr(r.out, "guard: denied open /etc/shadow"), "%s", r.out);
	cr_assert(strstr(r.out, "guard: denied execve /usr/bin/mount") ||
		  strstr(r.out, "guard: denied execve /bin/mount"), "%s", r.out);
	cr_assert_null(strstr(r.out, " on / type "), "%s", r.out);
	cr_assert(strstr(r.out, "still-here"), "%s", r.out);
}

Test(preload_exec, system_puts_the_shim_back_after_the_program_removed_it, .init = setup_builtin,
     .fini = teardown) {
	struct run r;
	char *argv[] = { "/usr/bin/python3", "-c",
			 "import os\n"
			 "del os.environ['LD_PRELOAD']\n"
			 "del os.environ['GUARD_SNAPSHOT']\n"
			 "os.system('cat /etc/shadow')\n", NULL };

	run_env(&r, NULL, argv);
	cr_assert(strstr(r.out, "guard: denied open /etc/shadow"), "the shell had the shim: %s", r.out);
	cr_assert_null(strstr(r.out, "root:"), "%s", r.out);
}

/* ---------------------------------------------------------------- network */

static void setup_net(void)
{
	setup_policy("network: { allowed_hosts = [ \"allowed.invalid\" ]; };\n", false);
}

Test(preload_net, connections_outside_the_egress_allowlist_are_refused, .init = setup_net,
     .fini = teardown) {
	struct run r;

	calls(&r, "connect", "192.0.2.1", "80", NULL);
	assert_refused(&r, "EPERM", "connect");
	cr_assert(strstr(r.out, "Connection to 192.0.2.1:80 is not in the egress allowlist"), "%s", r.out);
	calls(&r, "sendto", "192.0.2.1", "53", NULL);
	assert_refused(&r, "EPERM", "sendto");
	calls(&r, "sendmmsg", "192.0.2.1", "53", NULL);
	assert_refused(&r, "EPERM", "sendmmsg");
	calls(&r, "bind", "0.0.0.0", "8080", NULL);
	assert_refused(&r, "EPERM", "bind");
	calls(&r, "listen", "0.0.0.0", "0", NULL);
	assert_refused(&r, "EPERM", "listen on every address");
}

Test(preload_net, loopback_is_allowed, .init = setup_net, .fini = teardown) {
	struct run r;

	calls(&r, "connect", "127.0.0.1", "1", NULL);
	cr_assert(strstr(r.out, "errno=ECONNREFUSED"), "the kernel answered: %s", r.out);
	cr_assert_null(strstr(r.out, "guard: denied"));
	calls(&r, "listen", "127.0.0.1", "0", NULL);
	assert_ok(&r, "listen on loopback");
	calls(&r, "sendto", "127.0.0.1", "9", NULL);
	assert_ok(&r, "sendto loopback");
	calls(&r, "sendmmsg", "127.0.0.1", "9", NULL);
	assert_ok(&r, "sendmmsg loopback");
}

Test(preload_net, a_lookup_outside_the_allowlist_fails_at_once, .init = setup_net, .fini = teardown) {
	struct run r;
	char want[32];

	calls(&r, "getaddrinfo", "denied.example.com", NULL);
	snprintf(want, sizeof(want), "gai=%d", EAI_FAIL);
	cr_assert(strstr(r.out, want), "%s", r.out);
	cr_assert(strstr(r.out, "guard: denied getaddrinfo denied.example.com: Host 'denied.example.com' "
				"is not in the egress allowlist"), "%s", r.out);
	calls(&r, "gethostbyname", "denied.example.com", NULL);
	cr_assert(strstr(r.out, "h_errno=3"), "NO_RECOVERY: %s", r.out);
	calls(&r, "gethostbyname_r", "denied.example.com", NULL);
	cr_assert(strstr(r.out, "h_errno=3"), "NO_RECOVERY: %s", r.out);
	cr_assert(strstr(r.out, "guard: denied gethostbyname_r denied.example.com"), "%s", r.out);
	calls(&r, "getaddrinfo", "localhost", NULL);
	cr_assert(strstr(r.out, "gai=0"), "%s", r.out);
	calls(&r, "getaddrinfo", "allowed.invalid", NULL);
	cr_assert_null(strstr(r.out, "guard: denied"), "allowed names reach the resolver: %s", r.out);
}

/* ---------------------------------------------------------------- failure modes */

Test(preload_failure, a_damaged_snapshot_refuses_every_guarded_call, .init = setup_builtin,
     .fini = teardown) {
	struct run r;
	char path[PATH_MAX], entry[PATH_MAX + 32];
	struct stat st;

	/* A copy with its last byte cut off. */
	snprintf(path, sizeof(path), "%s/policy.snapshot", dir);
	cr_assert_eq(stat(path, &st), 0);
	int in = open(path, O_RDONLY | O_CLOEXEC);
	char *data = malloc((size_t)st.st_size);
	cr_assert_eq(read(in, data, (size_t)st.st_size), st.st_size);
	close(in);
	write_file(in_dir("cut.snapshot"), "");
	int out = open(in_dir("cut.snapshot"), O_WRONLY | O_CLOEXEC);
	cr_assert_eq(write(out, data, (size_t)st.st_size - 1), st.st_size - 1);
	close(out);
	free(data);

	snprintf(entry, sizeof(entry), "GUARD_SNAPSHOT=%s", in_dir("cut.snapshot"));
	const char *env[] = { "-GUARD_SNAPSHOT", entry, NULL };
	char *argv[] = { CALLS, "open-read", "/etc/hostname", NULL };
	run_env(&r, env, argv);
	cr_assert(strstr(r.out, "errno=EACCES"), "%s", r.out);
	cr_assert(strstr(r.out, "guard: policy snapshot unusable: "), "%s", r.out);
	cr_assert(strstr(r.out, "damaged"), "%s", r.out);

	char *exec_argv[] = { CALLS, "execve", "/bin/echo", "ran", NULL };
	run_env(&r, env, exec_argv);
	cr_assert(strstr(r.out, "errno=EPERM"), "%s", r.out);
	cr_assert_null(strstr(r.out, "ran\n"), "%s", r.out);

	const char *missing[] = { "-GUARD_SNAPSHOT", "GUARD_SNAPSHOT=/nonexistent/policy.snapshot", NULL };
	run_env(&r, missing, argv);
	cr_assert(strstr(r.out, "errno=EACCES"), "%s", r.out);
	cr_assert(strstr(r.out, "cannot open the policy snapshot"), "%s", r.out);
}

Test(preload_failure, without_guard_snapshot_the_shim_says_so_once_and_refuses,
     .init = setup_builtin, .fini = teardown) {
	struct run r;
	const char *env[] = { "-GUARD_SNAPSHOT", NULL };
	char *argv[] = { CALLS, "popen", "cat /etc/hostname", NULL };

	run_env(&r, env, argv);
	cr_assert(strstr(r.out, "errno=EPERM"), "%s", r.out);
	char *first = strstr(r.out, "loaded without GUARD_SNAPSHOT");
	cr_assert_not_null(first, "%s", r.out);
	cr_assert_null(strstr(first + 1, "loaded without GUARD_SNAPSHOT"), "said once: %s", r.out);
}

Test(preload_failure, monitor_mode_reports_and_allows, .fini = teardown) {
	struct run r;

	setup_policy(NULL, true);
	calls(&r, "open-read", "/etc/shadow", NULL);
	cr_assert(strstr(r.out, "ok\n"), "%s", r.out);
	cr_assert(strstr(r.out, "guard: denied open /etc/shadow: "), "%s", r.out);
	cr_assert(strstr(r.out, "monitor: allowed"), "%s", r.out);
}

Test(preload_failure, denials_reach_the_report_socket, .init = setup_builtin, .fini = teardown) {
	struct run r;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char entry[sizeof(addr.sun_path) + 16], msg[2048];

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/preload.sock", dir);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	snprintf(entry, sizeof(entry), "GUARD_REPORT=%s", addr.sun_path);
	const char *env[] = { entry, NULL };
	char *argv[] = { CALLS, "open-read", "/etc/shadow", NULL };
	run_env(&r, env, argv);
	ssize_t n = recv(fd, msg, sizeof(msg) - 1, 0);
	cr_assert_gt(n, 0, "a datagram arrived");
	msg[n] = '\0';
	cr_assert_eq(strncmp(msg, "v1\t", 3), 0, "%s", msg);
	cr_assert(strstr(msg, "\topen\t/etc/shadow\tpath\tread\tblocked\tPath '/etc/shadow'"), "%s", msg);
	close(fd);
}

/* ---------------------------------------------------------------- threads */

Test(preload_exec, a_forking_process_loads_the_policy_once_for_its_children, .init = setup_builtin,
     .fini = teardown) {
	struct run r;

	calls(&r, "fork-mapped", NULL);
	cr_assert_eq(r.status, 0, "%s", r.out);
	cr_assert(strstr(r.out, "before fork: no\n"), "no guarded call yet, nothing loaded: %s", r.out);
	cr_assert(strstr(r.out, "child: yes\n"), "the child inherits the parent's policy: %s", r.out);
}

Test(preload_threads, forking_and_exec_in_many_threads_does_not_deadlock, .init = setup_builtin,
     .fini = teardown, .timeout = 180) {
	struct run r;
	char *argv[] = { STRESS, "100", NULL };

	run_env(&r, NULL, argv);
	cr_assert_neq(r.status, 128 + SIGALRM, "deadlocked: %s", r.out);
	cr_assert_eq(r.status, 0, "%s", r.out);
	cr_assert(strstr(r.out, "failures: 0"), "%s", r.out);
}
