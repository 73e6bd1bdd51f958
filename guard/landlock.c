/* landlock.c - the path rules, enforced by the kernel without races.
 *
 * The ruleset is built in the parent (opening every path, reading the
 * directories that hold a secret) and only restricted-to in the child,
 * which is one system call.  Landlock is an allowlist: a secret below a
 * readable directory (/etc/shadow below /etc) is carved out by granting
 * each of the directory's other entries instead of the directory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guard/supervisor-internal.h"

/* The system headers may predate the ABI the kernel has; the kernel takes
 * the attribute's size, so our own copy of the structs is safe. */
struct cg_ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

struct cg_ll_path_beneath {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1

#define LL_EXECUTE (1ULL << 0)
#define LL_WRITE_FILE (1ULL << 1)
#define LL_READ_FILE (1ULL << 2)
#define LL_READ_DIR (1ULL << 3)
#define LL_REMOVE_DIR (1ULL << 4)
#define LL_REMOVE_FILE (1ULL << 5)
#define LL_MAKE_CHAR (1ULL << 6)
#define LL_MAKE_DIR (1ULL << 7)
#define LL_MAKE_REG (1ULL << 8)
#define LL_MAKE_SOCK (1ULL << 9)
#define LL_MAKE_FIFO (1ULL << 10)
#define LL_MAKE_BLOCK (1ULL << 11)
#define LL_MAKE_SYM (1ULL << 12)
#define LL_REFER (1ULL << 13)        /* ABI 2 */
#define LL_TRUNCATE (1ULL << 14)     /* ABI 3 */
#define LL_IOCTL_DEV (1ULL << 15)    /* ABI 5 */
#define LL_SCOPE_ABSTRACT_UNIX (1ULL << 0)   /* ABI 6 */
#define LL_SCOPE_SIGNAL (1ULL << 1)          /* ABI 6 */

#define LL_FILE_RIGHTS (LL_EXECUTE | LL_WRITE_FILE | LL_READ_FILE | LL_TRUNCATE | LL_IOCTL_DEV)
#define LL_READ (LL_EXECUTE | LL_READ_FILE | LL_READ_DIR)
#define LL_WRITE (LL_WRITE_FILE | LL_REMOVE_DIR | LL_REMOVE_FILE | LL_MAKE_CHAR | LL_MAKE_DIR | \
		  LL_MAKE_REG | LL_MAKE_SOCK | LL_MAKE_FIFO | LL_MAKE_BLOCK | LL_MAKE_SYM |  \
		  LL_REFER | LL_TRUNCATE | LL_IOCTL_DEV)

/* Directories deeper than this are granted whole rather than carved. */
enum { MAX_CARVE_DEPTH = 8 };

int cg_landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);

	return abi < 0 ? 0 : (int)abi;
}

static uint64_t handled_fs(int abi)
{
	uint64_t rights = LL_READ | LL_WRITE;

	if (abi < 2)
		rights &= ~LL_REFER;
	if (abi < 3)
		rights &= ~LL_TRUNCATE;
	if (abi < 5)
		rights &= ~LL_IOCTL_DEV;
	return rights;
}

struct builder {
	struct cg_landlock *ll;
	uint64_t handled;
	const struct cg_strlist *excluded[3];
	const char *workspace;
};

/* The rule engine's longest prefix wins (a tie goes to the deny): an
 * excluded path above `path` loses to it, one equal to it wins, and one
 * below it is carved out (holds_excluded).  So --allow-write /dev/shm
 * opens it under the blocked /dev, and a workspace below a secret
 * directory is the run's, as cg_path_is_allowed says. */
static bool is_excluded(const struct builder *b, const char *path)
{
	for (size_t k = 0; k < 3; k++)
		if (b->excluded[k])
			for (size_t i = 0; i < b->excluded[k]->n; i++)
				if (strcmp(path, b->excluded[k]->items[i]) == 0)
					return true;
	return false;
}

/* true when an excluded path lies strictly below `dir`. */
static bool holds_excluded(const struct builder *b, const char *dir)
{
	for (size_t k = 0; k < 3; k++)
		if (b->excluded[k])
			for (size_t i = 0; i < b->excluded[k]->n; i++) {
				const char *x = b->excluded[k]->items[i];
				if (strcmp(x, dir) && cg_path_under(x, dir))
					return true;
			}
	return false;
}

static int add_fd(struct builder *b, int fd, bool is_dir, uint64_t access)
{
	struct cg_ll_path_beneath rule;

	if (!is_dir)
		access &= LL_FILE_RIGHTS;
	rule.allowed_access = access & b->handled;
	rule.parent_fd = fd;
	if (!rule.allowed_access)
		return 0;
	if (syscall(SYS_landlock_add_rule, b->ll->ruleset_fd, LL_RULE_PATH_BENEATH, &rule, 0) < 0)
		return -errno;
	b->ll->n_rules++;
	return 0;
}

/* Grant `access` on `path` (opened as `fd`, a directory when is_dir),
 * except below it the excluded paths: then each entry instead.  Takes
 * fd. */
static int grant_fd(struct builder *b, int fd, bool is_dir, const char *path, uint64_t access,
		    int depth)
{
	char child[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int dir_fd, rc = 0;

	if (!is_dir || depth >= MAX_CARVE_DEPTH || !holds_excluded(b, path)) {
		rc = add_fd(b, fd, is_dir, access);
		close(fd);
		return rc;
	}
	dir_fd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(fd);
	if (dir_fd < 0 || !(dir = fdopendir(dir_fd))) {
		if (dir_fd >= 0)
			close(dir_fd);
		return 0;
	}
	while (!rc && (de = readdir(dir))) {
		int entry_fd;
		bool entry_is_dir;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		/* A symlink is judged at its target when it is followed; a rule
		 * on the target through the link could grant a secret. */
		if (de->d_type == DT_LNK)
			continue;
		if (snprintf(child, sizeof(child), "%s/%s", strcmp(path, "/") ? path : "",
			     de->d_name) >= (int)sizeof(child) || is_excluded(b, child))
			continue;
		entry_fd = openat(dirfd(dir), de->d_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (entry_fd < 0)
			continue;
		entry_is_dir = de->d_type == DT_DIR;
		if (de->d_type == DT_UNKNOWN) {
			struct stat st;
			if (fstat(entry_fd, &st) < 0 || S_ISLNK(st.st_mode)) {
				close(entry_fd);
				continue;
			}
			entry_is_dir = S_ISDIR(st.st_mode);
		}
		rc = grant_fd(b, entry_fd, entry_is_dir, child, access, depth + 1);
	}
	closedir(dir);
	return rc;
}

/* A configured path: its symlinks are followed (/lib is one on merged-/usr
 * systems). */
static int grant(struct builder *b, const char *path, uint64_t access)
{
	struct stat st;
	int fd;

	if (is_excluded(b, path))
		return 0;
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return 0;   /* a listed path this machine lacks is no error */
	if (fstat(fd, &st) < 0) {
		close(fd);
		return 0;
	}
	return grant_fd(b, fd, S_ISDIR(st.st_mode), path, access, 0);
}

static int grant_list(struct builder *b, const struct cg_strlist *list, uint64_t access)
{
	int rc = 0;

	for (size_t i = 0; list && i < list->n && !rc; i++)
		rc = grant(b, list->items[i], access);
	return rc;
}

int cg_landlock_prepare(struct cg_landlock *ll, const struct cg_settings *s,
			const struct cg_context *ctx, struct cg_error *err)
{
	const char *workspace = ctx->workspace;
	struct cg_ll_ruleset_attr attr = { 0 };
	struct builder b = { .ll = ll, .workspace = workspace };
	size_t attr_size;
	int rc;

	ll->ruleset_fd = -1;
	ll->n_rules = 0;
	ll->abi = cg_landlock_abi();
	if (ll->abi <= 0)
		return 0;
	b.handled = handled_fs(ll->abi);
	attr.handled_access_fs = b.handled;
	/* Network rules stay with seccomp: Landlock's net rights are ports
	 * only and cannot express an address allowlist. */
	attr_size = sizeof(attr.handled_access_fs);
	if (ll->abi >= 6) {
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
		attr_size = sizeof(attr);
	}
	ll->ruleset_fd = syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0);
	if (ll->ruleset_fd < 0) {
		rc = -errno;
		cg_error_set(err, NULL, 0, "landlock", "landlock_create_ruleset: %s", strerror(errno));
		return rc;
	}

	/* Reads: readable plus allowed plus the workspace, minus the secrets
	 * and --deny-read. */
	b.excluded[0] = &s->paths_secret;
	b.excluded[1] = &s->cli_deny_read;
	rc = grant_list(&b, &s->paths_readable, LL_READ);
	if (!rc)
		rc = grant_list(&b, &s->paths_allowed, LL_READ);
	if (!rc)
		rc = grant_list(&b, &s->cli_allow_read, LL_READ);
	if (!rc)
		rc = grant_list(&b, &s->cli_allow_write, LL_READ);
	if (!rc && workspace)
		rc = grant(&b, workspace, LL_READ);
	/* Ours, wherever installed: the shim and its snapshot. */
	if (!rc && ctx->run_dir)
		rc = grant(&b, ctx->run_dir, LL_READ);
	if (!rc && ctx->preload)
		rc = grant(&b, ctx->preload, LL_READ);
	/* Writes: allowed plus the workspace plus the always-allowed devices,
	 * minus the secrets and --deny-write. */
	b.excluded[1] = &s->cli_deny_write;
	b.excluded[2] = &s->paths_blocked;
	if (!rc)
		rc = grant_list(&b, &s->paths_allowed, LL_WRITE);
	if (!rc)
		rc = grant_list(&b, &s->cli_allow_write, LL_WRITE);
	if (!rc && workspace)
		rc = grant(&b, workspace, LL_WRITE);
	b.excluded[2] = NULL;
	for (size_t i = 0; !rc && i < s->paths_always.n; i++) {
		struct stat st;
		/* /dev/stdout and /dev/fd are symlinks into /proc/self: they would
		 * name the parent's files here, and what they reach in the child
		 * is judged on its own. */
		if (lstat(s->paths_always.items[i], &st) == 0 && !S_ISLNK(st.st_mode))
			rc = grant(&b, s->paths_always.items[i], LL_READ | LL_WRITE_FILE | LL_IOCTL_DEV);
	}
	if (rc) {
		cg_error_set(err, NULL, 0, "landlock", "landlock_add_rule: %s", strerror(-rc));
		close(ll->ruleset_fd);
		ll->ruleset_fd = -1;
	}
	return rc;
}

int cg_landlock_grant_file(struct cg_landlock *ll, const char *path)
{
	struct builder b = { .ll = ll, .handled = handled_fs(ll->abi) };
	int fd;

	if (ll->ruleset_fd < 0)
		return 0;
	fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return grant_fd(&b, fd, false, path, LL_READ, 0);
}

int cg_landlock_grant_own_dir(const struct cg_landlock *ll, const char *dir)
{
	struct cg_ll_path_beneath rule = { .allowed_access = handled_fs(ll->abi) };
	int rc = 0;

	if (ll->ruleset_fd < 0)
		return 0;
	rule.parent_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rule.parent_fd < 0)
		return -errno;
	if (syscall(SYS_landlock_add_rule, ll->ruleset_fd, LL_RULE_PATH_BENEATH, &rule, 0) < 0)
		rc = -errno;
	close(rule.parent_fd);
	return rc;
}

int cg_landlock_apply(const struct cg_landlock *ll)
{
	if (ll->ruleset_fd < 0)
		return 0;
	if (syscall(SYS_landlock_restrict_self, ll->ruleset_fd, 0) < 0)
		return -errno;
	return 0;
}

void cg_landlock_free(struct cg_landlock *ll)
{
	if (ll->ruleset_fd >= 0)
		close(ll->ruleset_fd);
	ll->ruleset_fd = -1;
}
