/* engine-glue.c - the profile check the shared decision code refers to.
 *
 * guard/profile.c loads profiles with jansson, which must not be loaded
 * into every process of a run.  The shim never has a repo profile (the
 * static check applied it before the run started; ctx.profile is NULL),
 * so these are never called with one: they only satisfy the linker.
 */
#include <stdlib.h>
#include <string.h>

#include "guard/guard-internal.h"
#include "rules/rules-internal.h"

bool cg_profile_allows(const struct cg_profile *p, char *const argv[], size_t argc)
{
	(void)p;
	(void)argv;
	(void)argc;
	return true;
}

bool cg_profile_allows_words(const struct cg_profile *p, const struct cg_word *words, size_t n)
{
	(void)p;
	(void)words;
	(void)n;
	return true;
}
