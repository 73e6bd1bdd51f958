/* test-supervisor.c - cg_run() on small programs (tests/prog/), judged by
 * effect: the marker a blocked program would write is not there, the
 * file was not read, the grandchild is gone. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <stddef.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard/guard.h"

#define PROG(name) BUILDDIR "/tests/prog/" name

static struct cg_policy *policy;
static char workspace[64];

static void remove_tree(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		cr_log_warn("could not remove %s", dir);
}

static void setup(void)
{
	struct cg_error err;
	char progs[PATH_MAX];

	cr_assert_eq(cg_policy_load(&policy, NULL, &err), 0, "%s", err.message);
	/* The test programs may sit anywhere (distcheck builds below the
	 * source tree): readable as --allow-read would make them. */
	cr_assert_not_null(realpath(BUILDDIR "/tests/prog", progs));
	cr_assert_eq(cg_strlist_add(&cg_policy_settings_mut(policy)->cli_allow_read, progs), 0);
	strcpy(workspace, "/tmp/cg-sup-XXXXXX");
	cr_assert_not_null(mkdtemp(workspace));
}

static void teardown(void)
{
	cg_policy_free(policy);
	remove_tree(workspace);
}

TestSuite(supervisor, .init = setup, .fini = teardown, .timeout = 120);

static void require_landlock(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, 1U);
	cr_assert_geq(abi, 6, "this test needs Landlock ABI >= 6 (kernel has %ld)", abi);
}

static int run_opts(struct cg_run_options *opt, struct cg_run_result *res)
{
	struct cg_error err = { 0 };
	int rc = cg_run(opt, res, &err);

	cr_assert_eq(rc, 0, "cg_run: %s", err.message);
	return rc;
}

static void options(struct cg_run_options *opt, char *const *argv)
{
	memset(opt, 0, sizeof(*opt));
	opt->ctx.policy = policy;
	opt->ctx.workspace = workspace;
	opt->argv = argv;
	opt->run_id = "test-run";
	opt->timeout_s = 60;
	opt->output_limit_bytes = 1 << 20;
	opt->capture = true;
}

static void run(char *const *argv, struct cg_run_result *res)
{
	struct cg_run_options opt;

	options(&opt, argv);
	run_opts(&opt, res);
}

static char *path_in_ws(const char *name)
{
	static char buf[4][256];
	static int next;
	char *p = buf[next++ % 4];

	snprintf(p, 256, "%s/%s", workspace, name);
	return p;
}

/* A copy of the marker program under a name the policy blocks. */
static const char *blocked_copy(const char *name)
{
	char cmd[512];
	const char *path = path_in_ws(name);

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", PROG("marker"), path);
	cr_assert_eq(system(cmd), 0);
	return path;
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static bool has_denial(const struct cg_run_result *res, const char *syscall_name)
{
	for (size_t i = 0; i < res->n_denials; i++)
		if (!strcmp(res->denials[i].syscall, syscall_name))
			return true;
	return false;
}

static const char *out(const struct cg_run_result *res)
{
	return res->stdout_buf ? res->stdout_buf : "";
}

/* ---------- the run's pid namespace ----------
 * Pids seen inside the run are the namespace's, not ours: the run writes
 * `readlink /proc/self/ns/pid` to a file and the tests ask whether any
 * process is still in that namespace. */

static void require_pidns(const struct cg_run_result *res)
{
	cr_assert(strstr(res->layers, ",pidns"),
		  "this test needs the run's own pid namespace (unshare CLONE_NEWPID as root); layers: %s",
		  res->layers);
}

/* The first line of `path`, without its newline; "" if none. */
static const char *first_line(const char *path)
{
	static char buf[4][128];
	static int next;
	char *line = buf[next++ % 4];
	FILE *f = fopen(path, "r");

	line[0] = '\0';
	if (f) {
		if (!fgets(line, 128, f))
			line[0] = '\0';
		fclose(f);
	}
	line[strcspn(line, "\n")] = '\0';
	return line;
}

/* Whether a live process is in the pid namespace `ns` ("pid:[N]"). */
static bool pidns_alive(const char *ns)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	bool alive = false;

	cr_assert_not_null(d);
	cr_assert(!strncmp(ns, "pid:[", 5), "not a pid namespace: '%s'", ns);
	while (!alive && (de = readdir(d))) {
		char link[300], target[64];
		ssize_t n;
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(link, sizeof(link), "/proc/%s/ns/pid", de->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = '\0';
			alive = !strcmp(target, ns);
		}
	}
	closedir(d);
	return alive;
}

/* ---------- exec ---------- */

static void assert_blocked_exec(const char *op, const char *syscall_name)
{
	struct cg_run_result res;
	const char *mount = blocked_copy("mount");
	const char *marker = path_in_ws("marker");
	char *argv[] = { PROG("attack"), (char *)op, (char *)mount, (char *)marker, NULL };

	run(argv, &res);
	cr_assert_not(exists(marker), "the blocked program ran via %s", op);
	cr_assert_not(strstr(out(&res), "marker ran"));
	cr_assert(has_denial(&res, syscall_name), "no %s denial recorded", syscall_name);
	cg_run_result_free(&res);
}

Test(supervisor, blocked_program_reached_by_execve_does_not_run)
{
	assert_blocked_exec("execve", "execve");
}

Test(supervisor, blocked_program_reached_by_raw_syscall_does_not_run)
{
	assert_blocked_exec("rawexec", "execve");
}

Test(supervisor, blocked_program_reached_by_execveat_does_not_run)
{
	assert_blocked_exec("execveat", "execveat");
}

Test(supervisor, blocked_program_reached_by_fexecve_does_not_run)
{
	assert_blocked_exec("fexecve", "execveat");
}

Test(supervisor, blocked_program_started_by_a_shell_does_not_run)
{
	struct cg_run_result res;
	const char *sudo = blocked_copy("sudo");
	const char *marker = path_in_ws("marker");
	char script[512];
	char *argv[] = { "/bin/sh", "-c", script, NULL };

	snprintf(script, sizeof(script), "'%s' '%s'; echo after $?", sudo, marker);
	run(argv, &res);
	cr_assert_not(exists(marker), "sudo ran from sh -c");
	cr_assert(strstr(out(&res), "after 126") || strstr(out(&res), "after 2"),
		  "the shell should see the exec fail: %s", out(&res));
	cg_run_result_free(&res);
}

Test(supervisor, allowed_program_runs_and_its_status_is_returned)
{
	struct cg_run_result res;
	char *argv[] = { "/bin/sh", "-c", "echo hello; echo oops >&2; exit 3", NULL };

	run(argv, &res);
	cr_assert_eq(res.exit_code, 3);
	cr_assert_str_eq(out(&res), "hello\n");
	cr_assert_str_eq(res.stderr_buf, "oops\n");
	cr_assert_eq(res.n_denials, 0);
	cg_run_result_free(&res);
}

Test(supervisor, death_by_signal_is_reported_as_128_plus_the_signal)
{
	struct cg_run_result res;
	char *argv[] = { "/bin/sh", "-c", "kill -9 $$", NULL };

	run(argv, &res);
	cr_assert_eq(res.signal, 9);
	cr_assert_eq(res.exit_code, 137);
	cg_run_result_free(&res);
}

Test(supervisor, missing_program_exits_127_with_the_reason)
{
	struct cg_run_result res;
	char *argv[] = { "/nonexistent/program", NULL };

	run(argv, &res);
	cr_assert_eq(res.exit_code, 127);
	cr_assert_eq(res.exec_errno, ENOENT);
	cg_run_result_free(&res);
}

Test(supervisor, path_swapped_by_a_thread_during_exec_never_runs_the_blocked_program,
     .timeout = 600)
{
	struct cg_run_result res;
	const char *mount = blocked_copy("mount");
	const char *marker = path_in_ws("marker");
	char *argv[] = { PROG("exec-race"), "/bin/true", (char *)mount, (char *)marker, "2000", NULL };

	run(argv, &res);
	cr_assert_not(exists(marker), "the blocked program ran in the exec race");
	cr_assert_str_eq(out(&res), "2000 tries\n", "exit %d, signal %d, %zu denials, stderr: %.300s",
			 res.exit_code, res.signal, res.n_denials, res.stderr_buf ? res.stderr_buf : "");
	cg_run_result_free(&res);
}

/* ---------- files ---------- */

static void assert_unreadable(const char *op, const char *path, const char *extra)
{
	struct cg_run_result res;
	char *argv[] = { PROG("attack"), (char *)op, (char *)path, (char *)extra, NULL };

	require_landlock();
	run(argv, &res);
	cr_assert(strstr(out(&res), "read errno"), "%s %s: %s", op, path, out(&res));
	cr_assert_not(strstr(out(&res), "read ok"));
	cg_run_result_free(&res);
}

Test(supervisor, shadow_is_not_readable_through_open)
{
	assert_unreadable("read", "/etc/shadow", NULL);
}

Test(supervisor, shadow_is_not_readable_through_openat2)
{
	assert_unreadable("openat2", "/etc/shadow", NULL);
}

Test(supervisor, shadow_is_not_readable_through_a_symlink)
{
	assert_unreadable("symlink-read", "/etc/shadow", path_in_ws("link"));
}

Test(supervisor, shadow_is_not_readable_through_proc_self_root)
{
	assert_unreadable("proc-root", "/etc/shadow", NULL);
}

Test(supervisor, system_files_beside_a_secret_stay_readable)
{
	struct cg_run_result res;
	char *argv[] = { PROG("attack"), "read", "/etc/passwd", NULL };

	run(argv, &res);
	cr_assert_str_eq(out(&res), "read ok\n");
	cg_run_result_free(&res);
}

Test(supervisor, no_file_is_created_outside_the_allowed_paths)
{
	struct cg_run_result res;
	char outside[64];
	char *argv[] = { PROG("attack"), "create", outside, NULL };

	require_landlock();
	snprintf(outside, sizeof(outside), "/var/tmp/cg-sup-%d", getpid());
	unlink(outside);
	run(argv, &res);
	cr_assert_not(exists(outside), "a file appeared outside the allowed paths");
	unlink(outside);
	cr_assert(strstr(out(&res), "create errno"), "%s", out(&res));
	cg_run_result_free(&res);
	snprintf(outside, sizeof(outside), "/etc/cg-sup-%d", getpid());
	run(argv, &res);
	cr_assert_not(exists(outside), "a file appeared in /etc");
	unlink(outside);
	cg_run_result_free(&res);
}

Test(supervisor, files_are_created_in_the_workspace)
{
	struct cg_run_result res;
	char *inside = path_in_ws("made");
	char *argv[] = { PROG("attack"), "create", inside, NULL };

	run(argv, &res);
	cr_assert_str_eq(out(&res), "create ok\n");
	cr_assert(exists(inside));
	cg_run_result_free(&res);
}

/* ---------- refused calls ---------- */

static void assert_refused(const char *op, const char *what)
{
	struct cg_run_result res;
	char expect[64];
	char *argv[] = { PROG("attack"), (char *)op, NULL };

	run(argv, &res);
	snprintf(expect, sizeof(expect), "%s errno %d\n", what, EPERM);
	cr_assert_str_eq(out(&res), expect);
	cg_run_result_free(&res);
}

Test(supervisor, io_uring_setup_fails)
{
	assert_refused("io_uring", "io_uring_setup");
}

Test(supervisor, ptrace_fails)
{
	assert_refused("ptrace", "ptrace");
}

Test(supervisor, new_namespaces_cannot_be_made)
{
	assert_refused("unshare", "unshare");
	assert_refused("clone-newuser", "clone");
}

Test(supervisor, the_run_cannot_install_a_seccomp_listener_of_its_own)
{
	assert_refused("seccomp-listener", "seccomp");
}

Test(supervisor, signals_do_not_reach_processes_outside_the_run)
{
	struct cg_run_result res;
	char pid[16];
	char *argv[] = { PROG("attack"), "kill", pid, NULL };

	require_landlock();
	snprintf(pid, sizeof(pid), "%d", getpid());
	run(argv, &res);
	require_pidns(&res);
	/* not even there to be refused: the run's namespace has no such pid */
	cr_assert_str_eq(out(&res), "kill errno 3\n");
	cg_run_result_free(&res);
}

Test(supervisor, the_command_cannot_see_a_process_outside_the_run_in_proc)
{
	struct cg_run_result res;
	char script[512];
	char *argv[] = { "/bin/sh", "-c", script, NULL };
	pid_t outside = fork();

	cr_assert_geq(outside, 0);
	if (outside == 0) {
		execl("/bin/sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	/* the command line of the outside process is what a token leaks by;
	 * the run's own /proc stays readable */
	snprintf(script, sizeof(script),
		 "cat /proc/%d/cmdline || echo hidden; test -e /proc/%d || echo absent; "
		 "head -c 4 /proc/self/cmdline; echo",
		 (int)outside, (int)outside);
	run(argv, &res);
	kill(outside, SIGKILL);
	waitpid(outside, NULL, 0);
	require_pidns(&res);
	cr_assert_str_eq(out(&res), "hidden\nabsent\nhead\n");
	cg_run_result_free(&res);
}

Test(supervisor, the_command_sees_itself_as_the_second_process_of_its_namespace)
{
	struct cg_run_result res;
	char *argv[] = { "/bin/sh", "-c", "echo $$; ls /proc | grep -c '^[0-9]'", NULL };

	run(argv, &res);
	require_pidns(&res);
	/* 1 is the namespace's init; then the shell, ls and grep */
	cr_assert_str_eq(out(&res), "2\n4\n");
	cg_run_result_free(&res);
}

/* ---------- output, time, processes ---------- */

Test(supervisor, a_100_mb_flood_is_capped_at_1_mib_and_the_rest_counted)
{
	struct cg_run_result res;
	char *argv[] = { PROG("flood"), "100", NULL };
	int saved = dup(STDOUT_FILENO), null_fd = open("/dev/null", O_WRONLY);

	/* the passed-through MiB goes to /dev/null, not the test log */
	dup2(null_fd, STDOUT_FILENO);
	run(argv, &res);
	dup2(saved, STDOUT_FILENO);
	cr_assert_eq(res.exit_code, 0);
	cr_assert_eq(res.stdout_bytes, 100u << 20);
	cr_assert_eq(res.stdout_len + res.stderr_len, 1u << 20);
	cr_assert_eq(res.dropped_bytes, res.stdout_bytes + res.stderr_bytes - (1u << 20));
	cr_assert(res.truncated);
	cg_run_result_free(&res);
}

Test(supervisor, timeout_kills_a_process_that_ignores_sigterm)
{
	struct cg_run_options opt;
	struct cg_run_result res;
	char *argv[] = { PROG("ignore-term"), NULL };

	cg_policy_settings_mut(policy)->kill_grace_ms = 200;
	options(&opt, argv);
	opt.timeout_s = 1;
	run_opts(&opt, &res);
	cr_assert(res.timed_out);
	cr_assert_eq(res.exit_code, 124);
	cr_assert_str_eq(out(&res), "ready\n");
	cg_run_result_free(&res);
}

Test(supervisor, a_setsid_grandchild_does_not_outlive_the_run)
{
	struct cg_run_options opt;
	struct cg_run_result res;
	char *pidfile = path_in_ws("grandchild.pid"), *nsfile = path_in_ws("pidns");
	char script[512];
	char *argv[] = { "/bin/sh", "-c", script, NULL };

	snprintf(script, sizeof(script), "readlink /proc/self/ns/pid > '%s'; exec '%s' setsid-grandchild '%s'",
		 nsfile, PROG("attack"), pidfile);
	options(&opt, argv);
	run_opts(&opt, &res);
	require_pidns(&res);
	cr_assert_str_eq(out(&res), "parent done\n");
	cr_assert(atoi(first_line(pidfile)) > 1, "the grandchild never started");
	cr_assert(!pidns_alive(first_line(nsfile)), "a process of the run is still alive");
	cg_run_result_free(&res);
}

Test(supervisor, a_setsid_grandchild_is_killed_at_timeout)
{
	struct cg_run_options opt;
	struct cg_run_result res;
	char *pidfile = path_in_ws("grandchild.pid"), *nsfile = path_in_ws("pidns");
	char script[512];
	char *argv[] = { "/bin/sh", "-c", script, NULL };

	snprintf(script, sizeof(script),
		 "readlink /proc/self/ns/pid > '%s'; '%s' setsid-grandchild '%s'; exec '%s'", nsfile,
		 PROG("attack"), pidfile, PROG("ignore-term"));
	cg_policy_settings_mut(policy)->kill_grace_ms = 200;
	options(&opt, argv);
	opt.timeout_s = 1;
	run_opts(&opt, &res);
	require_pidns(&res);
	cr_assert(res.timed_out);
	cr_assert(atoi(first_line(pidfile)) > 1, "the grandchild never started");
	cr_assert(!pidns_alive(first_line(nsfile)), "the grandchild survived the timeout");
	cg_run_result_free(&res);
}

Test(supervisor, a_fork_bomb_is_contained_by_the_process_limit)
{
	struct cg_run_result res;
	char *argv[] = { PROG("attack"), "forkbomb", NULL };
	int forks = -1;

	run(argv, &res);
	cr_assert_eq(sscanf(out(&res), "forks %d", &forks), 1, "%s", out(&res));
	cr_assert_lt(forks, 100, "the tree grew to %d processes", forks);
	cr_assert_gt(forks, 0);
	cg_run_result_free(&res);
}

Test(supervisor, guard_variables_and_denied_secrets_are_not_passed_on)
{
	struct cg_run_result res;
	char *argv[] = { "/usr/bin/env", NULL };

	setenv("GUARD_INTERNAL", "x", 1);
	setenv("GITHUB_TOKEN", "secret", 1);
	setenv("CG_KEEP_ME", "kept", 1);
	run(argv, &res);
	cr_assert_not(strstr(out(&res), "GUARD_INTERNAL"));
	cr_assert_not(strstr(out(&res), "GITHUB_TOKEN"));
	cr_assert(strstr(out(&res), "CG_KEEP_ME=kept"));
	cg_run_result_free(&res);
}

Test(supervisor, log_dir_receives_both_streams)
{
	struct cg_run_options opt;
	struct cg_run_result res;
	char *argv[] = { "/bin/sh", "-c", "echo to-out; echo to-err >&2", NULL };
	char path[256], buf[64] = "";
	FILE *f;

	options(&opt, argv);
	opt.log_dir = path_in_ws("logs");
	run_opts(&opt, &res);
	snprintf(path, sizeof(path), "%s/test-run/stderr.log", opt.log_dir);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	cr_assert_str_eq(buf, "to-err\n");
	cg_run_result_free(&res);
}

Test(supervisor, layers_name_what_enforced_the_run)
{
	struct cg_run_result res;
	char *argv[] = { "/bin/true", NULL };

	require_landlock();
	run(argv, &res);
	cr_assert(strstr(res.layers, "seccomp-notify"), "%s", res.layers);
	cr_assert(strstr(res.layers, "landlock(abi"), "%s", res.layers);
	cr_assert(strstr(res.layers, "ptrace-exec-check"), "%s", res.layers);
	cr_assert(strstr(res.layers, "cgroup"), "cgroups missing: %s", res.layers);
	cg_run_result_free(&res);
}

/* ---------- network ---------- */

Test(supervisor, connect_to_a_loopback_port_is_allowed)
{
	struct cg_run_result res;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int server = socket(AF_INET, SOCK_STREAM, 0);
	char port[16];
	char *argv[] = { PROG("netprobe"), "tcp", "127.0.0.1", port, NULL };

	cr_assert_eq(bind(server, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(listen(server, 4), 0);
	getsockname(server, (struct sockaddr *)&sin, &len);
	snprintf(port, sizeof(port), "%u", ntohs(sin.sin_port));
	run(argv, &res);
	cr_assert_str_eq(out(&res), "connect ok\n");
	close(server);
	cg_run_result_free(&res);
}

Test(supervisor, connect_outside_the_allowlist_is_denied_before_any_packet)
{
	struct cg_run_result res;
	char *argv[] = { PROG("netprobe"), "tcp", "10.255.255.1", "9", NULL };

	run(argv, &res);
	/* EPERM from the supervisor, not the ETIMEDOUT or ENETUNREACH that
	 * a connect that was actually attempted would give */
	cr_assert_str_eq(out(&res), "connect errno 1\n");
	cr_assert(has_denial(&res, "connect"));
	cg_run_result_free(&res);
}

Test(supervisor, udp_send_outside_the_allowlist_is_denied)
{
	struct cg_run_result res;
	char *argv[] = { PROG("netprobe"), "udp", "10.255.255.1", "9", NULL };

	run(argv, &res);
	cr_assert_str_eq(out(&res), "send errno 1\n");
	cr_assert(has_denial(&res, "sendto"));
	cg_run_result_free(&res);
}

Test(supervisor, abstract_socket_outside_the_run_cannot_be_reached)
{
	struct cg_run_result res;
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	char name[64];
	char *argv[] = { PROG("netprobe"), "abstract", name, NULL };
	int server = socket(AF_UNIX, SOCK_STREAM, 0);
	socklen_t len;

	snprintf(name, sizeof(name), "cg-sup-outside-%d", getpid());
	memcpy(un.sun_path + 1, name, strlen(name));
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
	cr_assert_eq(bind(server, (struct sockaddr *)&un, len), 0);
	cr_assert_eq(listen(server, 4), 0);
	run(argv, &res);
	cr_assert_str_eq(out(&res), "connect errno 1\n");
	close(server);
	cg_run_result_free(&res);
}

Test(supervisor, abstract_socket_of_the_run_itself_can_be_reached)
{
	struct cg_run_result res;
	char name[64];
	char *argv[] = { PROG("netprobe"), "abstract-own", name, NULL };

	snprintf(name, sizeof(name), "cg-sup-inside-%d", getpid());
	run(argv, &res);
	cr_assert_str_eq(out(&res), "connect ok\n");
	cg_run_result_free(&res);
}

Test(supervisor, monitor_mode_records_file_accesses_through_the_notifications)
{
	struct cg_run_options opt;
	struct cg_run_result res;
	char *argv[] = { PROG("attack"), "read", "/etc/shadow", NULL };
	bool recorded = false;

	options(&opt, argv);
	opt.monitor = true;
	run_opts(&opt, &res);
	cr_assert(strstr(res.layers, "seccomp-notify(files,signals)"), "%s", res.layers);
	for (size_t i = 0; i < res.n_denials; i++)
		recorded |= !strcmp(res.denials[i].detail, "/etc/shadow");
	cr_assert(recorded, "the read of /etc/shadow was not recorded (%zu denials)", res.n_denials);
	cg_run_result_free(&res);
}

Test(supervisor, monitor_mode_records_a_blocked_exec_and_lets_it_run)
{
	struct cg_run_options opt;
	struct cg_run_result res;
	const char *mount = blocked_copy("mount");
	const char *marker = path_in_ws("marker");
	char *argv[] = { PROG("attack"), "execve", (char *)mount, (char *)marker, NULL };

	options(&opt, argv);
	opt.monitor = true;
	run_opts(&opt, &res);
	cr_assert(exists(marker), "monitor mode blocked the program");
	cr_assert(has_denial(&res, "execve"), "monitor mode did not record the violation");
	cg_run_result_free(&res);
}

Test(supervisor, the_shim_gets_a_snapshot_the_run_cannot_write_and_it_is_removed_after)
{
	struct cg_run_options opt;
	struct cg_run_result res;
	const char *shim = BUILDDIR "/preload/.libs/libguard-preload.so";
	char script[512];
	char *argv[] = { "/bin/sh", "-c", script, NULL };
	char snapshot[512] = "";

	require_landlock();
	cr_assert_eq(access(shim, R_OK), 0, "the preload shim %s is not built", shim);
	snprintf(script, sizeof(script), "echo \"$GUARD_SNAPSHOT\"; exec '%s' rawwrite \"$GUARD_SNAPSHOT\"",
		 PROG("attack"));
	options(&opt, argv);
	opt.preload_path = shim;
	run_opts(&opt, &res);
	cr_assert_eq(sscanf(out(&res), "%511s", snapshot), 1, "%s", out(&res));
	cr_assert(snapshot[0] == '/', "no GUARD_SNAPSHOT: %s", out(&res));
	cr_assert(strstr(out(&res), "rawwrite errno"), "the run could write its own policy: %s",
		  out(&res));
	cr_assert_not(exists(snapshot), "%s survived the run", snapshot);
	cg_run_result_free(&res);
}

Test(supervisor, denials_of_the_shim_are_recorded_in_the_result)
{
	struct cg_run_options opt;
	struct cg_run_result res;
	const char *shim = BUILDDIR "/preload/.libs/libguard-preload.so";
	const char *mount = blocked_copy("mount");
	const char *marker = path_in_ws("marker");
	char *argv[] = { "/bin/sh", "-c", "\"$0\" \"$1\"; true", (char *)mount, (char *)marker, NULL };
	bool from_shim = false;

	cr_assert_eq(access(shim, R_OK), 0, "the preload shim %s is not built", shim);
	options(&opt, argv);
	opt.preload_path = shim;
	run_opts(&opt, &res);
	cr_assert_not(exists(marker));
	for (size_t i = 0; i < res.n_denials; i++)
		from_shim |= !strcmp(res.denials[i].why.layer, "preload");
	cr_assert(from_shim, "no denial with layer preload among %zu", res.n_denials);
	cg_run_result_free(&res);
}

/* In a mount namespace of its own, with no cgroup hierarchy visible: a
 * root run then has no process limit, and must not start (exit 0); run
 * as another user (RLIMIT_NPROC binds it) it does (exit 0 too).
 * Anything else: 1. */
static int run_without_cgroups(bool as_nobody, const char *marker)
{
	pid_t pid = fork();
	int status;

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct cg_run_options opt;
		struct cg_run_result res;
		struct cg_error err = { 0 };
		char *argv[] = { PROG("attack"), "create", (char *)marker, NULL };
		int rc;
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("tmpfs", "/sys/fs/cgroup", "tmpfs", 0, NULL) < 0)
			_exit(2);
		options(&opt, argv);
		if (as_nobody) {
			opt.set_user = true;
			opt.uid = opt.gid = 65534;
			argv[1] = "forkbomb";
			argv[2] = NULL;
		}
		rc = cg_run(&opt, &res, &err);
		if (as_nobody)
			_exit(rc == 0 && strstr(out(&res), "forks ") ? 0 : 1);
		_exit(rc == -EPERM && !strcmp(err.key, "limits") && strstr(err.message, "--user") ? 0 : 1);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "died of signal %d", WTERMSIG(status));
	return WEXITSTATUS(status);
}

Test(supervisor, a_root_command_without_a_pids_controller_does_not_start)
{
	const char *marker = path_in_ws("marker");

	cr_assert_eq(run_without_cgroups(false, marker), 0,
		     "cg_run did not refuse for want of a process limit (2: no mount namespace)");
	cr_assert_not(exists(marker), "the command ran");
}

Test(supervisor, a_command_run_as_another_user_without_cgroups_is_bounded_by_rlimit_nproc)
{
	cr_assert_eq(run_without_cgroups(true, path_in_ws("marker")), 0,
		     "the run as nobody did not complete (2: no mount namespace)");
}

static void read_text(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	size_t n;

	cr_assert_not_null(f, "%s", path);
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* The warm-up moves this process into the groups it is already in: it
 * must leave it exactly there, and a run after it is whole. */
Test(supervisor, the_cgroup_warm_up_moves_no_process_and_the_run_after_it_is_tracked)
{
	struct cg_warm_up warm = { 0 };
	struct cg_run_options opt;
	struct cg_run_result res;
	char before[4096], after[4096];
	char *argv[] = { "/bin/sh", "-c", "cat /proc/self/cgroup", NULL };

	read_text("/proc/self/cgroup", before, sizeof(before));
	cg_run_warm_up(&warm);
	options(&opt, argv);
	opt.warm_up = &warm;
	run_opts(&opt, &res);
	cr_assert_not(warm.is_running, "cg_run did not join the warm-up thread");
	cg_run_warm_up_join(&warm);
	read_text("/proc/self/cgroup", after, sizeof(after));
	cr_assert_str_eq(after, before, "the warm-up moved the supervisor");
	cr_assert_eq(res.exit_code, 0);
	cr_assert(strstr(out(&res), "commandguard/test-run."), "the run is not in its own group: %s",
		  out(&res));
	cg_run_result_free(&res);
}

/* A v2 group is entered at the clone: the command is in it from its
 * first instruction, with no move. */
Test(supervisor, the_command_is_made_inside_its_cgroup_v2_group)
{
	struct cg_run_options opt;
	struct cg_run_result res;
	char *argv[] = { "/bin/sh", "-c", "cat /proc/self/cgroup", NULL };

	options(&opt, argv);
	run_opts(&opt, &res);
	cr_assert(strstr(res.layers, "cgroup-v2("), "this test needs a writable cgroup v2 hierarchy "
		  "(/sys/fs/cgroup or /sys/fs/cgroup/unified): layers %s", res.layers);
	cr_assert(strstr(res.layers, "clone-into"), "clone3(CLONE_INTO_CGROUP) was not used: %s",
		  res.layers);
	cr_assert(strstr(out(&res), "0::/") && strstr(out(&res), "/commandguard/test-run."),
		  "not in the run's v2 group: %s", out(&res));
	cg_run_result_free(&res);
}

/* Longest prefix wins in Landlock as in the rule engine: an allowed path
 * below a blocked one (/dev/shm under /dev) opens, and only it. */
Test(supervisor, an_allowed_path_below_a_blocked_one_is_writable_and_only_it)
{
	struct cg_run_options opt;
	struct cg_run_result res;
	char shm_file[64], dev_file[64], script[256];
	char *argv[] = { "/bin/sh", "-c", script, NULL };

	require_landlock();
	snprintf(shm_file, sizeof(shm_file), "/dev/shm/cg-sup-%d", getpid());
	snprintf(dev_file, sizeof(dev_file), "/dev/cg-sup-%d", getpid());
	snprintf(script, sizeof(script), ": > '%s'; : > '%s'; true", shm_file, dev_file);
	cr_assert_eq(cg_strlist_add(&cg_policy_settings_mut(policy)->cli_allow_write, "/dev/shm"), 0);
	options(&opt, argv);
	opt.preload_path = NULL;
	run_opts(&opt, &res);
	bool made_shm = exists(shm_file), made_dev = exists(dev_file);
	unlink(shm_file);
	unlink(dev_file);
	cr_assert(made_shm, "/dev/shm stayed closed: %s", res.stderr_buf ? res.stderr_buf : "");
	cr_assert_not(made_dev, "a file appeared in /dev");
	cg_run_result_free(&res);
}

/* /dev/shm is the run's own: writable (Python's multiprocessing needs
 * it), empty of what others left, and gone with the run. */
Test(supervisor, the_run_has_a_dev_shm_of_its_own)
{
	struct cg_run_result res;
	char host_file[64], run_file[64], script[256];
	char *argv[] = { "/bin/sh", "-c", script, NULL };
	int fd;

	snprintf(host_file, sizeof(host_file), "/dev/shm/cg-sup-host-%d", getpid());
	snprintf(run_file, sizeof(run_file), "/dev/shm/cg-sup-run-%d", getpid());
	fd = open(host_file, O_WRONLY | O_CREAT, 0644);
	cr_assert_geq(fd, 0);
	close(fd);
	snprintf(script, sizeof(script), "test -e '%s' && echo sees-host; : > '%s' && echo wrote",
		 host_file, run_file);
	run(argv, &res);
	bool left = exists(run_file);
	unlink(host_file);
	unlink(run_file);
	require_pidns(&res);
	cr_assert_str_eq(out(&res), "wrote\n", "stderr: %s", res.stderr_buf ? res.stderr_buf : "");
	cr_assert_not(left, "the run's file was left in the host's /dev/shm");
	cg_run_result_free(&res);
}

/* The shim installed outside every readable path (a build tree under
 * /check, say) still loads: the run is granted that one file. */
Test(supervisor, the_shim_loads_from_a_directory_the_run_may_not_read)
{
	struct cg_run_options opt;
	struct cg_run_result res;
	char dir[64], shim[128], cmd[512];
	const char *mount = blocked_copy("mount");
	const char *marker = path_in_ws("marker");
	char *argv[] = { "/bin/sh", "-c", "\"$0\" \"$1\"; true", (char *)mount, (char *)marker, NULL };
	bool from_shim = false;

	require_landlock();
	/* /var/tmp is neither readable nor writable for the run */
	strcpy(dir, "/var/tmp/cg-shim-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(shim, sizeof(shim), "%s/libguard-preload.so", dir);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", BUILDDIR "/preload/.libs/libguard-preload.so", shim);
	cr_assert_eq(system(cmd), 0);
	options(&opt, argv);
	opt.preload_path = shim;
	run_opts(&opt, &res);
	remove_tree(dir);
	cr_assert_not(exists(marker), "the blocked program ran");
	cr_assert_null(strstr(res.stderr_buf ? res.stderr_buf : "", "cannot be preloaded"), "%s",
		       res.stderr_buf);
	for (size_t i = 0; i < res.n_denials; i++)
		from_shim |= !strcmp(res.denials[i].why.layer, "preload");
	cr_assert(from_shim, "the shim did not load: no denial with layer preload among %zu",
		  res.n_denials);
	cg_run_result_free(&res);
}

Test(supervisor, a_path_candidate_the_run_may_not_execute_gives_way_to_the_next)
{
	struct cg_run_result res;
	char dir[64], path[128], cmd[300], env_path[256];
	const char *marker = path_in_ws("marker");
	char *argv[] = { "true", (char *)marker, NULL };
	const char *old_path = getenv("PATH");

	require_landlock();
	/* /var/tmp is neither readable nor writable for the run */
	snprintf(dir, sizeof(dir), "/var/tmp/cg-sup-%d", getpid());
	cr_assert_eq(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/true", dir);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", PROG("marker"), path);
	cr_assert_eq(system(cmd), 0);
	snprintf(env_path, sizeof(env_path), "%s:/usr/bin:/bin", dir);
	setenv("PATH", env_path, 1);
	run(argv, &res);
	setenv("PATH", old_path ? old_path : "/usr/bin:/bin", 1);
	unlink(path);
	rmdir(dir);
	cr_assert_eq(res.exit_code, 0, "exit %d (errno %d)", res.exit_code, res.exec_errno);
	cr_assert_not(exists(marker), "the copy outside the readable paths ran");
	cg_run_result_free(&res);
}

Test(supervisor, datagrams_sent_with_sendmmsg_on_a_connected_socket_arrive_whole)
{
	struct cg_run_result res;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int server = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	char port[16], buf[16];
	char *argv[] = { PROG("netprobe"), "udp-mmsg", "127.0.0.1", port, NULL };

	cr_assert_eq(bind(server, (struct sockaddr *)&sin, sizeof(sin)), 0);
	getsockname(server, (struct sockaddr *)&sin, &len);
	snprintf(port, sizeof(port), "%u", ntohs(sin.sin_port));
	run(argv, &res);
	cr_assert_str_eq(out(&res), "sent 2 (3 3)\n");
	cr_assert_eq(recv(server, buf, sizeof(buf), 0), 3);
	cr_assert_eq(memcmp(buf, "one", 3), 0);
	cr_assert_eq(recv(server, buf, sizeof(buf), 0), 3);
	cr_assert_eq(memcmp(buf, "two", 3), 0);
	close(server);
	cg_run_result_free(&res);
}

Test(supervisor, the_command_runs_as_the_requested_user_without_capabilities)
{
	struct cg_run_options opt;
	struct cg_run_result res;
	char *argv[] = { "/bin/sh", "-c", "id -u; id -g; grep CapEff /proc/self/status", NULL };

	cr_assert_eq(geteuid(), 0, "this test needs root to switch users");
	options(&opt, argv);
	opt.set_user = true;
	opt.uid = 65534;
	opt.gid = 65534;
	run_opts(&opt, &res);
	cr_assert_str_eq(out(&res), "65534\n65534\nCapEff:\t0000000000000000\n");
	cg_run_result_free(&res);
}

Test(supervisor, root_keeps_only_the_capabilities_the_policy_names)
{
	struct cg_run_result res;
	char *argv[] = { "/bin/grep", "-E", "^Cap(Eff|Bnd)", "/proc/self/status", NULL };
	/* CAP_CHOWN (0), CAP_SETGID (6), CAP_SETUID (7): the default keep list */
	const char *expect = "CapEff:\t00000000000000c1\nCapBnd:\t00000000000000c1\n";

	cr_assert_eq(geteuid(), 0, "this test needs root");
	run(argv, &res);
	cr_assert_str_eq(out(&res), expect);
	cg_run_result_free(&res);
}

Test(supervisor, signals_outside_the_run_do_not_reach_without_landlock_either)
{
	struct cg_run_options opt;
	struct cg_run_result res;
	char pid[16];
	char *argv[] = { "/bin/sh", "-c", "kill -0 $$ && echo own-ok; exec \"$0\" kill \"$1\"",
			 PROG("attack"), pid, NULL };

	/* monitor mode goes without Landlock and lets what it records
	 * through: the run's pid namespace is what keeps the signal in */
	snprintf(pid, sizeof(pid), "%d", getpid());
	options(&opt, argv);
	opt.monitor = true;
	run_opts(&opt, &res);
	require_pidns(&res);
	cr_assert(strstr(res.layers, "signals"), "%s", res.layers);
	cr_assert_str_eq(out(&res), "own-ok\nkill errno 3\n");
	cr_assert_eq(res.n_denials, 0, "signals inside the run were judged outside");
	cg_run_result_free(&res);
}

Test(supervisor, the_command_and_its_descendants_die_with_their_supervisor)
{
	char *pidfile = path_in_ws("command.pid");
	char script[512], ns[128];
	char *argv[] = { "/bin/sh", "-c", script, NULL };
	pid_t supervisor;
	int status;

	/* a setsid'd grandchild, which PR_SET_PDEATHSIG does not reach */
	snprintf(script, sizeof(script),
		 "setsid sleep 1000 & readlink /proc/self/ns/pid > '%s.tmp' && mv '%s.tmp' '%s' && exec sleep 1000",
		 pidfile, pidfile, pidfile);
	supervisor = fork();
	cr_assert_geq(supervisor, 0);
	if (supervisor == 0) {
		struct cg_run_options opt;
		struct cg_run_result res;
		struct cg_error err;
		options(&opt, argv);
		_exit(cg_run(&opt, &res, &err) == 0 ? 0 : 1);
	}
	for (int i = 0; i < 1000 && !exists(pidfile); i++)
		usleep(10000);
	snprintf(ns, sizeof(ns), "%s", first_line(pidfile));
	cr_assert(ns[0], "the command never started");
	cr_assert(pidns_alive(ns), "the command is not running");
	kill(supervisor, SIGKILL);
	waitpid(supervisor, &status, 0);
	/* PR_SET_PDEATHSIG ends the namespace's init and so the namespace;
	 * the dying take their time to go */
	for (int i = 0; i < 1000 && pidns_alive(ns); i++)
		usleep(10000);
	cr_assert(!pidns_alive(ns), "the command or its grandchild outlived the supervisor");
}

Test(supervisor, sigterm_to_the_supervisor_ends_the_tree_and_is_reported)
{
	char *pidfile = path_in_ws("command.pid");
	char script[512], ns[128];
	char *argv[] = { "/bin/sh", "-c", script, NULL };
	pid_t supervisor;
	int status;

	/* once it runs ignore-term, the SIGKILL after the grace period ends it */
	snprintf(script, sizeof(script),
		 "readlink /proc/self/ns/pid > '%s.tmp' && mv '%s.tmp' '%s' && exec '%s'",
		 pidfile, pidfile, pidfile, PROG("ignore-term"));
	cg_policy_settings_mut(policy)->kill_grace_ms = 200;
	supervisor = fork();
	cr_assert_geq(supervisor, 0);
	if (supervisor == 0) {
		struct cg_run_options opt;
		struct cg_run_result res;
		struct cg_error err;
		options(&opt, argv);
		if (cg_run(&opt, &res, &err))
			_exit(2);
		/* SIGKILL after the grace period, or SIGTERM itself when it came
		 * before the exec of ignore-term */
		_exit(res.interrupt_signal == SIGTERM &&
			      (res.exit_code == 128 + SIGKILL || res.exit_code == 128 + SIGTERM) ? 0 : 1);
	}
	for (int i = 0; i < 1000 && !exists(pidfile); i++)
		usleep(10000);
	snprintf(ns, sizeof(ns), "%s", first_line(pidfile));
	cr_assert(ns[0], "the command never started");
	kill(supervisor, SIGTERM);
	cr_assert_eq(waitpid(supervisor, &status, 0), supervisor);
	cr_assert(WIFEXITED(status), "the supervisor itself died of signal %d", WTERMSIG(status));
	cr_assert_eq(WEXITSTATUS(status), 0, "no interrupt recorded, or the command was not killed");
	cr_assert(!pidns_alive(ns), "the command outlived the interrupted run");
}

static int listen_unix(const char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	strncpy(un.sun_path, path, sizeof(un.sun_path) - 1);
	unlink(path);
	cr_assert_eq(bind(fd, (struct sockaddr *)&un, sizeof(un)), 0, "bind %s", path);
	cr_assert_eq(listen(fd, 4), 0);
	return fd;
}

Test(supervisor, unix_sockets_connect_inside_the_allowed_paths_only)
{
	struct cg_run_result res;
	char outside[64], *inside = path_in_ws("inside.sock"), *link = path_in_ws("link.sock");
	char *argv_in[] = { PROG("netprobe"), "unix", inside, NULL };
	char *argv_link[] = { PROG("netprobe"), "unix", link, NULL };
	int in_fd, out_fd;

	/* /var/tmp is outside the allowed paths, as /var/run/docker.sock is */
	snprintf(outside, sizeof(outside), "/var/tmp/cg-sup-%d.sock", getpid());
	in_fd = listen_unix(inside);
	out_fd = listen_unix(outside);
	cr_assert_eq(symlink(outside, link), 0);
	run(argv_in, &res);
	cr_assert_str_eq(out(&res), "connect ok\n");
	cg_run_result_free(&res);
	run(argv_link, &res);
	unlink(outside);
	cr_assert_str_eq(out(&res), "connect errno 1\n", "a symlink in the workspace reached %s",
			 outside);
	cr_assert(has_denial(&res, "connect"));
	cg_run_result_free(&res);
	close(in_fd);
	close(out_fd);
}

Test(supervisor, fds_passed_over_a_datagram_socket_arrive_as_working_copies)
{
	struct cg_run_result res;
	char *argv[] = { PROG("netprobe"), "pass-fd", NULL };

	run(argv, &res);
	cr_assert_eq(res.exit_code, 0, "netprobe pass-fd exited %d: %s", res.exit_code, out(&res));
	cr_assert_str_eq(out(&res), "pass-fd ok\n");
	cg_run_result_free(&res);
}

static int inode_flags(const char *path)
{
	int flags = -1, fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0)
		flags = -1;
	if (fd >= 0)
		close(fd);
	return flags;
}

Test(supervisor, metadata_of_files_outside_the_allowed_paths_does_not_change)
{
	static const char *const ops[] = { "chmod", "chown", "utime", "setxattr", "fchmod",
					   "setflags", "file_setattr" };
	char victim[64];
	struct stat before, after;
	int fd, flags_before;

	snprintf(victim, sizeof(victim), "/etc/cg-sup-%d", getpid());
	fd = open(victim, O_WRONLY | O_CREAT | O_EXCL, 0644);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(stat(victim, &before), 0);
	flags_before = inode_flags(victim);
	cr_assert_geq(flags_before, 0, "FS_IOC_GETFLAGS on %s: the test needs a file system with "
		      "inode flags (ext4, xfs, btrfs)", victim);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		struct cg_run_result res;
		char *argv[] = { PROG("attack"), (char *)ops[i], victim, NULL };
		char expect[64];
		run(argv, &res);
		snprintf(expect, sizeof(expect), "%s errno", ops[i]);
		cr_assert(strstr(out(&res), expect), "%s on %s: %s", ops[i], victim, out(&res));
		cg_run_result_free(&res);
	}
	cr_assert_eq(stat(victim, &after), 0);
	cr_assert_eq(inode_flags(victim), flags_before, "the inode flags changed");
	unlink(victim);
	cr_assert_eq(after.st_mode, before.st_mode);
	cr_assert_eq(after.st_uid, before.st_uid);
	cr_assert_eq(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
	cr_assert_eq(after.st_ctim.tv_nsec, before.st_ctim.tv_nsec, "the inode changed (xattr?)");
}

/* The command itself a script whose #! names a blocked program: the
 * kernel starts the interpreter, which the check after the exec judges. */
Test(supervisor, a_script_command_whose_interpreter_is_blocked_does_not_run_it)
{
	struct cg_run_result res;
	const char *mount = blocked_copy("mount");
	const char *marker = path_in_ws("marker");
	char *script = path_in_ws("build.sh");
	char *argv[] = { script, NULL };
	FILE *f = fopen(script, "w");

	cr_assert_not_null(f);
	fprintf(f, "#!%s %s\n", mount, marker);
	fclose(f);
	cr_assert_eq(chmod(script, 0755), 0);
	run(argv, &res);
	cr_assert_not(exists(marker), "the interpreter named by #! ran");
	cr_assert(has_denial(&res, "execve"), "no denial recorded");
	cg_run_result_free(&res);
}

/* Program identity is the file, not its name: a copy of /usr/bin/mount
 * under another name, and the loader copied to run it, list no mounts;
 * a copy of an allowed program runs. */
static void copy_file(const char *from, const char *to)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

Test(supervisor, a_renamed_copy_of_a_blocked_program_does_not_run)
{
	struct cg_run_result res;
	char *copy = path_in_ws("lsmnt");
	char *loader = path_in_ws("ldcopy");
	char *direct[] = { copy, NULL };
	char *via_loader[] = { loader, copy, NULL };
	char loader_path[PATH_MAX];

	copy_file("/usr/bin/mount", copy);
	cr_assert_not_null(realpath("/lib64/ld-linux-x86-64.so.2", loader_path));
	copy_file(loader_path, loader);
	run(direct, &res);
	cr_assert_null(strstr(out(&res), " on / "), "the copy listed the mounts: %s", out(&res));
	cr_assert(has_denial(&res, "execve"), "no denial recorded");
	cg_run_result_free(&res);
	run(via_loader, &res);
	cr_assert_null(strstr(out(&res), " on / "), "the copy ran through the loader: %s", out(&res));
	cg_run_result_free(&res);
}

Test(supervisor, a_copy_of_an_allowed_program_runs)
{
	struct cg_run_result res;
	char *copy = path_in_ws("my-echo");
	char *argv[] = { copy, "still here", NULL };

	copy_file("/bin/echo", copy);
	run(argv, &res);
	cr_assert_eq(res.exit_code, 0);
	cr_assert_str_eq(out(&res), "still here\n");
	cg_run_result_free(&res);
}

Test(supervisor, open_tree_attr_is_refused)
{
	struct cg_run_result res;
	char *argv[] = { PROG("attack"), "open_tree_attr", NULL };
	char expect[64];

	run(argv, &res);
	snprintf(expect, sizeof(expect), "open_tree_attr errno %d\n", EPERM);
	cr_assert_str_eq(out(&res), expect);
	cg_run_result_free(&res);
}

Test(supervisor, metadata_of_files_in_the_workspace_may_change)
{
	struct cg_run_result res;
	char *file = path_in_ws("mine");
	char *argv[] = { PROG("attack"), "chmod", file, NULL };
	struct stat st;
	int fd = open(file, O_WRONLY | O_CREAT, 0644);

	close(fd);
	run(argv, &res);
	cr_assert_str_eq(out(&res), "chmod ok\n");
	cr_assert_eq(stat(file, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0777);
	cg_run_result_free(&res);
}
