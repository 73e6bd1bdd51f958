/* check.c - the static check: a command line, before anything runs.
 *
 * Order, as DESIGN.md gives it: the shell structure (fork bombs, content
 * downloaded or decoded into a shell), then every simple command in the
 * script, including those in substitutions and function bodies: a command
 * name that comes from an expansion, the command rules (after wrappers
 * are unwrapped), the paths it names; then the repo profile.  The rate
 * limit is the caller's, since checking must never consume it.
 */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard/guard-internal.h"

/* sh -c "sh -c '...'" nesting deeper than this is refused, not followed. */
#define MAX_SCRIPT_DEPTH 8

struct checker {
	const struct cg_context *ctx;
	struct cg_reason *why;
	int depth;
	bool is_runtime;   /* system()/popen() from the shim: command rules only */
	/* The directory relative paths are resolved in: the workspace, moved
	 * by "cd DIR" and "pushd DIR" as the line goes on, so that
	 * "cd /tmp && cat ../etc/shadow" is judged where it runs.  Subshells
	 * are not scoped: following a cd too far only resolves later paths
	 * inside an allowed directory, never lets one escape. */
	char cwd[PATH_MAX];
	/* The word whose path check_path_word() resolved last in the command
	 * being checked, and where it led: "cd DIR" then moves there without
	 * walking the file system a second time. */
	const char *resolved_word;
	char resolved[PATH_MAX];
};

static enum cg_verdict check_script(struct checker *c, const char *text, size_t len);

static enum cg_verdict block(struct checker *c, const char *category, const char *rule,
			     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void copy_field(char *out, size_t size, const char *s)
{
	size_t n = s ? strnlen(s, size - 1) : 0;

	if (n)
		memcpy(out, s, n);
	out[n] = '\0';
}

/* Fills the reason as cg_reason_set() would, formatting the message once:
 * most of the corpus is blocked, and each snprintf costs. */
static enum cg_verdict block(struct checker *c, const char *category, const char *rule,
			     const char *fmt, ...)
{
	struct cg_reason *why = c->why;
	va_list ap;

	if (!why)
		return CG_BLOCK;
	copy_field(why->category, sizeof(why->category), category);
	copy_field(why->rule, sizeof(why->rule), rule);
	va_start(ap, fmt);
	vsnprintf(why->message, sizeof(why->message), fmt, ap);
	va_end(ap);
	return CG_BLOCK;
}

/* ---------------------------------------------------------------- paths */

static bool is_url(const char *s)
{
	const char *p = s;

	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		return false;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
	       *p == '+' || *p == '.' || *p == '-')
		p++;
	return strncmp(p, "://", 3) == 0;
}

/* scp/rsync "host:path" and "user@host:path": a remote path, not ours. */
static bool is_remote_path(const char *s)
{
	const char *colon = strchr(s, ':');

	if (!colon || colon == s)
		return false;
	for (const char *p = s; p < colon; p++)
		if (*p == '/' || *p == '=' || *p == ' ')
			return false;
	return true;
}

/* The part of a word that may be a path: "--out=/x" -> "/x", "of=/dev/sda"
 * -> "/dev/sda", "/x" -> "/x"; NULL when the word is not a path. */
static const char *path_part(const char *s, unsigned flags)
{
	const char *eq;

	if (flags & CG_WORD_EXPANDS)
		return NULL;   /* unknown until run time: the kernel layers decide */
	if (!strpbrk(s, "/~."))
		return NULL;   /* what the rules below return holds one of these */
	if (s[0] == '-') {
		/* curl -o/etc/x, tar -C/etc; not cut -d/ or awk -F/ */
		if (s[1] != '-' && s[1] != '\0' && (s[2] == '/' || s[2] == '~') && s[3] != '\0')
			return s + 2;
		if (s[1] != '-' || !(eq = strchr(s, '=')))
			return NULL;
		s = eq + 1;
	} else if ((eq = strchr(s, '=')) && eq != s) {
		bool is_key = true;
		for (const char *p = s; p < eq; p++)
			if (!(*p == '_' || *p == '.' || *p == '-' || (*p >= 'a' && *p <= 'z') ||
			      (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
				is_key = false;
		if (is_key)
			s = eq + 1;
	}
	if (s[0] == '@' && (s[1] == '/' || s[1] == '~' || s[1] == '.'))
		s++;   /* curl -d @FILE, -F field=@FILE */
	if (!s[0] || is_url(s) || is_remote_path(s))
		return NULL;
	if (s[0] == '/' || s[0] == '~' || strchr(s, '/') || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return s;
	return NULL;
}

/* Expand a leading ~ or ~user as the shell would. */
static int expand_tilde(const char *s, char *out, size_t size)
{
	const char *slash = strchrnul(s, '/');
	const char *home = NULL;
	char user[256];
	struct passwd pw, *res = NULL;
	char buf[1024];

	if (slash == s + 1) {
		home = getenv("HOME");
	} else if ((size_t)(slash - s - 1) < sizeof(user)) {
		memcpy(user, s + 1, (size_t)(slash - s - 1));
		user[slash - s - 1] = '\0';
		if (getpwnam_r(user, &pw, buf, sizeof(buf), &res) == 0 && res)
			home = res->pw_dir;
	}
	if (!home)
		return -ENOENT;
	if (snprintf(out, size, "%s%s", home, slash) >= (int)size)
		return -ENAMETOOLONG;
	return 0;
}

static enum cg_verdict check_path_word(struct checker *c, const char *word, unsigned flags);
static enum cg_verdict out_of_memory(struct checker *c);

/* Brace expansion as the shell does it, for path checks: "{/etc,/tmp}/x"
 * names /etc/x and /tmp/x.  Ranges ({1..3}) count by their two ends.  At
 * most BRACE_MAX words are produced; past that the word is refused. */
#define BRACE_MAX 256

struct brace_ctx {
	struct checker *c;
	unsigned flags;
	unsigned produced;
};

static enum cg_verdict expand_braces(struct brace_ctx *b, const char *word)
{
	const char *open = NULL, *close = NULL;
	int depth = 0;
	bool has_sep = false;

	for (const char *p = word; *p; p++) {
		if (*p == '{') {
			if (depth++ == 0) {
				open = p;
				has_sep = false;
			}
		} else if (*p == '}' && depth > 0) {
			if (--depth == 0 && has_sep) {
				close = p;
				break;
			}
		} else if (depth == 1 && (*p == ',' || (p[0] == '.' && p[1] == '.'))) {
			has_sep = true;
		}
	}
	if (!close) {
		if (++b->produced > BRACE_MAX)
			return block(b->c, "path", "", "Word '%s' expands to too many paths", word);
		return check_path_word(b->c, word, b->flags & ~CG_WORD_BRACE);
	}
	size_t prefix = (size_t)(open - word), total = strlen(word);
	char *buf = malloc(total + 1);
	if (!buf)
		return out_of_memory(b->c);
	const char *alt = open + 1;
	enum cg_verdict v = CG_ALLOW;
	depth = 0;
	for (const char *p = open + 1; v == CG_ALLOW && p <= close; p++) {
		bool is_end = p == close;
		bool is_range = depth == 0 && p[0] == '.' && p[1] == '.';
		if (*p == '{')
			depth++;
		else if (*p == '}' && !is_end)
			depth--;
		if (!is_end && !(depth == 0 && *p == ',') && !is_range)
			continue;
		size_t n = (size_t)(p - alt);
		memcpy(buf, word, prefix);
		memcpy(buf + prefix, alt, n);
		strcpy(buf + prefix + n, close + 1);
		v = expand_braces(b, buf);
		alt = is_range ? p + 2 : p + 1;
		if (is_range)
			p++;
	}
	free(buf);
	return v;
}

static enum cg_verdict check_path_word(struct checker *c, const char *word, unsigned flags)
{
	if ((flags & CG_WORD_BRACE) && !(flags & (CG_WORD_PARAM | CG_WORD_CMDSUB | CG_WORD_ARITH))) {
		struct brace_ctx b = { c, flags, 0 };
		return expand_braces(&b, word);
	}
	const char *p = path_part(word, flags);
	char tilde[PATH_MAX], resolved[PATH_MAX], globless[PATH_MAX];
	const char *base = c->cwd[0] ? c->cwd : c->ctx->workspace ? c->ctx->workspace : "/";

	if (!p)
		return CG_ALLOW;
	if (p[0] == '~') {
		if (expand_tilde(p, tilde, sizeof(tilde)) < 0)
			return CG_ALLOW;   /* "~nosuchuser" stays a word */
		p = tilde;
	}
	if (flags & CG_WORD_GLOB) {
		/* Judge the directory a glob would list: /etc/ followed by a star is /etc. */
		size_t cut = strcspn(p, "*?[");
		snprintf(globless, sizeof(globless), "%.*s", (int)cut, p);
		char *slash = strrchr(globless, '/');
		if (slash)
			slash[slash == globless ? 1 : 0] = '\0';
		else
			snprintf(globless, sizeof(globless), ".");
		p = globless;
	}
	/* /dev/stdout is a symlink into /proc: judge the name the user wrote
	 * against the always-allowed list before following it. */
	if (cg_path_normalize(base, p, resolved, sizeof(resolved)) == 0 &&
	    cg_path_is_always(c->ctx, resolved))
		return CG_ALLOW;
	/* A path that cannot be resolved (a loop, an unreadable link) is
	 * judged like one outside the list: it is not shown to be inside. */
	if (cg_path_resolve(base, p, resolved) < 0 ||
	    !cg_path_is_allowed(c->ctx, resolved, CG_PATHS_STATIC))
		return block(c, "path", "", "Path '%s' is not in allowed paths", p);
	if (p == word) {
		c->resolved_word = word;
		memcpy(c->resolved, resolved, strlen(resolved) + 1);
	}
	return CG_ALLOW;
}

/* ------------------------------------------------------------- commands */

/* Arrays per word live on the stack up to this many words, else on the
 * heap: a 1 MB script can hold half a million words. */
#define STACK_WORDS 64

/* The texts of w[from..n) as an argv (NULL-terminated) in `stack` when
 * they fit (STACK_WORDS + 1 entries), else in a heap array the caller
 * frees; NULL when out of memory. */
static char **texts_of(const struct cg_word *w, size_t from, size_t n, char **stack)
{
	char **argv = n - from < STACK_WORDS ? stack : malloc((n - from + 1) * sizeof(*argv));

	if (!argv)
		return NULL;
	for (size_t i = from; i < n; i++)
		argv[i - from] = w[i].text;
	argv[n - from] = NULL;
	return argv;
}

static void texts_free(char **argv, char **stack)
{
	if (argv != stack)
		free(argv);
}

static enum cg_verdict out_of_memory(struct checker *c)
{
	return block(c, "internal", "", "out of memory");
}

static enum cg_verdict check_command(struct checker *c, const struct cg_word *w, size_t n,
				     const struct cg_simple_cmd *sc);

static enum cg_verdict check_rules(struct checker *c, const char *program, const struct cg_word *w,
				   size_t n)
{
	char *stack[STACK_WORDS + 1];
	char **args = texts_of(w, 1, n, stack);
	struct cg_rule_match m;
	bool is_blocked;

	if (!args)
		return out_of_memory(c);
	is_blocked = cg_rules_blocks(c->ctx->policy, program, args, n - 1, &m);
	texts_free(args, stack);
	if (is_blocked)
		return block(c, m.category, m.id, "%s", m.reason);
	return CG_ALLOW;
}

static bool any_expands(const struct cg_word *w, size_t from, size_t n)
{
	for (size_t i = from; i < n; i++)
		if (w[i].flags & CG_WORD_EXPANDS)
			return true;
	return false;
}

static bool is_find_pattern_option(const char *s)
{
	static const char *const opts[] = { "-name", "-iname", "-path", "-ipath", "-wholename",
					    "-iwholename", "-regex", "-iregex", "-lname", "-ilname",
					    "-printf", "-fprintf", NULL };
	for (size_t i = 0; opts[i]; i++)
		if (strcmp(s, opts[i]) == 0)
			return true;
	return false;
}

static enum cg_verdict check_find(struct checker *c, const struct cg_word *w, size_t n)
{
	size_t i = 1;

	/* starting points come before the first expression */
	for (; i < n && w[i].text[0] != '-' && strcmp(w[i].text, "(") != 0 &&
	       strcmp(w[i].text, "!") != 0; i++)
		if (!c->is_runtime && check_path_word(c, w[i].text, w[i].flags) == CG_BLOCK)
			return CG_BLOCK;
	for (; i < n; i++) {
		const char *s = w[i].text;
		if (strcmp(s, "-exec") == 0 || strcmp(s, "-execdir") == 0 || strcmp(s, "-ok") == 0 ||
		    strcmp(s, "-okdir") == 0) {
			size_t start = ++i;
			while (i < n && strcmp(w[i].text, ";") != 0 && strcmp(w[i].text, "+") != 0)
				i++;
			if (check_command(c, w + start, i - start, NULL) == CG_BLOCK)
				return CG_BLOCK;
		} else if (i + 1 < n && is_find_pattern_option(s)) {
			i++;   /* -name, -path, -regex take patterns, not paths */
		} else if (!c->is_runtime && check_path_word(c, s, w[i].flags) == CG_BLOCK) {
			return CG_BLOCK;   /* -newer FILE, -fprint FILE, -samefile FILE ... */
		}
	}
	return CG_ALLOW;
}

static enum cg_verdict check_script_word(struct checker *c, const struct cg_word *w, size_t n,
					 const struct cg_unwrap *u, const char *program)
{
	if (u->script_is_joined) {   /* eval WORDS */
		if (!c->is_runtime && any_expands(w, 1, n))
			return block(c, "injection", "eval", "eval of a non-literal argument: %s",
				     w[1].text);
		char *stack[STACK_WORDS + 1];
		char **argv = texts_of(w, 1, n, stack);
		char *joined = argv ? cg_canonical_join(argv, n - 1) : NULL;
		texts_free(argv, stack);
		if (!joined)
			return out_of_memory(c);
		enum cg_verdict v = check_script(c, joined, strlen(joined));
		free(joined);
		return v;
	}
	if (u->script_word >= n || u->script_offset > strlen(w[u->script_word].text))
		return CG_ALLOW;
	if (!c->is_runtime && (w[u->script_word].flags & CG_WORD_EXPANDS))
		return block(c, "injection", "shell-c-expansion",
			     "%s runs a script that comes from an expansion: %s", program,
			     w[u->script_word].text);
	const char *text = w[u->script_word].text + u->script_offset;
	return check_script(c, text, strlen(text));
}

/* Code given to an interpreter on stdin is judged as if given with -e:
 * by the interpreter's command rules (fork while fork). */
static enum cg_verdict check_code_text(struct checker *c, const char *interpreter, const char *text)
{
	struct cg_word w[3] = {
		{ (char *)interpreter, 0 }, { (char *)"-e", 0 }, { (char *)text, 0 },
	};

	return check_rules(c, interpreter, w, 3);
}

/* Text a shell runs is a script; text an interpreter runs is code. */
static enum cg_verdict check_stdin_text(struct checker *c, const struct cg_program *prog,
					const char *text)
{
	if (prog->kind & CG_PROG_SHELL)
		return check_script(c, text, strlen(text));
	return check_code_text(c, prog->name, text);
}

/* A shell reading its stdin from a here-document or here-string runs that text. */
static enum cg_verdict check_stdin_script(struct checker *c, const struct cg_simple_cmd *sc,
					 const struct cg_program *prog)
{
	if (!sc)
		return CG_ALLOW;
	for (size_t i = 0; i < sc->n_redirs; i++) {
		const struct cg_redir *r = &sc->redirs[i];
		if (r->kind == CG_REDIR_HEREDOC && r->heredoc) {
			if (check_stdin_text(c, prog, r->heredoc) == CG_BLOCK)
				return CG_BLOCK;
		} else if (r->kind == CG_REDIR_HERESTRING) {
			if (!c->is_runtime && (r->target.flags & CG_WORD_EXPANDS))
				return block(c, "injection", "shell-c-expansion",
					     "a shell runs a here-string that comes from an expansion: %s",
					     r->target.text);
			if (check_stdin_text(c, prog, r->target.text) == CG_BLOCK)
				return CG_BLOCK;
		}
	}
	return CG_ALLOW;
}

/* ". /dev/stdin" and "source -" read the script from stdin. */
static bool sources_stdin(const char *operand)
{
	return strcmp(operand, "/dev/stdin") == 0 || strcmp(operand, "-") == 0 ||
	       strcmp(operand, "/proc/self/fd/0") == 0 || strcmp(operand, "/dev/fd/0") == 0;
}

/* What ". /dev/stdin" runs from a here-document is a script for the shell. */
static enum cg_verdict check_source_stdin(struct checker *c, const struct cg_simple_cmd *sc)
{
	struct cg_program sh;

	cg_program_identify("sh", &sh);
	return check_stdin_script(c, sc, &sh);
}

static enum cg_verdict check_args_paths(struct checker *c, const struct cg_program *prog,
					const struct cg_word *w, size_t from, size_t n)
{
	enum cg_verdict v = CG_ALLOW;
	bool stack[STACK_WORDS + 1] = { false };
	bool *is_text;

	if (c->is_runtime)
		return CG_ALLOW;
	is_text = n < STACK_WORDS ? stack : calloc(n + 1, sizeof(*is_text));
	if (!is_text)
		return out_of_memory(c);
	cg_mark_text_words(prog, w, n, is_text);
	for (size_t i = from; v == CG_ALLOW && i < n; i++)
		if (!is_text[i])
			v = check_path_word(c, w[i].text, w[i].flags);
	if (is_text != stack)
		free(is_text);
	return v;
}

/* After an allowed "cd DIR" / "pushd DIR", later relative paths resolve there. */
static void follow_cd(struct checker *c, const struct cg_program *prog, const struct cg_word *w,
		      size_t n)
{
	char next[PATH_MAX];
	const char *dir;

	if (c->is_runtime || !(prog->kind & CG_PROG_CHANGES_DIR))
		return;
	dir = n > 1 && strcmp(w[1].text, "-P") && strcmp(w[1].text, "-L") ? w[1].text :
	      n > 2 ? w[2].text : getenv("HOME");
	if (!dir || (n > 1 && (w[n - 1].flags & CG_WORD_EXPANDS)) || strcmp(dir, "-") == 0)
		return;
	if (dir == c->resolved_word) {   /* its path check just resolved it, from the same cwd */
		memcpy(c->cwd, c->resolved, strlen(c->resolved) + 1);
		return;
	}
	if (cg_path_resolve(c->cwd[0] ? c->cwd : c->ctx->workspace ? c->ctx->workspace : "/", dir,
			    next) == 0)
		memcpy(c->cwd, next, strlen(next) + 1);
}

static enum cg_verdict check_command(struct checker *c, const struct cg_word *w, size_t n,
				     const struct cg_simple_cmd *sc)
{
	char target[NAME_MAX + 1];
	struct cg_program prog;
	struct cg_unwrap u;

	c->resolved_word = NULL;   /* another command's word may share the address */
	while (n > 0) {
		if (!c->is_runtime && (w[0].flags & CG_WORD_EXPANDS))
			return block(c, "injection", "command-from-expansion",
				     "Command name comes from an expansion: %s", w[0].text);
		if (!c->is_runtime && (w[0].flags & CG_WORD_GLOB) && strcmp(w[0].text, "[") != 0 &&
		    strcmp(w[0].text, "[[") != 0)
			return block(c, "injection", "command-from-glob",
				     "Command name is a glob pattern: %s", w[0].text);
		cg_program_identify(w[0].text, &prog);
		if (check_rules(c, prog.name, w, n) == CG_BLOCK)
			return CG_BLOCK;
		cg_program_target(c->cwd[0] ? c->cwd : c->ctx->workspace ? c->ctx->workspace : "/",
				  w[0].text, target, sizeof(target));
		if (target[0] && strcmp(target, prog.name) != 0 &&
		    check_rules(c, target, w, n) == CG_BLOCK)
			return CG_BLOCK;

		cg_unwrap(&prog, w, n, &u);
		switch (u.kind) {
		case CG_WRAP_PREFIX:
			if (check_args_paths(c, &prog, w, 1, u.next) == CG_BLOCK)
				return CG_BLOCK;
			w += u.next;
			n -= u.next;
			sc = NULL;   /* redirections belong to the outer command */
			continue;
		case CG_WRAP_SCRIPT:
			return check_script_word(c, w, n, &u, prog.name);
		case CG_WRAP_FIND:
			return check_find(c, w, n);
		case CG_WRAP_QUERY:
			return CG_ALLOW;
		case CG_WRAP_STDIN_SHELL:
			if (check_stdin_script(c, sc, &prog) == CG_BLOCK)
				return CG_BLOCK;
			return check_args_paths(c, &prog, w, 1, n);
		case CG_WRAP_NONE:
			if (check_args_paths(c, &prog, w, 1, n) == CG_BLOCK)
				return CG_BLOCK;
			if ((prog.kind & CG_PROG_SOURCES) && n > 1 && sources_stdin(w[1].text) &&
			    check_source_stdin(c, sc) == CG_BLOCK)
				return CG_BLOCK;
			follow_cd(c, &prog, w, n);
			return CG_ALLOW;
		}
	}
	return CG_ALLOW;
}

/* ------------------------------------------------------------ structure */

/* The program a simple command finally runs, through prefix wrappers. */
static void final_program(const struct cg_simple_cmd *sc, const struct cg_word *w,
			  struct cg_program *prog, enum cg_wrap_kind *kind)
{
	size_t n = sc->n_words, off = 0;
	struct cg_unwrap u;

	*kind = CG_WRAP_NONE;
	prog->name[0] = '\0';
	prog->kind = 0;
	prog->entry = NULL;
	while (off < n) {
		cg_program_identify(w[off].text, prog);
		cg_unwrap(prog, w + off, n - off, &u);
		*kind = u.kind;
		if (u.kind != CG_WRAP_PREFIX)
			break;
		off += u.next;
	}
}

/* Does the command fetch or decode?  `source` gets its final program. */
static bool cmd_fetches(const struct cg_simple_cmd *sc, struct cg_program *source)
{
	enum cg_wrap_kind kind;

	final_program(sc, sc->words, source, &kind);
	return sc->n_words > 0 && cg_is_fetch_or_decode(source, sc->words, sc->n_words);
}

static bool is_inside(const struct cg_script *s, size_t cmd, size_t ancestor)
{
	for (int p = s->cmds[cmd].parent; p >= 0; p = s->cmds[p].parent)
		if ((size_t)p == ancestor)
			return true;
	return false;
}

/* A shell reading its script from a pipe.  Literal text (echo, printf
 * without escapes) is checked as the script it is; the output of any other
 * program is a script the static check cannot read, and downloaded or
 * decoded content is the classic injection. */
static enum cg_verdict check_piped_script(struct checker *c, const struct cg_script *s, size_t i,
					  const struct cg_program *shell)
{
	const struct cg_simple_cmd *sc = &s->cmds[i];
	struct cg_program source;
	enum cg_wrap_kind kind;
	enum cg_verdict v = CG_ALLOW;

	/* A pipeline's commands are contiguous among those of its depth. */
	for (size_t j = i; v == CG_ALLOW && j-- > 0;) {
		const struct cg_simple_cmd *up = &s->cmds[j];
		const struct cg_word *w = up->words;

		if (up->depth == sc->depth && up->pipeline != sc->pipeline)
			break;
		if (up->pipeline != sc->pipeline || up->pipe_index >= sc->pipe_index || up->n_words == 0)
			continue;
		final_program(up, w, &source, &kind);
		if (cg_is_fetch_or_decode(&source, w, up->n_words)) {
			v = block(c, "injection", "download-to-shell",
				  "Downloaded or decoded content piped into a shell: %s | %s", source.name,
				  shell->name);
		} else if ((source.kind & CG_PROG_CAT) && up->n_words == 1 && up->n_redirs > 0) {
			v = check_stdin_script(c, up, shell);   /* cat <<EOF | sh: the here-document is the script */
		} else if (cg_is_literal_text(&source, w, up->n_words)) {
			char *stack[STACK_WORDS + 1];
			char **argv = texts_of(w, 1, up->n_words, stack);
			char *text = argv ? cg_canonical_join(argv, up->n_words - 1) : NULL;
			texts_free(argv, stack);
			v = text ? check_stdin_text(c, shell, text) : out_of_memory(c);
			free(text);
		} else {
			v = block(c, "injection", "generated-to-shell",
				  "Output of '%s' piped into a shell: the script cannot be checked",
				  source.name);
		}
	}
	return v;
}

static enum cg_verdict check_structure(struct checker *c, const struct cg_script *s)
{
	struct cg_program prog, source;
	enum cg_wrap_kind kind;

	/* Fork bombs: a function that starts itself in a pipeline or in the
	 * background, whatever it is called. */
	for (size_t i = 0; i < s->n_cmds; i++) {
		const struct cg_simple_cmd *sc = &s->cmds[i];
		if (sc->function < 0 || sc->n_words == 0 || (size_t)sc->function >= s->n_functions)
			continue;
		if (strcmp(sc->words[0].text, s->functions[sc->function].name) == 0 &&
		    (sc->pipe_len > 1 || sc->background))
			return block(c, "fork-bomb", "fork-bomb",
				     "Command contains blocked operation: fork bomb");
	}

	for (size_t i = 0; i < s->n_cmds; i++) {
		const struct cg_simple_cmd *sc = &s->cmds[i];
		if (sc->n_words == 0)
			continue;
		final_program(sc, sc->words, &prog, &kind);
		bool is_source = prog.kind & CG_PROG_SOURCES;
		if (kind != CG_WRAP_STDIN_SHELL && !is_source &&
		    !(prog.kind & (CG_PROG_SHELL | CG_PROG_INTERPRETER)))
			continue;
		/* curl ... | sh, echo '...' | sh */
		if (sc->pipe_index > 0 && (kind == CG_WRAP_STDIN_SHELL || is_source) &&
		    check_piped_script(c, s, i, &prog) == CG_BLOCK)
			return CG_BLOCK;
		/* bash <(curl ...), . <(curl ...) */
		bool has_substitution = false;
		for (size_t k = 0; k < sc->n_words; k++)
			if (sc->words[k].flags & CG_WORD_CMDSUB)
				has_substitution = true;
		for (size_t k = 0; k < sc->n_redirs; k++)
			if (sc->redirs[k].target.flags & CG_WORD_CMDSUB)
				has_substitution = true;   /* bash < <(curl ...) */
		for (size_t j = 0; has_substitution && j < s->n_cmds; j++) {
			if (is_inside(s, j, i) && cmd_fetches(&s->cmds[j], &source)) {
				return block(c, "injection", "download-to-shell",
					     "Downloaded or decoded content run by a shell: %s <(%s)",
					     prog.name, source.name);
			}
		}
	}
	return CG_ALLOW;
}

static enum cg_verdict check_redirections(struct checker *c, const struct cg_simple_cmd *sc)
{
	for (size_t i = 0; i < sc->n_redirs; i++) {
		const struct cg_redir *r = &sc->redirs[i];
		switch (r->kind) {
		case CG_REDIR_IN:
		case CG_REDIR_OUT:
		case CG_REDIR_APPEND:
		case CG_REDIR_RDWR:
		case CG_REDIR_OUT_ERR:
			if (r->target.flags & CG_WORD_EXPANDS)
				continue;
			/* A redirection target is always a path, even without a slash. */
			char path[PATH_MAX + 2];
			snprintf(path, sizeof(path), "%s%s",
				 strchr(r->target.text, '/') || r->target.text[0] == '~' ? "" : "./",
				 r->target.text);
			if (check_path_word(c, path, r->target.flags & ~CG_WORD_GLOB) == CG_BLOCK) {
				/* name the target as written */
				cg_reason_set(c->why, "path", "", "Path '%s' is not in allowed paths",
					      r->target.text);
				return CG_BLOCK;
			}
			break;
		default:
			break;
		}
	}
	return CG_ALLOW;
}

/* With a repo profile only its commands may run: every simple command of
 * the line, those in substitutions included, must be one of them. */
static enum cg_verdict block_not_in_profile(struct checker *c, char *const argv[], size_t argc)
{
	char *joined = cg_canonical_join(argv, argc);

	block(c, "profile", "not-in-profile", "Command '%s' is not in the repo profile",
	      joined ? joined : argv[0]);
	free(joined);
	return CG_BLOCK;
}

static enum cg_verdict check_profile(struct checker *c, char *const argv[], size_t argc)
{
	if (!c->ctx->profile || c->is_runtime || argc == 0 ||
	    cg_profile_allows(c->ctx->profile, argv, argc))
		return CG_ALLOW;
	return block_not_in_profile(c, argv, argc);
}

static enum cg_verdict check_script_profile(struct checker *c, const struct cg_script *s)
{
	for (size_t i = 0; i < s->n_cmds; i++) {
		const struct cg_simple_cmd *sc = &s->cmds[i];
		char **argv;

		if (sc->n_words == 0 || !c->ctx->profile ||
		    cg_profile_allows_words(c->ctx->profile, sc->words, sc->n_words))
			continue;
		argv = malloc(sc->n_words * sizeof(*argv));
		if (!argv)
			return out_of_memory(c);
		for (size_t k = 0; k < sc->n_words; k++)
			argv[k] = sc->words[k].text;
		block_not_in_profile(c, argv, sc->n_words);
		free(argv);
		return CG_BLOCK;
	}
	return CG_ALLOW;
}

static enum cg_verdict check_script(struct checker *c, const char *text, size_t len)
{
	struct cg_script *s = NULL;
	char err[256];
	enum cg_verdict v = CG_ALLOW;
	int rc;

	if (c->depth >= MAX_SCRIPT_DEPTH)
		return block(c, "parse", "", "Command nests shells deeper than %d levels", MAX_SCRIPT_DEPTH);
	rc = cg_shell_parse(text, len, &s, err, sizeof(err));
	if (rc < 0)
		return block(c, "parse", "", "Cannot parse command: %s",
			     rc == -ENOMEM ? "out of memory" : err);
	c->depth++;
	if (!c->is_runtime)
		v = check_structure(c, s);
	for (size_t i = 0; v == CG_ALLOW && i < s->n_cmds; i++) {
		const struct cg_simple_cmd *sc = &s->cmds[i];

		v = check_command(c, sc->words, sc->n_words, sc);
		if (v == CG_ALLOW && !c->is_runtime)
			v = check_redirections(c, sc);
	}
	if (v == CG_ALLOW && c->depth == 1)
		v = check_script_profile(c, s);
	c->depth--;
	cg_script_free(s);
	return v;
}

/* Field by field: an initializer would clear the path buffers, 8 KiB, on
 * every decision. */
static void checker_init(struct checker *c, const struct cg_context *ctx, struct cg_reason *why,
			 bool is_runtime)
{
	c->ctx = ctx;
	c->why = why;
	c->depth = 0;
	c->is_runtime = is_runtime;
	c->cwd[0] = '\0';
	c->resolved_word = NULL;
}

enum cg_verdict cg_check_script(const struct cg_context *ctx, const char *text, size_t len,
				bool is_runtime, struct cg_reason *why)
{
	struct checker c;

	checker_init(&c, ctx, why, is_runtime);
	return check_script(&c, text, len);
}

enum cg_verdict cg_check_argv(const struct cg_context *ctx, char *const argv[], size_t argc,
			      struct cg_reason *why)
{
	struct checker c;
	struct cg_word *w;
	enum cg_verdict v;

	checker_init(&c, ctx, why, false);
	if (argc == 0)
		return block(&c, "parse", "", "No command given");
	w = malloc(argc * sizeof(*w));
	if (!w)
		return out_of_memory(&c);
	for (size_t i = 0; i < argc; i++)
		w[i] = (struct cg_word){ argv[i], 0 };
	v = check_command(&c, w, argc, NULL);
	free(w);
	if (v == CG_ALLOW)
		v = check_profile(&c, argv, argc);
	return v;
}
