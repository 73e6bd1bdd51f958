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

/* A program name a rule is keyed to, for the sorted index. */
struct cg_rule_key {
	const char *name;   /* borrowed from the rule's programs */
	size_t rule;        /* index into cg_policy.rules */
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
	/* Rules by program name: exact names sorted for bsearch, globs apart.
	 * Built on first use; dropped whenever rules change. */
	struct cg_rule_key *keys;
	size_t n_keys;
	size_t *glob_rules;
	size_t n_glob_rules;
	bool has_index;
};

/* Build the program index now (the shim does it at load, so that no
 * decision allocates), or forget it after rules changed.  0 or -ENOMEM. */
int cg_policy_index_build(struct cg_policy *p);
void cg_policy_index_drop(struct cg_policy *p);

/* Compile rule r now (JIT when p->use_jit).  0, or -EINVAL with err set. */
int cg_rule_compile(struct cg_policy *p, struct cg_rule *r, struct cg_error *err);
void cg_rule_clear(struct cg_rule *r);
/* Compile the environment deny patterns (once).  0 or -errno with err set. */
int cg_policy_env_compile(struct cg_policy *p, struct cg_error *err);

#endif
