/* shell.c - the sh lexer and recursive-descent parser.
 *
 * One pass over the source.  Words are lexed on demand by the grammar
 * functions, because what a word means ("if", "{", "}") depends on where it
 * stands.  A substitution met inside a word ($(...), `...`, <(...), or a
 * command substitution hidden in ${...} or $((...))) is parsed on the spot by
 * the same grammar one level deeper, so its simple commands land in the flat
 * list right after the command whose word holds them.  An unquoted
 * here-document body is scanned the same way once it has been read.
 *
 * Everything the script holds is allocated in its arena (see "memory"
 * below); a local buffer is freed by its function on every path; so
 * cg_script_free() cleans up after an error anywhere.  Every recursion
 * goes through enter(), which bounds the nesting.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard/shell.h"

/* ---------------------------------------------------------------- memory */

/* Everything a script holds (its arrays, word texts, here-document bodies)
 * lives in one arena that cg_script_free() releases at once: a decision
 * parses a short command and drops it, and a malloc and a free per word
 * and per array were a large part of that parse.  A small script fits in
 * the first chunk, whose head is the script itself.
 *
 * Under AddressSanitizer each allocation is followed by a poisoned gap and
 * an array that grows poisons its old copy, so that overruns and stale
 * pointers into a moved array are still caught (the fuzz target relies on
 * it), as they were with malloc and realloc. */
#if defined(__SANITIZE_ADDRESS__)
#define ARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_ASAN 1
#endif
#endif
#ifdef ARENA_ASAN
#include <sanitizer/asan_interface.h>
#define ARENA_REDZONE 16
#define arena_poison(addr, size) ASAN_POISON_MEMORY_REGION(addr, size)
#define arena_unpoison(addr, size) ASAN_UNPOISON_MEMORY_REGION(addr, size)
#else
#define ARENA_REDZONE 0
#define arena_poison(addr, size) ((void)(addr), (void)(size))
#define arena_unpoison(addr, size) ((void)(addr), (void)(size))
#endif

#define ARENA_ALIGN 8u
#define ARENA_FIRST_BYTES 1024u      /* malloc's per-thread cache serves this size */
#define ARENA_CHUNK_BYTES 8192u

struct chunk {
	struct chunk *next;   /* the chunk before it */
	size_t size;          /* bytes after the header */
	size_t used;
};

/* The script handed out, in front of the arena that holds it. */
struct script_block {
	struct cg_script script;   /* first: cg_script_free() gets the block from it */
	struct chunk *chunks;      /* newest first; the last holds this block */
};

static char *chunk_data(struct chunk *c)
{
	return (char *)c + ((sizeof(*c) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1));
}

static struct chunk *chunk_new(size_t total)
{
	struct chunk *c = malloc(total);

	if (!c)
		return NULL;
	c->next = NULL;
	c->size = total - (size_t)(chunk_data(c) - (char *)c);
	c->used = 0;
	arena_poison(chunk_data(c), c->size);
	return c;
}

/* n bytes aligned to ARENA_ALIGN, or NULL when out of memory. */
static void *arena_alloc(struct script_block *b, size_t n)
{
	struct chunk *c = b->chunks;
	size_t need = (n + ARENA_REDZONE + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);

	if (need < n)
		return NULL;
	if (c->size - c->used < need) {
		size_t header = (size_t)(chunk_data(c) - (char *)c);
		size_t total = need > ARENA_CHUNK_BYTES - header ? need + header : ARENA_CHUNK_BYTES;
		struct chunk *fresh = chunk_new(total);
		if (!fresh)
			return NULL;
		fresh->next = c;
		b->chunks = c = fresh;
	}
	void *at = chunk_data(c) + c->used;
	c->used += need;
	arena_unpoison(at, n);
	return at;
}

static char *arena_strndup(struct script_block *b, const char *s, size_t n)
{
	char *out = arena_alloc(b, n + 1);

	if (out) {
		memcpy(out, s, n);
		out[n] = '\0';
	}
	return out;
}

static struct script_block *script_block_new(void)
{
	struct chunk *c = chunk_new(ARENA_FIRST_BYTES);
	struct script_block *b;

	if (!c)
		return NULL;
	/* The block is the first allocation of its own arena. */
	struct script_block boot = { .chunks = c };
	b = arena_alloc(&boot, sizeof(*b));
	*b = boot;
	return b;
}

void cg_script_free(struct cg_script *s)
{
	struct chunk *c, *next;

	if (!s)
		return;
	for (c = ((struct script_block *)s)->chunks; c; c = next) {
		next = c->next;
		free(c);
	}
}

/* The arrays of cg_script carry no capacity: it is 4, or the next power of
 * two at or above the count, so appending moves an array only when the
 * count is 0 or such a power.  Returns the array with room for one more
 * element, or NULL. */
static void *arena_room_for_one(struct script_block *b, void *array, size_t count, size_t size)
{
	if (count != 0 && (count < 4 || (count & (count - 1))))
		return array;
	size_t capacity = count ? 2 * count : 4;
	if (capacity > SIZE_MAX / size)
		return NULL;
	void *grown = arena_alloc(b, capacity * size);
	if (grown && count) {
		memcpy(grown, array, count * size);
		arena_poison(array, count * size);
	}
	return grown;
}

/* The same rule for the parser's own arrays, which live on the heap. */
static void *room_for_one(void *array, size_t count, size_t size)
{
	if (count != 0 && (count < 4 || (count & (count - 1))))
		return array;
	return realloc(array, (count ? 2 * count : 4) * size);
}

/* ---------------------------------------------------------------- text */

/* A text being built: in the inline bytes while it fits, which is nearly
 * always, else on the heap.  Never copied once in use (data may point into
 * it). */
struct buf {
	char *data;
	size_t len;
	size_t cap;
	char inline_data[64];
};

static int buf_add(struct buf *b, const char *s, size_t n)
{
	if (!b->data) {
		b->data = b->inline_data;
		b->cap = sizeof(b->inline_data);
		b->len = 0;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *data = b->data == b->inline_data ? malloc(cap) : realloc(b->data, cap);
		if (!data)
			return -ENOMEM;
		if (b->data == b->inline_data)
			memcpy(data, b->inline_data, b->len);
		b->data = data;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

static int buf_addc(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

static void buf_free(struct buf *b)
{
	if (b->data != b->inline_data)
		free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* Moves the text into the script's arena (NULL only when out of memory). */
static char *buf_take(struct script_block *arena, struct buf *b)
{
	char *s = arena_strndup(arena, b->data ? b->data : "", b->len);

	buf_free(b);
	return s;
}

static bool is_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Characters that end an unquoted word. */
static bool is_meta(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '&' || c == '|' ||
	       c == '<' || c == '>' || c == '(' || c == ')';
}

/* Characters that mean nothing to the lexer inside an unquoted word, so a
 * run of them is copied at once. */
static bool is_plain(char c)
{
	static const bool is_special[256] = {
		[' '] = true, ['\t'] = true, ['\n'] = true, [';'] = true, ['&'] = true,
		['|'] = true, ['<'] = true, ['>'] = true, ['('] = true, [')'] = true,
		['\\'] = true, ['\''] = true, ['"'] = true, ['$'] = true, ['`'] = true,
		['*'] = true, ['?'] = true, ['['] = true, ['~'] = true, ['{'] = true,
		['}'] = true, [','] = true, ['.'] = true, ['\0'] = true,
	};
	return !is_special[(unsigned char)c];
}

/* ---------------------------------------------------------------- parser state */

struct pending_heredoc {
	size_t cmd;
	size_t redir;
	bool strip_tabs;
};

/* State of one cg_shell_parse() call, shared by all the texts it parses. */
struct shared {
	struct cg_script *script;
	struct script_block *arena;   /* holds the script and all it points to */
	char *err;
	size_t err_size;
	int rc;
	int nesting;
	int next_pipeline;
};

/* One text being parsed: the input, a backquoted command after its
 * backslashes are undone, or a here-document body. */
struct parser {
	struct shared *sh;
	const char *src;
	size_t len;
	size_t pos;
	size_t base; /* offset of src[0] in the caller's input, for messages */
	struct pending_heredoc *heredocs; /* operators whose body starts after the next newline */
	size_t n_heredocs;
	int depth;    /* substitution depth given to new commands */
	int function; /* function body given to new commands, or -1 */
	int parent;   /* command holding the substitution being parsed, or -1 */
	/* The grammar asks what comes next several times at one place; the
	 * answer depends only on the text, so the last one is kept. */
	size_t peeked_at; /* pos + 1 where `peeked` was classified; 0: none */
	int peeked;       /* an enum tok */
};

/* A word being lexed. */
struct word_state {
	struct buf text;
	unsigned flags;
	size_t start;
	size_t tilde_at;  /* offset where an unquoted ~ expands (after NAME=), or SIZE_MAX */
	int open_braces;  /* unquoted { not yet closed, for brace expansion */
	bool brace_has_separator;
};

enum word_mode {
	WORD_NORMAL,
	WORD_REGEX, /* right of =~ in [[ ]]: ( ) | belong to the word */
};

static char cur(const struct parser *p)
{
	return p->pos < p->len ? p->src[p->pos] : '\0';
}

static char ahead(const struct parser *p, size_t n)
{
	return p->pos + n < p->len ? p->src[p->pos + n] : '\0';
}

static bool at(const struct parser *p, const char *lit)
{
	if (p->pos >= p->len || p->src[p->pos] != lit[0]) /* the common, cheap answer */
		return false;
	size_t n = strlen(lit);
	return p->len - p->pos >= n && memcmp(p->src + p->pos, lit, n) == 0;
}

/* `word` stands at pos as a whole word: the form reserved words must have. */
static bool at_word(const struct parser *p, const char *word)
{
	if (!at(p, word))
		return false;
	size_t n = strlen(word);
	return p->pos + n == p->len || is_meta(p->src[p->pos + n]);
}

static void step(struct parser *p, size_t n)
{
	p->pos = p->len - p->pos > n ? p->pos + n : p->len;
}

static struct cg_simple_cmd *cmd_at(struct parser *p, size_t i)
{
	return &p->sh->script->cmds[i];
}

/* ---------------------------------------------------------------- errors */

/* Records the first error (later ones are consequences) and returns it. */
static int fail(struct parser *p, int rc, size_t at_pos, const char *fmt, ...)
{
	struct shared *sh = p->sh;

	if (sh->rc)
		return sh->rc;
	sh->rc = rc;
	if (sh->err && sh->err_size) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(sh->err, sh->err_size, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < sh->err_size)
			snprintf(sh->err + n, sh->err_size - n, " at offset %zu", p->base + at_pos);
	}
	return rc;
}

static int oom(struct parser *p)
{
	return fail(p, -ENOMEM, p->pos, "out of memory");
}

static int enter(struct parser *p, size_t at_pos)
{
	if (p->sh->nesting >= CG_SHELL_MAX_DEPTH)
		return fail(p, -E2BIG, at_pos, "nesting deeper than %d levels", CG_SHELL_MAX_DEPTH);
	p->sh->nesting++;
	return 0;
}

static void leave(struct parser *p)
{
	p->sh->nesting--;
}

/* ---------------------------------------------------------------- the script */

static int new_cmd(struct parser *p, size_t *idx)
{
	struct cg_script *s = p->sh->script;
	struct cg_simple_cmd *cmds = arena_room_for_one(p->sh->arena, s->cmds, s->n_cmds,
							sizeof(*cmds));

	if (!cmds)
		return oom(p);
	s->cmds = cmds;
	cmds[s->n_cmds] = (struct cg_simple_cmd){
		.pipeline = p->sh->next_pipeline++,
		.pipe_index = 0,
		.pipe_len = 1,
		.depth = p->depth,
		.function = p->function,
		.parent = p->parent,
	};
	*idx = s->n_cmds++;
	return 0;
}

/* Appends *w to an array of the script. */
static int push_word(struct parser *p, struct cg_word **words, size_t *n, struct cg_word *w)
{
	struct cg_word *a = arena_room_for_one(p->sh->arena, *words, *n, sizeof(*a));

	if (!a)
		return oom(p);
	*words = a;
	a[(*n)++] = *w;
	return 0;
}

static int push_literal(struct parser *p, size_t idx, const char *text)
{
	struct cg_word w = { .text = arena_strndup(p->sh->arena, text, strlen(text)), .flags = 0 };
	struct cg_simple_cmd *c = cmd_at(p, idx);

	if (!w.text)
		return oom(p);
	return push_word(p, &c->words, &c->n_words, &w);
}

/* ---------------------------------------------------------------- tokens */

enum tok {
	T_EOF,
	T_NEWLINE,
	T_SEMI,       /* ; */
	T_AMP,        /* & */
	T_AND_IF,     /* && */
	T_OR_IF,      /* || */
	T_PIPE,       /* | */
	T_PIPE_AMP,   /* |& */
	T_LPAREN,
	T_RPAREN,
	T_DSEMI,      /* ;; */
	T_SEMI_AMP,   /* ;& */
	T_DSEMI_AMP,  /* ;;& */
	T_REDIR,      /* [N]< > >> <> << <<- <<< >& <& >| &> &>> */
	T_WORD,
};

/* Blanks, line continuations and comments; a comment can only start here
 * because this runs at word boundaries. */
static void skip_blanks(struct parser *p)
{
	for (;;) {
		char c = cur(p);
		if (c == ' ' || c == '\t') {
			p->pos++;
		} else if (c == '\\' && ahead(p, 1) == '\n') {
			p->pos += 2;
		} else if (c == '#') {
			const char *nl = memchr(p->src + p->pos, '\n', p->len - p->pos);
			p->pos = nl ? (size_t)(nl - p->src) : p->len;
		} else {
			return;
		}
	}
}

static size_t io_number_len(const struct parser *p)
{
	size_t n = 0;

	while (p->pos + n < p->len && is_digit(p->src[p->pos + n]))
		n++;
	if (n && p->pos + n < p->len && (p->src[p->pos + n] == '<' || p->src[p->pos + n] == '>'))
		return n;
	return 0;
}

static enum tok classify(struct parser *p)
{
	switch (cur(p)) {
	case '\0':
		return p->pos >= p->len ? T_EOF : T_WORD;
	case '\n':
		return T_NEWLINE;
	case ';':
		if (ahead(p, 1) == ';')
			return ahead(p, 2) == '&' ? T_DSEMI_AMP : T_DSEMI;
		return ahead(p, 1) == '&' ? T_SEMI_AMP : T_SEMI;
	case '&':
		if (ahead(p, 1) == '&')
			return T_AND_IF;
		return ahead(p, 1) == '>' ? T_REDIR : T_AMP;
	case '|':
		if (ahead(p, 1) == '|')
			return T_OR_IF;
		return ahead(p, 1) == '&' ? T_PIPE_AMP : T_PIPE;
	case '(':
		return T_LPAREN;
	case ')':
		return T_RPAREN;
	case '<':
	case '>':
		return ahead(p, 1) == '(' ? T_WORD : T_REDIR; /* <(...) is a word */
	default:
		return io_number_len(p) ? T_REDIR : T_WORD;
	}
}

/* Skips blanks and classifies the token at pos without consuming it. */
static enum tok peek(struct parser *p)
{
	if (p->peeked_at == p->pos + 1)
		return (enum tok)p->peeked;
	skip_blanks(p);
	p->peeked = classify(p);
	p->peeked_at = p->pos + 1;
	return (enum tok)p->peeked;
}

static size_t tok_len(struct parser *p, enum tok t)
{
	switch (t) {
	case T_AND_IF: case T_OR_IF: case T_PIPE_AMP: case T_DSEMI: case T_SEMI_AMP:
		return 2;
	case T_DSEMI_AMP:
		return 3;
	case T_EOF:
		return 0;
	case T_REDIR:
	case T_WORD: {
		size_t n = 0;
		while (p->pos + n < p->len && n < 24 &&
		       (n == 0 || !is_meta(p->src[p->pos + n])))
			n++;
		return n;
	}
	default:
		return 1;
	}
}

static int unexpected(struct parser *p)
{
	enum tok t = peek(p);

	switch (t) {
	case T_EOF:
		return fail(p, -EINVAL, p->pos, "unexpected end of input");
	case T_NEWLINE:
		return fail(p, -EINVAL, p->pos, "unexpected newline");
	case T_RPAREN:
		return fail(p, -EINVAL, p->pos, "unmatched ')'");
	default:
		return fail(p, -EINVAL, p->pos, "unexpected '%.*s'", (int)tok_len(p, t),
			    p->src + p->pos);
	}
}

/* Could a reserved word (a closer below, a starter in at_compound()) start
 * with c?  Most words are ruled out without comparing them with each. */
static bool starts_reserved_word(char c)
{
	switch (c) {
	case 'c': case 'd': case 'e': case 'f': case 'i': case 's': case 't': case 'u':
	case 'w': case '{': case '}': case '[':
		return true;
	default:
		return false;
	}
}

/* Reserved words that end a compound list when they stand in command position. */
static const char *closer_at(struct parser *p)
{
	static const char *const closers[] = {
		"then", "elif", "else", "fi", "do", "done", "esac", "}", NULL,
	};

	if (peek(p) != T_WORD || !starts_reserved_word(cur(p)))
		return NULL;
	for (size_t i = 0; closers[i]; i++)
		if (at_word(p, closers[i]))
			return closers[i];
	return NULL;
}

/* Expects `word` (a closer); at the end of input, blames the opener. */
static int expect_word(struct parser *p, const char *word, size_t open, const char *opener)
{
	if (peek(p) == T_WORD && at_word(p, word)) {
		p->pos += strlen(word);
		return 0;
	}
	if (peek(p) == T_EOF)
		return fail(p, -EINVAL, open, "missing '%s' for '%s'", word, opener);
	return unexpected(p);
}

/* ---------------------------------------------------------------- words */

static int lex_word(struct parser *p, struct cg_word *out, int holder, enum word_mode mode);
static int lex_double(struct parser *p, struct word_state *w, int holder, bool is_heredoc);
static int lex_dollar(struct parser *p, struct word_state *w, int holder, bool in_dquote);
static int lex_backquote(struct parser *p, struct word_state *w, int holder, bool in_dquote);
static int parse_list(struct parser *p);
static int parse_text(struct parser *p);
static int skip_linebreaks(struct parser *p);

static int add_verbatim(struct parser *p, struct word_state *w, size_t from)
{
	if (buf_add(&w->text, p->src + from, p->pos - from))
		return oom(p);
	return 0;
}

/* Length of a NAME=, NAME+= or NAME[...]= prefix at i, or 0. */
static size_t assignment_prefix_len(const struct parser *p, size_t i)
{
	size_t start = i;

	if (i >= p->len || !is_name_start(p->src[i]))
		return 0;
	while (i < p->len && is_name_char(p->src[i]))
		i++;
	if (i < p->len && p->src[i] == '[') {
		while (i < p->len && p->src[i] != ']' && !is_meta(p->src[i]))
			i++;
		if (i >= p->len || p->src[i] != ']')
			return 0;
		i++;
	}
	if (i < p->len && p->src[i] == '+')
		i++;
	return i < p->len && p->src[i] == '=' ? i + 1 - start : 0;
}

static int skip_single_quote(struct parser *p)
{
	size_t open = p->pos;
	const char *close = memchr(p->src + open + 1, '\'', p->len - open - 1);

	if (!close)
		return fail(p, -EINVAL, open, "unterminated single quote");
	p->pos = (size_t)(close - p->src) + 1;
	return 0;
}

static int lex_single(struct parser *p, struct word_state *w)
{
	size_t open = p->pos;
	int r = skip_single_quote(p);

	if (r)
		return r;
	w->flags |= CG_WORD_QUOTED;
	if (buf_add(&w->text, p->src + open + 1, p->pos - open - 2))
		return oom(p);
	return 0;
}

/* Inside a region kept verbatim (${...}, $((...)), an extended glob): steps
 * over the quoted string or expansion at pos, parsing any command it holds.
 * Returns 1 when the character at pos is none of those. */
static int skip_nested(struct parser *p, struct word_state *scratch, int holder)
{
	switch (cur(p)) {
	case '\\':
		step(p, 2);
		return 0;
	case '\'':
		return skip_single_quote(p);
	case '"':
		return lex_double(p, scratch, holder, false);
	case '$':
		return lex_dollar(p, scratch, holder, true);
	case '`':
		return lex_backquote(p, scratch, holder, false);
	default:
		return 1;
	}
}

static void take_nested_flags(struct word_state *w, struct word_state *scratch)
{
	w->flags |= scratch->flags & CG_WORD_EXPANDS;
	buf_free(&scratch->text);
}

/* Like bash, a newline inside $(...) reads only the here-documents opened
 * inside it; those still open at ")" join the outer ones, whose bodies
 * start after the line that holds the substitution. */
static int resume_heredocs(struct parser *p, struct pending_heredoc *outer, size_t n_outer)
{
	struct pending_heredoc *inner = p->heredocs;
	size_t n_inner = p->n_heredocs;

	if (n_outer == 0) {
		free(outer);
		return 0;
	}
	p->heredocs = outer;
	p->n_heredocs = n_outer;
	for (size_t i = 0; i < n_inner; i++) {
		struct pending_heredoc *h = room_for_one(p->heredocs, p->n_heredocs, sizeof(*h));
		if (!h) {
			free(inner);
			return oom(p);
		}
		p->heredocs = h;
		h[p->n_heredocs++] = inner[i];
	}
	free(inner);
	return 0;
}

/* $(...), <(...) and >(...): the commands are parsed one level deeper. */
static int lex_cmdsub(struct parser *p, struct word_state *w, int holder)
{
	size_t start = p->pos;
	int saved_depth = p->depth, saved_parent = p->parent;
	struct pending_heredoc *outer = p->heredocs;
	size_t n_outer = p->n_heredocs;
	int r = enter(p, start);

	if (r)
		return r;
	p->depth++;
	p->parent = holder;
	p->heredocs = NULL;
	p->n_heredocs = 0;
	p->pos += 2;
	r = parse_list(p);
	if (r == 0 && peek(p) == T_RPAREN)
		p->pos++;
	else if (r == 0 && peek(p) == T_EOF)
		r = fail(p, -EINVAL, start, "unterminated %.2s", p->src + start);
	else if (r == 0)
		r = unexpected(p);
	p->depth = saved_depth;
	p->parent = saved_parent;
	int resumed = resume_heredocs(p, outer, n_outer);
	if (r == 0)
		r = resumed;
	leave(p);
	if (r)
		return r;
	w->flags |= CG_WORD_CMDSUB;
	return add_verbatim(p, w, start);
}

/* Does the text at i, just after "((", close with "))" (arithmetic) rather
 * than with a single ")" (a subshell inside $( or ( )? */
static bool arith_closes(const struct parser *p, size_t i)
{
	int open = 0;

	while (i < p->len) {
		char c = p->src[i];
		if (c == '\\') {
			i += 2;
			continue;
		}
		if (c == '\'' || c == '"') {
			for (i++; i < p->len && p->src[i] != c; i++)
				if (c == '"' && p->src[i] == '\\')
					i++;
			if (i >= p->len)
				return false;
		} else if (c == '(') {
			open++;
		} else if (c == ')') {
			if (open == 0)
				return i + 1 < p->len && p->src[i + 1] == ')';
			open--;
		}
		i++;
	}
	return false;
}

/* $((...)), ((...)) and $[...]: kept verbatim and not parsed as commands,
 * but a command substitution inside still runs, so it is parsed. */
static int lex_arith(struct parser *p, struct word_state *w, int holder, size_t prefix, char close)
{
	char open_char = close == ')' ? '(' : '[';
	struct word_state scratch = { 0 };
	size_t start = p->pos;
	int open = 0;
	int r = enter(p, start);

	if (r)
		return r;
	p->pos += prefix;
	while (r == 0) {
		if (p->pos >= p->len) {
			r = fail(p, -EINVAL, start, "unterminated %.*s", (int)prefix, p->src + start);
			break;
		}
		char c = cur(p);
		if (c == open_char) {
			open++;
			p->pos++;
		} else if (c == close && open > 0) {
			open--;
			p->pos++;
		} else if (c == close) {
			if (close == ')' && ahead(p, 1) != ')') {
				r = fail(p, -EINVAL, p->pos, "unexpected ')' in arithmetic");
				break;
			}
			step(p, close == ')' ? 2 : 1);
			break;
		} else {
			r = skip_nested(p, &scratch, holder);
			if (r == 1) {
				r = 0;
				p->pos++;
			}
		}
	}
	leave(p);
	take_nested_flags(w, &scratch);
	if (r)
		return r;
	w->flags |= CG_WORD_ARITH;
	return add_verbatim(p, w, start);
}

/* ${...}: ends at the first unquoted "}" (bash does not count inner braces). */
static int lex_braced(struct parser *p, struct word_state *w, int holder)
{
	struct word_state scratch = { 0 };
	size_t start = p->pos;
	int r = enter(p, start);

	if (r)
		return r;
	p->pos += 2;
	while (r == 0) {
		if (p->pos >= p->len) {
			r = fail(p, -EINVAL, start, "unterminated ${");
			break;
		}
		if (cur(p) == '}') {
			p->pos++;
			break;
		}
		r = skip_nested(p, &scratch, holder);
		if (r == 1) {
			r = 0;
			p->pos++;
		}
	}
	leave(p);
	take_nested_flags(w, &scratch);
	if (r)
		return r;
	w->flags |= CG_WORD_PARAM;
	return add_verbatim(p, w, start);
}

/* An extended glob such as @(a|b) or !(x): a pattern, kept verbatim. */
static int lex_extglob(struct parser *p, struct word_state *w, int holder)
{
	struct word_state scratch = { 0 };
	size_t start = p->pos;
	int open = 0;
	int r = enter(p, start);

	if (r)
		return r;
	do {
		if (p->pos >= p->len) {
			r = fail(p, -EINVAL, start, "unterminated extended glob pattern");
			break;
		}
		r = skip_nested(p, &scratch, holder);
		if (r == 1) {
			r = 0;
			if (cur(p) == '(')
				open++;
			else if (cur(p) == ')')
				open--;
			p->pos++;
		}
	} while (r == 0 && open > 0);
	leave(p);
	take_nested_flags(w, &scratch);
	if (r)
		return r;
	w->flags |= CG_WORD_GLOB;
	return add_verbatim(p, w, start);
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int add_utf8(struct buf *b, uint32_t v)
{
	char out[4];
	size_t n;

	if (v < 0x80) {
		out[0] = (char)v;
		n = 1;
	} else if (v < 0x800) {
		out[0] = (char)(0xc0 | (v >> 6));
		out[1] = (char)(0x80 | (v & 0x3f));
		n = 2;
	} else if (v < 0x10000) {
		out[0] = (char)(0xe0 | (v >> 12));
		out[1] = (char)(0x80 | ((v >> 6) & 0x3f));
		out[2] = (char)(0x80 | (v & 0x3f));
		n = 3;
	} else if (v <= 0x10ffff) {
		out[0] = (char)(0xf0 | (v >> 18));
		out[1] = (char)(0x80 | ((v >> 12) & 0x3f));
		out[2] = (char)(0x80 | ((v >> 6) & 0x3f));
		out[3] = (char)(0x80 | (v & 0x3f));
		n = 4;
	} else {
		return 0;
	}
	return buf_add(b, out, n);
}

/* Decodes one backslash escape of $'...' at pos (just after the backslash).
 * *value gets a byte, or a code point when *is_unicode. Returns false when
 * the escape is not one, and the backslash stays literal. */
static bool ansi_c_escape(struct parser *p, uint32_t *value, bool *is_unicode)
{
	static const char simple[] = "a\ab\be\033E\033f\fn\nr\rt\tv\v\\\\''\"\"??";
	char e = cur(p);
	size_t digits_at = p->pos + 1;
	int max_digits = 0, base = 16;

	*is_unicode = false;
	for (size_t i = 0; simple[i]; i += 2) {
		if (simple[i] == e) {
			*value = (unsigned char)simple[i + 1];
			p->pos++;
			return true;
		}
	}
	switch (e) {
	case 'x':
		max_digits = 2;
		break;
	case 'u':
		max_digits = 4;
		*is_unicode = true;
		break;
	case 'U':
		max_digits = 8;
		*is_unicode = true;
		break;
	case 'c':
		if (ahead(p, 1) == '\0' || ahead(p, 1) == '\'')
			return false;
		*value = ahead(p, 1) == '?' ? 0x7f : (unsigned char)ahead(p, 1) & 0x1f;
		p->pos += 2;
		return true;
	default:
		if (e < '0' || e > '7')
			return false;
		base = 8;
		max_digits = 3;
		digits_at = p->pos; /* the digit is the first of the number */
		break;
	}
	int n = 0;
	uint32_t v = 0;
	while (n < max_digits && digits_at + n < p->len) {
		int d = hex_value(p->src[digits_at + n]);
		if (d < 0 || d >= base)
			break;
		v = v * base + (uint32_t)d;
		n++;
	}
	if (n == 0) /* \x, \u, \U without digits (an octal escape has its first) */
		return false;
	p->pos = digits_at + n;
	*value = *is_unicode ? v : (v & 0xff);
	return true;
}

static int lex_ansi_c(struct parser *p, struct word_state *w)
{
	size_t open = p->pos;
	bool truncated = false; /* bash ends the string at a decoded NUL */

	p->pos += 2;
	w->flags |= CG_WORD_QUOTED;
	for (;;) {
		if (p->pos >= p->len)
			return fail(p, -EINVAL, open, "unterminated $' quote");
		char c = cur(p);
		if (c == '\'') {
			p->pos++;
			return 0;
		}
		int r = 0;
		if (c != '\\' || p->pos + 1 >= p->len) {
			if (!truncated)
				r = buf_addc(&w->text, c);
			p->pos++;
		} else {
			uint32_t v;
			bool is_unicode;
			p->pos++;
			if (!ansi_c_escape(p, &v, &is_unicode)) {
				if (!truncated)
					r = buf_addc(&w->text, '\\');
			} else if (v == 0) {
				truncated = true;
			} else if (!truncated) {
				r = is_unicode ? add_utf8(&w->text, v) : buf_addc(&w->text, (char)v);
			}
		}
		if (r)
			return oom(p);
	}
}

/* $ at pos: a parameter, a substitution, $'...', $"..." or a plain $. */
static int lex_dollar(struct parser *p, struct word_state *w, int holder, bool in_dquote)
{
	size_t start = p->pos;
	char n = ahead(p, 1);

	if (n == '\\' && ahead(p, 2) == '\n') {
		/* bash removes the continuation first: "$\<newline>(rm x)" runs rm.
		 * Rare enough in real scripts to refuse rather than model. */
		size_t i = p->pos + 1;
		while (i + 1 < p->len && p->src[i] == '\\' && p->src[i + 1] == '\n')
			i += 2;
		if (i < p->len && (strchr("{([\'\"@*#?$!-", p->src[i]) || is_name_char(p->src[i])))
			return fail(p, -EINVAL, start, "line continuation after '$'");
	}
	if (n == '(') {
		if (ahead(p, 2) == '(' && arith_closes(p, p->pos + 3))
			return lex_arith(p, w, holder, 3, ')');
		return lex_cmdsub(p, w, holder);
	}
	if (n == '{')
		return lex_braced(p, w, holder);
	if (n == '[')
		return lex_arith(p, w, holder, 2, ']');
	if (n == '\'' && !in_dquote)
		return lex_ansi_c(p, w);
	if (n == '"' && !in_dquote) {
		p->pos++;
		return lex_double(p, w, holder, false);
	}
	if (is_name_start(n)) {
		p->pos++;
		while (is_name_char(cur(p)))
			p->pos++;
	} else if (n != '\0' && (is_digit(n) || strchr("@*#?$!-", n))) {
		p->pos += 2;
	} else {
		p->pos++;
		return buf_addc(&w->text, '$') ? oom(p) : 0;
	}
	w->flags |= CG_WORD_PARAM;
	return add_verbatim(p, w, start);
}

/* `...`: the backslashes that quote ` \ $ (and " inside "...") are undone,
 * then the text is parsed as a script of its own. */
static int lex_backquote(struct parser *p, struct word_state *w, int holder, bool in_dquote)
{
	struct buf inner = { 0 };
	size_t start = p->pos++;
	int r = 0;

	for (;;) {
		if (p->pos >= p->len) {
			buf_free(&inner);
			return fail(p, -EINVAL, start, "unterminated backquote");
		}
		char c = cur(p), n = ahead(p, 1);
		if (c == '`') {
			p->pos++;
			break;
		}
		if (c == '\\' && (n == '`' || n == '\\' || n == '$' || (in_dquote && n == '"'))) {
			r = buf_addc(&inner, n);
			p->pos += 2;
		} else if (c == '\\' && p->pos + 1 < p->len) {
			r = buf_add(&inner, p->src + p->pos, 2);
			p->pos += 2;
		} else {
			r = buf_addc(&inner, c);
			p->pos++;
		}
		if (r) {
			buf_free(&inner);
			return oom(p);
		}
	}
	r = enter(p, start);
	if (r == 0) {
		struct parser sub = {
			.sh = p->sh,
			.src = inner.data ? inner.data : "",
			.len = inner.len,
			.base = p->base + start + 1,
			.depth = p->depth + 1,
			.function = p->function,
			.parent = holder,
		};
		r = parse_text(&sub);
		leave(p);
	}
	buf_free(&inner);
	if (r)
		return r;
	w->flags |= CG_WORD_CMDSUB;
	return add_verbatim(p, w, start);
}

/* "...", or an unquoted here-document body (no closing quote, " is plain). */
static int lex_double(struct parser *p, struct word_state *w, int holder, bool is_heredoc)
{
	size_t open = p->pos;

	if (!is_heredoc) {
		p->pos++;
		w->flags |= CG_WORD_QUOTED;
	}
	for (;;) {
		if (p->pos >= p->len) {
			if (is_heredoc)
				return 0;
			return fail(p, -EINVAL, open, "unterminated double quote");
		}
		char c = cur(p), n = ahead(p, 1);
		int r = 0;
		if (c == '"' && !is_heredoc) {
			p->pos++;
			return 0;
		}
		if (c == '\\' && n == '\n') {
			p->pos += 2;
		} else if (c == '\\' && (n == '$' || n == '`' || n == '\\' || (n == '"' && !is_heredoc))) {
			r = buf_addc(&w->text, n) ? oom(p) : 0;
			p->pos += 2;
		} else if (c == '$') {
			r = lex_dollar(p, w, holder, true);
		} else if (c == '`') {
			r = lex_backquote(p, w, holder, !is_heredoc);
		} else {
			size_t run = 1;
			while (p->pos + run < p->len && !strchr("\"\\$`", p->src[p->pos + run]))
				run++;
			r = buf_add(&w->text, p->src + p->pos, run) ? oom(p) : 0;
			p->pos += run;
		}
		if (r)
			return r;
	}
}

/* One element of NAME=(...), or its closing parenthesis (returns 1). */
static int lex_array_element(struct parser *p, struct word_state *w, int holder, size_t open,
			     bool *first)
{
	struct cg_word element;
	int r = skip_linebreaks(p); /* elements may span lines */

	if (r)
		return r;
	switch (peek(p)) {
	case T_RPAREN:
		p->pos++;
		return buf_addc(&w->text, ')') ? oom(p) : 1;
	case T_EOF:
		return fail(p, -EINVAL, open, "unterminated array assignment");
	case T_WORD:
		break;
	default:
		return unexpected(p);
	}
	r = lex_word(p, &element, holder, WORD_NORMAL);
	if (r)
		return r;
	w->flags |= element.flags;
	if ((!*first && buf_addc(&w->text, ' ')) ||
	    buf_add(&w->text, element.text, strlen(element.text)))
		r = oom(p);
	*first = false;
	return r;
}

static int lex_array(struct parser *p, struct word_state *w, int holder, size_t prefix)
{
	size_t open = p->pos + prefix;
	bool first = true;
	int r = enter(p, open);

	if (r)
		return r;
	p->pos = open + 1;
	r = buf_add(&w->text, p->src + open - prefix, prefix + 1) ? oom(p) : 0;
	while (r == 0)
		r = lex_array_element(p, w, holder, open, &first);
	leave(p);
	return r < 0 ? r : 0;
}

/* Tracks unquoted {a,b} and {1..3}, which bash expands into several words. */
static void note_brace(struct word_state *w, const struct parser *p, char c)
{
	if (c == '{') {
		w->open_braces++;
	} else if (w->open_braces > 0 && (c == ',' || (c == '.' && ahead(p, 1) == '.'))) {
		w->brace_has_separator = true;
	} else if (c == '}' && w->open_braces > 0) {
		w->open_braces--;
		if (w->brace_has_separator)
			w->flags |= CG_WORD_BRACE;
	}
}

static int lex_word(struct parser *p, struct cg_word *out, int holder, enum word_mode mode)
{
	struct word_state w;
	size_t assign;
	int open_parens = 0; /* in a regex */
	int r = 0;

	/* Most words are one run of plain characters ending at a blank, an
	 * operator or the end: their text is the source, copied once. */
	if (mode == WORD_NORMAL) {
		size_t run = 0;
		while (p->pos + run < p->len && is_plain(p->src[p->pos + run]))
			run++;
		char end = p->pos + run < p->len ? p->src[p->pos + run] : '\0';
		if (run > 0 && (p->pos + run == p->len || end == ' ' || end == '\t' ||
				end == '\n' || end == ';' || end == '&' || end == '|' || end == ')')) {
			out->text = arena_strndup(p->sh->arena, p->src + p->pos, run);
			out->flags = 0;
			if (!out->text)
				return oom(p);
			p->pos += run;
			return 0;
		}
	}
	assign = assignment_prefix_len(p, p->pos);

	/* Field by field: an initializer would clear the inline buffer too,
	 * which showed as a third of this function's time. */
	w.text.data = NULL;
	w.text.len = w.text.cap = 0;
	w.flags = 0;
	w.start = p->pos;
	w.tilde_at = SIZE_MAX;
	w.open_braces = 0;
	w.brace_has_separator = false;
	out->text = NULL;
	out->flags = 0;
	if (assign)
		w.tilde_at = p->pos + assign; /* bash expands NAME=~ even in arguments */
	if (assign && ahead(p, assign) == '(')
		r = lex_array(p, &w, holder, assign);
	else while (r == 0 && p->pos < p->len) {
		char c = cur(p), n = ahead(p, 1);
		if ((c == '<' || c == '>') && n == '(') {
			r = lex_cmdsub(p, &w, holder);
		} else if (mode == WORD_REGEX &&
			   (c == '(' || c == '|' || c == '<' || c == '>' ||
			    (open_parens > 0 && (c == ')' || c == ' ' || c == '\t')))) {
			open_parens += c == '(' ? 1 : c == ')' ? -1 : 0;
			r = buf_addc(&w.text, c) ? oom(p) : 0;
			p->pos++;
		} else if (c == '(' && p->pos > w.start && strchr("?*+@!", p->src[p->pos - 1])) {
			r = lex_extglob(p, &w, holder);
		} else if (is_meta(c)) {
			break;
		} else if (c == '\\' && n == '\n') {
			p->pos += 2;
		} else if (c == '\\' && p->pos + 1 < p->len) {
			w.flags |= CG_WORD_QUOTED;
			r = buf_addc(&w.text, n) ? oom(p) : 0;
			p->pos += 2;
		} else if (c == '\'') {
			r = lex_single(p, &w);
		} else if (c == '"') {
			r = lex_double(p, &w, holder, false);
		} else if (c == '$') {
			r = lex_dollar(p, &w, holder, false);
		} else if (c == '`') {
			r = lex_backquote(p, &w, holder, false);
		} else if (is_plain(c)) {
			size_t run = 1;
			while (p->pos + run < p->len && is_plain(p->src[p->pos + run]))
				run++;
			r = buf_add(&w.text, p->src + p->pos, run) ? oom(p) : 0;
			p->pos += run;
		} else {
			if (c == '*' || c == '?' || c == '[')
				w.flags |= CG_WORD_GLOB;
			else if (c == '~' && (p->pos == w.start || p->pos == w.tilde_at))
				w.flags |= CG_WORD_TILDE;
			note_brace(&w, p, c);
			r = buf_addc(&w.text, c) ? oom(p) : 0;
			p->pos++;
		}
	}
	if (r) {
		buf_free(&w.text);
		return r;
	}
	out->text = buf_take(p->sh->arena, &w.text);
	if (!out->text)
		return oom(p);
	out->flags = w.flags;
	return 0;
}

/* ---------------------------------------------------------------- here-documents */

static struct cg_redir *redir_at(struct parser *p, const struct pending_heredoc *h)
{
	return &cmd_at(p, h->cmd)->redirs[h->redir];
}

/* Reads one line; with `join`, also the lines that a trailing backslash
 * joins to it, as bash does before comparing with an unquoted delimiter. */
static int read_logical_line(struct parser *p, struct buf *line, bool strip_tabs, bool join)
{
	line->len = 0;
	for (;;) {
		const char *s = p->src + p->pos;
		const char *nl = memchr(s, '\n', p->len - p->pos);
		size_t n = nl ? (size_t)(nl - s) : p->len - p->pos;
		size_t tabs = 0, backslashes = 0;

		while (strip_tabs && tabs < n && s[tabs] == '\t')
			tabs++;
		if (buf_add(line, s + tabs, n - tabs))
			return oom(p);
		p->pos += n + (nl ? 1 : 0);
		while (backslashes < line->len && line->data[line->len - 1 - backslashes] == '\\')
			backslashes++;
		if (!join || !nl || backslashes % 2 == 0 || p->pos >= p->len)
			return 0;
		line->data[--line->len] = '\0';
	}
}

static int read_heredocs(struct parser *p);

/* Substitutions in a body whose delimiter is unquoted run when the
 * here-document is used, so they are parsed like those of a "..." word. */
static int scan_heredoc(struct parser *p, const struct pending_heredoc *h, size_t body_at)
{
	const struct cg_simple_cmd *c = cmd_at(p, h->cmd);
	const char *body = redir_at(p, h)->heredoc; /* its own allocation: stays put */
	struct parser sub = {
		.sh = p->sh,
		.src = body,
		.len = strlen(body),
		.base = p->base + body_at,
		.depth = c->depth, /* a substitution in it is one deeper */
		.function = c->function,
		.parent = (int)h->cmd,
	};
	struct word_state scratch = { 0 };
	int r = enter(p, body_at);

	if (r)
		return r;
	r = lex_double(&sub, &scratch, (int)h->cmd, true);
	buf_free(&scratch.text);
	if (r == 0)
		r = read_heredocs(&sub);
	free(sub.heredocs);
	leave(p);
	return r;
}

static int read_heredoc(struct parser *p, const struct pending_heredoc *h)
{
	struct cg_redir *rd = redir_at(p, h);
	const char *delim = rd->target.text;
	size_t delim_len = strlen(delim), body_at = p->pos;
	struct buf body = { 0 }, line = { 0 };
	int r = 0;

	while (r == 0 && p->pos < p->len) {
		r = read_logical_line(p, &line, h->strip_tabs, !rd->heredoc_quoted);
		if (r == 0 && line.len == delim_len && (delim_len == 0 || memcmp(line.data, delim, delim_len) == 0))
			break;
		if (r == 0 && (buf_add(&body, line.data ? line.data : "", line.len) || buf_addc(&body, '\n')))
			r = oom(p);
	}
	buf_free(&line);
	if (r) {
		buf_free(&body);
		return r;
	}
	rd->heredoc = buf_take(p->sh->arena, &body);
	if (!rd->heredoc)
		return oom(p);
	if (rd->heredoc_quoted || !strpbrk(rd->heredoc, "$`"))
		return 0;
	return scan_heredoc(p, h, body_at);
}

/* Bodies start on the line after their operators, in the operators' order. */
static int read_heredocs(struct parser *p)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < p->n_heredocs; i++)
		r = read_heredoc(p, &p->heredocs[i]);
	p->n_heredocs = 0;
	return r;
}

static int skip_linebreaks(struct parser *p)
{
	while (peek(p) == T_NEWLINE) {
		p->pos++;
		int r = read_heredocs(p);
		if (r)
			return r;
	}
	return 0;
}

/* ---------------------------------------------------------------- redirections */

static bool is_fd_word(const char *s)
{
	size_t n = 0;

	if (strcmp(s, "-") == 0)
		return true;
	while (is_digit(s[n]))
		n++;
	return n > 0 && (s[n] == '\0' || (s[n] == '-' && s[n + 1] == '\0'));
}

/* Bash removes line continuations before it reads an operator, so
 * "<<\<newline>-EOF" is "<<-EOF" and the body ends at a tab-indented EOF.
 * Copies up to n operator characters at pos into text, with where each
 * ends in the source. */
static void op_chars(const struct parser *p, char *text, size_t *ends, size_t n)
{
	size_t i = p->pos, k = 0;

	while (k < n) {
		while (i + 1 < p->len && p->src[i] == '\\' && p->src[i + 1] == '\n')
			i += 2;
		if (i >= p->len)
			break;
		text[k] = p->src[i++];
		ends[k++] = i;
	}
	text[k] = '\0';
}

static int parse_redir(struct parser *p, size_t idx)
{
	static const struct {
		const char *op;
		enum cg_redir_kind kind;
	} ops[] = {
		{ "&>>", CG_REDIR_OUT_ERR }, { "&>", CG_REDIR_OUT_ERR },
		{ "<<<", CG_REDIR_HERESTRING }, { "<<-", CG_REDIR_HEREDOC },
		{ "<<", CG_REDIR_HEREDOC }, { "<>", CG_REDIR_RDWR },
		{ "<&", CG_REDIR_DUP }, { "<", CG_REDIR_IN },
		{ ">>", CG_REDIR_APPEND }, { ">|", CG_REDIR_OUT },
		{ ">&", CG_REDIR_DUP }, { ">", CG_REDIR_OUT },
	};
	size_t start = p->pos, digits = io_number_len(p), i = 0;
	struct cg_redir rd = { .fd = -1 };

	if (digits > 9)
		return fail(p, -EINVAL, start, "file descriptor number too large");
	if (digits) {
		rd.fd = 0;
		for (size_t d = 0; d < digits; d++)
			rd.fd = rd.fd * 10 + (p->src[p->pos + d] - '0');
		p->pos += digits;
	}
	char text[4];
	size_t ends[3];
	op_chars(p, text, ends, 3);
	while (i + 1 < sizeof(ops) / sizeof(ops[0]) && strncmp(text, ops[i].op, strlen(ops[i].op)) != 0)
		i++;
	const char *op = ops[i].op;
	rd.kind = ops[i].kind;
	p->pos = ends[strlen(op) - 1];
	if (peek(p) != T_WORD)
		return fail(p, -EINVAL, start, "missing word after redirection '%s'", op);
	int r = lex_word(p, &rd.target, (int)idx, WORD_NORMAL);
	if (r)
		return r;
	/* >&word with a word that is not a descriptor opens a file: bash
	 * decides after expansion, and a path must not escape the checks. */
	if (rd.kind == CG_REDIR_DUP && !is_fd_word(rd.target.text))
		rd.kind = op[0] == '<' ? CG_REDIR_IN : rd.fd < 0 ? CG_REDIR_OUT_ERR : CG_REDIR_OUT;
	rd.heredoc_quoted = rd.kind == CG_REDIR_HEREDOC && (rd.target.flags & CG_WORD_QUOTED);

	struct cg_simple_cmd *c = cmd_at(p, idx);
	struct cg_redir *redirs = arena_room_for_one(p->sh->arena, c->redirs, c->n_redirs,
						     sizeof(*redirs));
	if (!redirs)
		return oom(p);
	c->redirs = redirs;
	redirs[c->n_redirs++] = rd;
	if (rd.kind != CG_REDIR_HEREDOC)
		return 0;

	struct pending_heredoc *h = room_for_one(p->heredocs, p->n_heredocs, sizeof(*h));
	if (!h)
		return oom(p);
	p->heredocs = h;
	h[p->n_heredocs++] = (struct pending_heredoc){
		.cmd = idx,
		.redir = c->n_redirs - 1,
		.strip_tabs = op[2] == '-',
	};
	return 0;
}

/* ---------------------------------------------------------------- grammar */

static int parse_command(struct parser *p);
static int parse_compound(struct parser *p);

static bool at_list_end(struct parser *p)
{
	switch (peek(p)) {
	case T_EOF:
	case T_RPAREN:
	case T_DSEMI:
	case T_SEMI_AMP:
	case T_DSEMI_AMP:
		return true;
	case T_WORD:
		return closer_at(p) != NULL;
	default:
		return false;
	}
}

static bool at_compound(struct parser *p)
{
	static const char *const starters[] = {
		"{", "if", "while", "until", "for", "select", "case", "[[", NULL,
	};
	enum tok t = peek(p);

	if (t == T_LPAREN)
		return true;
	if (t != T_WORD || !starts_reserved_word(cur(p)))
		return false;
	for (size_t i = 0; starters[i]; i++)
		if (at_word(p, starters[i]))
			return true;
	return false;
}

/* Gives the commands of a pipeline element (from `first` on) their place
 * in a pipeline of two or more.  Commands of a compound element share the
 * element's place, unless they form a pipeline of their own (pipe_len > 1);
 * commands inside substitutions (deeper) keep theirs. */
static void place_in_pipeline(struct parser *p, size_t first, int id, int index)
{
	struct cg_script *s = p->sh->script;

	for (size_t i = first; i < s->n_cmds; i++) {
		struct cg_simple_cmd *c = &s->cmds[i];
		if (c->depth == p->depth && c->pipe_len == 1) {
			c->pipeline = id;
			c->pipe_index = index;
		}
	}
}

static int parse_pipeline(struct parser *p)
{
	struct cg_script *s = p->sh->script;
	size_t first = s->n_cmds, element = first;
	int id = -1, n = 0;

	while (peek(p) == T_WORD && at_word(p, "!"))
		p->pos++;
	for (;;) {
		int r = parse_command(p);
		if (r)
			return r;
		if (id >= 0)
			place_in_pipeline(p, element, id, n);
		n++;
		enum tok t = peek(p);
		if (t != T_PIPE && t != T_PIPE_AMP)
			break;
		if (id < 0) { /* a second element: this is a pipeline */
			id = p->sh->next_pipeline++;
			place_in_pipeline(p, first, id, 0);
		}
		p->pos += t == T_PIPE ? 1 : 2;
		r = skip_linebreaks(p);
		if (r)
			return r;
		element = s->n_cmds;
	}
	for (size_t i = first; id >= 0 && i < s->n_cmds; i++)
		if (s->cmds[i].pipeline == id)
			s->cmds[i].pipe_len = n;
	return 0;
}

static int parse_and_or(struct parser *p)
{
	int r = parse_pipeline(p);

	while (r == 0 && (peek(p) == T_AND_IF || peek(p) == T_OR_IF)) {
		p->pos += 2;
		r = skip_linebreaks(p);
		if (r == 0)
			r = parse_pipeline(p);
	}
	return r;
}

/* A compound list: and-or lists separated by ; & or newlines, up to a
 * token that cannot start a command; the caller checks that token. */
static int parse_list(struct parser *p)
{
	int r = skip_linebreaks(p);

	while (r == 0 && !at_list_end(p)) {
		size_t first = p->sh->script->n_cmds;
		r = parse_and_or(p);
		if (r)
			break;
		enum tok t = peek(p);
		if (t == T_AMP) {
			struct cg_script *s = p->sh->script;
			for (size_t i = first; i < s->n_cmds; i++)
				s->cmds[i].background = true;
		}
		if (t == T_SEMI || t == T_AMP)
			p->pos++;
		else if (t != T_NEWLINE)
			break;
		r = skip_linebreaks(p);
	}
	return r;
}

/* Redirections after a compound command apply to all of it; they are
 * carried by a command of their own with no words (or, for [[ ]] and
 * (( )), by that command). */
static int parse_trailing_redirs(struct parser *p, size_t carrier)
{
	int r = 0;

	while (r == 0 && peek(p) == T_REDIR) {
		if (carrier == SIZE_MAX)
			r = new_cmd(p, &carrier);
		if (r == 0)
			r = parse_redir(p, carrier);
	}
	return r;
}

static int parse_subshell(struct parser *p)
{
	size_t open = p->pos++;
	int r = parse_list(p);

	if (r)
		return r;
	if (peek(p) == T_RPAREN) {
		p->pos++;
		return 0;
	}
	if (peek(p) == T_EOF)
		return fail(p, -EINVAL, open, "missing ')' for '('");
	return unexpected(p);
}

static int parse_brace_group(struct parser *p)
{
	size_t open = p->pos++;
	int r = parse_list(p);

	return r ? r : expect_word(p, "}", open, "{");
}

static int parse_if(struct parser *p)
{
	size_t open = p->pos;
	int r;

	p->pos += 2;
	r = parse_list(p);
	if (r == 0)
		r = expect_word(p, "then", open, "if");
	if (r == 0)
		r = parse_list(p);
	while (r == 0 && peek(p) == T_WORD && at_word(p, "elif")) {
		p->pos += 4;
		r = parse_list(p);
		if (r == 0)
			r = expect_word(p, "then", open, "if");
		if (r == 0)
			r = parse_list(p);
	}
	if (r == 0 && peek(p) == T_WORD && at_word(p, "else")) {
		p->pos += 4;
		r = parse_list(p);
	}
	return r ? r : expect_word(p, "fi", open, "if");
}

static int parse_do_group(struct parser *p, size_t open, const char *opener)
{
	int r = expect_word(p, "do", open, opener);

	if (r == 0)
		r = parse_list(p);
	return r ? r : expect_word(p, "done", open, opener);
}

static int parse_loop(struct parser *p)
{
	size_t open = p->pos;
	const char *keyword = at_word(p, "while") ? "while" : "until";
	int r;

	p->pos += 5;
	r = parse_list(p);
	return r ? r : parse_do_group(p, open, keyword);
}

/* Words that are not part of any simple command (a for list, a case
 * subject or pattern): substitutions in them are parsed with no parent. */
static int lex_loose_word(struct parser *p)
{
	struct cg_word w;

	return lex_word(p, &w, -1, WORD_NORMAL);
}

static int parse_for(struct parser *p)
{
	size_t open = p->pos;
	const char *keyword = at_word(p, "for") ? "for" : "select";
	int r = 0;

	p->pos += strlen(keyword);
	if (peek(p) == T_LPAREN && at(p, "((")) {
		struct word_state scratch = { 0 };
		r = lex_arith(p, &scratch, -1, 2, ')');
		buf_free(&scratch.text);
		if (r == 0 && peek(p) == T_SEMI)
			p->pos++;
	} else {
		if (peek(p) != T_WORD)
			return unexpected(p);
		r = lex_loose_word(p);
		if (r == 0)
			r = skip_linebreaks(p);
		if (r == 0 && peek(p) == T_WORD && at_word(p, "in")) {
			p->pos += 2;
			while (r == 0 && peek(p) == T_WORD)
				r = lex_loose_word(p);
			if (r == 0 && peek(p) == T_SEMI)
				p->pos++;
			else if (r == 0 && peek(p) != T_NEWLINE && peek(p) != T_EOF)
				return unexpected(p);
		} else if (r == 0 && peek(p) == T_SEMI) {
			p->pos++;
		}
	}
	if (r == 0)
		r = skip_linebreaks(p);
	if (r)
		return r;
	if (peek(p) == T_WORD && at_word(p, "{"))
		return parse_brace_group(p);
	return parse_do_group(p, open, keyword);
}

static int parse_case(struct parser *p)
{
	size_t open = p->pos;
	int r;

	p->pos += 4;
	if (peek(p) != T_WORD)
		return unexpected(p);
	r = lex_loose_word(p);
	if (r == 0)
		r = skip_linebreaks(p);
	if (r == 0)
		r = expect_word(p, "in", open, "case");
	while (r == 0) {
		r = skip_linebreaks(p);
		if (r)
			break;
		if (peek(p) == T_WORD && at_word(p, "esac")) {
			p->pos += 4;
			return 0;
		}
		if (peek(p) == T_EOF)
			return fail(p, -EINVAL, open, "missing 'esac' for 'case'");
		if (peek(p) == T_LPAREN)
			p->pos++;
		for (;;) { /* pattern | pattern ) */
			if (peek(p) != T_WORD)
				return unexpected(p);
			r = lex_loose_word(p);
			if (r)
				return r;
			if (peek(p) == T_RPAREN)
				break;
			if (peek(p) != T_PIPE)
				return unexpected(p);
			p->pos++;
		}
		p->pos++;
		r = parse_list(p);
		if (r)
			break;
		enum tok t = peek(p);
		if (t == T_DSEMI || t == T_SEMI_AMP || t == T_DSEMI_AMP)
			p->pos += tok_len(p, t);
		else if (t != T_EOF && !(t == T_WORD && at_word(p, "esac")))
			return unexpected(p);
	}
	return r;
}

/* [[ ... ]]: one simple command whose words are "[[", the test words, "]]".
 * && || ( ) < > are words here, and the right side of =~ is a regex. */
static int parse_test(struct parser *p, size_t *idx)
{
	static const char *const operators[] = { "&&", "||", "(", ")", "<", ">", NULL };
	size_t open = p->pos;
	bool is_regex = false;
	int r = new_cmd(p, idx);

	if (r == 0)
		r = push_literal(p, *idx, "[[");
	p->pos += 2;
	while (r == 0) {
		r = skip_linebreaks(p);
		if (r)
			break;
		enum tok t = peek(p);
		if (t == T_EOF)
			return fail(p, -EINVAL, open, "missing ']]' for '[['");
		if (t == T_WORD && at_word(p, "]]")) {
			p->pos += 2;
			return push_literal(p, *idx, "]]");
		}
		const char *op = NULL;
		for (size_t i = 0; t != T_WORD && operators[i] && !op; i++)
			if (at(p, operators[i]))
				op = operators[i];
		if (op) {
			r = push_literal(p, *idx, op);
			p->pos += strlen(op);
			is_regex = false;
			continue;
		}
		if (t != T_WORD && !io_number_len(p))
			return unexpected(p);
		struct cg_word w;
		r = lex_word(p, &w, (int)*idx, is_regex ? WORD_REGEX : WORD_NORMAL);
		if (r)
			break;
		is_regex = strcmp(w.text, "=~") == 0 && w.flags == 0;
		struct cg_simple_cmd *c = cmd_at(p, *idx);
		r = push_word(p, &c->words, &c->n_words, &w);
	}
	return r;
}

/* (( expr )): one simple command with the words "((", the expression as
 * written (flagged ARITH), "))". */
static int parse_arith_command(struct parser *p, size_t *idx)
{
	struct word_state w = { 0 };
	int r = new_cmd(p, idx);

	if (r == 0)
		r = push_literal(p, *idx, "((");
	if (r == 0)
		r = lex_arith(p, &w, (int)*idx, 2, ')');
	if (r) {
		buf_free(&w.text);
		return r;
	}
	struct cg_word expr = {
		.text = arena_strndup(p->sh->arena, w.text.data + 2, w.text.len - 4),
		.flags = w.flags,
	};
	buf_free(&w.text);
	if (!expr.text)
		return oom(p);
	struct cg_simple_cmd *c = cmd_at(p, *idx);
	r = push_word(p, &c->words, &c->n_words, &expr);
	return r ? r : push_literal(p, *idx, "))");
}

static int parse_compound(struct parser *p)
{
	size_t carrier = SIZE_MAX;
	int r = enter(p, p->pos);

	if (r)
		return r;
	if (at(p, "((") && arith_closes(p, p->pos + 2))
		r = parse_arith_command(p, &carrier);
	else if (at(p, "("))
		r = parse_subshell(p);
	else if (at_word(p, "{"))
		r = parse_brace_group(p);
	else if (at_word(p, "if"))
		r = parse_if(p);
	else if (at_word(p, "while") || at_word(p, "until"))
		r = parse_loop(p);
	else if (at_word(p, "for") || at_word(p, "select"))
		r = parse_for(p);
	else if (at_word(p, "case"))
		r = parse_case(p);
	else
		r = parse_test(p, &carrier);
	leave(p);
	return r ? r : parse_trailing_redirs(p, carrier);
}

/* The body of a function is a compound command; its commands, and those
 * carrying its redirections, belong to the function. */
static int parse_function_body(struct parser *p, char *name, size_t at_pos)
{
	struct cg_script *s = p->sh->script;
	struct cg_function *functions = arena_room_for_one(p->sh->arena, s->functions,
							   s->n_functions, sizeof(*functions));
	int saved = p->function, index, r;

	if (!functions)
		return oom(p);
	s->functions = functions;
	index = (int)s->n_functions++;
	functions[index].name = name;
	r = skip_linebreaks(p);
	if (r)
		return r;
	if (!at_compound(p)) {
		if (peek(p) == T_EOF)
			return fail(p, -EINVAL, at_pos, "missing body of function '%s'", name);
		return fail(p, -EINVAL, p->pos, "body of function '%s' is not a compound command", name);
	}
	p->function = index;
	r = parse_compound(p);
	p->function = saved;
	return r;
}

/* function NAME [()] BODY */
static int parse_function_keyword(struct parser *p)
{
	size_t open = p->pos;
	struct cg_word name;
	int r;

	p->pos += strlen("function");
	if (peek(p) != T_WORD)
		return unexpected(p);
	r = lex_word(p, &name, -1, WORD_NORMAL);
	if (r)
		return r;
	if (name.flags & CG_WORD_EXPANDS)
		return fail(p, -EINVAL, open, "function name is not a plain word");
	if (peek(p) == T_LPAREN) {
		p->pos++;
		if (peek(p) != T_RPAREN)
			return unexpected(p);
		p->pos++;
	}
	return parse_function_body(p, name.text, open);
}

/* NAME () BODY: met as the first word of what looked like a simple
 * command, whose placeholder (the last command, since a plain word adds
 * none) is dropped. */
static int parse_posix_function(struct parser *p, size_t idx, struct cg_word *name, size_t start)
{
	struct cg_script *s = p->sh->script;

	p->pos++;
	if (peek(p) != T_RPAREN)
		return unexpected(p);
	if ((name->flags & CG_WORD_EXPANDS) || idx + 1 != s->n_cmds)
		return fail(p, -EINVAL, start, "function name is not a plain word");
	p->pos++;
	s->n_cmds--;   /* what it held stays in the arena until the script is freed */
	return parse_function_body(p, name->text, start);
}

static int parse_simple(struct parser *p)
{
	size_t idx, start = p->pos;
	int r = new_cmd(p, &idx);

	while (r == 0) {
		enum tok t = peek(p);
		if (t == T_REDIR) {
			r = parse_redir(p, idx);
			continue;
		}
		if (t != T_WORD)
			break;
		struct cg_simple_cmd *c = cmd_at(p, idx);
		bool is_first = c->n_words == 0 && c->n_assigns == 0 && c->n_redirs == 0;
		bool is_assign = c->n_words == 0 && assignment_prefix_len(p, p->pos) > 0;
		struct cg_word w;
		r = lex_word(p, &w, (int)idx, WORD_NORMAL);
		if (r)
			break;
		if (is_first && !is_assign && peek(p) == T_LPAREN)
			return parse_posix_function(p, idx, &w, start);
		c = cmd_at(p, idx); /* the word's substitutions may have moved the array */
		if (is_assign)
			r = push_word(p, &c->assigns, &c->n_assigns, &w);
		else
			r = push_word(p, &c->words, &c->n_words, &w);
	}
	return r;
}

/* "time [-p]" and "coproc [NAME]" before a compound command only change
 * how it runs, and are skipped; before a simple command they stay words,
 * a wrapper the caller unwraps. */
static void skip_compound_prefix(struct parser *p)
{
	size_t word_at = p->pos;

	if (peek(p) != T_WORD)
		return;
	if (at_word(p, "time")) {
		p->pos += 4;
		if (peek(p) == T_WORD && at_word(p, "-p"))
			p->pos += 2;
	} else if (at_word(p, "coproc")) {
		p->pos += 6;
		if (peek(p) == T_WORD && !at_compound(p))
			while (is_name_char(cur(p)))
				p->pos++;
	} else {
		return;
	}
	if (!at_compound(p))
		p->pos = word_at;
}

static int parse_command(struct parser *p)
{
	skip_compound_prefix(p);
	enum tok t = peek(p);
	if (at_compound(p))
		return parse_compound(p);
	if (t == T_WORD && at_word(p, "function"))
		return parse_function_keyword(p);
	if (t == T_WORD && closer_at(p))
		return unexpected(p);
	if (t == T_WORD || t == T_REDIR)
		return parse_simple(p);
	return unexpected(p);
}

/* A whole text: the input, a backquoted command or a here-document body. */
static int parse_text(struct parser *p)
{
	int r = parse_list(p);

	if (r == 0 && peek(p) != T_EOF)
		r = unexpected(p);
	if (r == 0)
		r = read_heredocs(p); /* bodies cut short by the end of the text */
	free(p->heredocs);
	p->heredocs = NULL;
	p->n_heredocs = 0;
	return r;
}

int cg_shell_parse(const char *src, size_t len, struct cg_script **out, char *err, size_t err_size)
{
	struct shared sh = { .err = err, .err_size = err_size };
	struct parser p = {
		.sh = &sh,
		.src = src ? src : "",
		.len = src ? len : 0,
		.function = -1,
		.parent = -1,
	};
	const char *nul;
	int r;

	*out = NULL;
	if (err && err_size)
		err[0] = '\0';
	if (p.len > CG_SHELL_MAX_INPUT) {
		if (err && err_size)
			snprintf(err, err_size, "input of %zu bytes is over the limit of %u bytes",
				 p.len, CG_SHELL_MAX_INPUT);
		return -E2BIG;
	}
	nul = memchr(p.src, '\0', p.len);
	if (nul)
		return fail(&p, -EINVAL, (size_t)(nul - p.src), "NUL byte in the command");
	sh.arena = script_block_new();
	if (!sh.arena)
		return oom(&p);
	sh.script = &sh.arena->script;
	r = parse_text(&p);
	if (r) {
		cg_script_free(sh.script);
		return r;
	}
	*out = sh.script;
	return 0;
}
