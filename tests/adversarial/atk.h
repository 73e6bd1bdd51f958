/* atk.h - helpers shared by the attack programs of the adversarial suite.
 *
 * Every attack prints what it managed to do on stdout, one word per
 * effect ("RAN", "READ", "CONNECTED", ...), and its failures on stderr.
 * run.sh never trusts those words alone: it checks the effect itself (a
 * marker file, a secret's content, a listener's log, a pid).
 */
#ifndef CG_ATK_H
#define CG_ATK_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void atk_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static inline void atk_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(111);
}

/* Report the outcome of one step: "<what>: ok" or "<what>: <errno name>". */
static inline void atk_report(const char *what, long rc, int err)
{
	if (rc < 0)
		printf("%s: failed: %s\n", what, strerrorname_np(err) ? strerrorname_np(err) : strerror(err));
	else
		printf("%s: ok (%ld)\n", what, rc);
	fflush(stdout);
}

#endif
