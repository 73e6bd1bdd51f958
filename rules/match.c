/* match.c - judge one canonical command against the rules.
 *
 * Rules are keyed by program name, so a command meets only the rules of
 * its own program; their patterns are compiled the first time they are
 * met.  Compiling 40 patterns costs about 0.3 ms and JIT another 0.4 ms
 * while a match costs tens of nanoseconds either way, so a run that
 * decides a few hundred times is cheapest without JIT (see bench/).
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules-internal.h"

int cg_rule_compile(struct cg_policy *p, struct cg_rule *r, struct cg_error *err)
{
	int code;
	PCRE2_SIZE offset;

	r->is_compiled = true;
	if (!r->pattern)
		return 0;
	r->code = pcre2_compile((PCRE2_SPTR)r->pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF,
				&code, &offset, NULL);
	if (!r->code) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(code, msg, sizeof(msg));
		cg_error_set(err, p->source, r->line, r->id, "bad pattern at offset %zu: %s",
			     (size_t)offset, (char *)msg);
		return -EINVAL;
	}
	if (p->use_jit)
		pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE);  /* falls back to the interpreter */
	return 0;
}

static bool program_matches(const struct cg_rule *r, const char *program)
{
	for (size_t i = 0; i < r->programs.n; i++) {
		const char *name = r->programs.items[i];
		if (strpbrk(name, "*?[") ? fnmatch(name, program, 0) == 0 : strcmp(name, program) == 0)
			return true;
	}
	return false;
}

static pcre2_match_data *match_data(struct cg_policy *p)
{
	/* One small match block serves every pattern: we only ask whether a
	 * pattern matches, never for its groups. */
	if (!p->match_data)
		p->match_data = pcre2_match_data_create(1, NULL);
	return p->match_data;
}

/* Join argv with single spaces into buf, or return a malloc'd string when
 * buf is too small.  The caller frees the result if it is not buf. */
static char *join_args(char *const argv[], size_t argc, char *buf, size_t size, size_t *len)
{
	size_t need = 1;
	char *out, *w;

	for (size_t i = 0; i < argc; i++)
		need += strlen(argv[i]) + 1;
	out = need <= size ? buf : malloc(need);
	if (!out)
		return NULL;
	w = out;
	for (size_t i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);
		if (i)
			*w++ = ' ';
		memcpy(w, argv[i], n);
		w += n;
	}
	*w = '\0';
	*len = (size_t)(w - out);
	return out;
}

/* Does rule r match?  1 yes, 0 no, -1 the pattern could not be used
 * (bad pattern, out of memory, match limit): the caller fails closed. */
static int rule_matches(struct cg_policy *p, struct cg_rule *r, const char *args, size_t len)
{
	int rc;

	if (!r->pattern)
		return 1;
	if (!r->is_compiled && cg_rule_compile(p, r, NULL) < 0)
		return -1;
	if (!r->code || !match_data(p))
		return -1;
	rc = pcre2_match(r->code, (PCRE2_SPTR)args, len, 0, 0, p->match_data, NULL);
	if (rc >= 0)
		return 1;
	return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

static void fill(struct cg_rule_match *m, const struct cg_rule *r)
{
	m->id = r->id;
	m->category = r->category;
	m->reason = r->reason;
	m->is_allow = r->is_allow;
	m->level = r->level;
}

bool cg_rules_blocks(struct cg_policy *p, const char *program, char *const argv[],
		     size_t argc, struct cg_rule_match *m)
{
	char stack[1024];
	size_t len = 0;
	char *args = NULL;
	const struct cg_rule *block[CG_LEVEL_CLI + 1] = { 0 };
	const struct cg_rule *allow[CG_LEVEL_CLI + 1] = { 0 };
	bool is_blocked = false;

	for (size_t i = 0; i < p->n_rules; i++) {
		struct cg_rule *r = &p->rules[i];
		int hit;

		if (!program_matches(r, program))
			continue;
		if (r->pattern && !args)
			args = join_args(argv, argc, stack, sizeof(stack), &len);
		hit = r->pattern && !args ? -1 : rule_matches(p, r, args, len);
		if (hit < 0) {
			/* Fail closed: a rule we could not evaluate blocks. */
			fill(m, r);
			m->is_allow = false;
			is_blocked = true;
			goto out;
		}
		if (hit == 0)
			continue;
		if (r->is_allow) {
			if (!allow[r->level])
				allow[r->level] = r;
		} else if (!block[r->level]) {
			block[r->level] = r;
		}
	}
	/* The highest level with a matching rule decides; at that level a
	 * block beats an allow. */
	for (int level = CG_LEVEL_CLI; level >= CG_LEVEL_BUILTIN; level--) {
		if (block[level]) {
			fill(m, block[level]);
			is_blocked = true;
			break;
		}
		if (allow[level])
			break;
	}
out:
	if (args != stack)
		free(args);
	return is_blocked;
}

int cg_policy_compile_all(struct cg_policy *p, bool jit, struct cg_error *err)
{
	p->use_jit = jit;
	for (size_t i = 0; i < p->n_rules; i++) {
		struct cg_rule *r = &p->rules[i];
		if (r->is_compiled) {
			if (jit && r->code)
				pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE);
			continue;
		}
		if (cg_rule_compile(p, r, err) < 0)
			return -EINVAL;
	}
	return cg_policy_env_compile(p, err);
}

int cg_policy_env_compile(struct cg_policy *p, struct cg_error *err)
{
	const struct cg_strlist *deny = &p->settings.env_deny;

	if (p->env_codes)
		return 0;
	p->env_codes = calloc(deny->n ? deny->n : 1, sizeof(*p->env_codes));
	if (!p->env_codes)
		return -ENOMEM;
	p->n_env_codes = deny->n;
	for (size_t i = 0; i < deny->n; i++) {
		int code;
		PCRE2_SIZE offset;
		p->env_codes[i] = pcre2_compile((PCRE2_SPTR)deny->items[i], PCRE2_ZERO_TERMINATED,
						0, &code, &offset, NULL);
		if (!p->env_codes[i]) {
			PCRE2_UCHAR msg[256];
			pcre2_get_error_message(code, msg, sizeof(msg));
			cg_error_set(err, p->source, 0, "environment.deny",
				     "bad pattern \"%s\" at offset %zu: %s", deny->items[i],
				     (size_t)offset, (char *)msg);
			return -EINVAL;
		}
	}
	return 0;
}

bool cg_policy_env_denied(struct cg_policy *p, const char *name)
{
	if (strncmp(name, "GUARD_", 6) == 0)
		return true;
	if (!p->env_codes && cg_policy_env_compile(p, NULL) < 0 && !p->env_codes)
		return true;
	if (!match_data(p))
		return true;
	for (size_t i = 0; i < p->n_env_codes; i++) {
		/* An uncompilable pattern strips everything: fail closed. */
		if (!p->env_codes[i])
			return true;
		if (pcre2_match(p->env_codes[i], (PCRE2_SPTR)name, PCRE2_ZERO_TERMINATED, 0, 0,
				p->match_data, NULL) >= 0)
			return true;
	}
	return false;
}
