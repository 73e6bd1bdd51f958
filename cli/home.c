/* home.c - the command's HOME.
 *
 * Tools keep state in HOME (npm's cache and logs, git's config).  As root
 * in a runner HOME is /root, a secret directory: every git call would
 * print a refusal and npm would fail to write its cache.  So a command
 * whose inherited HOME the run may not read gets one of its own in /tmp
 * (when the policy lets the run write there):
 * /tmp/commandguard-home-UID-KEY, KEY naming the workspace and the
 * ticket, kept between their runs like a real HOME (a fresh one made npm
 * test 2.5 times slower: its first-run work every time).  If that name is taken by
 * anything but a private directory of the user's, a HOME is made for the
 * run alone and removed after it.  --home DIR names another. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/home.h"

/* Remove what the command left in `name` below dirfd without following a
 * symlink it planted: every level is opened O_NOFOLLOW and emptied through
 * its own fd. */
static void remove_below(int parent_fd, const char *name, int depth)
{
	int fd;
	DIR *dir;
	struct dirent *de;

	if (unlinkat(parent_fd, name, 0) == 0 || errno != EISDIR || depth > 64)
		return;
	fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || !(dir = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(dir)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			remove_below(dirfd(dir), de->d_name, depth + 1);
	closedir(dir);
	unlinkat(parent_fd, name, AT_REMOVEDIR);
}

/* Runs share a HOME only when they share the workspace and the ticket:
 * what one run leaves there (a .gitconfig alias, an .npmrc) is read by the
 * next without being asked, and the workspace is already theirs in common.
 * FNV-1a of both. */
static uint64_t home_key(const char *workspace, const char *ticket)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	const char *parts[2] = { workspace ? workspace : "", ticket ? ticket : "" };

	for (int i = 0; i < 2; i++)
		for (const char *c = parts[i]; ; c++) {
			h = (h ^ (unsigned char)*c) * 0x100000001b3ULL;
			if (!*c)
				break;
		}
	return h;
}

static int make_own(const char *dir, uid_t uid, gid_t gid, bool set_user)
{
	if (set_user && chown(dir, uid, gid) < 0)
		return -errno;
	return 0;
}

int cg_home_prepare(struct cg_home *h, const char *arg, const struct cg_context *ctx,
		    const char *ticket, const struct cg_home_owner *owner, char *msg, size_t size)
{
	const char *inherited = getenv("HOME");
	int rc;

	memset(h, 0, sizeof(*h));
	if (arg) {
		if (cg_path_normalize(ctx->workspace, arg, h->path, sizeof(h->path)) < 0) {
			snprintf(msg, size, "--home: path too long: %s", arg);
			return -ENAMETOOLONG;
		}
		if (!cg_run_may_access(ctx, h->path, true)) {
			snprintf(msg, size, "--home %s: the run may not write there (an allowed path, "
				 "the workspace, or --allow-write)", h->path);
			return -EACCES;
		}
		if (mkdir(h->path, 0700) == 0) {
			if ((rc = make_own(h->path, owner->uid, owner->gid, owner->set_user)) < 0) {
				snprintf(msg, size, "--home %s: %s", h->path, strerror(-rc));
				return rc;
			}
		} else if (errno != EEXIST) {
			rc = -errno;
			snprintf(msg, size, "--home %s: %s", h->path, strerror(errno));
			return rc;
		}
		h->is_set = true;
		return 0;
	}
	if (inherited && inherited[0] == '/' && cg_run_may_access(ctx, inherited, false))
		return 0;
	if (!cg_run_may_access(ctx, "/tmp/commandguard-home", true))
		return 0;   /* nowhere to make one: the command keeps its HOME */
	snprintf(h->replaced, sizeof(h->replaced), "%s", inherited ? inherited : "");
	uid_t uid = owner->set_user ? owner->uid : geteuid();
	struct stat st;
	snprintf(h->path, sizeof(h->path), "/tmp/commandguard-home-%u-%016llx", (unsigned)uid,
		 (unsigned long long)home_key(ctx->workspace, ticket));
	if (mkdir(h->path, 0700) == 0) {
		if ((rc = make_own(h->path, owner->uid, owner->gid, owner->set_user)) < 0) {
			snprintf(msg, size, "cannot give %s to the command's user: %s", h->path, strerror(-rc));
			rmdir(h->path);
			return rc;
		}
		h->is_set = true;
		return 0;
	}
	/* /tmp is everyone's: only a private directory of the user's own */
	if (errno == EEXIST && lstat(h->path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == uid &&
	    !(st.st_mode & 077)) {
		h->is_set = true;
		return 0;
	}
	snprintf(h->path, sizeof(h->path), "/tmp/commandguard-home.XXXXXX");
	if (!mkdtemp(h->path)) {
		rc = -errno;
		snprintf(msg, size, "cannot make a HOME for the command in /tmp: %s", strerror(errno));
		return rc;
	}
	h->is_set = h->is_private = true;
	if ((rc = make_own(h->path, owner->uid, owner->gid, owner->set_user)) < 0) {
		snprintf(msg, size, "cannot give %s to the command's user: %s", h->path, strerror(-rc));
		cg_home_finish(h);
		return rc;
	}
	return 0;
}

void cg_home_finish(struct cg_home *h)
{
	if (h->is_private)
		remove_below(AT_FDCWD, h->path, 0);
	h->is_private = false;
}
