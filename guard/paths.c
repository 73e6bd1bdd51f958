/* paths.c - resolving paths as the kernel does, and the allowlists.
 *
 * The static check resolves every path a command names against the
 * workspace, following ".." and symbolic links component by component (a
 * lexical clean-up alone would let "ws/link/../../etc" or a symlink to
 * /etc through).  The kernel layers ask the same allowlists with their own
 * read and write sets.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guard/guard-internal.h"

#define MAX_SYMLINKS 40

bool cg_path_under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	while (n > 1 && prefix[n - 1] == '/')
		n--;
	if (n == 1 && prefix[0] == '/')
		return path[0] == '/';
	return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Append component `c` (len n) to the absolute path in out, handling "."
 * and "..". */
static int push_component(char *out, size_t *len, const char *c, size_t n)
{
	if (n == 0 || (n == 1 && c[0] == '.'))
		return 0;
	if (n == 2 && c[0] == '.' && c[1] == '.') {
		while (*len > 1 && out[*len - 1] != '/')
			(*len)--;
		if (*len > 1)
			(*len)--;
		out[*len] = '\0';
		return 0;
	}
	if (*len + 1 + n + 1 > PATH_MAX)
		return -ENAMETOOLONG;
	if (*len > 1)
		out[(*len)++] = '/';
	memcpy(out + *len, c, n);
	*len += n;
	out[*len] = '\0';
	return 0;
}

int cg_path_normalize(const char *base, const char *path, char *out, size_t size)
{
	char buf[PATH_MAX];
	size_t len = 1;
	const char *parts[2] = { path[0] == '/' ? NULL : base, path };
	int rc;

	buf[0] = '/';
	buf[1] = '\0';
	for (int i = 0; i < 2; i++) {
		const char *p = parts[i];
		if (!p)
			continue;
		while (*p) {
			const char *end = strchrnul(p, '/');
			if ((rc = push_component(buf, &len, p, (size_t)(end - p))) < 0)
				return rc;
			p = *end ? end + 1 : end;
		}
	}
	if (len + 1 > size)
		return -ENAMETOOLONG;
	memcpy(out, buf, len + 1);
	return 0;
}

int cg_path_resolve(const char *base, const char *path, char *out)
{
	/* `todo` holds what remains to walk; a symlink's target is spliced in
	 * front of the rest, as namei does. */
	char todo[PATH_MAX * 2];
	char link[PATH_MAX];
	size_t len = 1;
	int links = 0;
	bool exists = true;   /* once a component is missing, stop asking the file system */
	int rc;

	/* The base is canonical already (realpath, getcwd, an earlier
	 * resolution): the walk starts there instead of checking each of its
	 * components again, which is most of a decision's system calls. */
	rc = snprintf(todo, sizeof(todo), "%s", path);
	if (rc < 0 || (size_t)rc >= sizeof(todo))
		return -ENAMETOOLONG;
	out[0] = '/';
	out[1] = '\0';
	if (path[0] != '/' && base && base[0] == '/') {
		size_t n = strlen(base);
		while (n > 1 && base[n - 1] == '/')
			n--;
		if (n + 1 > PATH_MAX)
			return -ENAMETOOLONG;
		memcpy(out, base, n);
		out[n] = '\0';
		len = n;
	}

	char *p = todo;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		char *end = strchrnul(p, '/');
		size_t n = (size_t)(end - p);
		size_t saved = len;

		if ((rc = push_component(out, &len, p, n)) < 0)
			return rc;
		p = end;
		if (!exists || (n == 1 && p[-1] == '.') || (n == 2 && p[-1] == '.' && p[-2] == '.'))
			continue;

		/* One readlink asks what an lstat would, and reads the target
		 * of a symlink in the same call: EINVAL is "there, not a
		 * symlink"; ENOENT and ENOTDIR a missing component (or a /proc
		 * link to nothing, which the kernel cannot follow either).  An
		 * lstat answers only the rare other failures, as before. */
		ssize_t ln = readlink(out, link, sizeof(link) - 1);
		if (ln < 0) {
			int error = errno;
			struct stat st;
			if (error == EINVAL)
				continue;
			if (error == ENOENT || error == ENOTDIR || lstat(out, &st) < 0) {
				exists = false;
				continue;
			}
			if (!S_ISLNK(st.st_mode))
				continue;
			return -error;   /* a symlink whose target cannot be read */
		}
		if (++links > MAX_SYMLINKS)
			return -ELOOP;
		link[ln] = '\0';
		/* Splice: target + rest.  An absolute target restarts from /. */
		char rest[PATH_MAX * 2];
		rc = snprintf(rest, sizeof(rest), "%s%s", link, p);
		if (rc < 0 || (size_t)rc >= sizeof(rest))
			return -ENAMETOOLONG;
		memcpy(todo, rest, (size_t)rc + 1);
		p = todo;
		if (link[0] == '/') {
			len = 1;
		} else {
			len = saved;
		}
		out[len] = '\0';
		if (len == 0) {
			out[0] = '/';
			out[1] = '\0';
			len = 1;
		}
	}
	return 0;
}

/* Length of the longest entry of `list` that `path` lies under, or -1. */
static long longest_prefix(const struct cg_strlist *list, const char *path)
{
	long best = -1;

	for (size_t i = 0; i < list->n; i++)
		if (cg_path_under(path, list->items[i]) && (long)strlen(list->items[i]) > best)
			best = (long)strlen(list->items[i]);
	return best;
}

static long max_l(long a, long b)
{
	return a > b ? a : b;
}

bool cg_path_is_always(const struct cg_context *ctx, const char *path)
{
	const struct cg_strlist *always = &cg_policy_settings(ctx->policy)->paths_always;

	/* /dev/null and friends, and /dev/fd/N. */
	for (size_t i = 0; i < always->n; i++)
		if (strcmp(path, always->items[i]) == 0 ||
		    (cg_path_under(path, always->items[i]) && strcmp(always->items[i], "/dev/fd") == 0))
			return true;
	return false;
}

bool cg_path_is_allowed(const struct cg_context *ctx, const char *path, enum cg_path_list list)
{
	const struct cg_settings *st = cg_policy_settings(ctx->policy);
	long allow = -1, deny = -1;

	if (cg_path_is_always(ctx, path))
		return true;

	if (ctx->workspace)
		allow = cg_path_under(path, ctx->workspace) ? (long)strlen(ctx->workspace) : -1;
	allow = max_l(allow, longest_prefix(&st->paths_allowed, path));

	switch (list) {
	case CG_PATHS_STATIC:
		deny = longest_prefix(&st->paths_blocked, path);
		allow = max_l(allow, max_l(longest_prefix(&st->cli_allow_read, path),
					   longest_prefix(&st->cli_allow_write, path)));
		deny = max_l(deny, max_l(longest_prefix(&st->cli_deny_read, path),
					 longest_prefix(&st->cli_deny_write, path)));
		break;
	case CG_PATHS_READ:
		/* What the run needs of ours, wherever it is installed. */
		if ((ctx->preload && !strcmp(path, ctx->preload)) ||
		    (ctx->run_dir && cg_path_under(path, ctx->run_dir)))
			return true;
		allow = max_l(allow, longest_prefix(&st->paths_readable, path));
		allow = max_l(allow, longest_prefix(&st->cli_allow_read, path));
		deny = max_l(longest_prefix(&st->paths_secret, path),
			     longest_prefix(&st->cli_deny_read, path));
		break;
	case CG_PATHS_WRITE:
		allow = max_l(allow, longest_prefix(&st->cli_allow_write, path));
		deny = max_l(longest_prefix(&st->paths_blocked, path),
			     longest_prefix(&st->paths_secret, path));
		deny = max_l(deny, longest_prefix(&st->cli_deny_write, path));
		break;
	}
	/* Longest prefix wins; a tie goes to the deny ("/" allowed keeps
	 * "/etc" blocked, "/etc/app" allowed opens just that). */
	return allow >= 0 && allow > deny;
}
