/* filter-rules.h - shared by filter-rules.c and the generator. */
#ifndef CG_FILTER_RULES_H
#define CG_FILTER_RULES_H

#include <seccomp.h>
#include <stdbool.h>

/* Add the run's rules to ctx (made with SCMP_ACT_ALLOW); the file calls
 * are notified only when trap_files (no Landlock, or monitor mode), the
 * signal calls only when trap_signals (no Landlock signal scope).
 * 0 or -errno. */
int cg_filter_rules(scmp_filter_ctx ctx, bool trap_files, bool trap_signals);

#endif
