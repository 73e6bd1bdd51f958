/* profile.c - repo profiles (repo_profile.json): the commands a
 * repository says it needs, and the allowlist they make.
 *
 *   {"commands": {"lint": "npm run lint", "test": "npm test"},
 *    "languages": ["javascript"], "frameworks": ["react"]}
 *
 * Each command string is parsed with the project's shell parser into the
 * argv of every simple command it contains (quotes removed), so `npm test`
 * and `"npm" test` are the same entry.  A request matches an entry when its
 * argv equals the entry's argv word for word.  An entry whose last word is
 * an unquoted `...` (for example "npm test ...") also admits any arguments
 * after the words before it; a quoted '...' is an ordinary word.
 *
 * Unknown keys are kept (the parsed document stays alive with the profile)
 * and ignored, so profiles written for other tools still load.  Wrong types
 * are errors that name the line, the column and the key path.  jansson only
 * reports positions for syntax errors, so for type errors the value is found
 * again in the text by locate_value() below.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "guard/guard.h"
#include "guard/shell.h"

#define WILDCARD_WORD "..."

struct pattern {
	char **argv;
	bool *is_literal;    /* per word: no expansion, glob or tilde at run time */
	size_t argc;
	bool has_wildcard;   /* admits extra arguments after argv */
};

struct entry {
	const char *name;      /* borrowed from root */
	const char *command;   /* borrowed from root */
	struct pattern *patterns;   /* one per simple command of the entry */
	size_t n_patterns;
};

struct cg_profile {
	json_t *root;
	struct entry *entries;
	size_t n_entries;
};

/* ---------- finding a value's position in the text ---------- */

/* One step of a key path: an object member or an array element. */
struct path_step {
	const char *key;   /* NULL: an array element */
	size_t index;
};

struct text {
	const char *s;
	size_t len;
	size_t pos;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void skip_space(struct text *t)
{
	while (t->pos < t->len && is_space(t->s[t->pos]))
		t->pos++;
}

/* The text is known to be valid JSON (jansson parsed it), so skipping only
 * needs to respect strings and nesting. */
static void skip_string(struct text *t)
{
	t->pos++;
	while (t->pos < t->len && t->s[t->pos] != '"')
		t->pos += t->s[t->pos] == '\\' ? 2 : 1;
	t->pos++;
}

static void skip_value(struct text *t)
{
	int depth = 0;

	skip_space(t);
	while (t->pos < t->len) {
		char c = t->s[t->pos];

		if (c == '"') {
			skip_string(t);
			if (depth == 0)
				return;
			continue;
		}
		if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (depth == 0)
				return;
			if (--depth == 0) {
				t->pos++;
				return;
			}
		} else if (depth == 0 && (c == ',' || is_space(c))) {
			return;
		}
		t->pos++;
	}
}

/* Decode the JSON string token at t->pos with jansson, so that escaped
 * keys ("comm\u0061nds") compare as what they mean. */
static bool string_token_equals(struct text *t, const char *want)
{
	size_t start = t->pos;
	json_t *s;
	bool is_equal;

	skip_string(t);
	s = json_loadb(t->s + start, t->pos - start, JSON_DECODE_ANY, NULL);
	is_equal = s && json_is_string(s) && strcmp(json_string_value(s), want) == 0;
	json_decref(s);
	return is_equal;
}

/* Offset of the value at `path` in the text, or -1 when not found. */
static long locate_value(const char *s, size_t len, const struct path_step *path, size_t n)
{
	struct text t = { s, len, 0 };

	for (size_t step = 0; step < n; step++) {
		skip_space(&t);
		if (t.pos >= len)
			return -1;
		char open = t.s[t.pos];
		bool is_found = false;

		if ((open == '{') != (path[step].key != NULL) || (open != '{' && open != '['))
			return -1;
		t.pos++;
		for (size_t i = 0; !is_found; i++) {
			skip_space(&t);
			if (t.pos >= len || t.s[t.pos] == '}' || t.s[t.pos] == ']')
				return -1;
			if (open == '{') {
				bool is_key = string_token_equals(&t, path[step].key);
				skip_space(&t);
				t.pos++;   /* ':' */
				skip_space(&t);
				is_found = is_key;
			} else {
				is_found = i == path[step].index;
			}
			if (!is_found) {
				skip_value(&t);
				skip_space(&t);
				if (t.pos < len && t.s[t.pos] == ',')
					t.pos++;
			}
		}
	}
	skip_space(&t);
	return (long)t.pos;
}

/* Line and column (1-based, counted in characters as jansson counts them). */
static void offset_position(const char *s, long offset, int *line, int *column)
{
	*line = 1;
	*column = 1;
	for (long i = 0; i < offset; i++) {
		if (s[i] == '\n') {
			(*line)++;
			*column = 1;
		} else if (((unsigned char)s[i] & 0xc0) != 0x80) {
			(*column)++;
		}
	}
}

/* ---------- errors ---------- */

struct loader {
	const char *file;
	const char *text;
	size_t len;
	struct cg_error *err;
};

/* struct cg_error has no column; it goes into the message so that the
 * formatted error reads "file:line: key.path: message (column N)". */
static int fail_at(const struct loader *ld, const struct path_step *path, size_t n,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail_at(const struct loader *ld, const struct path_step *path, size_t n,
		   const char *fmt, ...)
{
	char key[128] = "", message[384];
	int line = 0, column = 0;
	size_t used = 0;
	long offset = locate_value(ld->text, ld->len, path, n);
	va_list ap;

	for (size_t i = 0; i < n && used < sizeof(key); i++) {
		if (path[i].key)
			used += snprintf(key + used, sizeof(key) - used, "%s%s", i ? "." : "", path[i].key);
		else
			used += snprintf(key + used, sizeof(key) - used, "[%zu]", path[i].index);
	}
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (offset >= 0) {
		offset_position(ld->text, offset, &line, &column);
		cg_error_set(ld->err, ld->file, line, key, "%s (column %d)", message, column);
	} else {
		cg_error_set(ld->err, ld->file, 0, key, "%s", message);
	}
	return -EINVAL;
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "a value";
}

/* ---------- entries ---------- */

static void pattern_clear(struct pattern *pat)
{
	for (size_t i = 0; i < pat->argc; i++)
		free(pat->argv[i]);
	free(pat->argv);
	free(pat->is_literal);
}

static void entry_clear(struct entry *e)
{
	for (size_t i = 0; i < e->n_patterns; i++)
		pattern_clear(&e->patterns[i]);
	free(e->patterns);
}

/* A word whose text is what the program receives. */
static bool word_is_literal(unsigned flags)
{
	return !(flags & (CG_WORD_EXPANDS | CG_WORD_GLOB | CG_WORD_TILDE));
}

static int pattern_from_cmd(const struct loader *ld, const struct path_step *path,
			    const struct cg_simple_cmd *cmd, struct pattern *pat)
{
	size_t n = cmd->n_words;

	pat->has_wildcard = n > 0 && strcmp(cmd->words[n - 1].text, WILDCARD_WORD) == 0 &&
			    !(cmd->words[n - 1].flags & CG_WORD_QUOTED);
	if (pat->has_wildcard)
		n--;
	for (size_t i = 0; i < n; i++)
		if (strcmp(cmd->words[i].text, WILDCARD_WORD) == 0 &&
		    !(cmd->words[i].flags & CG_WORD_QUOTED))
			return fail_at(ld, path, 2, "the wildcard '...' must be the last word");
	if (n == 0)
		return fail_at(ld, path, 2, "the wildcard '...' needs a command before it");
	pat->argv = calloc(n, sizeof(*pat->argv));
	pat->is_literal = calloc(n, sizeof(*pat->is_literal));
	if (!pat->argv || !pat->is_literal)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		pat->argv[i] = strdup(cmd->words[i].text);
		if (!pat->argv[i])
			return -ENOMEM;
		pat->is_literal[i] = word_is_literal(cmd->words[i].flags);
		pat->argc = i + 1;
	}
	return 0;
}

static int entry_parse(const struct loader *ld, const char *name, json_t *value, struct entry *e)
{
	struct path_step path[2] = { { "commands", 0 }, { name, 0 } };
	struct cg_script *script = NULL;
	char parse_error[256] = "";
	int r;

	e->name = name;
	if (!json_is_string(value))
		return fail_at(ld, path, 2, "expected a string, got %s", type_name(value));
	e->command = json_string_value(value);
	r = cg_shell_parse(e->command, json_string_length(value), &script, parse_error,
			   sizeof(parse_error));
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return fail_at(ld, path, 2, "cannot parse the command: %s", parse_error);
	e->patterns = calloc(script->n_cmds ? script->n_cmds : 1, sizeof(*e->patterns));
	if (!e->patterns) {
		cg_script_free(script);
		return -ENOMEM;
	}
	for (size_t i = 0; i < script->n_cmds && r == 0; i++) {
		if (script->cmds[i].n_words == 0)
			continue;   /* a bare assignment or redirection runs nothing */
		r = pattern_from_cmd(ld, path, &script->cmds[i], &e->patterns[e->n_patterns]);
		e->n_patterns++;
	}
	cg_script_free(script);
	if (r == 0 && e->n_patterns == 0)
		r = fail_at(ld, path, 2, "the command is empty");
	return r;
}

static int check_string_array(const struct loader *ld, json_t *root, const char *key)
{
	struct path_step path[2] = { { key, 0 }, { NULL, 0 } };
	json_t *array = json_object_get(root, key), *item;
	size_t i;

	if (!array)
		return 0;
	if (!json_is_array(array))
		return fail_at(ld, path, 1, "expected an array of strings, got %s", type_name(array));
	json_array_foreach(array, i, item) {
		path[1].index = i;
		if (!json_is_string(item))
			return fail_at(ld, path, 2, "expected a string, got %s", type_name(item));
	}
	return 0;
}

static int profile_build(const struct loader *ld, struct cg_profile *p)
{
	struct path_step path[1] = { { "commands", 0 } };
	json_t *commands, *value;
	const char *name;
	int r;

	if (!json_is_object(p->root))
		return fail_at(ld, NULL, 0, "expected an object at the top, got %s", type_name(p->root));
	if ((r = check_string_array(ld, p->root, "languages")) < 0 ||
	    (r = check_string_array(ld, p->root, "frameworks")) < 0)
		return r;
	commands = json_object_get(p->root, "commands");
	if (!commands) {
		cg_error_set(ld->err, ld->file, 0, "commands", "missing: a profile lists its commands");
		return -EINVAL;
	}
	if (!json_is_object(commands))
		return fail_at(ld, path, 1, "expected an object of name: command, got %s",
			       type_name(commands));
	p->entries = calloc(json_object_size(commands) + 1, sizeof(*p->entries));
	if (!p->entries)
		return -ENOMEM;
	/* jansson keeps objects in insertion order: entries stay in file order. */
	json_object_foreach(commands, name, value) {
		r = entry_parse(ld, name, value, &p->entries[p->n_entries]);
		p->n_entries++;
		if (r < 0)
			return r;
	}
	return 0;
}

static int read_file(const char *path, char **out, size_t *len, struct cg_error *err)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t size = 0, n = 0;
	int saved;

	if (!f) {
		saved = errno;
		cg_error_set(err, path, 0, "", "cannot open: %s", strerror(saved));
		return -saved;
	}
	for (;;) {
		if (n + 4096 + 1 > size) {
			char *bigger = realloc(buf, size ? size * 2 : 8192);
			if (!bigger) {
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = bigger;
			size = size ? size * 2 : 8192;
		}
		size_t got = fread(buf + n, 1, size - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		saved = errno ? errno : EIO;
		free(buf);
		fclose(f);
		cg_error_set(err, path, 0, "", "cannot read: %s", strerror(saved));
		return -saved;
	}
	fclose(f);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

int cg_profile_load(struct cg_profile **out, const char *path, struct cg_error *err)
{
	struct cg_profile *p;
	struct loader ld = { path, NULL, 0, err };
	char *text = NULL;
	json_error_t jerr;
	int r;

	*out = NULL;
	r = read_file(path, &text, &ld.len, err);
	if (r < 0)
		return r;
	ld.text = text;
	p = calloc(1, sizeof(*p));
	if (!p) {
		free(text);
		return -ENOMEM;
	}
	/* A profile with two "test" entries is ambiguous; say so instead of
	 * silently keeping the last one. */
	p->root = json_loadb(text, ld.len, JSON_REJECT_DUPLICATES, &jerr);
	if (!p->root) {
		if (jerr.line > 0 && jerr.column > 0)
			cg_error_set(err, path, jerr.line, "", "%s (column %d)", jerr.text, jerr.column);
		else
			cg_error_set(err, path, 0, "", "%s", jerr.text);
		r = -EINVAL;
	} else {
		r = profile_build(&ld, p);
	}
	free(text);
	if (r < 0) {
		if (r == -ENOMEM)
			cg_error_set(err, path, 0, "", "out of memory");
		cg_profile_free(p);
		return r;
	}
	*out = p;
	return 0;
}

void cg_profile_free(struct cg_profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_entries; i++)
		entry_clear(&p->entries[i]);
	free(p->entries);
	json_decref(p->root);
	free(p);
}

size_t cg_profile_count(const struct cg_profile *p)
{
	return p ? p->n_entries : 0;
}

bool cg_profile_entry(const struct cg_profile *p, size_t i, const char **name, const char **command)
{
	if (!p || i >= p->n_entries)
		return false;
	if (name)
		*name = p->entries[i].name;
	if (command)
		*command = p->entries[i].command;
	return true;
}

const char *cg_profile_task(const struct cg_profile *p, const char *task)
{
	for (size_t i = 0; p && task && i < p->n_entries; i++)
		if (strcmp(p->entries[i].name, task) == 0)
			return p->entries[i].command;
	return NULL;
}

/* words == NULL: compare argv texts only. */
static bool pattern_matches(const struct pattern *pat, char *const argv[],
			    const struct cg_word *words, size_t argc)
{
	if (argc < pat->argc || (argc > pat->argc && !pat->has_wildcard))
		return false;
	for (size_t i = 0; i < pat->argc; i++) {
		const char *text = words ? words[i].text : argv[i];
		if (strcmp(pat->argv[i], text) != 0)
			return false;
		if (words && word_is_literal(words[i].flags) != pat->is_literal[i])
			return false;
	}
	return true;
}

/* No profile allows nothing: callers test ctx->profile for "no allowlist",
 * and a NULL slipping through must not open everything. */
static bool profile_allows(const struct cg_profile *p, char *const argv[],
			   const struct cg_word *words, size_t argc)
{
	if (!p || argc == 0)
		return false;
	for (size_t i = 0; i < p->n_entries; i++)
		for (size_t j = 0; j < p->entries[i].n_patterns; j++)
			if (pattern_matches(&p->entries[i].patterns[j], argv, words, argc))
				return true;
	return false;
}

bool cg_profile_allows(const struct cg_profile *p, char *const argv[], size_t argc)
{
	return argv && profile_allows(p, argv, NULL, argc);
}

bool cg_profile_allows_words(const struct cg_profile *p, const struct cg_word *words, size_t n)
{
	return words && profile_allows(p, NULL, words, n);
}
