/* identity.c - what a program file is, whatever it is called.
 *
 * The command rules are keyed by program name, so a copy of mount under
 * another name, a hard link to it, or a copy of the dynamic loader would
 * be another program to them.  At a run's first exec we find the files the
 * block rules name (in the system's program directories) and the dynamic
 * loaders; an exec'd file that is one of them (the same inode) or a
 * byte-for-byte copy of one (the same size, then the same bytes) is judged
 * under that file's real path as well.  A copy changed by one byte is
 * another program: the kernel floor bounds what it can do. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guard/supervisor-internal.h"

struct cg_known_program {
	dev_t dev;
	ino_t ino;
	off_t size;
	char *path;   /* real path */
};

static const char *const program_dirs[] = {
	"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin",
};

static const char *const loaders[] = {
	"/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux.so.2", "/lib/ld-linux-aarch64.so.1",
	"/lib/ld-musl-x86_64.so.1", "/lib/ld-musl-aarch64.so.1", "/libx32/ld-linux-x32.so.2",
};

/* `path` is real already unless is_link (its directory is). */
static int add_file(struct cg_identity *id, const char *path, bool is_link)
{
	char real[PATH_MAX];
	struct stat st;
	struct cg_known_program *grown;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	for (size_t i = 0; i < id->n; i++)
		if (id->known[i].dev == st.st_dev && id->known[i].ino == st.st_ino)
			return 0;
	if (!is_link)
		snprintf(real, sizeof(real), "%s", path);
	else if (!realpath(path, real))
		return 0;
	grown = realloc(id->known, (id->n + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	id->known = grown;
	grown[id->n] = (struct cg_known_program){ st.st_dev, st.st_ino, st.st_size, strdup(real) };
	if (!grown[id->n].path)
		return -ENOMEM;
	id->n++;
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The block rules' exact program names, sorted (borrowed from the
 * policy); a glob ("mkfs.*") names no one file, so its matches keep
 * their names.  NULL with *n 0 when there are none. */
static const char **rule_names(const struct cg_policy *p, size_t *n, int *rc)
{
	struct cg_rule_info info;
	const char **names = NULL, **grown;
	size_t cap = 0;

	*n = 0;
	*rc = 0;
	for (size_t r = 0; cg_policy_rule_at(p, r, &info); r++) {
		if (strcmp(info.action, "block") != 0)
			continue;
		for (size_t i = 0; i < info.programs->n; i++) {
			const char *name = info.programs->items[i];
			if (strpbrk(name, "*?[/"))
				continue;
			if (*n == cap) {
				cap = cap ? cap * 2 : 64;
				if (!(grown = realloc(names, cap * sizeof(*names)))) {
					*rc = -ENOMEM;
					free(names);
					return NULL;
				}
				names = grown;
			}
			names[(*n)++] = name;
		}
	}
	if (*n)
		qsort(names, *n, sizeof(*names), compare_names);
	return names;
}

/* One pass over each program directory (its real path once: /bin is
 * /usr/bin on merged-/usr systems) instead of a stat per name and
 * directory. */
static int add_named_files(struct cg_identity *id, const char **names, size_t n)
{
	char seen[sizeof(program_dirs) / sizeof(program_dirs[0])][PATH_MAX];
	char path[PATH_MAX];
	size_t n_seen = 0;
	int rc = 0;

	for (size_t d = 0; d < sizeof(program_dirs) / sizeof(program_dirs[0]) && !rc; d++) {
		struct dirent *de;
		bool is_seen = false;
		DIR *dir;
		if (!realpath(program_dirs[d], seen[n_seen]))
			continue;
		for (size_t i = 0; i < n_seen; i++)
			is_seen |= !strcmp(seen[i], seen[n_seen]);
		if (is_seen || !(dir = opendir(seen[n_seen])))
			continue;
		n_seen++;
		while (!rc && (de = readdir(dir))) {
			const char *key = de->d_name;
			if (!bsearch(&key, names, n, sizeof(*names), compare_names))
				continue;
			snprintf(path, sizeof(path), "%s/%s", seen[n_seen - 1], de->d_name);
			rc = add_file(id, path, de->d_type == DT_LNK || de->d_type == DT_UNKNOWN);
		}
		closedir(dir);
	}
	return rc;
}

static int build(struct cg_identity *id)
{
	size_t n;
	int rc;
	const char **names = rule_names(id->policy, &n, &rc);

	if (!rc && n)
		rc = add_named_files(id, names, n);
	free(names);
	for (size_t i = 0; !rc && i < sizeof(loaders) / sizeof(loaders[0]); i++)
		rc = add_file(id, loaders[i], true);
	/* after a failure the next lookup tries again (and fails closed again) */
	id->is_built = rc == 0;
	return rc;
}

/* The same bytes, read and compared a block at a time.  Never through a
 * mapping: the command could truncate its file under it, and the
 * supervisor would die of SIGBUS.  A short read is a difference. */
static bool same_bytes(int fd, const char *path, off_t size)
{
	char a[8192], b[8192];
	int other = open(path, O_RDONLY | O_CLOEXEC);
	bool same = other >= 0;

	for (off_t at = 0; same && at < size; ) {
		size_t want = size - at < (off_t)sizeof(a) ? (size_t)(size - at) : sizeof(a);
		ssize_t got_a = pread(fd, a, want, at), got_b = pread(other, b, want, at);
		same = got_a == (ssize_t)want && got_b == (ssize_t)want && memcmp(a, b, want) == 0;
		at += (off_t)want;
	}
	if (other >= 0)
		close(other);
	return same;
}

void cg_identity_init(struct cg_identity *id, const struct cg_policy *p)
{
	memset(id, 0, sizeof(*id));
	id->policy = p;
}

int cg_identity_lookup(struct cg_identity *id, int fd, char *known, size_t size)
{
	struct stat st;
	int rc;

	known[0] = '\0';
	if (!id->is_built && (rc = build(id)) < 0)
		return rc;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return 0;
	for (size_t i = 0; i < id->n; i++)
		if (id->known[i].dev == st.st_dev && id->known[i].ino == st.st_ino) {
			snprintf(known, size, "%s", id->known[i].path);
			return 1;
		}
	for (size_t i = 0; i < id->n; i++)
		if (id->known[i].size == st.st_size && same_bytes(fd, id->known[i].path, st.st_size)) {
			snprintf(known, size, "%s", id->known[i].path);
			return 1;
		}
	return 0;
}

void cg_identity_free(struct cg_identity *id)
{
	for (size_t i = 0; i < id->n; i++)
		free(id->known[i].path);
	free(id->known);
	memset(id, 0, sizeof(*id));
}
