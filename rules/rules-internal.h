/* rules-internal.h - the policy structure shared by rules/config.c and
 * rules/match.c.  Nothing outside rules/ includes this. */
#ifndef CG_RULES_INTERNAL_H
#define CG_RULES_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "rules/rules.h"

struct cg_rule {
	char *id;
	char *category;
	char *reason;
	char *pattern;               /* NULL: every use of the program matches */
	struct cg_strlist programs;  /* names or fnmatch(3) globs */
	bool is_allow;
	enum cg_level level;
	int line;                    /* where it was defined, for messages */
	pcre2_code *code;            /* compiled on first use */
	bool is_compiled;            /* compilation attempted (code may still be NULL: failed) */
};

struct cg_policy {
	char *source;                /* file name or "<built-in>" */
	struct cg_settings settings;
	struct cg_rule *rules;
	size_t n_rules;
	pcre2_code **env_codes;      /* one per settings.env_deny item, compiled on first use */
	size_t n_env_codes;
	pcre2_match_data *match_data;
	bool use_jit;
};

/* Compile rule r now (JIT when p->use_jit).  0, or -EINVAL with err set. */
int cg_rule_compile(struct cg_policy *p, struct cg_rule *r, struct cg_error *err);
void cg_rule_clear(struct cg_rule *r);
/* Compile the environment deny patterns (once).  0 or -errno with err set. */
int cg_policy_env_compile(struct cg_policy *p, struct cg_error *err);

#endif
