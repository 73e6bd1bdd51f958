/* test-probe - the kernel feature probes (guard/probe.c).
 *
 * The probes try the real thing in forked children; these tests prove the
 * caller is left as it was (no filter, no namespace, no stray child, no
 * probe group), that the answers agree with what the kernel says through
 * other doors, and that the container heuristics read what they should.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard/guard.h"

static void read_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	size_t n;

	cr_assert_not_null(f, "cannot open %s: %s", path, strerror(errno));
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static long status_field(const char *name)
{
	char buf[8192], key[64];
	const char *at;

	read_file("/proc/self/status", buf, sizeof(buf));
	snprintf(key, sizeof(key), "\n%s:", name);
	at = strstr(buf, key);
	cr_assert_not_null(at, "/proc/self/status has no %s line", name);
	return strtol(at + strlen(key), NULL, 10);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s%s", dir, name);
	f = fopen(path, "we");
	cr_assert_not_null(f, "cannot create %s", path);
	fputs(text, f);
	fclose(f);
}

/* A fake root for the container heuristics: DIR/proc/1 and DIR/run. */
static char *fake_root(void)
{
	char tmpl[] = "/tmp/cg-probe-test-XXXXXX", path[PATH_MAX];
	char *dir = mkdtemp(tmpl);

	cr_assert_not_null(dir);
	snprintf(path, sizeof(path), "%s/proc", dir);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/proc/1", dir);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/run", dir);
	cr_assert_eq(mkdir(path, 0755), 0);
	return strdup(dir);
}

static void remove_fake_root(char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
	free(dir);
}

Test(probe, probing_leaves_the_caller_without_a_filter_or_no_new_privs)
{
	struct cg_probe pr;
	long seccomp_before = status_field("Seccomp");
	long nnp_before = status_field("NoNewPrivs");

	cg_probe_all(&pr);
	cr_assert_eq(status_field("Seccomp"), seccomp_before);
	cr_assert_eq(status_field("NoNewPrivs"), nnp_before);
	cr_assert_eq(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), nnp_before);
}

Test(probe, probing_leaves_no_child_process_behind)
{
	struct cg_probe pr;

	cg_probe_all(&pr);
	errno = 0;
	cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "a probe child was left to reap");
	cr_assert_eq(errno, ECHILD);
}

Test(probe, probing_leaves_the_caller_in_its_own_namespaces)
{
	char before[64], after[64];
	struct cg_probe pr;
	ssize_t n;

	n = readlink("/proc/self/ns/pid_for_children", before, sizeof(before) - 1);
	cr_assert_gt(n, 0);
	before[n] = '\0';
	cg_probe_all(&pr);
	n = readlink("/proc/self/ns/pid_for_children", after, sizeof(after) - 1);
	cr_assert_gt(n, 0);
	after[n] = '\0';
	cr_assert_str_eq(after, before);
}

static void assert_no_probe_group(const char *dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/cg-probe-%d", dir, (int)getpid());
	cr_assert_neq(access(path, F_OK), 0, "%s was left behind", path);
}

/* The probe groups are made inside our own group of each hierarchy. */
Test(probe, probing_leaves_no_probe_group_in_any_cgroup_hierarchy)
{
	struct cg_probe pr;
	char buf[4096], dir[PATH_MAX];
	size_t checked = 0;

	cg_probe_all(&pr);
	read_file("/proc/self/cgroup", buf, sizeof(buf));
	for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *ctrls = strchr(line, ':'), *path;
		if (!ctrls || !(path = strchr(ctrls + 1, ':')))
			continue;
		*ctrls++ = '\0';
		*path++ = '\0';
		if (strcmp(path, "/") == 0)
			path = "";
		if (!*ctrls) {
			snprintf(dir, sizeof(dir), "/sys/fs/cgroup/unified%s", path);
			assert_no_probe_group(dir);
			snprintf(dir, sizeof(dir), "/sys/fs/cgroup%s", path);
			assert_no_probe_group(dir);
			checked++;
			continue;
		}
		for (char *save2 = NULL, *c = strtok_r(ctrls, ",", &save2); c; c = strtok_r(NULL, ",", &save2)) {
			snprintf(dir, sizeof(dir), "/sys/fs/cgroup/%s%s", c, path);
			assert_no_probe_group(dir);
			checked++;
		}
	}
	cr_assert_gt(checked, 0u, "no cgroup line in /proc/self/cgroup");
	cr_assert(pr.cgroup_v1_writable || pr.cgroup_v2_writable,
		  "no writable cgroup here, so no probe group was tried: this test needs root with "
		  "/sys/fs/cgroup writable");
}

Test(probe, seccomp_user_notification_is_reported_where_the_kernel_lists_it)
{
	char actions[256];
	struct cg_probe pr;

	read_file("/proc/sys/kernel/seccomp/actions_avail", actions, sizeof(actions));
	cr_assert(strstr(actions, "user_notif"),
		  "this kernel has no seccomp user notification (CONFIG_SECCOMP_FILTER, Linux 5.0+); "
		  "the guard needs it");
	cg_probe_all(&pr);
	cr_assert(pr.has_seccomp_notify, "probe says no listener: errno %d (%s)", pr.seccomp_errno,
		  strerror(pr.seccomp_errno));
	cr_assert_eq(pr.seccomp_errno, 0);
}

/* A listener already installed above us makes a second one fail (EBUSY):
 * the probe must report what a nested guard would meet. */
Test(probe, seccomp_probe_reports_a_listener_that_an_ancestor_already_holds)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = { .len = 1, .filter = &allow };
	pid_t pid = fork();
	int status;

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int error = 0;
		if (!cg_probe_seccomp_notify(&error))
			_exit(10);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
			    &prog) < 0)
			_exit(11);
		if (cg_probe_seccomp_notify(&error))
			_exit(12);
		_exit(error == EBUSY ? 0 : 13);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	cr_assert_eq(WEXITSTATUS(status), 0);
}

Test(probe, landlock_abi_is_the_one_the_kernel_reports_and_nonzero_here)
{
	int error = -1;
	int abi = cg_probe_landlock_abi(&error);
	struct cg_probe pr;

	cr_assert_gt(abi, 0, "this kernel has no Landlock (errno %d: %s); boot with lsm=...,landlock "
		     "on Linux 5.13+", error, strerror(error));
	cr_assert_eq(error, 0);
	cg_probe_all(&pr);
	cr_assert_eq(pr.landlock_abi, abi);
}

Test(probe, cgroup_v1_controllers_match_the_hierarchies_in_proc_cgroups)
{
	static const struct { const char *name; unsigned bit; } want[] = {
		{ "pids", CG_CONTROLLER_PIDS }, { "memory", CG_CONTROLLER_MEMORY },
		{ "cpu", CG_CONTROLLER_CPU }, { "freezer", CG_CONTROLLER_FREEZER },
	};
	char buf[4096], name[64];
	struct cg_probe pr;
	unsigned v1 = 0;
	int hierarchy, n, enabled;

	read_file("/proc/cgroups", buf, sizeof(buf));
	for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%63s %d %d %d", name, &hierarchy, &n, &enabled) != 4)
			continue;
		for (size_t i = 0; i < 4; i++)
			if (strcmp(name, want[i].name) == 0 && hierarchy != 0 && enabled)
				v1 |= want[i].bit;
	}
	cg_probe_all(&pr);
	cr_assert_eq(pr.cgroup_v1, v1, "probe found %#x, /proc/cgroups says %#x", pr.cgroup_v1, v1);
	cr_assert_eq(pr.cgroup_v1_writable & ~pr.cgroup_v1, 0u);
}

Test(probe, root_is_reported_as_the_effective_uid_says)
{
	struct cg_probe pr;

	cg_probe_all(&pr);
	cr_assert_eq(pr.is_root, geteuid() == 0);
}

Test(probe, dockerenv_file_means_a_container)
{
	char *root = fake_root(), evidence[128];

	write_file(root, "/.dockerenv", "");
	cr_assert(cg_probe_container(root, evidence, sizeof(evidence)));
	cr_assert(strstr(evidence, ".dockerenv"), "evidence: %s", evidence);
	remove_fake_root(root);
}

Test(probe, kubepods_in_init_cgroup_means_a_container)
{
	char *root = fake_root(), evidence[128];

	write_file(root, "/proc/1/cgroup", "0::/kubepods/besteffort/pod1234/abcd\n");
	cr_assert(cg_probe_container(root, evidence, sizeof(evidence)));
	cr_assert(strstr(evidence, "kubepods"), "evidence: %s", evidence);
	remove_fake_root(root);
}

Test(probe, init_with_a_host_pid_in_sched_means_a_container)
{
	char *root = fake_root(), evidence[128];

	write_file(root, "/proc/1/cgroup", "0::/\n");
	write_file(root, "/proc/1/sched", "bash (4242, #threads: 1)\n---------\n");
	cr_assert(cg_probe_container(root, evidence, sizeof(evidence)));
	cr_assert(strstr(evidence, "4242"), "evidence: %s", evidence);
	remove_fake_root(root);
}

Test(probe, systemd_container_file_means_a_container)
{
	char *root = fake_root(), evidence[128], dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s/run/systemd", root);
	cr_assert_eq(mkdir(dir, 0755), 0);
	write_file(root, "/run/systemd/container", "systemd-nspawn\n");
	cr_assert(cg_probe_container(root, evidence, sizeof(evidence)));
	cr_assert(strstr(evidence, "systemd-nspawn"), "evidence: %s", evidence);
	remove_fake_root(root);
}

Test(probe, a_plain_host_is_not_a_container)
{
	char *root = fake_root(), evidence[128];

	write_file(root, "/proc/1/cgroup", "12:pids:/init.scope\n0::/init.scope\n");
	write_file(root, "/proc/1/sched", "systemd (1, #threads: 1)\n---------\n");
	cr_assert_not(cg_probe_container(root, evidence, sizeof(evidence)), "evidence: %s", evidence);
	cr_assert_str_eq(evidence, "");
	remove_fake_root(root);
}

Test(probe, layers_without_kernel_features_are_the_static_floor)
{
	struct cg_probe pr = { 0 };
	char buf[256];

	cr_assert_str_eq(cg_probe_layers(&pr, buf, sizeof(buf)), "static,no_new_privs,rlimits");
}

Test(probe, layers_name_every_feature_found_in_order)
{
	struct cg_probe pr = {
		.has_seccomp_notify = true, .can_ptrace_child = true, .landlock_abi = 7,
		.cgroup_v2_writable = true, .has_cgroup_kill = true,
		.cgroup_v2_controllers = CG_CONTROLLER_PIDS | CG_CONTROLLER_MEMORY,
		.cgroup_v1_writable = CG_CONTROLLER_FREEZER,
	};
	char buf[256];

	cr_assert_str_eq(cg_probe_layers(&pr, buf, sizeof(buf)),
			 "static,no_new_privs,rlimits,seccomp-notify,ptrace-exec-check,landlock(abi 7),"
			 "cgroup-v2(kill,pids,memory),cgroup-v1(freezer)");
}

Test(probe, ptrace_exec_check_needs_seccomp_notify_too)
{
	struct cg_probe pr = { .can_ptrace_child = true };
	char buf[256];

	cr_assert_null(strstr(cg_probe_layers(&pr, buf, sizeof(buf)), "ptrace"));
}

Test(probe, layers_fit_a_small_buffer_without_overflow)
{
	struct cg_probe pr = { .has_seccomp_notify = true, .landlock_abi = 7,
			       .cgroup_v1_writable = CG_CONTROLLER_PIDS };
	char buf[24];

	cg_probe_layers(&pr, buf, sizeof(buf));
	cr_assert_eq(strlen(buf), sizeof(buf) - 1);
}
