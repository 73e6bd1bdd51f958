/* probe.c - what the kernel and the machine offer the runtime layers.
 *
 * Every probe tries the real thing where trying is cheap and harmless,
 * because version numbers lie in containers: Docker's seccomp profile can
 * refuse seccomp(2) or unshare(2), a nested guard already owns the seccomp
 * listener (a second one fails with EBUSY), Landlock can be built in but
 * disabled at boot.  Tests that change the calling process (installing a
 * filter, unsharing) run in a forked child that reports with its exit
 * status; the child makes only async-signal-safe calls, since the caller
 * may have threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard/guard.h"

#define CAP_SYS_ADMIN_BIT 21

/* ---------- helpers ---------- */

/* Read a small file whole; "" and false when it cannot be read. */
static bool read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;

	buf[0] = '\0';
	if (fd < 0)
		return false;
	while (len + 1 < size) {
		ssize_t n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return true;
}

/* Run fn in a forked child and return what it returned (an errno, 0 for
 * success), or the fork's errno.  The child never returns into the
 * caller's code. */
static int in_child(int (*fn)(void))
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return errno;
	if (pid == 0)
		_exit(fn() & 0xff);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return errno;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return EINTR;   /* killed: count it as "cannot" with a recognisable errno */
}

/* ---------- seccomp ---------- */

/* A filter that allows everything is enough: the listener fd is created
 * when the filter is installed, whatever the filter returns. */
static int try_seccomp_listener(void)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = { .len = 1, .filter = &allow };
	long fd;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return errno;
	fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	return fd < 0 ? errno : 0;
}

bool cg_probe_seccomp_notify(int *error)
{
	unsigned action = SECCOMP_RET_USER_NOTIF;
	int err = 0;

	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) < 0)
		err = errno;
	else
		err = in_child(try_seccomp_listener);
	if (error)
		*error = err;
	return err == 0;
}

/* ---------- Landlock ---------- */

int cg_probe_landlock_abi(int *error)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	if (error)
		*error = abi < 0 ? errno : 0;
	return abi < 0 ? 0 : (int)abi;
}

/* ---------- ptrace ---------- */

static int ptrace_scope(void)
{
	char buf[16];

	if (!read_text("/proc/sys/kernel/yama/ptrace_scope", buf, sizeof(buf)) || !buf[0])
		return -1;
	return atoi(buf);
}

/* The supervisor seizes its own descendants, so that is what is tried:
 * a child that waits on a pipe, seized and then killed. */
static int try_ptrace_child(void)
{
	int pipefd[2], err = 0, status;
	pid_t pid;
	char c;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return errno;
	pid = fork();
	if (pid < 0) {
		err = errno;
		close(pipefd[0]);
		close(pipefd[1]);
		return err;
	}
	if (pid == 0) {
		close(pipefd[1]);
		while (read(pipefd[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(pipefd[0]);
	if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) < 0)
		err = errno;
	kill(pid, SIGKILL);
	close(pipefd[1]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return err;
}

/* ---------- namespaces ---------- */

static int try_unshare_pid(void)
{
	return unshare(CLONE_NEWPID) < 0 ? errno : 0;
}

static int try_unshare_user(void)
{
	return unshare(CLONE_NEWUSER) < 0 ? errno : 0;
}

/* ---------- container ---------- */

static bool exists_below(const char *root, const char *path)
{
	char full[PATH_MAX];

	snprintf(full, sizeof(full), "%s%s", strcmp(root, "/") ? root : "", path);
	return access(full, F_OK) == 0;
}

static bool read_below(const char *root, const char *path, char *buf, size_t size)
{
	char full[PATH_MAX];

	snprintf(full, sizeof(full), "%s%s", strcmp(root, "/") ? root : "", path);
	return read_text(full, buf, size);
}

bool cg_probe_container(const char *root, char *evidence, size_t size)
{
	static const char *const files[] = { "/.dockerenv", "/run/.containerenv", NULL };
	static const char *const cgroup_words[] = { "docker", "kubepods", "containerd", "libpod",
		"podman", "lxc", "garden", NULL };
	char buf[4096];

	if (!root || !root[0])
		root = "/";
	evidence[0] = '\0';
	for (size_t i = 0; files[i]; i++) {
		if (exists_below(root, files[i])) {
			snprintf(evidence, size, "%s exists", files[i]);
			return true;
		}
	}
	/* systemd-nspawn, podman and LXC write the manager's name here. */
	if (read_below(root, "/run/systemd/container", buf, sizeof(buf)) && buf[0]) {
		buf[strcspn(buf, "\n")] = '\0';
		snprintf(evidence, size, "/run/systemd/container says %.64s", buf);
		return true;
	}
	if (read_below(root, "/proc/1/cgroup", buf, sizeof(buf))) {
		for (size_t i = 0; cgroup_words[i]; i++) {
			if (strstr(buf, cgroup_words[i])) {
				snprintf(evidence, size, "/proc/1/cgroup names %s", cgroup_words[i]);
				return true;
			}
		}
	}
	/* In a PID namespace, older kernels show init's pid in the host's
	 * namespace in the first line: "bash (12345, #threads: 1)". */
	if (read_below(root, "/proc/1/sched", buf, sizeof(buf))) {
		char *open_paren = strchr(buf, '(');
		char *newline = strchr(buf, '\n');
		if (open_paren && (!newline || open_paren < newline)) {
			long pid = strtol(open_paren + 1, NULL, 10);
			if (pid > 1) {
				snprintf(evidence, size, "/proc/1/sched shows init as host pid %ld", pid);
				return true;
			}
		}
	}
	return false;
}

/* ---------- cgroups ---------- */

static const struct {
	const char *name;
	unsigned bit;
} controllers[] = {
	{ "pids", CG_CONTROLLER_PIDS },
	{ "memory", CG_CONTROLLER_MEMORY },
	{ "cpu", CG_CONTROLLER_CPU },
	{ "freezer", CG_CONTROLLER_FREEZER },
};
#define N_CONTROLLERS (sizeof(controllers) / sizeof(controllers[0]))

const char *cg_probe_controllers(unsigned set, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < N_CONTROLLERS && len < size; i++) {
		if (!(set & controllers[i].bit))
			continue;
		int n = snprintf(buf + len, size - len, "%s%s", len ? "," : "", controllers[i].name);
		if (n < 0)
			break;
		len += (size_t)n;
	}
	return buf;
}

/* true when `word` is one of the comma-separated items of `list`. */
static bool list_has(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; p && *p; ) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == n && strncmp(p, word, n) == 0)
			return true;
		p = comma ? comma + 1 : NULL;
	}
	return false;
}

/* Our group's path in the hierarchy whose /proc/self/cgroup line names
 * `controller` (NULL: the v2 line "0::"). */
static bool own_group(const char *controller, char *out, size_t size)
{
	char buf[4096];
	bool found = false;

	if (!read_text("/proc/self/cgroup", buf, sizeof(buf)))
		return false;
	for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		char *ctrls = strchr(line, ':'), *path;
		if (!ctrls || !(path = strchr(ctrls + 1, ':')))
			continue;
		*ctrls++ = '\0';
		*path++ = '\0';
		found = controller ? list_has(ctrls, controller) : strcmp(line, "0") == 0 && !*ctrls;
		if (found)
			snprintf(out, size, "%s", path);
	}
	return found;
}

/* The directory of our group: the mount point plus our path, minus the
 * part of the path that the mount's root already covers (a container
 * without a cgroup namespace sees /docker/ID both in /proc/self/cgroup and
 * as the root of its mount). */
static void group_dir(const char *mount_root, const char *mount_point, const char *own,
		      char *out, size_t size)
{
	size_t root_len = strcmp(mount_root, "/") ? strlen(mount_root) : 0;

	if (root_len && strncmp(own, mount_root, root_len) == 0)
		own += root_len;
	if (strcmp(own, "/") == 0)
		own = "";
	snprintf(out, size, "%s%s", mount_point, own);
}

/* Create and remove a probe group in `dir`; cgroup.kill is looked for in
 * it because the root group has none. */
static bool try_group(const char *dir, bool *has_kill)
{
	char probe[PATH_MAX], kill_file[PATH_MAX + 16];

	if (snprintf(probe, sizeof(probe), "%s/cg-probe-%d", dir, (int)getpid()) >= (int)sizeof(probe))
		return false;
	if (mkdir(probe, 0755) < 0)
		return false;
	if (has_kill) {
		snprintf(kill_file, sizeof(kill_file), "%s/cgroup.kill", probe);
		*has_kill = access(kill_file, F_OK) == 0;
	}
	rmdir(probe);
	return true;
}

/* One mountinfo line: "36 25 0:32 /root /mnt/point rw,... shared:1 - type src super,opts". */
struct mount_line {
	char *root, *point, *type, *super;
};

static bool parse_mount_line(char *line, struct mount_line *m)
{
	char *field[6] = { 0 }, *save = NULL, *tok;
	int i = 0;

	for (tok = strtok_r(line, " ", &save); tok && i < 5; tok = strtok_r(NULL, " ", &save))
		field[i++] = tok;
	if (i < 5)
		return false;
	while (tok && strcmp(tok, "-") != 0)
		tok = strtok_r(NULL, " ", &save);
	if (!tok)
		return false;
	m->root = field[3];
	m->point = field[4];
	m->type = strtok_r(NULL, " ", &save);
	strtok_r(NULL, " ", &save);   /* source */
	m->super = strtok_r(NULL, " ", &save);
	return m->type && m->super;
}

static void probe_v2(struct cg_probe *out, const struct mount_line *m)
{
	char own[PATH_MAX], dir[PATH_MAX], file[PATH_MAX + 32], list[512];

	out->has_cgroup_v2 = true;
	if (out->cgroup_v2_dir[0] || !own_group(NULL, own, sizeof(own)))
		return;
	group_dir(m->root, m->point, own, dir, sizeof(dir));
	snprintf(out->cgroup_v2_dir, sizeof(out->cgroup_v2_dir), "%s", dir);
	snprintf(file, sizeof(file), "%s/cgroup.controllers", dir);
	if (read_text(file, list, sizeof(list))) {
		for (char *save = NULL, *w = strtok_r(list, " \n", &save); w;
		     w = strtok_r(NULL, " \n", &save))
			for (size_t i = 0; i < N_CONTROLLERS; i++)
				if (strcmp(w, controllers[i].name) == 0)
					out->cgroup_v2_controllers |= controllers[i].bit;
	}
	out->cgroup_v2_writable = try_group(dir, &out->has_cgroup_kill);
}

static void probe_v1(struct cg_probe *out, const struct mount_line *m)
{
	char own[PATH_MAX], dir[PATH_MAX];

	for (size_t i = 0; i < N_CONTROLLERS; i++) {
		if (!list_has(m->super, controllers[i].name) || (out->cgroup_v1 & controllers[i].bit))
			continue;
		out->cgroup_v1 |= controllers[i].bit;
		if (!own_group(controllers[i].name, own, sizeof(own)))
			continue;
		group_dir(m->root, m->point, own, dir, sizeof(dir));
		if (try_group(dir, NULL))
			out->cgroup_v1_writable |= controllers[i].bit;
	}
}

static void probe_cgroups(struct cg_probe *out)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	struct mount_line m;

	if (!f)
		return;
	while (getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		if (!parse_mount_line(line, &m))
			continue;
		if (strcmp(m.type, "cgroup2") == 0)
			probe_v2(out, &m);
		else if (strcmp(m.type, "cgroup") == 0)
			probe_v1(out, &m);
	}
	free(line);
	fclose(f);
}

/* ---------- all of it ---------- */

static bool has_cap_sys_admin(void)
{
	char buf[4096];
	const char *eff;

	if (!read_text("/proc/self/status", buf, sizeof(buf)) || !(eff = strstr(buf, "\nCapEff:")))
		return false;
	unsigned long long caps = strtoull(eff + strlen("\nCapEff:"), NULL, 16);
	return (caps >> CAP_SYS_ADMIN_BIT) & 1;
}

void cg_probe_all(struct cg_probe *out)
{
	*out = (struct cg_probe){ 0 };
	out->is_root = geteuid() == 0;
	out->has_cap_sys_admin = has_cap_sys_admin();
	out->in_container = cg_probe_container("/", out->container_evidence,
					       sizeof(out->container_evidence));
	out->has_seccomp_notify = cg_probe_seccomp_notify(&out->seccomp_errno);
	out->landlock_abi = cg_probe_landlock_abi(&out->landlock_errno);
	out->ptrace_scope = ptrace_scope();
	out->ptrace_errno = try_ptrace_child();
	out->can_ptrace_child = out->ptrace_errno == 0;
	out->unshare_pid_errno = in_child(try_unshare_pid);
	out->can_unshare_pid = out->unshare_pid_errno == 0;
	out->unshare_user_errno = in_child(try_unshare_user);
	out->can_unshare_user = out->unshare_user_errno == 0;
	probe_cgroups(out);
}

const char *cg_probe_layers(const struct cg_probe *pr, char *buf, size_t size)
{
	char list[64];
	size_t len;

	snprintf(buf, size, "static,no_new_privs,rlimits");
	len = strlen(buf);
#define APPEND(...) \
	do { \
		int n_ = snprintf(buf + len, len < size ? size - len : 0, __VA_ARGS__); \
		if (n_ > 0) \
			len += (size_t)n_; \
	} while (0)
	if (pr->has_seccomp_notify)
		APPEND(",seccomp-notify");
	if (pr->has_seccomp_notify && pr->can_ptrace_child)
		APPEND(",ptrace-exec-check");
	if (pr->landlock_abi > 0)
		APPEND(",landlock(abi %d)", pr->landlock_abi);
	if (pr->cgroup_v2_writable) {
		char inner[96];
		snprintf(inner, sizeof(inner), "%s%s%s", pr->has_cgroup_kill ? "kill" : "",
			 pr->has_cgroup_kill && pr->cgroup_v2_controllers ? "," : "",
			 cg_probe_controllers(pr->cgroup_v2_controllers, list, sizeof(list)));
		if (inner[0])
			APPEND(",cgroup-v2(%s)", inner);
		else
			APPEND(",cgroup-v2");
	}
	if (pr->cgroup_v1_writable)
		APPEND(",cgroup-v1(%s)", cg_probe_controllers(pr->cgroup_v1_writable, list, sizeof(list)));
#undef APPEND
	return buf;
}
