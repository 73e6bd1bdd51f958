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
#include <sys/mman.h>

#include "rules/rules-internal.h"

int cg_rule_compile(struct cg_policy *p, struct cg_rule *r, struct cg_error *err)
{
	int code;
	PCRE2_SIZE offset;

	r->is_compiled = true;
	if (!r->pattern)
		return 0;
	/* Arguments are bytes, not always UTF-8: an invalid sequence must not
	 * make the match fail (which would block), only never match. */
	r->code = pcre2_compile((PCRE2_SPTR)r->pattern, PCRE2_ZERO_TERMINATED,
				PCRE2_UTF | PCRE2_MATCH_INVALID_UTF,
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

void cg_policy_index_drop(struct cg_policy *p)
{
	free(p->keys);
	free(p->glob_rules);
	p->keys = NULL;
	p->glob_rules = NULL;
	p->n_keys = p->n_glob_rules = 0;
	p->has_index = false;
}

/* strcmp() for program names, a few bytes long: inline, it costs less
 * than the call on every step of the index's binary search. */
static int name_cmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

static int key_cmp(const void *a, const void *b)
{
	const struct cg_rule_key *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->rule > y->rule) - (x->rule < y->rule);
}

static bool is_glob(const char *name)
{
	return strpbrk(name, "*?[") != NULL;
}

/* Rules are looked up by program name on every decision: a sorted index
 * turns ~30 rules x 5 names of strcmp into one binary search. */
int cg_policy_index_build(struct cg_policy *p)
{
	cg_policy_index_drop(p);
	size_t n = 0, g = 0;

	for (size_t i = 0; i < p->n_rules; i++)
		n += p->rules[i].programs.n;
	p->keys = malloc((n ? n : 1) * sizeof(*p->keys));
	p->glob_rules = malloc((p->n_rules ? p->n_rules : 1) * sizeof(*p->glob_rules));
	if (!p->keys || !p->glob_rules) {
		cg_policy_index_drop(p);
		return -ENOMEM;
	}
	n = 0;
	for (size_t i = 0; i < p->n_rules; i++) {
		bool has_glob = false;
		for (size_t k = 0; k < p->rules[i].programs.n; k++) {
			const char *name = p->rules[i].programs.items[k];
			if (is_glob(name))
				has_glob = true;
			else
				p->keys[n++] = (struct cg_rule_key){ name, i };
		}
		if (has_glob)
			p->glob_rules[g++] = i;
	}
	qsort(p->keys, n, sizeof(*p->keys), key_cmp);
	p->n_keys = n;
	p->n_glob_rules = g;
	p->has_index = true;
	return 0;
}

/* Could glob `pattern` match `program`?  False when the literal text
 * before its first wildcard already differs, which is nearly every time
 * (and saves a fnmatch call, ~25 ns, per glob per command); also false for
 * a name with no wildcard, which the index finds instead. */
static bool may_match_glob(const char *pattern, const char *program)
{
	for (; *pattern; pattern++, program++) {
		if (*pattern == '*' || *pattern == '?' || *pattern == '[')
			return true;
		if (*pattern == '\\')   /* an escape: fnmatch's to read */
			return is_glob(pattern);
		if (*pattern != *program)
			return false;
	}
	return false;
}

static bool glob_matches(const struct cg_rule *r, const char *program)
{
	for (size_t i = 0; i < r->programs.n; i++)
		if (may_match_glob(r->programs.items[i], program) &&
		    fnmatch(r->programs.items[i], program, 0) == 0)
			return true;
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

/* Join argv with single spaces into buf, or into an anonymous mapping
 * when buf is too small: mmap is safe where malloc is not (the shim judges
 * execs in vfork children and while libc holds its locks).  The caller
 * releases a result that is not buf with release_args(). */
static char *join_args(char *const argv[], size_t argc, char *buf, size_t size, size_t *len)
{
	size_t need = 1;
	char *out, *w;

	for (size_t i = 0; i < argc; i++)
		need += strlen(argv[i]) + 1;
	if (need <= size) {
		out = buf;
	} else {
		out = mmap(NULL, need, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (out == MAP_FAILED)
			return NULL;
	}
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

static void release_args(char *args, const char *buf, size_t len)
{
	/* join_args mapped 1 + sum(strlen + 1) = len + 2 bytes */
	if (args && args != buf)
		munmap(args, len + 2);
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

struct verdicts {
	const struct cg_rule *block[CG_LEVEL_CLI + 1];
	const struct cg_rule *allow[CG_LEVEL_CLI + 1];
	const struct cg_rule *failed;   /* a rule that could not be evaluated */
};

static void consider(struct cg_policy *p, struct cg_rule *r, char *const argv[], size_t argc,
		     char *stack, size_t stack_size, char **args, size_t *len, struct verdicts *v)
{
	int hit;

	if (v->failed)
		return;
	if (r->pattern && !*args)
		*args = join_args(argv, argc, stack, stack_size, len);
	hit = r->pattern && !*args ? -1 : rule_matches(p, r, *args, *len);
	if (hit < 0)
		v->failed = r;
	else if (hit > 0 && r->is_allow && !v->allow[r->level])
		v->allow[r->level] = r;
	else if (hit > 0 && !r->is_allow && !v->block[r->level])
		v->block[r->level] = r;
}

bool cg_rules_blocks(struct cg_policy *p, const char *program, char *const argv[],
		     size_t argc, struct cg_rule_match *m)
{
	char stack[1024];
	size_t len = 0;
	char *args = NULL;
	struct verdicts v = { 0 };
	bool is_blocked = false;

	if (!p->has_index && cg_policy_index_build(p) < 0) {
		/* Fail closed without the index: nothing can be looked up. */
		*m = (struct cg_rule_match){ "internal", "internal", "out of memory", false, CG_LEVEL_CLI };
		return true;
	}
	/* lower bound: the first key >= program */
	size_t lo = 0, hi = p->n_keys;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (name_cmp(p->keys[mid].name, program) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	struct cg_rule_key *hit = p->keys + lo;
	for (; hit < p->keys + p->n_keys && name_cmp(hit->name, program) == 0; hit++)
		consider(p, &p->rules[hit->rule], argv, argc, stack, sizeof(stack), &args, &len, &v);
	for (size_t i = 0; i < p->n_glob_rules; i++)
		if (glob_matches(&p->rules[p->glob_rules[i]], program))
			consider(p, &p->rules[p->glob_rules[i]], argv, argc, stack, sizeof(stack), &args,
				 &len, &v);

	if (v.failed) {
		/* Fail closed: a rule we could not evaluate blocks. */
		fill(m, v.failed);
		m->is_allow = false;
		is_blocked = true;
	} else {
		/* The highest level with a matching rule decides; at that level a
		 * block beats an allow. */
		for (int level = CG_LEVEL_CLI; level >= CG_LEVEL_BUILTIN; level--) {
			if (v.block[level]) {
				fill(m, v.block[level]);
				is_blocked = true;
				break;
			}
			if (v.allow[level])
				break;
		}
	}
	release_args(args, stack, len);
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
