/* home.h - the command's HOME (see home.c). */
#ifndef CG_CLI_HOME_H
#define CG_CLI_HOME_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "guard/guard.h"

struct cg_home {
	char path[PATH_MAX];       /* the command's HOME when is_set */
	char replaced[PATH_MAX];   /* the inherited HOME ours stands in for ("" if unset or --home) */
	bool is_set;               /* false: the command keeps the HOME it inherits */
	bool is_private;           /* made for this run alone; cg_home_finish removes it */
};

struct cg_home_owner {
	uid_t uid;
	gid_t gid;
	bool set_user;             /* --user: the home is made theirs */
};

/* --home DIR (`arg`, made if missing; the run must be allowed to write
 * it), else the inherited HOME when the run may read it, else
 * /tmp/commandguard-home-UID-KEY (kept between the runs of this
 * workspace and ticket), or one for this run alone when that name is not
 * a private directory of the user's.  0, or -errno with msg set. */
int cg_home_prepare(struct cg_home *h, const char *arg, const struct cg_context *ctx,
		    const char *ticket, const struct cg_home_owner *owner, char *msg, size_t size);
/* Remove a private HOME and all the command left in it. */
void cg_home_finish(struct cg_home *h);

#endif
