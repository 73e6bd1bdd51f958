/* fuzz-config - libFuzzer target for the policy loader (rules/config.c).
 *
 * The input is a guard.conf text.  It is loaded over the built-in default
 * as an operator's file would be, every pattern it adds is compiled, and a
 * few commands are judged so that the rules the input defines are matched
 * as well as parsed.  Inputs with a NUL byte are skipped: a file cannot
 * hand the loader one (it reads a C string), so they test nothing real.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void judge_some(struct cg_policy *p)
{
	static char *const rm_args[] = { "-rf", "/" };
	static char *const sudo_args[] = { "ls" };
	static char *const npm_args[] = { "test" };
	struct cg_rule_match m;

	cg_rules_blocks(p, "rm", rm_args, 2, &m);
	cg_rules_blocks(p, "sudo", sudo_args, 1, &m);
	cg_rules_blocks(p, "npm", npm_args, 1, &m);
	cg_policy_env_denied(p, "GITHUB_TOKEN");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cg_policy *p = NULL;
	struct cg_error err;
	struct cg_rule_info info;
	char *text;

	if (memchr(data, '\0', size))
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (cg_policy_load_string(&p, text, "<fuzz>", &err) == 0) {
		for (size_t i = 0; cg_policy_rule_at(p, i, &info); i++)
			;
		if (cg_policy_compile_all(p, false, &err) == 0)
			judge_some(p);
		cg_policy_free(p);
	}
	free(text);
	return 0;
}
