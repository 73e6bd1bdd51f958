/* notify-proc.c - processes: execs, judged at the notification and again
 * when the new image is in place (ptrace), and signals where Landlock
 * cannot scope them. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <poll.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "guard/guard-internal.h"
#include "guard/supervisor-internal.h"

enum { MAX_ARGS = 8192 };

/* ---------- exec ---------- */

static int attach_for_exec(struct cg_supervisor *sup, pid_t tid)
{
	char path[64], line[256];
	FILE *f;
	long tracer = -1;

	if (ptrace(PTRACE_SEIZE, tid, 0, PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL) == 0)
		return 0;
	if (errno != EPERM)
		return -errno;
	/* EPERM also means "already traced": by us, since an earlier exec. */
	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "re");
	if (!f)
		return -ESRCH;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "TracerPid:", 10))
			tracer = strtol(line + 10, NULL, 10);
	fclose(f);
	return tracer == sup->self ? 0 : -EPERM;
}

/* `path` opened for reading when it is a regular file: never a FIFO
 * (whose open would wait for a writer, and the supervisor with it) or a
 * device.  -1 otherwise. */
static int open_program(const char *path)
{
	char self[64];
	struct stat st;
	int fd = open(path, O_PATH | O_CLOEXEC), file_fd = -1;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
		file_fd = open(self, O_RDONLY | O_CLOEXEC);
	}
	close(fd);
	return file_fd;
}

/* Only where the run may write can it have made a copy or a link; the
 * system's own directories are taken for what they say (and a plain
 * /usr/bin/true costs no open and no table). */
static bool may_be_copy(struct cg_supervisor *sup, const char *path)
{
	return cg_path_is_allowed(&sup->opt->ctx, path, CG_PATHS_WRITE);
}

/* Worth a look at the file: it may be a copy, or it is the loader, whose
 * operand may be one. */
static bool needs_identity(struct cg_supervisor *sup, const char *path)
{
	char name[NAME_MAX + 1];

	if (may_be_copy(sup, path))
		return true;
	cg_program_name(path, name, sizeof(name));
	return cg_is_dynamic_loader(name);
}

/* A program file that is a link to or a copy of one the block rules name
 * (or of the loader) is judged as that file too; a loader's operand, a
 * file of its own, likewise.  `fd` is the file, `argv` its real argv:
 * true when it may run. */
static bool judge_identity(struct cg_supervisor *sup, const char *call, int fd, const char *path,
			   char *const argv[], size_t argc, pid_t pid, int depth)
{
	char known[PATH_MAX], name[NAME_MAX + 1], operand[PATH_MAX];
	struct cg_event ev = { .kind = CG_EV_EXEC };
	struct cg_reason why;
	size_t n, k;
	int rc = 0, operand_fd;
	bool may_run;

	if (may_be_copy(sup, path))
		rc = cg_identity_lookup(&sup->identity, fd, known, sizeof(known));
	memset(&why, 0, sizeof(why));
	if (rc < 0) {
		cg_reason_set(&why, "exec-check", "", "cannot tell what '%s' is: %s", path, strerror(-rc));
		cg_supervisor_deny(sup, call, path, pid, &why);
		return sup->opt->monitor;
	}
	if (rc == 1 && strcmp(known, path) != 0) {
		ev.u.exec.path = known;
		ev.u.exec.argv = (char **)argv;
		ev.u.exec.argc = argc;
		if (cg_decide(&sup->opt->ctx, &ev, &why) == CG_BLOCK) {
			n = strlen(why.message);
			snprintf(why.message + n, sizeof(why.message) - n, " (the file is %s)", known);
			cg_supervisor_deny(sup, call, path, pid, &why);
			return sup->opt->monitor;
		}
	}
	/* "ld.so ./copy-of-mount": the operand is a program too */
	cg_program_name(rc == 1 ? known : path, name, sizeof(name));
	if (depth >= 4 || !cg_is_dynamic_loader(name) || !(k = cg_loader_program(argv, argc)) ||
	    cg_target_path(pid, AT_FDCWD, argv[k], operand, sizeof(operand)) ||
	    (operand_fd = open_program(operand)) < 0)
		return true;
	may_run = judge_identity(sup, call, operand_fd, operand, argv + k, argc - k, pid, depth + 1);
	close(operand_fd);
	return may_run;
}

/* Does `path` start with "#!"?  (An unreadable file counts as a script:
 * the check after the exec then decides.) */
static bool is_script(const char *path)
{
	char magic[2];
	int fd = open_program(path);
	bool script = fd < 0 || (pread(fd, magic, 2, 0) == 2 && magic[0] == '#' && magic[1] == '!');

	if (fd >= 0)
		close(fd);
	return script;
}

static bool child_in_our_code(struct cg_supervisor *sup)
{
	struct pollfd pfd = { .fd = sup->child_status_fd, .events = POLLIN };

	return sup->child_status_fd >= 0 && poll(&pfd, 1, 0) >= 0 && !(pfd.revents & POLLHUP);
}

void cg_notify_exec(struct cg_supervisor *sup, bool is_at)
{
	const struct seccomp_data *d = &sup->req->data;
	pid_t pid = sup->req->pid;
	char raw[PATH_MAX], path[PATH_MAX];
	char **argv = NULL;
	size_t argc = 0, used = 0;
	int dirfd = is_at ? (int)d->args[0] : AT_FDCWD;
	uint64_t path_addr = is_at ? d->args[1] : d->args[0];
	uint64_t argv_addr = is_at ? d->args[2] : d->args[1];
	struct cg_event ev = { .kind = CG_EV_EXEC };
	int rc, file_fd = -1;

	rc = cg_peek_string(pid, path_addr, raw, sizeof(raw));
	if (rc) {
		/* Let the kernel report the bad pointer: exec of nothing runs nothing. */
		cg_notify_respond(sup, rc == -EFAULT ? -EFAULT : -ENAMETOOLONG, 0, false);
		return;
	}
	if (cg_target_path(pid, dirfd, raw, path, sizeof(path))) {
		cg_notify_respond(sup, -EBADF, 0, false);
		return;
	}
	for (size_t cap = 0; argv_addr && argc < MAX_ARGS; argc++) {
		uint64_t p;
		if (argc + 1 >= cap) {
			char **grown = realloc(argv, (cap = cap ? cap * 2 : 64) * sizeof(*argv));
			if (!grown)
				break;
			argv = grown;
		}
		if (cg_peek(pid, argv_addr + argc * 8, &p, 8) != 8 || !p)
			break;
		if (used >= CG_SCRATCH_BYTES ||
		    cg_peek_string(pid, p, sup->scratch + used, CG_SCRATCH_BYTES - used)) {
			/* argv we cannot read whole is judged as far as it goes: the
			 * re-check after the exec sees the real one. */
			break;
		}
		argv[argc] = sup->scratch + used;
		used += strlen(argv[argc]) + 1;
	}
	if (argv)
		argv[argc] = NULL;
	if (!cg_notify_valid(sup))
		goto out;
	ev.u.exec.path = path;
	ev.u.exec.argv = argv;
	ev.u.exec.argc = argc;
	if (!cg_notify_judge(sup, &ev, is_at ? "execveat" : "execve", path, pid)) {
		cg_notify_respond(sup, -EPERM, 0, false);
		goto out;
	}
	/* What the file is, whatever it is called (a swap of the file after
	 * this is seen again by the re-check after the exec). */
	file_fd = needs_identity(sup, path) ? open_program(path) : -1;
	if (file_fd >= 0 &&
	    !judge_identity(sup, is_at ? "execveat" : "execve", file_fd, path, argv, argc, pid, 0)) {
		cg_notify_respond(sup, -EPERM, 0, false);
		goto out;
	}
	/* The command's own exec comes from our child, single-threaded and
	 * still running our code (its end of the status pipe, closed on exec,
	 * is open): its path cannot change under us.  Unless it is a script:
	 * then the kernel starts the interpreter its #! line names, which only
	 * the check after the exec sees. */
	if (pid == sup->child && child_in_our_code(sup) && !is_script(path)) {
		cg_notify_respond(sup, 0, 0, true);
		goto out;
	}
	/* The target may swap the path before the kernel reads it: follow
	 * the exec and judge what actually started (cg_notify_ptrace_stop). */
	if (attach_for_exec(sup, pid)) {
		struct cg_reason why;
		cg_reason_set(&why, "exec-check", "", "cannot follow the exec: %s", strerror(EPERM));
		cg_supervisor_deny(sup, is_at ? "execveat" : "execve", path, pid, &why);
		cg_notify_respond(sup, -EPERM, 0, false);
		goto out;
	}
	cg_notify_respond(sup, 0, 0, true);
out:
	if (file_fd >= 0)
		close(file_fd);
	free(argv);
}

static void recheck_exec(struct cg_supervisor *sup, pid_t pid)
{
	char link[64], exe[PATH_MAX];
	char *argv[1024];
	size_t argc = 0;
	ssize_t n = 0, got;
	int fd;
	struct cg_event ev = { .kind = CG_EV_EXEC };
	struct cg_reason why;

	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	if (cg_read_link(link, exe, sizeof(exe)))
		goto kill_it;
	snprintf(link, sizeof(link), "/proc/%d/cmdline", pid);
	fd = open(link, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto kill_it;
	while ((got = read(fd, sup->scratch + n, CG_SCRATCH_BYTES - 1 - n)) > 0)
		n += got;
	close(fd);
	sup->scratch[n] = '\0';
	for (ssize_t i = 0; i < n && argc < 1023; i += (ssize_t)strlen(sup->scratch + i) + 1)
		argv[argc++] = sup->scratch + i;
	argv[argc] = NULL;
	ev.u.exec.path = exe;
	ev.u.exec.argv = argv;
	ev.u.exec.argc = argc;
	memset(&why, 0, sizeof(why));
	if (cg_decide(&sup->opt->ctx, &ev, &why) == CG_ALLOW) {
		/* the file itself, not a name that may be renamed meanwhile;
		 * a loader's operand may be a copy wherever the loader is */
		if (needs_identity(sup, exe)) {
			snprintf(link, sizeof(link), "/proc/%d/exe", pid);
			fd = open_program(link);
			if (fd < 0)
				goto kill_it;
			bool may_run = judge_identity(sup, "execve", fd, exe, argv, argc, pid, 0);
			close(fd);
			if (!may_run)
				goto kill_it;
		}
		ptrace(PTRACE_DETACH, pid, 0, 0);
		return;
	}
	snprintf(why.layer, sizeof(why.layer), "exec-check");
	cg_supervisor_deny(sup, "execve", exe, pid, &why);
	if (sup->opt->monitor) {
		ptrace(PTRACE_CONT, pid, 0, 0);
		return;
	}
kill_it:
	/* Stopped before its first instruction: the new image never runs. */
	kill(pid, SIGKILL);
}

bool cg_notify_ptrace_stop(struct cg_supervisor *sup, pid_t pid, int status)
{
	int event = status >> 16, sig = WSTOPSIG(status);

	if (!WIFSTOPPED(status))
		return false;
	if (event == PTRACE_EVENT_EXEC) {
		recheck_exec(sup, pid);
	} else if (event == PTRACE_EVENT_STOP) {
		if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
			ptrace(PTRACE_LISTEN, pid, 0, 0);
		else
			ptrace(PTRACE_CONT, pid, 0, 0);
	} else if (event) {
		ptrace(PTRACE_CONT, pid, 0, 0);
	} else {
		/* a signal on its way to the tracee: deliver it unchanged */
		ptrace(PTRACE_CONT, pid, 0, sig);
	}
	return true;
}


/* ---------- signals (no Landlock signal scope, or monitor mode) ---------- */

/* The pid, parent and process group of pid from /proc; false when gone. */
static bool proc_stat(pid_t pid, pid_t *ppid, pid_t *pgrp)
{
	char path[64], buf[512], *paren;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (cg_read_text(path, buf, sizeof(buf)) <= 0)
		return false;
	paren = strrchr(buf, ')');   /* the command name may hold anything */
	return paren && sscanf(paren + 1, " %*c %d %d", ppid, pgrp) == 2;
}

/* A process of the run: a descendant of the supervisor (the orphans of the
 * tree are ours too, as child subreaper), not the supervisor itself.  The
 * pid is a register argument, not memory: no race but pid reuse. */
static bool in_run(struct cg_supervisor *sup, pid_t pid)
{
	pid_t ppid, pgrp;

	if (pid <= 1 || pid == sup->self || (sup->cgroup && pid == sup->cgroup->watchdog_pid))
		return false;
	for (int depth = 0; depth < 256 && proc_stat(pid, &ppid, &pgrp); depth++) {
		if (ppid == sup->self)
			return true;
		if (ppid <= 1)
			return false;
		pid = ppid;
	}
	return false;
}

/* The process a pidfd of the caller refers to, from its fdinfo. */
static pid_t pidfd_target(pid_t caller, int fd)
{
	char path[64], line[128];
	pid_t pid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", caller, fd);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Pid: %d", &pid) == 1)
			break;
	fclose(f);
	return pid;
}

void cg_notify_signal(struct cg_supervisor *sup, int nr)
{
	const struct seccomp_data *d = &sup->req->data;
	pid_t caller = sup->req->pid, target = (pid_t)d->args[0], ppid, pgrp;
	const char *name = "kill";
	bool allowed;
	struct cg_reason why;
	char detail[64];

	if (sup->pid_ns) {
		/* The run's own pid namespace holds the run and nothing else:
		 * every pid the caller can name is the run's (and numbered
		 * there, not as in_run would read it). */
		allowed = true;
	} else if (nr == SCMP_SYS(kill)) {
		if (target == 0) {
			/* the caller's process group: a member may have joined a
			 * group of the session outside the run */
			allowed = proc_stat(caller, &ppid, &pgrp) && in_run(sup, pgrp);
			target = -pgrp;
		} else if (target == -1) {
			allowed = false;
		} else {
			allowed = in_run(sup, target < 0 ? -target : target);
		}
	} else if (nr == SCMP_SYS(pidfd_send_signal)) {
		name = "pidfd_send_signal";
		target = pidfd_target(caller, (int)d->args[0]);
		allowed = in_run(sup, target);
	} else {
		name = nr == SCMP_SYS(tkill) ? "tkill" : nr == SCMP_SYS(tgkill) ? "tgkill"
							 : "rt_sigqueueinfo";
		/* tkill names a thread: its process is the thread group */
		allowed = in_run(sup, target);
	}
	if (allowed) {
		cg_notify_respond(sup, 0, 0, true);
		return;
	}
	snprintf(detail, sizeof(detail), "%s %d", target < 0 ? "group" : "pid",
		 target < 0 ? -target : target);
	cg_reason_set(&why, "process-control", "signal-outside",
		      "Signal to a process outside the run (%s)", detail);
	cg_supervisor_deny(sup, name, detail, caller, &why);
	if (sup->opt->monitor)
		cg_notify_respond(sup, 0, 0, true);
	else
		cg_notify_respond(sup, -EPERM, 0, false);
}

