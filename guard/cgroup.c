/* cgroup.c - the run's process tree as the kernel sees it.
 *
 * A cgroup follows every process of the run, also those that called
 * setsid() or double-forked, and bounds them (pids, memory, cpu) whoever
 * they run as; RLIMIT_NPROC does not bind root.  The groups are created
 * below the supervisor's own group in each hierarchy, so the run stays
 * inside whatever limits the supervisor itself is under.
 *
 * cgroup v2 where it is mounted and writable: cgroup.kill ends the tree
 * in one write, and its controllers set the limits when enabled there.
 * cgroup v1 for the controllers v2 lacks (pids, memory, cpu), and its
 * freezer to stop the tree while it is killed when v2 is absent. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdint.h>
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "guard/supervisor-internal.h"

static const char *const v1_names[CG_V1_COUNT] = { "pids", "memory", "cpu", "freezer" };

static int write_file(const char *dir, const char *file, const char *text)
{
	char path[512];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	n = n < 0 ? -errno : 0;
	close(fd);
	return (int)n;
}

static ssize_t read_file(const char *dir, const char *file, char *buf, size_t size)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return cg_read_text(path, buf, size);
}

/* The supervisor's own path in the hierarchy whose /proc/self/cgroup line
 * names `controller` ("" for v2). */
static bool own_path(const char *controller, char *out, size_t size)
{
	char line[1024];
	bool found = false;
	FILE *f = fopen("/proc/self/cgroup", "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *ctrls = strchr(line, ':'), *path;
		if (!ctrls || !(path = strchr(++ctrls, ':')))
			continue;
		*path++ = '\0';
		path[strcspn(path, "\n")] = '\0';
		if (!*controller) {
			found = !*ctrls && !strncmp(line, "0", 1);
		} else {
			/* strtok_r: the warm-up thread reads this file too */
			for (char *save = NULL, *tok = strtok_r(ctrls, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save))
				if (!strcmp(tok, controller))
					found = true;
		}
		if (found)
			snprintf(out, size, "%s", strcmp(path, "/") ? path : "");
	}
	fclose(f);
	return found;
}

static int signal_listed(const char *dir, int sig);

/* The inode of our PID namespace, 0 when /proc cannot tell (a /proc of
 * another namespace): the pid in a group's name means something only to
 * processes of the same namespace. */
static unsigned long pid_namespace(void)
{
	struct stat st;

	return stat("/proc/self/ns/pid", &st) == 0 ? (unsigned long)st.st_ino : 0;
}

/* The groups of runs whose supervisor died (SIGKILL, a crash): what their
 * commands left behind is killed now and the group removed.  A group is
 * named RUN_ID.PIDNS.PID after its supervisor; only groups of our own PID
 * namespace are judged (elsewhere a live supervisor's pid looks free). */
static void sweep_stale(const char *parent, unsigned long pidns)
{
	char path[512];
	struct dirent *de;
	DIR *dir;

	if (!pidns || !(dir = opendir(parent)))
		return;
	while ((de = readdir(dir))) {
		const char *dot = strrchr(de->d_name, '.'), *ns_dot;
		long pid = dot ? strtol(dot + 1, NULL, 10) : 0;
		unsigned long ns = 0;
		if (dot && dot > de->d_name) {
			for (ns_dot = dot - 1; ns_dot > de->d_name && *ns_dot != '.'; ns_dot--)
				;
			if (*ns_dot == '.')
				ns = strtoul(ns_dot + 1, NULL, 10);
		}
		if (de->d_type != DT_DIR || pid <= 0 || ns != pidns || kill((pid_t)pid, 0) == 0 ||
		    errno != ESRCH)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", parent, de->d_name) >= (int)sizeof(path))
			continue;
		if (write_file(path, "cgroup.kill", "1") < 0)
			signal_listed(path, SIGKILL);
		rmdir(path);   /* busy until the killed tasks are gone: the next run retries */
	}
	closedir(dir);
}

/* PARENT/commandguard/RUN_ID.PIDNS.PID: the supervisor's pid makes the
 * name unique even when two runs are given the same id, and tells a later
 * run of the same PID namespace whether this one's supervisor is alive. */
static bool make_group(char *dir, size_t size, const char *mount, const char *own,
		       const char *run_id)
{
	char parent[256];
	struct stat st;

	if (stat(mount, &st) < 0)
		return false;
	unsigned long pidns = pid_namespace();

	snprintf(parent, sizeof(parent), "%s%s/commandguard", mount, own);
	if (mkdir(parent, 0755) < 0 && errno != EEXIST)
		return false;
	sweep_stale(parent, pidns);
	if (snprintf(dir, size, "%s/%s.%lu.%d", parent, run_id, pidns, (int)getpid()) >= (int)size)
		return false;
	if (mkdir(dir, 0755) < 0) {
		dir[0] = '\0';
		return false;
	}
	return true;
}

static bool is_cgroup2(const char *path)
{
	struct statfs sf;

	return statfs(path, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

/* The limits in cgroup v2: our group must hand the controllers down
 * (its cgroup.subtree_control lists them, which the kernel allows only
 * to a group without processes of its own: the root group, or one
 * delegated to us), and our commandguard/ group hands them on to the
 * run's group. */
static void set_limits_v2(struct cg_cgroup *cg, const char *own_dir, const struct cg_settings *s)
{
	char text[64], enabled[256], parent[320];
	char *slash;

	if (read_file(own_dir, "cgroup.subtree_control", enabled, sizeof(enabled)) < 0 ||
	    !strstr(enabled, "pids"))
		return;
	snprintf(parent, sizeof(parent), "%s", cg->v2_dir);
	if (!(slash = strrchr(parent, '/')))
		return;
	*slash = '\0';
	if (write_file(parent, "cgroup.subtree_control", "+pids"))
		return;
	snprintf(text, sizeof(text), "%u", s->max_processes);
	if (write_file(cg->v2_dir, "pids.max", text))
		return;
	cg->v2_limits = true;
	if (strstr(enabled, "memory") && !write_file(parent, "cgroup.subtree_control", "+memory")) {
		snprintf(text, sizeof(text), "%" PRIu64, s->memory_bytes);
		cg->v2_memory = write_file(cg->v2_dir, "memory.max", text) == 0;
	}
	if (strstr(enabled, "cpu") && s->cpu_cores > 0 &&
	    !write_file(parent, "cgroup.subtree_control", "+cpu")) {
		snprintf(text, sizeof(text), "%lld 100000", (long long)(s->cpu_cores * 100000));
		cg->v2_cpu = write_file(cg->v2_dir, "cpu.max", text) == 0;
	}
}

void cg_cgroup_create(struct cg_cgroup *cg, const char *run_id, const struct cg_settings *s)
{
	char own[256], mount[64], text[64], own_dir[320];
	const char *v2_mount = NULL;

	memset(cg, 0, sizeof(*cg));
	cg->watchdog_fd = -1;
	for (int i = 0; i <= CG_V1_COUNT; i++)
		cg->procs_fd[i] = -1;

	if (is_cgroup2("/sys/fs/cgroup"))
		v2_mount = "/sys/fs/cgroup";
	else if (is_cgroup2("/sys/fs/cgroup/unified"))
		v2_mount = "/sys/fs/cgroup/unified";
	if (v2_mount && own_path("", own, sizeof(own)) &&
	    make_group(cg->v2_dir, sizeof(cg->v2_dir), v2_mount, own, run_id)) {
		snprintf(own_dir, sizeof(own_dir), "%s%s", v2_mount, own);
		set_limits_v2(cg, own_dir, s);
	}
	if (!cg->v2_limits) {
		for (int i = 0; i < CG_V1_COUNT; i++) {
			/* the freezer is only needed when there is no cgroup.kill */
			if (i == CG_V1_FREEZER && cg->v2_dir[0])
				continue;
			snprintf(mount, sizeof(mount), "/sys/fs/cgroup/%s", v1_names[i]);
			if (is_cgroup2(mount) || !own_path(v1_names[i], own, sizeof(own)))
				continue;
			make_group(cg->v1_dir[i], sizeof(cg->v1_dir[i]), mount, own, run_id);
		}
		if (cg->v1_dir[CG_V1_PIDS][0]) {
			snprintf(text, sizeof(text), "%u", s->max_processes);
			if (write_file(cg->v1_dir[CG_V1_PIDS], "pids.max", text)) {
				rmdir(cg->v1_dir[CG_V1_PIDS]);
				cg->v1_dir[CG_V1_PIDS][0] = '\0';
			}
		}
		if (cg->v1_dir[CG_V1_MEMORY][0]) {
			snprintf(text, sizeof(text), "%" PRIu64, s->memory_bytes);
			write_file(cg->v1_dir[CG_V1_MEMORY], "memory.limit_in_bytes", text);
		}
		if (cg->v1_dir[CG_V1_CPU][0] && s->cpu_cores > 0) {
			write_file(cg->v1_dir[CG_V1_CPU], "cpu.cfs_period_us", "100000");
			snprintf(text, sizeof(text), "%lld", (long long)(s->cpu_cores * 100000));
			write_file(cg->v1_dir[CG_V1_CPU], "cpu.cfs_quota_us", text);
		}
	}

	for (int i = 0; i < CG_V1_COUNT; i++) {
		char path[320];
		if (!cg->v1_dir[i][0])
			continue;
		snprintf(path, sizeof(path), "%s/cgroup.procs", cg->v1_dir[i]);
		cg->procs_fd[i] = open(path, O_WRONLY | O_CLOEXEC);
	}
	if (cg->v2_dir[0]) {
		char path[320];
		snprintf(path, sizeof(path), "%s/cgroup.procs", cg->v2_dir);
		cg->procs_fd[CG_V1_COUNT] = open(path, O_WRONLY | O_CLOEXEC);
	}
}

/* The no-op move (see cg_run_warm_up in guard.h): this process into its
 * own group of the v1 pids hierarchy, which a run joins by moving; a v2
 * group is entered at the clone (cg_cgroup_fork) and needs none. */
static const char *const warm_up_mount = "/sys/fs/cgroup/pids";

static void *warm_up_main(void *arg)
{
	char own[256], dir[320];

	(void)arg;
	if (own_path("pids", own, sizeof(own))) {
		snprintf(dir, sizeof(dir), "%s%s", warm_up_mount, own);
		write_file(dir, "cgroup.procs", "0");
	}
	return NULL;
}

void cg_run_warm_up(struct cg_warm_up *w)
{
	struct statfs sf;

	w->is_running = geteuid() == 0 && statfs(warm_up_mount, &sf) == 0 &&
			sf.f_type == CGROUP_SUPER_MAGIC &&
			pthread_create(&w->thread, NULL, warm_up_main, NULL) == 0;
}

void cg_run_warm_up_join(struct cg_warm_up *w)
{
	if (!w || !w->is_running)
		return;
	pthread_join(w->thread, NULL);
	w->is_running = false;
}

pid_t cg_cgroup_fork(struct cg_cgroup *cg)
{
	struct clone_args args = { .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD };
	long pid = -1;
	int fd = cg->v2_dir[0] ? open(cg->v2_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;

	if (fd >= 0) {
		args.cgroup = (uint64_t)fd;
		pid = syscall(SYS_clone3, &args, sizeof(args));
		if (pid >= 0)
			cg->v2_born_in = true;   /* in the parent's memory and the child's */
		if (pid != 0)
			close(fd);
	}
	/* an older kernel, a seccomp profile that refuses clone3 (ENOSYS), a
	 * group that cannot take processes: the child moves in itself */
	return pid >= 0 ? (pid_t)pid : fork();
}

int cg_cgroup_join(const struct cg_cgroup *cg)
{
	for (int i = 0; i <= CG_V1_COUNT; i++) {
		if (i == CG_V1_COUNT && cg->v2_born_in)
			continue;
		if (cg->procs_fd[i] >= 0 && write(cg->procs_fd[i], "0", 1) != 1)
			return -errno;
	}
	return 0;
}

void cg_cgroup_close_fds(struct cg_cgroup *cg)
{
	for (int i = 0; i <= CG_V1_COUNT; i++) {
		if (cg->procs_fd[i] >= 0)
			close(cg->procs_fd[i]);
		cg->procs_fd[i] = -1;
	}
}

bool cg_cgroup_tracks(const struct cg_cgroup *cg)
{
	return cg->v2_dir[0] || cg->v1_dir[CG_V1_PIDS][0] || cg->v1_dir[CG_V1_FREEZER][0];
}

bool cg_cgroup_limits_processes(const struct cg_cgroup *cg)
{
	return cg->v2_limits || cg->v1_dir[CG_V1_PIDS][0];
}

const char *cg_cgroup_tracking_dir(const struct cg_cgroup *cg)
{
	if (cg->v2_dir[0])
		return cg->v2_dir;
	if (cg->v1_dir[CG_V1_FREEZER][0])
		return cg->v1_dir[CG_V1_FREEZER];
	if (cg->v1_dir[CG_V1_PIDS][0])
		return cg->v1_dir[CG_V1_PIDS];
	return NULL;
}

static int signal_listed(const char *dir, int sig)
{
	char buf[16384];
	int n = 0;

	if (read_file(dir, "cgroup.procs", buf, sizeof(buf)) < 0)
		return -errno;
	for (char *p = buf, *end; *p; p = end) {
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		if (pid > 0 && kill((pid_t)pid, sig) == 0)
			n++;
	}
	return n;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = ms * 1000000L };

	nanosleep(&ts, NULL);
}

int cg_cgroup_signal(const struct cg_cgroup *cg, int sig)
{
	const char *dir = cg_cgroup_tracking_dir(cg);
	const char *freezer = cg->v1_dir[CG_V1_FREEZER];
	char state[32];
	int n;

	if (!dir)
		return -ENOENT;
	if (sig != SIGKILL)
		return signal_listed(dir, sig);
	if (cg->v2_dir[0] && write_file(cg->v2_dir, "cgroup.kill", "1") == 0)
		return cg_cgroup_empty(cg) ? 0 : 1;
	if (freezer[0] && write_file(freezer, "freezer.state", "FROZEN") == 0) {
		/* A frozen tree cannot fork between our reading of the list and
		 * the kill; freezing takes a moment to reach every task. */
		for (int i = 0; i < 1000; i++) {
			if (read_file(freezer, "freezer.state", state, sizeof(state)) < 0 ||
			    strncmp(state, "FREEZING", 8))
				break;
			sleep_ms(1);
		}
		n = signal_listed(freezer, SIGKILL);
		write_file(freezer, "freezer.state", "THAWED");
		return n;
	}
	return signal_listed(dir, SIGKILL);
}

bool cg_cgroup_empty(const struct cg_cgroup *cg)
{
	const char *dir = cg_cgroup_tracking_dir(cg);
	char buf[64];

	if (!dir)
		return true;
	return read_file(dir, "cgroup.procs", buf, sizeof(buf)) <= 0;
}

/* The shared commandguard/ parent stays: removing it would race with
 * another run creating its group there. */
static void remove_dir(char *dir)
{
	if (!dir[0])
		return;
	/* Exiting tasks leave the group a moment after they are reaped. */
	for (int i = 0; i < 200 && rmdir(dir) < 0 && errno == EBUSY; i++)
		sleep_ms(1);
	dir[0] = '\0';
}

void cg_cgroup_destroy(struct cg_cgroup *cg)
{
	cg_cgroup_close_fds(cg);
	remove_dir(cg->v2_dir);
	for (int i = 0; i < CG_V1_COUNT; i++)
		remove_dir(cg->v1_dir[i]);
}

void cg_cgroup_describe(const struct cg_cgroup *cg, char *buf, size_t size)
{
	size_t n = 0;
	bool any = false;

	buf[0] = '\0';
	if (cg->v2_dir[0])
		n += snprintf(buf + n, size - n, "cgroup-v2(kill%s%s%s%s)", cg->v2_limits ? ",pids" : "",
			      cg->v2_memory ? ",memory" : "", cg->v2_cpu ? ",cpu" : "",
			      cg->v2_born_in ? ",clone-into" : "");
	for (int i = 0; i < CG_V1_COUNT && n < size; i++) {
		if (!cg->v1_dir[i][0])
			continue;
		n += snprintf(buf + n, size - n, "%s%s", any ? "," : (n ? ",cgroup-v1(" : "cgroup-v1("),
			      v1_names[i]);
		any = true;
	}
	if (any && n < size)
		snprintf(buf + n, size - n, ")");
}

static __attribute__((noreturn)) void watchdog_main(struct cg_cgroup *cg, int fd)
{
	struct sigaction ignore = { .sa_handler = SIG_IGN };
	int null_fd = open("/dev/null", O_RDWR);
	char byte;
	ssize_t n;

	/* Ctrl-C and a CI's SIGTERM go to the supervisor, which ends the run;
	 * we only act if it is gone without doing so. */
	sigaction(SIGINT, &ignore, NULL);
	sigaction(SIGTERM, &ignore, NULL);
	sigaction(SIGHUP, &ignore, NULL);
	sigaction(SIGPIPE, &ignore, NULL);
	prctl(PR_SET_NAME, "cg-watchdog", 0, 0, 0);
	if (null_fd >= 0) {
		dup2(null_fd, STDIN_FILENO);
		dup2(null_fd, STDOUT_FILENO);
		dup2(null_fd, STDERR_FILENO);
	}
	/* nothing of the run's (its output pipes) may be held open by us */
	if (dup2(fd, 3) < 0)
		_exit(1);
	syscall(SYS_close_range, 4, ~0U, 0);
	do
		n = read(3, &byte, 1);
	while (n < 0 && errno == EINTR);
	if (n == 1)
		_exit(0);   /* the supervisor ended the run itself */
	for (int i = 0; i < 2000 && !cg_cgroup_empty(cg); i++) {
		cg_cgroup_signal(cg, SIGKILL);
		sleep_ms(1);
	}
	for (int i = 0; i <= CG_V1_COUNT; i++)
		cg->procs_fd[i] = -1;
	cg_cgroup_destroy(cg);
	_exit(0);
}

void cg_cgroup_watchdog_start(struct cg_cgroup *cg)
{
	int fds[2];
	pid_t pid;

	if (!cg_cgroup_tracks(cg) || pipe2(fds, O_CLOEXEC) < 0)
		return;
	pid = fork();
	if (pid == 0)
		watchdog_main(cg, fds[0]);
	close(fds[0]);
	if (pid < 0) {
		close(fds[1]);
		return;
	}
	cg->watchdog_pid = pid;
	cg->watchdog_fd = fds[1];
}

void cg_cgroup_watchdog_stop(struct cg_cgroup *cg)
{
	if (cg->watchdog_fd < 0)
		return;
	if (write(cg->watchdog_fd, "x", 1) != 1) {
		/* it is gone already; waitpid below says so */
	}
	close(cg->watchdog_fd);
	cg->watchdog_fd = -1;
	waitpid(cg->watchdog_pid, NULL, 0);
	cg->watchdog_pid = 0;
}
