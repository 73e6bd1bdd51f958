/* canon.c - canonical commands: program identity and wrappers.
 *
 * "env FOO=1 nice -n5 timeout 3 /usr//bin/../bin/sudo ls" is sudo: the
 * checks see through the wrappers below to the program that really runs.
 * Each wrapper's own options are skipped by name, so that an option's
 * argument ("-n 5", "-u NAME") is never taken for the payload.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guard/guard-internal.h"

static bool is_one_of(const char *s, const char *const list[])
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

void cg_program_name(const char *word, char *out, size_t size)
{
	char norm[PATH_MAX];
	const char *base = word;

	if (strchr(word, '/'))
		base = cg_path_normalize("/", word, norm, sizeof(norm)) == 0 ? strrchr(norm, '/') + 1
									     : strrchr(word, '/') + 1;
	size_t n = strnlen(base, size - 1);
	memcpy(out, base, n);
	out[n] = '\0';
}

void cg_program_target(const char *base, const char *word, char *out, size_t size)
{
	char resolved[PATH_MAX];
	const char *slash;

	out[0] = '\0';
	/* A bare name is looked up in PATH only when it runs, where the exec
	 * check sees the real file; searching PATH here would cost a dozen
	 * system calls per command for what the runtime decides anyway.  A
	 * relative one is the command's, from the directory its paths are
	 * judged from (not ours). */
	if (!strchr(word, '/') || cg_path_resolve(base, word, resolved) < 0 ||
	    !(slash = strrchr(resolved, '/')))
		return;
	snprintf(out, size, "%s", slash + 1);
}

bool cg_is_dynamic_loader(const char *program)
{
	/* ld-linux-x86-64.so.2, ld-linux.so.2, ld.so, ld64.so.1, ld-musl-x86_64.so.1 */
	return strncmp(program, "ld-", 3) == 0 ? strstr(program, ".so") != NULL :
	       strncmp(program, "ld.so", 5) == 0 || strncmp(program, "ld64.so", 7) == 0;
}

size_t cg_loader_program(char *const argv[], size_t argc)
{
	/* ld.so [--list|--verify|--library-path P|--preload L|--argv0 S ...] PROGRAM ARGS */
	for (size_t i = 1; i < argc; i++) {
		const char *s = argv[i];
		if (strcmp(s, "--library-path") == 0 || strcmp(s, "--inhibit-rpath") == 0 ||
		    strcmp(s, "--audit") == 0 || strcmp(s, "--preload") == 0 ||
		    strcmp(s, "--argv0") == 0 || strcmp(s, "--glibc-hwcaps-prepend") == 0 ||
		    strcmp(s, "--glibc-hwcaps-mask") == 0) {
			i++;
			continue;
		}
		if (strcmp(s, "--") == 0)
			return i + 1 < argc ? i + 1 : 0;
		if (s[0] != '-')
			return i;
	}
	return 0;
}

static bool has_word(const struct cg_word *w, size_t n, const char *const list[])
{
	for (size_t i = 1; i < n; i++)
		if (is_one_of(w[i].text, list))
			return true;
	return false;
}

/* canon.c's own bits of cg_program.kind, beside the CG_PROG_* ones. */
enum {
	PROG_WRAPPER = 1u << 8,        /* runs a payload command after its own options */
	PROG_TAKES_OPERAND = 1u << 9,  /* one operand first: timeout DURATION, taskset MASK */
	PROG_FETCH = 1u << 10,         /* fetches or decompresses, whatever its options */
	PROG_ALL_TEXT = 1u << 11,      /* every argument is text: echo, export X=/usr/lib/jvm */
	PROG_PATTERN_FIRST = 1u << 12, /* the first operand is a pattern: grep, sed, awk */
	PROG_AWK = 1u << 13,           /* awk's -v and -F take an argument */
};

/* Programs that cg_unwrap() and the checks treat one by one. */
enum special {
	SPECIAL_NONE,
	SPECIAL_EVAL,
	SPECIAL_FIND,
	SPECIAL_TRAP,
	SPECIAL_ALIAS,
	SPECIAL_SCRIPT,
	SPECIAL_MULTICALL,   /* busybox, toybox */
	SPECIAL_QUERY,       /* type, which, hash */
	SPECIAL_ENV,
	SPECIAL_COMMAND,
	SPECIAL_NICE,
	SPECIAL_XARGS,
	SPECIAL_ECHO,
	SPECIAL_PRINTF,
};

struct cg_program_entry {
	const char *name;
	unsigned kind;
	enum special special;
	/* A wrapper's options: `short_args` lists the option letters that take
	 * an argument (so that it is skipped), `long_args` the long options
	 * that take one when not written --opt=value. */
	const char *short_args;
	const char *const *long_args;
	/* Arguments that make the program decode its input (base64 -d). */
	const char *const *decode_words;
};

static const char *const env_long[] = { "--unset", "--chdir", "--split-string", "--block-signal",
					"--default-signal", "--ignore-signal", NULL };
static const char *const nice_long[] = { "--adjustment", NULL };
static const char *const timeout_long[] = { "--signal", "--kill-after", NULL };
static const char *const stdbuf_long[] = { "--input", "--output", "--error", NULL };
static const char *const time_long[] = { "--format", "--output", NULL };
static const char *const xargs_long[] = { "--arg-file", "--delimiter", "--eof", "--replace",
					  "--max-lines", "--max-args", "--max-procs", "--max-chars",
					  "--process-slot-var", NULL };

static const char *const decode_flags[] = { "-d", "--decode", "-D", "-di", "-id", NULL };
static const char *const xxd_flags[] = { "-r", "-revert", "-rp", "-pr", NULL };
static const char *const openssl_flags[] = { "-d", "base64", "enc", NULL };
static const char *const decompress_flags[] = { "-d", "--decompress", "-dc", "-cd", "-df", NULL };

/* Sorted by strcmp() (byte order) for the binary search in
 * cg_program_identify(): keep it sorted when adding a name. */
static const struct cg_program_entry programs[] = {
	{ .name = ".", .kind = CG_PROG_SOURCES },
	{ .name = ":", .kind = PROG_ALL_TEXT },
	{ .name = "ack", .kind = PROG_PATTERN_FIRST },
	{ .name = "ag", .kind = PROG_PATTERN_FIRST },
	{ .name = "alias", .kind = 0, .special = SPECIAL_ALIAS },
	{ .name = "aria2c", .kind = PROG_FETCH },
	{ .name = "ash", .kind = CG_PROG_SHELL },
	{ .name = "awk", .kind = PROG_PATTERN_FIRST | PROG_AWK },
	{ .name = "base32", .kind = 0, .decode_words = decode_flags },
	{ .name = "base64", .kind = 0, .decode_words = decode_flags },
	{ .name = "basenc", .kind = 0, .decode_words = decode_flags },
	{ .name = "bash", .kind = CG_PROG_SHELL },
	{ .name = "builtin", .kind = PROG_WRAPPER, .short_args = "" },
	{ .name = "busybox", .kind = 0, .special = SPECIAL_MULTICALL },
	{ .name = "bzcat", .kind = PROG_FETCH },
	{ .name = "bzip2", .kind = 0, .decode_words = decompress_flags },
	{ .name = "caffeinate", .kind = PROG_WRAPPER, .short_args = "" },
	{ .name = "cat", .kind = CG_PROG_CAT },
	{ .name = "catchsegv", .kind = PROG_WRAPPER, .short_args = "" },
	{ .name = "cd", .kind = CG_PROG_CHANGES_DIR },
	{ .name = "chronic", .kind = PROG_WRAPPER, .short_args = "" },
	{ .name = "chrt", .kind = PROG_WRAPPER | PROG_TAKES_OPERAND, .short_args = "" },
	{ .name = "command", .kind = PROG_WRAPPER, .special = SPECIAL_COMMAND, .short_args = "" },
	{ .name = "coproc", .kind = PROG_WRAPPER, .short_args = "" },
	{ .name = "csh", .kind = CG_PROG_SHELL },
	{ .name = "curl", .kind = PROG_FETCH },
	{ .name = "dash", .kind = CG_PROG_SHELL },
	{ .name = "dbus-run-session", .kind = PROG_WRAPPER, .short_args = "" },
	{ .name = "declare", .kind = PROG_ALL_TEXT },
	{ .name = "doas", .kind = PROG_WRAPPER, .short_args = "uC" },
	{ .name = "eatmydata", .kind = PROG_WRAPPER, .short_args = "" },
	{ .name = "echo", .kind = PROG_ALL_TEXT, .special = SPECIAL_ECHO },
	{ .name = "egrep", .kind = PROG_PATTERN_FIRST },
	{ .name = "env", .kind = PROG_WRAPPER, .special = SPECIAL_ENV, .short_args = "uCS",
	  .long_args = env_long },
	{ .name = "eval", .kind = 0, .special = SPECIAL_EVAL },
	{ .name = "exec", .kind = PROG_WRAPPER, .short_args = "a" },
	{ .name = "export", .kind = PROG_ALL_TEXT },
	{ .name = "expr", .kind = PROG_PATTERN_FIRST },
	{ .name = "fakeroot", .kind = PROG_WRAPPER, .short_args = "lsib" },
	{ .name = "false", .kind = PROG_ALL_TEXT },
	{ .name = "fetch", .kind = PROG_FETCH },
	{ .name = "fgrep", .kind = PROG_PATTERN_FIRST },
	{ .name = "find", .kind = 0, .special = SPECIAL_FIND },
	{ .name = "firejail", .kind = PROG_WRAPPER, .short_args = "" },
	{ .name = "fish", .kind = CG_PROG_SHELL },
	{ .name = "flock", .kind = PROG_WRAPPER | PROG_TAKES_OPERAND, .short_args = "wEc" },
	{ .name = "gawk", .kind = PROG_PATTERN_FIRST | PROG_AWK },
	{ .name = "grep", .kind = PROG_PATTERN_FIRST },
	{ .name = "gunzip", .kind = PROG_FETCH },
	{ .name = "gzip", .kind = 0, .decode_words = decompress_flags },
	{ .name = "hash", .kind = 0, .special = SPECIAL_QUERY },
	{ .name = "http", .kind = PROG_FETCH },
	{ .name = "ionice", .kind = PROG_WRAPPER, .short_args = "cnp" },
	{ .name = "jq", .kind = PROG_PATTERN_FIRST },
	{ .name = "ksh", .kind = CG_PROG_SHELL },
	{ .name = "local", .kind = PROG_ALL_TEXT },
	{ .name = "logger", .kind = PROG_ALL_TEXT },
	{ .name = "ltrace", .kind = PROG_WRAPPER, .short_args = "eopsuEn" },
	{ .name = "lua", .kind = CG_PROG_INTERPRETER },
	{ .name = "lynx", .kind = PROG_FETCH },
	{ .name = "mawk", .kind = PROG_PATTERN_FIRST | PROG_AWK },
	{ .name = "mksh", .kind = CG_PROG_SHELL },
	{ .name = "nawk", .kind = PROG_PATTERN_FIRST | PROG_AWK },
	{ .name = "nc", .kind = PROG_FETCH },
	{ .name = "ncat", .kind = PROG_FETCH },
	{ .name = "netcat", .kind = PROG_FETCH },
	{ .name = "nice", .kind = PROG_WRAPPER, .special = SPECIAL_NICE, .short_args = "n",
	  .long_args = nice_long },
	{ .name = "node", .kind = CG_PROG_INTERPRETER },
	{ .name = "nodejs", .kind = CG_PROG_INTERPRETER },
	{ .name = "nohup", .kind = PROG_WRAPPER, .short_args = "" },
	{ .name = "notify-send", .kind = PROG_ALL_TEXT },
	{ .name = "nsenter", .kind = PROG_WRAPPER, .short_args = "tmuniUpSGr" },
	{ .name = "openssl", .kind = 0, .decode_words = openssl_flags },
	{ .name = "parallel", .kind = PROG_WRAPPER, .short_args = "jSP" },
	{ .name = "perl", .kind = CG_PROG_INTERPRETER },
	{ .name = "php", .kind = CG_PROG_INTERPRETER },
	{ .name = "printf", .kind = PROG_ALL_TEXT, .special = SPECIAL_PRINTF },
	{ .name = "proot", .kind = PROG_WRAPPER, .short_args = "rbw" },
	{ .name = "proxychains", .kind = PROG_WRAPPER, .short_args = "fq" },
	{ .name = "proxychains4", .kind = PROG_WRAPPER, .short_args = "fq" },
	{ .name = "pushd", .kind = CG_PROG_CHANGES_DIR },
	{ .name = "python", .kind = CG_PROG_INTERPRETER },
	{ .name = "python2", .kind = CG_PROG_INTERPRETER },
	{ .name = "python3", .kind = CG_PROG_INTERPRETER },
	{ .name = "rbash", .kind = CG_PROG_SHELL },
	{ .name = "readonly", .kind = PROG_ALL_TEXT },
	{ .name = "rg", .kind = PROG_PATTERN_FIRST },
	{ .name = "ruby", .kind = CG_PROG_INTERPRETER },
	{ .name = "script", .kind = 0, .special = SPECIAL_SCRIPT },
	{ .name = "sed", .kind = PROG_PATTERN_FIRST },
	{ .name = "sem", .kind = PROG_WRAPPER, .short_args = "j" },
	{ .name = "setsid", .kind = PROG_WRAPPER, .short_args = "" },
	{ .name = "sg", .kind = PROG_WRAPPER | PROG_TAKES_OPERAND, .short_args = "" },
	{ .name = "sh", .kind = CG_PROG_SHELL },
	{ .name = "socat", .kind = PROG_FETCH },
	{ .name = "source", .kind = CG_PROG_SOURCES },
	{ .name = "stdbuf", .kind = PROG_WRAPPER, .short_args = "ioe", .long_args = stdbuf_long },
	{ .name = "strace", .kind = PROG_WRAPPER, .short_args = "eopsuEI" },
	{ .name = "taskset", .kind = PROG_WRAPPER | PROG_TAKES_OPERAND, .short_args = "" },
	{ .name = "tclsh", .kind = CG_PROG_INTERPRETER },
	{ .name = "tcsh", .kind = CG_PROG_SHELL },
	{ .name = "time", .kind = PROG_WRAPPER, .short_args = "fo", .long_args = time_long },
	{ .name = "timeout", .kind = PROG_WRAPPER | PROG_TAKES_OPERAND, .short_args = "sk",
	  .long_args = timeout_long },
	{ .name = "torsocks", .kind = PROG_WRAPPER, .short_args = "aPuip" },
	{ .name = "toybox", .kind = 0, .special = SPECIAL_MULTICALL },
	{ .name = "trap", .kind = 0, .special = SPECIAL_TRAP },
	{ .name = "true", .kind = PROG_ALL_TEXT },
	{ .name = "type", .kind = 0, .special = SPECIAL_QUERY },
	{ .name = "typeset", .kind = PROG_ALL_TEXT },
	{ .name = "unbuffer", .kind = PROG_WRAPPER, .short_args = "" },
	{ .name = "uudecode", .kind = PROG_FETCH },
	{ .name = "valgrind", .kind = PROG_WRAPPER, .short_args = "" },
	{ .name = "wall", .kind = PROG_ALL_TEXT },
	{ .name = "watch", .kind = PROG_WRAPPER, .short_args = "nd" },
	{ .name = "wget", .kind = PROG_FETCH },
	{ .name = "which", .kind = 0, .special = SPECIAL_QUERY },
	{ .name = "xargs", .kind = PROG_WRAPPER, .special = SPECIAL_XARGS,
	  .short_args = "aEdIiLlnPs", .long_args = xargs_long },
	{ .name = "xvfb-run", .kind = PROG_WRAPPER, .short_args = "nsfepw" },
	{ .name = "xxd", .kind = 0, .decode_words = xxd_flags },
	{ .name = "xz", .kind = 0, .decode_words = decompress_flags },
	{ .name = "xzcat", .kind = PROG_FETCH },
	{ .name = "yash", .kind = CG_PROG_SHELL },
	{ .name = "yq", .kind = PROG_PATTERN_FIRST },
	{ .name = "zcat", .kind = PROG_FETCH },
	{ .name = "zgrep", .kind = PROG_PATTERN_FIRST },
	{ .name = "zsh", .kind = CG_PROG_SHELL },
	{ .name = "zstd", .kind = 0, .decode_words = decompress_flags },
	{ .name = "zstdcat", .kind = PROG_FETCH },
};

/* strcmp() for the short names of the table, without the call. */
static int name_cmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

void cg_program_identify(const char *word, struct cg_program *out)
{
	size_t lo = 0, hi = sizeof(programs) / sizeof(programs[0]);
	const char *name = out->name;
	char first;

	cg_program_name(word, out->name, sizeof(out->name));
	first = name[0];
	out->entry = NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = name_cmp(programs[mid].name, name);
		if (cmp == 0) {
			out->entry = &programs[mid];
			break;
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (out->entry)
		out->kind = out->entry->kind;
	else if (first == 'p' && strncmp(name, "python3.", 8) == 0)   /* python3.11 and friends */
		out->kind = CG_PROG_INTERPRETER;
	else if (first == 'l' && cg_is_dynamic_loader(name))
		out->kind = CG_PROG_LOADER;
	else
		out->kind = 0;
}

static enum special special_of(const struct cg_program *prog)
{
	return prog->entry ? prog->entry->special : SPECIAL_NONE;
}

bool cg_is_fetch_or_decode(const struct cg_program *prog, const struct cg_word *w, size_t n)
{
	if (prog->kind & PROG_FETCH)
		return true;
	return prog->entry && prog->entry->decode_words && has_word(w, n, prog->entry->decode_words);
}

bool cg_is_literal_text(const struct cg_program *prog, const struct cg_word *w, size_t n)
{
	bool is_printf = special_of(prog) == SPECIAL_PRINTF;

	if (!is_printf && special_of(prog) != SPECIAL_ECHO)
		return false;
	for (size_t i = 1; i < n; i++) {
		if (w[i].flags & (CG_WORD_EXPANDS | CG_WORD_GLOB))
			return false;
		/* printf's escapes and echo -e decode: "\x69\x64" is "id" */
		if (strchr(w[i].text, '\\') || (!is_printf && strcmp(w[i].text, "-e") == 0))
			return false;
		if (is_printf && strchr(w[i].text, '%'))
			return false;
	}
	return true;
}

static bool is_long_with_arg(const struct cg_program_entry *e, const char *word)
{
	return e->long_args && is_one_of(word, e->long_args);
}

static bool is_assignment(const char *s)
{
	if (!(s[0] == '_' || (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
		return false;
	for (s++; *s && *s != '='; s++)
		if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9')))
			return false;
	return *s == '=';
}

/* sh [-opts] -c STRING [name args...]  |  sh [-opts] FILE  |  sh (stdin) */
static void unwrap_shell(const struct cg_word *w, size_t n, struct cg_unwrap *u)
{
	bool has_c = false, has_s = false;
	size_t i;

	for (i = 1; i < n; i++) {
		const char *s = w[i].text;
		if (strcmp(s, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(s, "-") == 0 || strcmp(s, "/dev/stdin") == 0 || strcmp(s, "/dev/fd/0") == 0 ||
		    strcmp(s, "/proc/self/fd/0") == 0) {
			has_s = true;      /* "bash -", "bash /dev/stdin": the script is stdin */
			break;
		}
		if ((s[0] != '-' && s[0] != '+') || s[1] == '\0')
			break;
		if (s[1] == '-')        /* --login, --norc, --posix ... */
			continue;
		if (strchr(s + 1, 'c'))
			has_c = true;
		if (strchr(s + 1, 's'))
			has_s = true;   /* sh -s ARGS: the script comes from stdin */
		/* -o OPTION / +o OPTION take the next word */
		if (strchr(s + 1, 'o') && i + 1 < n)
			i++;
	}
	if (has_c && i < n) {
		u->kind = CG_WRAP_SCRIPT;
		u->script_word = i;
	} else if (has_c || has_s || i >= n) {
		u->kind = CG_WRAP_STDIN_SHELL;
	} else {
		u->kind = CG_WRAP_NONE;   /* a script file: its path is checked, its text is the runtime's */
	}
}

/* python -c CODE, perl -e CODE, node -e CODE run code given as text; the
 * command rules see it as arguments.  With no script at all they read stdin. */
static void unwrap_interpreter(const struct cg_word *w, size_t n, struct cg_unwrap *u)
{
	for (size_t i = 1; i < n; i++) {
		const char *s = w[i].text;
		if (strcmp(s, "-") == 0)
			break;             /* python3 -: the code is stdin */
		if (s[0] != '-')
			return;            /* a script operand */
		if (strcmp(s, "-c") == 0 || strcmp(s, "-e") == 0 || strcmp(s, "-E") == 0 ||
		    strcmp(s, "-m") == 0 || strcmp(s, "-r") == 0 || strcmp(s, "--eval") == 0 ||
		    strcmp(s, "-p") == 0 || strcmp(s, "--print") == 0)
			return;
	}
	u->kind = CG_WRAP_STDIN_SHELL;
}

void cg_unwrap(const struct cg_program *prog, const struct cg_word *w, size_t n,
	       struct cg_unwrap *u)
{
	const struct cg_program_entry *e = prog->entry;
	enum special special = special_of(prog);
	size_t i;

	memset(u, 0, sizeof(*u));
	u->kind = CG_WRAP_NONE;

	if (prog->kind & CG_PROG_SHELL) {
		unwrap_shell(w, n, u);
		return;
	}
	if (prog->kind & CG_PROG_INTERPRETER) {
		unwrap_interpreter(w, n, u);
		return;
	}
	if (special == SPECIAL_EVAL) {
		u->kind = CG_WRAP_SCRIPT;
		u->script_is_joined = true;
		u->script_word = 1;
		return;
	}
	if (special == SPECIAL_FIND) {
		u->kind = CG_WRAP_FIND;
		return;
	}
	/* trap 'CMD' SIGNAL... runs CMD later; alias NAME=CMD runs it as NAME. */
	if (special == SPECIAL_TRAP) {
		if (n > 2 && w[1].text[0] != '-') {
			u->kind = CG_WRAP_SCRIPT;
			u->script_word = 1;
		}
		return;
	}
	if (special == SPECIAL_ALIAS) {
		for (size_t k = 1; k < n; k++) {
			const char *eq = strchr(w[k].text, '=');
			if (eq && w[k].text[0] != '-') {
				u->kind = CG_WRAP_SCRIPT;
				u->script_word = k;
				u->script_offset = (size_t)(eq + 1 - w[k].text);
				return;   /* one definition judged per alias command; more are rare */
			}
		}
		return;
	}
	/* script [-q] -c CMD [file] runs CMD under a pseudo-terminal. */
	if (special == SPECIAL_SCRIPT) {
		for (size_t k = 1; k + 1 < n; k++)
			if (strcmp(w[k].text, "-c") == 0 || strcmp(w[k].text, "--command") == 0 ||
			    (w[k].text[0] == '-' && w[k].text[1] != '-' && strchr(w[k].text, 'c'))) {
				u->kind = CG_WRAP_SCRIPT;
				u->script_word = k + 1;
				return;
			}
		return;
	}
	if (special == SPECIAL_MULTICALL) {
		if (n > 1 && w[1].text[0] != '-') {
			u->kind = CG_WRAP_PREFIX;
			u->next = 1;
		}
		return;
	}
	if (special == SPECIAL_QUERY) {
		u->kind = CG_WRAP_QUERY;
		return;
	}
	if (prog->kind & CG_PROG_LOADER) {
		/* the loader runs its first operand: it is a wrapper */
		for (size_t k = 1; k < n; k++) {
			const char *s = w[k].text;
			if (s[0] != '-') {
				u->kind = CG_WRAP_PREFIX;
				u->next = k;
				return;
			}
			if (strcmp(s, "--library-path") == 0 || strcmp(s, "--inhibit-rpath") == 0 ||
			    strcmp(s, "--audit") == 0 || strcmp(s, "--preload") == 0 ||
			    strcmp(s, "--argv0") == 0)
				k++;
		}
		return;
	}
	if (!(prog->kind & PROG_WRAPPER))
		return;

	bool has_operand = prog->kind & PROG_TAKES_OPERAND;
	for (i = 1; i < n; i++) {
		const char *s = w[i].text;
		if (strcmp(s, "--") == 0) {
			i++;
			if (has_operand && i < n)
				i++;   /* timeout -- 5 CMD: the duration still comes first */
			break;
		}
		if (special == SPECIAL_ENV && is_assignment(s))
			continue;
		if (s[0] != '-' || s[1] == '\0') {
			if (has_operand) {        /* timeout's DURATION, taskset's MASK, ... */
				has_operand = false;
				continue;
			}
			break;
		}
		if (special == SPECIAL_COMMAND && (strchr(s, 'v') || strchr(s, 'V'))) {
			u->kind = CG_WRAP_QUERY;   /* command -v NAME runs nothing */
			return;
		}
		if (special == SPECIAL_ENV &&
		    (strncmp(s, "-S", 2) == 0 || strncmp(s, "--split-string", 14) == 0)) {
			/* env -S 'STRING': the string is split into a command */
			const char *eq = strchr(s, '=');
			u->kind = CG_WRAP_SCRIPT;
			if (s[1] == 'S' && s[2] == '\0') {
				u->script_word = i + 1;
			} else if (s[1] == 'S') {
				u->script_word = i;            /* -S'sudo id' */
				u->script_offset = 2;
			} else if (eq) {
				u->script_word = i;            /* --split-string='sudo id' */
				u->script_offset = (size_t)(eq + 1 - s);
			} else {
				u->script_word = i + 1;
			}
			return;
		}
		if (special == SPECIAL_NICE && s[1] >= '0' && s[1] <= '9')
			continue;              /* nice -5 */
		if (s[1] == '-') {
			if (!strchr(s, '=') && is_long_with_arg(e, s))
				i++;
			continue;
		}
		/* "-n 5" takes the next word; "-n5" carries its argument */
		if (s[2] == '\0' && strchr(e->short_args, s[1]))
			i++;
	}
	if (i < n) {
		u->kind = CG_WRAP_PREFIX;
		u->next = i;
	} else if (special == SPECIAL_XARGS) {
		u->kind = CG_WRAP_NONE;    /* runs echo */
	}
}

void cg_mark_text_words(const struct cg_program *prog, const struct cg_word *w, size_t n,
			bool *is_text)
{
	static const char *const code_flags[] = { "-c", "-e", "-E", "--eval", "-p", "--print",
						  "-r", NULL };
	static const char *const pattern_flags[] = { "-e", "--regexp", "--expression", NULL };
	static const char *const script_file_flags[] = { "-f", "--file", NULL };
	static const char *const message_flags[] = { "-m", "--message", NULL };
	bool is_code_runner = prog->kind & (CG_PROG_INTERPRETER | CG_PROG_SHELL);
	bool is_pattern_first = prog->kind & PROG_PATTERN_FIRST;
	bool has_pattern_option = false;

	/* Assignments (export X=/usr/lib/jvm) name values, not accesses. */
	if (prog->kind & PROG_ALL_TEXT) {
		for (size_t i = 1; i < n; i++)
			is_text[i] = true;
		return;
	}
	if (special_of(prog) == SPECIAL_ENV)
		for (size_t i = 1; i < n; i++)
			if (is_assignment(w[i].text))
				is_text[i] = true;
	for (size_t i = 1; i + 1 < n; i++) {
		const char *s = w[i].text;
		if ((is_code_runner && is_one_of(s, code_flags)) ||
		    (is_pattern_first && is_one_of(s, pattern_flags)) ||
		    (!is_code_runner && !is_pattern_first && is_one_of(s, message_flags))) {
			is_text[++i] = true;   /* python -c CODE, grep -e PATTERN, git commit -m MSG */
			has_pattern_option = true;
		} else if (is_pattern_first && is_one_of(s, script_file_flags)) {
			has_pattern_option = true;   /* sed -f FILE: FILE is a path */
		}
	}
	for (size_t i = 1; i < n; i++)
		if (strncmp(w[i].text, "--message=", 10) == 0 || strncmp(w[i].text, "--regexp=", 9) == 0 ||
		    strncmp(w[i].text, "--expression=", 13) == 0)
			is_text[i] = true;
	if (!is_pattern_first || has_pattern_option)
		return;
	/* The first operand is the pattern, awk program or sed script. */
	bool is_awk = prog->kind & PROG_AWK;
	for (size_t i = 1; i < n; i++) {
		const char *s = w[i].text;
		if (strcmp(s, "--") == 0) {
			if (i + 1 < n)
				is_text[i + 1] = true;
			return;
		}
		if (s[0] == '-' && s[1] != '\0') {
			/* options that take a separate argument */
			if (i + 1 < n && is_awk && (strcmp(s, "-v") == 0 || strcmp(s, "-F") == 0))
				i++;
			else if (i + 1 < n && (strcmp(s, "-A") == 0 || strcmp(s, "-B") == 0 ||
					       strcmp(s, "-C") == 0 || strcmp(s, "-m") == 0))
				i++;
			else if (i + 2 < n && (strcmp(s, "--arg") == 0 || strcmp(s, "--argjson") == 0))
				i += 2;
			continue;
		}
		is_text[i] = true;
		return;
	}
}
