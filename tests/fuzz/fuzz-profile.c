/* fuzz-profile - libFuzzer target for the repo profile loader
 * (guard/profile.c, and through it the shell parser).
 *
 * cg_profile_load() takes a path, so each input is written to a memfd and
 * loaded through /proc/self/fd/N: no file system, nothing left behind.  A
 * profile that loads is then queried the way guard-exec queries one: every
 * task by name, and each entry's own command split into words, which must
 * be allowed (a profile that refused its own command would be a bug).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guard/guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_WORDS = 64 };

static int write_all(int fd, const uint8_t *data, size_t size)
{
	while (size > 0) {
		ssize_t n = write(fd, data, size);
		if (n <= 0)
			return -1;
		data += n;
		size -= (size_t)n;
	}
	return 0;
}

/* Plain words (letters, digits, - . / _) only: for those the shell parser
 * and a split on spaces agree, so the entry must allow them. */
static void query_entry(const struct cg_profile *p, const char *command)
{
	char *copy = strdup(command), *save = NULL;
	char *argv[MAX_WORDS];
	size_t argc = 0;
	bool is_plain = true;

	if (!copy)
		return;
	for (const char *c = command; *c; c++)
		if (!(*c == ' ' || *c == '-' || *c == '.' || *c == '/' || *c == '_' ||
		      (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
			is_plain = false;
	for (char *w = strtok_r(copy, " ", &save); w && argc < MAX_WORDS; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	bool is_allowed = cg_profile_allows(p, argv, argc);
	if (is_plain && argc > 0 && argc < MAX_WORDS && strcmp(argv[argc - 1], "...") != 0 &&
	    !is_allowed)
		__builtin_trap();
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *const npm_test[] = { "npm", "test" };
	struct cg_profile *p = NULL;
	struct cg_error err;
	char path[64];
	int fd;

	fd = memfd_create("fuzz-profile", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	if (write_all(fd, data, size) < 0)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (cg_profile_load(&p, path, &err) == 0) {
		const char *name, *command;
		for (size_t i = 0; cg_profile_entry(p, i, &name, &command); i++) {
			if (cg_profile_task(p, name) == NULL)
				__builtin_trap();
			query_entry(p, command);
		}
		cg_profile_allows(p, npm_test, 2);
		cg_profile_count(p);
		cg_profile_free(p);
	}
	close(fd);
	return 0;
}
