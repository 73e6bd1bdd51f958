/* guard-internal.h - helpers shared by the files of guard/. */
#ifndef CG_GUARD_INTERNAL_H
#define CG_GUARD_INTERNAL_H

#include <limits.h>

#include "guard/guard.h"
#include "guard/shell.h"

/* paths.c */

/* Resolve `path` as the kernel would, relative to `base` when it is not
 * absolute (`base` must be canonical, as realpath(3) or getcwd(3) give it:
 * its own components are not checked again): "." and ".." and symbolic
 * links (at most 40) are followed
 * component by component; components that do not exist are kept as
 * written.  out must hold PATH_MAX bytes.  0 or -errno. */
int cg_path_resolve(const char *base, const char *path, char *out);

enum cg_path_list { CG_PATHS_STATIC, CG_PATHS_READ, CG_PATHS_WRITE };
/* Is `path` one of the always-allowed names (/dev/null, /dev/fd/N, ...)? */
bool cg_path_is_always(const struct cg_context *ctx, const char *path);
/* Is the resolved absolute `path` allowed by the given list of the policy?
 * Longest prefix wins; at equal length "blocked" wins. */
bool cg_path_is_allowed(const struct cg_context *ctx, const char *path, enum cg_path_list list);

/* canon.c */

/* Command words are struct cg_word (shell.h) wherever they come from: a
 * parsed script's words are checked in place, an argv's carry no flags. */

/* Write the program name of a command word: the basename after lexical
 * normalisation ("/usr//bin/../bin/sudo" -> "sudo").  size >= NAME_MAX+1. */
void cg_program_name(const char *word, char *out, size_t size);
/* If `word` is a path ("./x", "/usr/local/bin/x") to an existing file,
 * the basename of the file it resolves to (through symlinks); else "". */
void cg_program_target(const char *base, const char *word, char *out, size_t size);

/* What the checks know of a program by its name: one table lookup per
 * command word answers every question (a shell? a wrapper, and which of
 * its options take an argument?) instead of a scan of one list each. */
enum {
	CG_PROG_SHELL = 1u << 0,        /* sh, bash, ...: -c STRING, a script file, or stdin */
	CG_PROG_INTERPRETER = 1u << 1,  /* python, perl, ...: with no script, code from stdin */
	CG_PROG_LOADER = 1u << 2,       /* ld-linux-x86-64.so.2, ld.so: runs its first operand */
	CG_PROG_CHANGES_DIR = 1u << 3,  /* cd, pushd */
	CG_PROG_SOURCES = 1u << 4,      /* ., source */
	CG_PROG_CAT = 1u << 5,          /* cat */
};

struct cg_program_entry;   /* canon.c's table */

struct cg_program {
	char name[NAME_MAX + 1];               /* as cg_program_name() gives it */
	unsigned kind;                         /* CG_PROG_*, and canon.c's own bits */
	const struct cg_program_entry *entry;  /* NULL when the name has no role */
};

/* Name and classify the program of a command word. */
void cg_program_identify(const char *word, struct cg_program *out);

enum cg_wrap_kind {
	CG_WRAP_NONE,      /* an ordinary program: words[0] runs with the rest as arguments */
	CG_WRAP_PREFIX,    /* env, nice, timeout, ...: the payload command starts at `next` */
	CG_WRAP_SCRIPT,    /* sh -c STRING, env -S STRING, eval WORDS: `script` holds the text */
	CG_WRAP_FIND,      /* find ... -exec CMD ; : the checker walks its expression */
	CG_WRAP_QUERY,     /* command -v, type: runs nothing */
	CG_WRAP_STDIN_SHELL, /* a shell or interpreter with no script: reads stdin */
};

struct cg_unwrap {
	enum cg_wrap_kind kind;
	size_t next;          /* PREFIX: index of the payload's program word */
	size_t script_word;   /* SCRIPT: index of the word holding the script (sh -c) */
	size_t script_offset; /* SCRIPT: where the script starts in that word (env --split-string=...) */
	bool script_is_joined;/* SCRIPT: eval: the script is words[1..n) joined */
};

/* Classify words[0..n) (the program is `prog`). */
void cg_unwrap(const struct cg_program *prog, const struct cg_word *words, size_t n,
	       struct cg_unwrap *u);

/* Indices of the words that a program takes as text or a pattern, not as
 * paths (echo's arguments, grep's pattern, awk's program, sed's script,
 * python -c CODE, ...): sets is_text[i] for i in [1, n). */
void cg_mark_text_words(const struct cg_program *prog, const struct cg_word *words, size_t n,
			bool *is_text);

/* Is `program` the dynamic loader (ld-linux-x86-64.so.2, ld.so, ...)?  Run
 * as a program it maps and starts its first operand without an execve. */
bool cg_is_dynamic_loader(const char *program);
/* The index in argv of the program a loader command line runs, or 0. */
size_t cg_loader_program(char *const argv[], size_t argc);
/* Does this command fetch from the network or decode data (curl, wget,
 * base64 -d, xxd -r, ...)? */
bool cg_is_fetch_or_decode(const struct cg_program *prog, const struct cg_word *words, size_t n);
/* Is this command's output plain text the static check can read (echo or
 * printf of literal words without escapes)?  Then text piped into a shell
 * is checked as a script; any other producer is not readable statically. */
bool cg_is_literal_text(const struct cg_program *prog, const struct cg_word *words, size_t n);

/* net.c */
enum cg_verdict cg_decide_net(const struct cg_context *ctx, const struct cg_event *ev,
			      struct cg_reason *why);
enum cg_verdict cg_decide_host(const struct cg_context *ctx, const char *host,
			       struct cg_reason *why);

/* decide.c */
enum cg_verdict cg_decide_exec(const struct cg_context *ctx, const char *path, char *const argv[],
			       size_t argc, struct cg_reason *why);

/* check.c: the static check of a script or an argv; `is_runtime` limits it
 * to the command rules (system()/popen() strings from the shim). */
enum cg_verdict cg_check_script(const struct cg_context *ctx, const char *text, size_t len,
				bool is_runtime, struct cg_reason *why);
enum cg_verdict cg_check_argv(const struct cg_context *ctx, char *const argv[], size_t argc,
			      struct cg_reason *why);

#endif
