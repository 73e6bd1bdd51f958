/* policy.c - the policy object: accessors, iteration and destruction.
 *
 * Kept apart from config.c so that code which never parses a file (the
 * preload shim, which loads snapshots) links no libconfig.
 */
#include <stdlib.h>
#include <string.h>

#include "rules/rules-internal.h"

void cg_rule_clear(struct cg_rule *r)
{
	free(r->id);
	free(r->category);
	free(r->reason);
	free(r->pattern);
	cg_strlist_clear(&r->programs);
	pcre2_code_free(r->code);
	memset(r, 0, sizeof(*r));
}

void cg_policy_free(struct cg_policy *p)
{
	struct cg_settings *st;

	if (!p)
		return;
	st = &p->settings;
	struct cg_strlist *lists[] = {
		&st->paths_allowed, &st->paths_blocked, &st->paths_always, &st->paths_readable,
		&st->paths_secret, &st->cli_allow_read, &st->cli_deny_read, &st->cli_allow_write,
		&st->cli_deny_write, &st->net_hosts, &st->cli_allow_net, &st->cli_deny_net,
		&st->env_deny, &st->keep_caps,
	};
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		cg_strlist_clear(lists[i]);
	free(st->state_dir);
	free(st->audit_file);
	for (size_t i = 0; i < p->n_rules; i++)
		cg_rule_clear(&p->rules[i]);
	free(p->rules);
	for (size_t i = 0; i < p->n_env_codes; i++)
		pcre2_code_free(p->env_codes[i]);
	free(p->env_codes);
	cg_policy_index_drop(p);
	pcre2_match_data_free(p->match_data);
	free(p->source);
	free(p);
}

const struct cg_settings *cg_policy_settings(const struct cg_policy *p)
{
	return &p->settings;
}

struct cg_settings *cg_policy_settings_mut(struct cg_policy *p)
{
	return &p->settings;
}

const char *cg_policy_source(const struct cg_policy *p)
{
	return p->source;
}

bool cg_policy_rule_at(const struct cg_policy *p, size_t index, struct cg_rule_info *info)
{
	const struct cg_rule *r;

	if (index >= p->n_rules)
		return false;
	r = &p->rules[index];
	info->id = r->id;
	info->category = r->category;
	info->reason = r->reason;
	info->action = r->is_allow ? "allow" : "block";
	info->pattern = r->pattern;
	info->programs = &r->programs;
	info->level = r->level;
	return true;
}
