/* filter-rules.c - the rules of the seccomp filter every process of a
 * run carries.  Compiled into guard/gen-filter only: the build turns them
 * into BPF once (guard/filter-bpf.c), and guard-exec loads that program
 * as it is, without generating it again on every start (see filter.c). */
#include <errno.h>
#include <linux/fs.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>

#include "guard/filter-rules.h"

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

/* Signals, notified only where Landlock cannot scope them (ABI < 6). */
static const char *const signal_calls[] = {
	"kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_send_signal",
};

/* The file calls, notified only where Landlock cannot carry the path rules. */
static const char *const file_calls[] = {
	"open", "openat", "openat2", "creat", "rename", "renameat", "renameat2",
	"link", "linkat", "symlink", "symlinkat", "unlink", "unlinkat", "mkdir", "mkdirat",
	"rmdir", "truncate", "mknod", "mknodat",
};

/* Changes of a file's metadata: Landlock has no right for them (chmod,
 * chown, utime, xattrs), so they always come to the supervisor. */
static const char *const attr_calls[] = {
	"chmod", "fchmod", "fchmodat", "chown", "fchown", "lchown", "fchownat",
	"utime", "utimes", "utimensat", "futimesat",
	"setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
};

#ifdef __x86_64__
/* Newer than this libseccomp's table: fchmodat2, setxattrat, removexattrat. */
static const int attr_call_numbers[] = { 452, 463, 466 };
/* Refused, newer than the table too: open_tree_attr (open_tree with a
 * mount's attributes), file_setattr (inode flags and project ids by path,
 * which Landlock does not cover: it set FS_XFLAG_NODUMP on a file in
 * /var/tmp from inside a run). */
static const int refused_numbers[] = { 467, 469 };
/* The newest call of the kernels we know (file_setattr, 6.17).  Every
 * number above it up to the end of the x86_64 table answers ENOSYS: a
 * call a later kernel adds is refused until we have judged it, instead of
 * being allowed because nobody listed it. */
enum { NEWEST_KNOWN = 469, TABLE_END = 512 };
#else
static const int attr_call_numbers[] = { -1 };
static const int refused_numbers[] = { -1 };
enum { NEWEST_KNOWN = 0, TABLE_END = 0 };
#endif

/* ioctls that change an inode's flags (chattr, xfs_io chattr): they need
 * only an fd opened for reading, and Landlock covers ioctls on devices
 * alone. */
static const unsigned long refused_ioctls[] = {
	FS_IOC_SETFLAGS, FS_IOC32_SETFLAGS, FS_IOC_FSSETXATTR,
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

int cg_filter_rules(scmp_filter_ctx ctx, bool trap_files, bool trap_signals)
{
	static const uint64_t ns_flags[] = {
		CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWIPC,
		CLONE_NEWUTS, CLONE_NEWCGROUP, CLONE_NEWTIME,
	};
	int rc;

	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (rc)
		return rc;
	/* A binary tree of the calls instead of a list: every call of the run
	 * passes the filter, and the list is long. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (rc)
		return rc;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if ((rc = add_named(ctx, SCMP_ACT_ERRNO(EPERM), refused[i])))
			return rc;
	for (size_t i = 0; i < sizeof(refused_numbers) / sizeof(refused_numbers[0]); i++)
		if (refused_numbers[i] >= 0 &&
		    (rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), refused_numbers[i], 0)))
			return rc;
	for (int nr = NEWEST_KNOWN + 1; nr < TABLE_END; nr++)
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0)))
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
	for (size_t i = 0; i < sizeof(attr_calls) / sizeof(attr_calls[0]); i++)
		if ((rc = add_named(ctx, SCMP_ACT_NOTIFY, attr_calls[i])))
			return rc;
	for (size_t i = 0; i < sizeof(attr_call_numbers) / sizeof(attr_call_numbers[0]); i++)
		if (attr_call_numbers[i] >= 0 &&
		    (rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, attr_call_numbers[i], 0)))
			return rc;
	if (trap_signals)
		for (size_t i = 0; i < sizeof(signal_calls) / sizeof(signal_calls[0]); i++)
			if ((rc = add_named(ctx, SCMP_ACT_NOTIFY, signal_calls[i])))
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
	/* Typing into the terminal the run shares with the user's shell
	 * (TIOCSTI) would run commands outside the run; TIOCLINUX can do the
	 * same on a virtual console. */
	rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
			      SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI));
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
				      SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCLINUX));
	for (size_t i = 0; !rc && i < sizeof(refused_ioctls) / sizeof(refused_ioctls[0]); i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
				      SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, refused_ioctls[i]));
	if (rc)
		return rc;
	/* A filter of the run's own with a listener would be asked first (the
	 * newest filter wins a tie of USER_NOTIF) and could answer CONTINUE
	 * for an exec or connect we never see.  Filters without a listener
	 * only narrow what the run may do. */
	rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(seccomp), 1,
			      SCMP_A1(SCMP_CMP_MASKED_EQ, SECCOMP_FILTER_FLAG_NEW_LISTENER,
				      SECCOMP_FILTER_FLAG_NEW_LISTENER));
	if (rc)
		return rc;
	return 0;
}
