/* config.c - load and validate a policy file (libconfig).
 *
 * The built-in default (conf/guard.conf, embedded by rules/builtin.S) is
 * always read first; an operator's file is applied over it setting by
 * setting.  Every error names the file, the line and the key.
 */
#include <errno.h>
#include <inttypes.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules-internal.h"

extern const char cg_builtin_policy[];
extern const char cg_builtin_policy_end[];

#define BUILTIN_NAME "<built-in>"

const char *cg_policy_builtin_text(size_t *len)
{
	if (len)
		*len = (size_t)(cg_builtin_policy_end - cg_builtin_policy);
	return cg_builtin_policy;
}

/* Where a setting was defined, for error messages. */
struct origin {
	const char *file;
	enum cg_level level;
};

static int line_of(const config_setting_t *s)
{
	return s ? (int)config_setting_source_line(s) : 0;
}

static const char *path_of(const config_setting_t *s, char *buf, size_t size)
{
	const char *names[16];
	int depth = 0;
	size_t n = 0;

	buf[0] = '\0';
	for (; s && depth < 16; s = config_setting_parent(s)) {
		const char *name = config_setting_name(s);
		if (name)
			names[depth++] = name;
	}
	while (depth-- > 0 && n < size)
		n += snprintf(buf + n, size - n, "%s%s", n ? "." : "", names[depth]);
	return buf;
}

static int fail(struct cg_error *err, const struct origin *o, const config_setting_t *s,
		const char *msg)
{
	char key[128];

	cg_error_set(err, o->file, line_of(s), path_of(s, key, sizeof(key)), "%s", msg);
	return -EINVAL;
}

/* Reject keys a group does not know: a typo must not silently fall back to
 * a default. */
static int check_keys(const config_setting_t *group, const char *const known[],
		      const struct origin *o, struct cg_error *err)
{
	int n = config_setting_length(group);

	for (int i = 0; i < n; i++) {
		const config_setting_t *child = config_setting_get_elem(group, i);
		const char *name = config_setting_name(child);
		bool is_known = false;

		for (size_t k = 0; known[k]; k++)
			if (name && strcmp(name, known[k]) == 0)
				is_known = true;
		if (!is_known)
			return fail(err, o, child, "unknown setting");
	}
	return 0;
}

static int read_strlist(const config_setting_t *group, const char *key, struct cg_strlist *out,
			const struct origin *o, struct cg_error *err)
{
	const config_setting_t *s = config_setting_get_member(group, key);
	struct cg_strlist list = { 0 };

	if (!s)
		return 0;
	if (!config_setting_is_aggregate(s) || config_setting_is_group(s))
		return fail(err, o, s, "expected a list of strings, like [ \"a\", \"b\" ]");
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			cg_strlist_clear(&list);
			return fail(err, o, e, "expected a string");
		}
		if (cg_strlist_add(&list, config_setting_get_string(e)) < 0) {
			cg_strlist_clear(&list);
			return -ENOMEM;
		}
	}
	cg_strlist_clear(out);
	*out = list;
	return 0;
}

static int read_u64(const config_setting_t *group, const char *key, uint64_t min, uint64_t max,
		    uint64_t *out, const struct origin *o, struct cg_error *err)
{
	const config_setting_t *s = config_setting_get_member(group, key);
	long long v;
	char msg[128];

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64)
		return fail(err, o, s, "expected an integer");
	v = config_setting_get_int64(s);
	if (v < 0 || (uint64_t)v < min || (uint64_t)v > max) {
		snprintf(msg, sizeof(msg), "%lld is out of range (%" PRIu64 "..%" PRIu64 ")", v, min, max);
		return fail(err, o, s, msg);
	}
	*out = (uint64_t)v;
	return 0;
}

static int read_uint(const config_setting_t *group, const char *key, unsigned min, unsigned max,
		     unsigned *out, const struct origin *o, struct cg_error *err)
{
	uint64_t v = *out;
	int r = read_u64(group, key, min, max, &v, o, err);

	if (r == 0)
		*out = (unsigned)v;
	return r;
}

static int read_bool(const config_setting_t *group, const char *key, bool *out,
		     const struct origin *o, struct cg_error *err)
{
	const config_setting_t *s = config_setting_get_member(group, key);

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return fail(err, o, s, "expected true or false");
	*out = config_setting_get_bool(s);
	return 0;
}

static int read_string(const config_setting_t *group, const char *key, char **out,
		       const struct origin *o, struct cg_error *err)
{
	const config_setting_t *s = config_setting_get_member(group, key);
	char *copy;

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail(err, o, s, "expected a string");
	copy = strdup(config_setting_get_string(s));
	if (!copy)
		return -ENOMEM;
	free(*out);
	*out = copy;
	return 0;
}

static int read_double(const config_setting_t *group, const char *key, double min, double max,
		       double *out, const struct origin *o, struct cg_error *err)
{
	const config_setting_t *s = config_setting_get_member(group, key);
	double v;

	if (!s)
		return 0;
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_FLOAT: v = config_setting_get_float(s); break;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: v = (double)config_setting_get_int64(s); break;
	default: return fail(err, o, s, "expected a number");
	}
	if (v < min || v > max)
		return fail(err, o, s, "number out of range");
	*out = v;
	return 0;
}

static const config_setting_t *group_of(const config_t *cfg, const char *key,
					const struct origin *o, struct cg_error *err, int *rc)
{
	const config_setting_t *s = config_lookup(cfg, key);

	*rc = 0;
	if (s && !config_setting_is_group(s)) {
		*rc = fail(err, o, s, "expected a group { ... }");
		return NULL;
	}
	return s;
}

#define TRY(expr) do { int r_ = (expr); if (r_ < 0) return r_; } while (0)

static int apply_paths(struct cg_settings *st, const config_t *cfg, const struct origin *o,
		       struct cg_error *err)
{
	static const char *const known[] = { "allowed", "blocked", "always", "readable", "secret", NULL };
	int rc;
	const config_setting_t *g = group_of(cfg, "paths", o, err, &rc);

	if (!g)
		return rc;
	TRY(check_keys(g, known, o, err));
	TRY(read_strlist(g, "allowed", &st->paths_allowed, o, err));
	TRY(read_strlist(g, "blocked", &st->paths_blocked, o, err));
	TRY(read_strlist(g, "always", &st->paths_always, o, err));
	TRY(read_strlist(g, "readable", &st->paths_readable, o, err));
	TRY(read_strlist(g, "secret", &st->paths_secret, o, err));
	/* Every path must be absolute: a relative one would depend on the cwd. */
	const char *lists[] = { "allowed", "blocked", "always", "readable", "secret" };
	const struct cg_strlist *vals[] = { &st->paths_allowed, &st->paths_blocked, &st->paths_always,
					    &st->paths_readable, &st->paths_secret };
	for (size_t l = 0; l < 5; l++)
		for (size_t i = 0; i < vals[l]->n; i++)
			if (vals[l]->items[i][0] != '/')
				return fail(err, o, config_setting_get_member(g, lists[l]),
					    "paths must be absolute");
	return 0;
}

static int apply_settings(struct cg_settings *st, const config_t *cfg, const struct origin *o,
			  struct cg_error *err)
{
	const config_setting_t *g;
	int rc;

	TRY(apply_paths(st, cfg, o, err));

	static const char *const net_keys[] = { "allow_loopback", "allowed_hosts", NULL };
	if ((g = group_of(cfg, "network", o, err, &rc))) {
		TRY(check_keys(g, net_keys, o, err));
		TRY(read_bool(g, "allow_loopback", &st->net_allow_loopback, o, err));
		TRY(read_strlist(g, "allowed_hosts", &st->net_hosts, o, err));
	}
	TRY(rc);

	static const char *const limit_keys[] = { "output_bytes", "timeout_s", "max_timeout_s",
		"memory_bytes", "processes", "file_bytes", "cpu_cores", "kill_grace_ms", NULL };
	if ((g = group_of(cfg, "limits", o, err, &rc))) {
		TRY(check_keys(g, limit_keys, o, err));
		TRY(read_u64(g, "output_bytes", 1, UINT64_C(1) << 40, &st->output_limit_bytes, o, err));
		TRY(read_uint(g, "timeout_s", 1, 86400, &st->timeout_s, o, err));
		TRY(read_uint(g, "max_timeout_s", 1, 86400, &st->max_timeout_s, o, err));
		TRY(read_u64(g, "memory_bytes", 1 << 20, UINT64_C(1) << 50, &st->memory_bytes, o, err));
		TRY(read_uint(g, "processes", 1, 1 << 22, &st->max_processes, o, err));
		TRY(read_u64(g, "file_bytes", 1, UINT64_C(1) << 50, &st->file_size_bytes, o, err));
		TRY(read_double(g, "cpu_cores", 0.01, 4096, &st->cpu_cores, o, err));
		TRY(read_uint(g, "kill_grace_ms", 0, 600000, &st->kill_grace_ms, o, err));
		if (st->timeout_s > st->max_timeout_s)
			return fail(err, o, config_setting_get_member(g, "timeout_s"),
				    "timeout_s is larger than max_timeout_s");
	}
	TRY(rc);

	static const char *const rate_keys[] = { "count", "window_s", "state_dir", NULL };
	if ((g = group_of(cfg, "ratelimit", o, err, &rc))) {
		TRY(check_keys(g, rate_keys, o, err));
		TRY(read_uint(g, "count", 1, 1000000, &st->rate_count, o, err));
		TRY(read_uint(g, "window_s", 1, 86400 * 31, &st->rate_window_s, o, err));
		TRY(read_string(g, "state_dir", &st->state_dir, o, err));
	}
	TRY(rc);

	static const char *const audit_keys[] = { "file", "syslog", "best_effort", NULL };
	if ((g = group_of(cfg, "audit", o, err, &rc))) {
		TRY(check_keys(g, audit_keys, o, err));
		TRY(read_string(g, "file", &st->audit_file, o, err));
		TRY(read_bool(g, "syslog", &st->audit_syslog, o, err));
		TRY(read_bool(g, "best_effort", &st->audit_best_effort, o, err));
	}
	TRY(rc);

	static const char *const env_keys[] = { "deny", NULL };
	if ((g = group_of(cfg, "environment", o, err, &rc))) {
		TRY(check_keys(g, env_keys, o, err));
		TRY(read_strlist(g, "deny", &st->env_deny, o, err));
	}
	TRY(rc);

	static const char *const cap_keys[] = { "keep", NULL };
	if ((g = group_of(cfg, "capabilities", o, err, &rc))) {
		TRY(check_keys(g, cap_keys, o, err));
		TRY(read_strlist(g, "keep", &st->keep_caps, o, err));
	}
	TRY(rc);

	if ((g = config_lookup(cfg, "monitor")))
		TRY(read_bool(config_root_setting(cfg), "monitor", &st->monitor, o, err));
	return 0;
}

static struct cg_rule *find_rule(struct cg_policy *p, const char *id)
{
	for (size_t i = 0; i < p->n_rules; i++)
		if (strcmp(p->rules[i].id, id) == 0)
			return &p->rules[i];
	return NULL;
}

static int add_rule(struct cg_policy *p, struct cg_rule *r)
{
	struct cg_rule *old = find_rule(p, r->id);
	struct cg_rule *rules;

	cg_policy_index_drop(p);
	if (old) {
		cg_rule_clear(old);
		*old = *r;
		return 0;
	}
	rules = realloc(p->rules, (p->n_rules + 1) * sizeof(*rules));
	if (!rules)
		return -ENOMEM;
	p->rules = rules;
	p->rules[p->n_rules++] = *r;
	return 0;
}

static int parse_rule(struct cg_policy *p, const config_setting_t *s, const struct origin *o,
		      struct cg_rule *r, struct cg_error *err)
{
	static const char *const known[] = { "id", "category", "action", "programs", "match",
					     "reason", NULL };
	char *action = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	r->level = o->level;
	r->line = line_of(s);
	if (!config_setting_is_group(s))
		return fail(err, o, s, "a rule must be a group { id = ...; ... }");
	if ((rc = check_keys(s, known, o, err)) < 0 ||
	    (rc = read_string(s, "id", &r->id, o, err)) < 0 ||
	    (rc = read_string(s, "category", &r->category, o, err)) < 0 ||
	    (rc = read_string(s, "action", &action, o, err)) < 0 ||
	    (rc = read_strlist(s, "programs", &r->programs, o, err)) < 0 ||
	    (rc = read_string(s, "match", &r->pattern, o, err)) < 0 ||
	    (rc = read_string(s, "reason", &r->reason, o, err)) < 0)
		goto out;
	rc = -EINVAL;
	if (!r->id || !r->id[0]) {
		fail(err, o, s, "rule has no id");
		goto out;
	}
	if (!r->category || !r->category[0]) {
		fail(err, o, s, "rule has no category");
		goto out;
	}
	if (r->programs.n == 0) {
		fail(err, o, s, "rule has no programs = [ ... ]");
		goto out;
	}
	if (!r->reason) {
		r->reason = strdup("Command contains blocked operation");
		if (!r->reason) {
			rc = -ENOMEM;
			goto out;
		}
	}
	if (action && strcmp(action, "allow") == 0) {
		r->is_allow = true;
	} else if (action && strcmp(action, "block") != 0) {
		fail(err, o, config_setting_get_member(s, "action"), "action must be \"block\" or \"allow\"");
		goto out;
	}
	/* Operators' patterns are compiled now, so that a bad regex is reported
	 * with its line at load time; the built-in ones are checked by the test
	 * suite and compiled only when a run meets them. */
	if (o->level != CG_LEVEL_BUILTIN && r->pattern) {
		struct cg_error cerr;
		if (cg_rule_compile(p, r, &cerr) < 0) {
			char key[128];
			cg_error_set(err, o->file, r->line, path_of(s, key, sizeof(key)), "match: %s", cerr.message);
			goto out;
		}
	}
	rc = 0;
out:
	free(action);
	if (rc < 0)
		cg_rule_clear(r);
	return rc;
}

static int apply_rules(struct cg_policy *p, const config_t *cfg, const struct origin *o,
		       struct cg_error *err)
{
	const config_setting_t *list = config_lookup(cfg, "rules");
	int n;

	if (!list)
		return 0;
	if (!config_setting_is_list(list) && !config_setting_is_array(list))
		return fail(err, o, list, "expected a list ( { ... }, { ... } )");
	n = config_setting_length(list);
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(list, i);
		struct cg_rule r;
		int rc = parse_rule(p, s, o, &r, err);

		if (rc < 0)
			return rc;
		/* Duplicate ids inside one file are a mistake; the same id as a
		 * rule of a lower level is how an operator replaces it. */
		for (int j = 0; j < i; j++) {
			const config_setting_t *prev = config_setting_get_elem(list, j);
			const char *prev_id = NULL;
			if (config_setting_lookup_string(prev, "id", &prev_id) && strcmp(prev_id, r.id) == 0) {
				char msg[192];
				snprintf(msg, sizeof(msg), "duplicate rule id \"%s\" (first at line %d)",
					 r.id, line_of(prev));
				cg_rule_clear(&r);
				return fail(err, o, config_setting_get_member(s, "id"), msg);
			}
		}
		rc = add_rule(p, &r);
		if (rc < 0) {
			cg_rule_clear(&r);
			return rc;
		}
	}
	return 0;
}

static int apply_config(struct cg_policy *p, const config_t *cfg, const struct origin *o,
			struct cg_error *err)
{
	static const char *const known[] = { "version", "defaults", "rules", "paths", "network",
		"limits", "ratelimit", "audit", "environment", "capabilities", "monitor", NULL };
	const config_setting_t *root = config_root_setting(cfg);
	unsigned version = 1;

	TRY(check_keys(root, known, o, err));
	TRY(read_uint(root, "version", 1, 1, &version, o, err));
	TRY(apply_settings(&p->settings, cfg, o, err));
	return apply_rules(p, cfg, o, err);
}

static int parse_text(config_t *cfg, const char *text, const char *name, struct cg_error *err)
{
	config_init(cfg);
	config_set_options(cfg, CONFIG_OPTION_AUTOCONVERT);
	if (config_read_string(cfg, text) == CONFIG_TRUE)
		return 0;
	cg_error_set(err, name, config_error_line(cfg), "", "%s", config_error_text(cfg));
	config_destroy(cfg);
	return -EINVAL;
}

static struct cg_policy *policy_new(const char *source)
{
	struct cg_policy *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->source = strdup(source);
	if (!p->source) {
		free(p);
		return NULL;
	}
	return p;
}

static int policy_from_text(struct cg_policy **out, const char *text, const char *name,
			    struct cg_error *err)
{
	struct cg_policy *p;
	config_t builtin, file;
	bool use_defaults = true;
	int rc;

	*out = NULL;
	p = policy_new(name ? name : BUILTIN_NAME);
	if (!p)
		return -ENOMEM;
	if (text) {
		rc = parse_text(&file, text, name, err);
		if (rc < 0)
			goto fail;
		const config_setting_t *d = config_lookup(&file, "defaults");
		if (d && config_setting_type(d) != CONFIG_TYPE_BOOL) {
			rc = fail(err, &(struct origin){ name, CG_LEVEL_FILE }, d, "expected true or false");
			config_destroy(&file);
			goto fail;
		}
		if (d)
			use_defaults = config_setting_get_bool(d);
	}
	if (use_defaults) {
		rc = parse_text(&builtin, cg_builtin_policy, BUILTIN_NAME, err);
		if (rc == 0) {
			rc = apply_config(p, &builtin, &(struct origin){ BUILTIN_NAME, CG_LEVEL_BUILTIN }, err);
			config_destroy(&builtin);
		}
		if (rc < 0) {
			if (text)
				config_destroy(&file);
			goto fail;
		}
	}
	if (text) {
		rc = apply_config(p, &file, &(struct origin){ name, CG_LEVEL_FILE }, err);
		config_destroy(&file);
		if (rc == 0)
			rc = cg_policy_env_compile(p, err);
		if (rc < 0)
			goto fail;
	}
	if (p->settings.max_timeout_s == 0 || p->settings.output_limit_bytes == 0 ||
	    p->settings.rate_count == 0 || p->settings.rate_window_s == 0 ||
	    p->settings.max_processes == 0 || p->settings.timeout_s == 0) {
		rc = -EINVAL;
		cg_error_set(err, name ? name : BUILTIN_NAME, 0, "limits",
			     "with defaults = false the policy must set limits and ratelimit");
		goto fail;
	}
	if (p->settings.timeout_s > p->settings.max_timeout_s) {
		rc = -EINVAL;
		cg_error_set(err, name ? name : BUILTIN_NAME, 0, "limits.timeout_s",
			     "timeout_s (%u) is larger than max_timeout_s (%u)",
			     p->settings.timeout_s, p->settings.max_timeout_s);
		goto fail;
	}
	*out = p;
	return 0;
fail:
	cg_policy_free(p);
	return rc;
}

int cg_policy_load_string(struct cg_policy **out, const char *text, const char *name,
			  struct cg_error *err)
{
	return policy_from_text(out, text, name ? name : "<string>", err);
}

int cg_policy_load(struct cg_policy **out, const char *path, struct cg_error *err)
{
	FILE *f;
	char *text = NULL;
	size_t size = 0;
	int rc;

	if (!path)
		return policy_from_text(out, NULL, NULL, err);
	f = fopen(path, "re");
	if (!f) {
		rc = -errno;
		cg_error_set(err, path, 0, "", "cannot open policy: %s", strerror(errno));
		return rc;
	}
	/* Read the whole file so that libconfig's messages and ours share one
	 * name, and so that an unreadable file fails before anything else. */
	FILE *mem = open_memstream(&text, &size);
	char buf[8192];
	size_t n;
	rc = mem ? 0 : -ENOMEM;
	while (rc == 0 && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		if (fwrite(buf, 1, n, mem) != n)
			rc = -ENOMEM;
	if (rc == 0 && ferror(f)) {
		rc = -EIO;
		cg_error_set(err, path, 0, "", "cannot read policy: %s", strerror(errno));
	}
	fclose(f);
	if (mem)
		fclose(mem);
	if (rc == 0 && memchr(text, '\0', size)) {
		rc = -EINVAL;
		cg_error_set(err, path, 0, "", "policy file contains a NUL byte");
	}
	if (rc == 0)
		rc = policy_from_text(out, text, path, err);
	else if (rc == -ENOMEM)
		cg_error_set(err, path, 0, "", "out of memory");
	free(text);
	return rc;
}

int cg_policy_add_cli_run(struct cg_policy *p, const char *program, bool is_allow,
			  struct cg_error *err)
{
	struct cg_rule r = { 0 };
	char reason[256];

	if (!program[0] || strchr(program, ' ')) {
		cg_error_set(err, "", 0, is_allow ? "--allow-run" : "--deny-run",
			     "expected program names separated by commas, got \"%s\"", program);
		return -EINVAL;
	}
	snprintf(reason, sizeof(reason), "Command '%s' is %s by %s", program,
		 is_allow ? "allowed" : "denied", is_allow ? "--allow-run" : "--deny-run");
	r.level = CG_LEVEL_CLI;
	r.is_allow = is_allow;
	r.id = strdup(is_allow ? "allow-run" : "deny-run");
	r.category = strdup("command");
	r.reason = strdup(reason);
	if (!r.id || !r.category || !r.reason || cg_strlist_add(&r.programs, program) < 0) {
		cg_rule_clear(&r);
		return -ENOMEM;
	}
	/* CLI rules are appended, never merged by id: each flag value is its own rule. */
	cg_policy_index_drop(p);
	struct cg_rule *rules = realloc(p->rules, (p->n_rules + 1) * sizeof(*rules));
	if (!rules) {
		cg_rule_clear(&r);
		return -ENOMEM;
	}
	p->rules = rules;
	p->rules[p->n_rules++] = r;
	return 0;
}
