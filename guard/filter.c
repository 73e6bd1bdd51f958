/* filter.c - the seccomp program every process of a run carries.
 *
 * The rules are in filter-rules.c; the build turns them into BPF once
 * (guard/gen-filter writes guard/filter-bpf.c), so that starting a run
 * costs no filter generation: the child loads the program with the raw
 * seccomp(2) call, which is all a forked child may do anyway (libseccomp's
 * seccomp_load() allocates). */
#include <errno.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guard/supervisor-internal.h"

int cg_filter_build(struct cg_filter *f, bool trap_files, bool trap_signals, struct cg_error *err)
{
	memset(f, 0, sizeof(*f));
	f->traps_files = trap_files;
	f->traps_signals = trap_files || trap_signals;
	if (trap_files) {
		f->prog.filter = (struct sock_filter *)cg_bpf_trap_files;
		f->prog.len = cg_bpf_trap_files_len;
	} else if (trap_signals) {
		f->prog.filter = (struct sock_filter *)cg_bpf_trap_signals;
		f->prog.len = cg_bpf_trap_signals_len;
	} else {
		f->prog.filter = (struct sock_filter *)cg_bpf_landlock_paths;
		f->prog.len = cg_bpf_landlock_paths_len;
	}
	if (!f->prog.len) {
		cg_error_set(err, NULL, 0, "seccomp", "no filter was built into this program");
		return -ENOSYS;
	}
	return 0;
}

void cg_filter_free(struct cg_filter *f)
{
	f->prog.filter = NULL;
	f->prog.len = 0;
}

int cg_filter_install(const struct cg_filter *f)
{
	long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
			  &f->prog);

	return fd < 0 ? -errno : (int)fd;
}
