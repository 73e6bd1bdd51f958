/* shell.h - the shell lexer/parser (private to guard/).
 *
 * Parses the POSIX sh language plus the bash quoting people use and
 * flattens the result into the list of every simple command it contains,
 * including those inside subshells, brace groups, function bodies, $(...),
 * backticks and <(...) process substitutions.  Nothing is expanded: words
 * keep their expansions as written and are flagged, quotes are removed.
 */
#ifndef CG_SHELL_H
#define CG_SHELL_H

#include <stdbool.h>
#include <stddef.h>

enum {
	CG_WORD_QUOTED = 1u << 0,      /* some part was quoted ('', "", \, $'') */
	CG_WORD_PARAM = 1u << 1,       /* contains $name, ${...} or $1 unquoted or in "" */
	CG_WORD_CMDSUB = 1u << 2,      /* contains $(...) or `...` or <(...)/>(...) */
	CG_WORD_ARITH = 1u << 3,       /* contains $((...)) */
	CG_WORD_GLOB = 1u << 4,        /* contains an unquoted * ? or [ */
	CG_WORD_TILDE = 1u << 5,       /* begins with an unquoted ~ (or has one right after NAME=) */
	CG_WORD_BRACE = 1u << 6,       /* contains an unquoted brace expansion {a,b} or {1..3} */
};
#define CG_WORD_EXPANDS (CG_WORD_PARAM | CG_WORD_CMDSUB | CG_WORD_ARITH | CG_WORD_BRACE)

struct cg_word {
	char *text;      /* quotes removed, escapes resolved, $'...' decoded; expansions kept verbatim */
	unsigned flags;
};

enum cg_redir_kind {
	CG_REDIR_IN,         /* <  */
	CG_REDIR_OUT,        /* >, >| */
	CG_REDIR_APPEND,     /* >> */
	CG_REDIR_RDWR,       /* <> */
	CG_REDIR_DUP,        /* >&N, <&N, >&-, 2>&1 : target is an fd, not a path */
	CG_REDIR_OUT_ERR,    /* &> file, &>> file, >& file (file target) */
	CG_REDIR_HEREDOC,    /* << and <<- : body in `heredoc` */
	CG_REDIR_HERESTRING, /* <<< word */
};

struct cg_redir {
	enum cg_redir_kind kind;
	int fd;                 /* the fd redirected, -1 for the default */
	struct cg_word target;  /* file name, fd number or here-string; heredoc: the delimiter */
	char *heredoc;          /* here-document body, NULL otherwise */
	bool heredoc_quoted;    /* delimiter was quoted: no expansion in the body */
};

struct cg_simple_cmd {
	struct cg_word *assigns;   /* NAME=value prefixes */
	size_t n_assigns;
	struct cg_word *words;     /* words[0] is the command name; n_words may be 0 (only assignments/redirections) */
	size_t n_words;
	struct cg_redir *redirs;
	size_t n_redirs;

	int pipeline;              /* id of the pipeline it belongs to; unique per pipeline in the script */
	int pipe_index;            /* position in that pipeline, 0-based */
	int pipe_len;              /* number of commands in that pipeline (1 = not piped) */
	bool background;           /* the pipeline (or the list it ends) is run with & */
	int depth;                 /* 0 at top level; +1 inside $(...), `...`, <(...) */
	int function;              /* index into cg_script.functions of the body it is in, or -1 */
	int parent;                /* for commands inside a substitution: index of the command whose word holds it; else -1 */
};

struct cg_function {
	char *name;
};

/* How the constructs without a simple command of their own are flattened:
 * - Redirections after a compound command ({...} > f, while ...; done < f,
 *   f() {...} > log) are carried by an extra command with no words placed
 *   after the compound's commands (same depth, function and pipeline place).
 * - [[ ... ]] is one command with the words "[[", the test words, "]]";
 *   (( expr )) is one command with the words "((", expr (ARITH), "))".
 * - In a pipeline of two or more, the commands of a compound element share
 *   its pipe_index ("curl x | { cd /; sh; }": sh has pipe_index 1), unless
 *   they form a pipeline of their own.
 * - Commands of a substitution that is in no command's word (a for list, a
 *   case subject or pattern) have depth >= 1 and parent -1.
 * - Commands in an unquoted here-document body's substitutions have the
 *   command with the here-document as parent.
 * - "time [-p]" and "coproc [NAME]" before a compound command are dropped;
 *   before a simple command they are its first words. */
struct cg_script {
	struct cg_simple_cmd *cmds;     /* every simple command, in source order */
	size_t n_cmds;
	struct cg_function *functions;  /* every function definition (name() {...} and function name {...}) */
	size_t n_functions;
	/* commands that call a defined function are ordinary simple commands */
};

/* Limits that make malformed or hostile input an error instead of a crash. */
#define CG_SHELL_MAX_DEPTH 64          /* nesting of (), {}, $(), `` */
#define CG_SHELL_MAX_INPUT (1u << 20)  /* bytes; larger input is rejected */

/* Parse `src` (len bytes, may contain NULs only as an error).  On success
 * returns 0 and *out owns a script (cg_script_free).  On a syntax error
 * returns -EINVAL and writes a one-line message naming the byte offset to
 * err (e.g. "unterminated single quote at offset 12"); -E2BIG for input
 * over CG_SHELL_MAX_INPUT or nesting over CG_SHELL_MAX_DEPTH; -ENOMEM. */
int cg_shell_parse(const char *src, size_t len, struct cg_script **out, char *err, size_t err_size);
void cg_script_free(struct cg_script *s);

#endif
