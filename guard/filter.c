/* filter.c - the seccomp program every process of a run carries.
 *
 * Built with libseccomp in the parent and exported as BPF, then loaded by
 * the child with the raw seccomp(2) call (see cg_filter_install): the
 * child of a fork may only make async-signal-safe calls, and
 * seccomp_load() allocates. */
#include <errno.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guard/supervisor-internal.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Calls that have no place in a runner, refused with EPERM. */
static const char *const refused[] = {
	"ptrace", "process_vm_readv", "process_vm_writev",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
	"mount", "umount2", "pivot_root", "swapon", "swapoff", "reboot",
	"bpf", "perf_event_open", "userfaultfd", "unshare", "setns",
	"open_tree", "move_mount", "fsopen", "fsmount", "fspick", "mount_setattr",
	"chroot", "acct", "quotactl", "quotactl_fd", "add_key", "request_key", "keyctl",
	"lookup_dcookie", "name_to_handle_at", "open_by_handle_at", "iopl", "ioperm",
	"settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "vhangup",
	"sethostname", "setdomainname", "fanotify_init", "nfsservctl",
};

/* Sent to the supervisor: the decisions that need the policy. */
static const char *const notified[] = {
	"execve", "execveat", "connect", "bind", "listen", "sendmsg", "sendmmsg",
};

/* The file calls, notified only where Landlock cannot carry the path rules. */
static const char *const file_calls[] = {
	"open", "openat", "openat2", "creat", "rename", "renameat", "renameat2",
	"link", "linkat", "symlink", "symlinkat", "unlink", "unlinkat", "mkdir", "mkdirat",
	"rmdir", "truncate", "chmod", "fchmodat", "fchmodat2", "chown", "lchown", "fchownat",
	"mknod", "mknodat",
};

static int add_named(scmp_filter_ctx ctx, uint32_t action, const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);

	/* A name this libseccomp does not know is a call it cannot filter
	 * anyway on this architecture; skip it rather than fail the run. */
	if (nr == __NR_SCMP_ERROR)
		return 0;
	return seccomp_rule_add(ctx, action, nr, 0);
}

static int build(scmp_filter_ctx ctx, bool trap_files)
{
	static const uint64_t ns_flags[] = {
		CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWIPC,
		CLONE_NEWUTS, CLONE_NEWCGROUP, CLONE_NEWTIME,
	};
	int rc;

	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (rc)
		return rc;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if ((rc = add_named(ctx, SCMP_ACT_ERRNO(EPERM), refused[i])))
			return rc;
	for (size_t i = 0; i < sizeof(notified) / sizeof(notified[0]); i++)
		if ((rc = add_named(ctx, SCMP_ACT_NOTIFY, notified[i])))
			return rc;
	/* sendto with no address goes to the peer connect() already judged. */
	rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(sendto), 1, SCMP_A4(SCMP_CMP_NE, 0));
	if (rc)
		return rc;
	if (trap_files)
		for (size_t i = 0; i < sizeof(file_calls) / sizeof(file_calls[0]); i++)
			if ((rc = add_named(ctx, SCMP_ACT_NOTIFY, file_calls[i])))
				return rc;
	/* clone's flags are a plain argument the filter can see; clone3 passes
	 * them in memory it cannot, so clone3 answers ENOSYS and libc falls
	 * back to clone. */
	for (size_t i = 0; i < sizeof(ns_flags) / sizeof(ns_flags[0]); i++) {
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
				      SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]));
		if (rc)
			return rc;
	}
	rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (rc)
		return rc;
	/* kill is left to Landlock's signal scope; where the kernel lacks it
	 * the supervisor's cgroup and process group are the boundary. */
	return 0;
}

int cg_filter_build(struct cg_filter *f, bool trap_files, struct cg_error *err)
{
	scmp_filter_ctx ctx;
	int fd = -1, rc;
	off_t size;

	memset(f, 0, sizeof(*f));
	f->traps_files = trap_files;
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) {
		cg_error_set(err, NULL, 0, "seccomp", "seccomp_init failed");
		return -ENOMEM;
	}
	rc = build(ctx, trap_files);
	if (rc) {
		cg_error_set(err, NULL, 0, "seccomp", "building the filter: %s", strerror(-rc));
		goto out;
	}
	fd = memfd_create("cg-bpf", MFD_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		cg_error_set(err, NULL, 0, "seccomp", "memfd_create: %s", strerror(errno));
		goto out;
	}
	rc = seccomp_export_bpf(ctx, fd);
	if (rc) {
		cg_error_set(err, NULL, 0, "seccomp", "exporting the filter: %s", strerror(-rc));
		goto out;
	}
	size = lseek(fd, 0, SEEK_END);
	if (size <= 0 || size % sizeof(struct sock_filter) || size > 65536) {
		rc = -EINVAL;
		cg_error_set(err, NULL, 0, "seccomp", "exported filter has a bad size");
		goto out;
	}
	f->prog.filter = malloc(size);
	if (!f->prog.filter) {
		rc = -ENOMEM;
		goto out;
	}
	if (pread(fd, f->prog.filter, size, 0) != size) {
		rc = -EIO;
		cg_error_set(err, NULL, 0, "seccomp", "reading the exported filter");
		free(f->prog.filter);
		f->prog.filter = NULL;
		goto out;
	}
	f->prog.len = size / sizeof(struct sock_filter);
out:
	if (fd >= 0)
		close(fd);
	seccomp_release(ctx);
	return rc;
}

void cg_filter_free(struct cg_filter *f)
{
	free(f->prog.filter);
	f->prog.filter = NULL;
}

int cg_filter_install(const struct cg_filter *f)
{
	long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
			  &f->prog);

	return fd < 0 ? -errno : (int)fd;
}
