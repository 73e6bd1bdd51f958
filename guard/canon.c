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

	if (strchr(word, '/') && cg_path_normalize("/", word, norm, sizeof(norm)) == 0)
		base = strrchr(norm, '/') + 1;
	else if (strchr(word, '/'))
		base = strrchr(word, '/') + 1;
	size_t n = strnlen(base, size - 1);
	memcpy(out, base, n);
	out[n] = '\0';
}

void cg_program_target(const char *word, char *out, size_t size)
{
	char resolved[PATH_MAX];

	out[0] = '\0';
	/* A bare name is looked up in PATH only when it runs, where the exec
	 * check sees the real file; searching PATH here would cost a dozen
	 * system calls per command for what the runtime decides anyway. */
	if (!strchr(word, '/') || !realpath(word, resolved))
		return;
	snprintf(out, size, "%s", strrchr(resolved, '/') + 1);
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

bool cg_is_shell(const char *program)
{
	static const char *const shells[] = { "sh", "bash", "dash", "zsh", "ksh", "mksh", "ash",
					      "yash", "fish", "tcsh", "csh", "rbash", NULL };
	return is_one_of(program, shells);
}

bool cg_is_interpreter(const char *program)
{
	static const char *const interps[] = { "python", "python2", "python3", "perl", "ruby",
					       "node", "nodejs", "php", "lua", "tclsh", NULL };
	if (is_one_of(program, interps))
		return true;
	/* python3.11 and friends */
	return strncmp(program, "python3.", 8) == 0;
}

static bool has_word(const struct cg_cword *w, size_t n, const char *const list[])
{
	for (size_t i = 1; i < n; i++)
		if (is_one_of(w[i].text, list))
			return true;
	return false;
}

bool cg_is_fetch_or_decode(const char *program, const struct cg_cword *w, size_t n)
{
	static const char *const fetchers[] = { "curl", "wget", "fetch", "aria2c", "nc", "ncat",
						"netcat", "socat", "uudecode", "lynx", "http", NULL };
	static const char *const decoders[] = { "base64", "base32", "basenc", NULL };
	static const char *const decode_flags[] = { "-d", "--decode", "-D", "-di", "-id", NULL };
	static const char *const unzips[] = { "gunzip", "zcat", "bzcat", "xzcat", "zstdcat", NULL };

	if (is_one_of(program, fetchers) || is_one_of(program, unzips))
		return true;
	if (is_one_of(program, decoders))
		return has_word(w, n, decode_flags);
	if (strcmp(program, "xxd") == 0)
		return has_word(w, n, (const char *const[]){ "-r", "-revert", "-rp", "-pr", NULL });
	if (strcmp(program, "openssl") == 0)
		return has_word(w, n, (const char *const[]){ "-d", "base64", "enc", NULL });
	if (strcmp(program, "gzip") == 0 || strcmp(program, "xz") == 0 || strcmp(program, "bzip2") == 0 ||
	    strcmp(program, "zstd") == 0)
		return has_word(w, n, (const char *const[]){ "-d", "--decompress", "-dc", "-cd", "-df", NULL });
	return false;
}

bool cg_is_literal_text(const char *program, const struct cg_cword *w, size_t n)
{
	bool is_printf = strcmp(program, "printf") == 0;

	if (!is_printf && strcmp(program, "echo") != 0)
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

/* Options of a wrapper: which take an argument (so that it is skipped).
 * `short_args` lists the option letters that take one; `long_args` the
 * long options that take one when not written --opt=value. */
struct wrapper {
	const char *name;
	const char *short_args;
	const char *const *long_args;
	bool takes_operand;   /* timeout DURATION, taskset MASK, chrt PRIO: one operand before the payload */
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
static const char *const none_long[] = { NULL };

static const struct wrapper wrappers[] = {
	{ "env", "uCS", env_long, false },
	{ "nice", "n", nice_long, false },
	{ "nohup", "", none_long, false },
	{ "timeout", "sk", timeout_long, true },
	{ "stdbuf", "ioe", stdbuf_long, false },
	{ "time", "fo", time_long, false },
	{ "command", "", none_long, false },
	{ "exec", "a", none_long, false },
	{ "xargs", "aEdIiLlnPs", xargs_long, false },
	{ "setsid", "", none_long, false },
	{ "ionice", "cnp", none_long, false },
	{ "taskset", "", none_long, true },
	{ "chrt", "", none_long, true },
	{ "builtin", "", none_long, false },
	{ "unbuffer", "", none_long, false },
	{ "flock", "wEc", none_long, true },
	{ "caffeinate", "", none_long, false },
	{ "catchsegv", "", none_long, false },
	{ "strace", "eopsuEI", none_long, false },
	{ "ltrace", "eopsuEn", none_long, false },
	{ "watch", "nd", none_long, false },
	{ "doas", "uC", none_long, false },
	{ "coproc", "", none_long, false },
	{ "xvfb-run", "nsfepw", none_long, false },
	{ "fakeroot", "lsib", none_long, false },
	{ "valgrind", "", none_long, false },
	{ "eatmydata", "", none_long, false },
	{ "dbus-run-session", "", none_long, false },
	{ "chronic", "", none_long, false },
	{ "proxychains", "fq", none_long, false },
	{ "proxychains4", "fq", none_long, false },
	{ "torsocks", "aPuip", none_long, false },
	{ "parallel", "jSP", none_long, false },
	{ "sem", "j", none_long, false },
	{ "sg", "", none_long, true },
	{ "nsenter", "tmuniUpSGr", none_long, false },
	{ "firejail", "", none_long, false },
	{ "proot", "rbw", none_long, false },
};

static const struct wrapper *find_wrapper(const char *program)
{
	for (size_t i = 0; i < sizeof(wrappers) / sizeof(wrappers[0]); i++)
		if (strcmp(program, wrappers[i].name) == 0)
			return &wrappers[i];
	return NULL;
}

static bool is_long_with_arg(const struct wrapper *w, const char *word)
{
	for (size_t i = 0; w->long_args[i]; i++)
		if (strcmp(word, w->long_args[i]) == 0)
			return true;
	return false;
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
static void unwrap_shell(const struct cg_cword *w, size_t n, struct cg_unwrap *u)
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
static void unwrap_interpreter(const struct cg_cword *w, size_t n, struct cg_unwrap *u)
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

void cg_unwrap(const char *program, const struct cg_cword *w, size_t n, struct cg_unwrap *u)
{
	const struct wrapper *wr;
	size_t i;

	memset(u, 0, sizeof(*u));
	u->kind = CG_WRAP_NONE;

	if (cg_is_shell(program)) {
		unwrap_shell(w, n, u);
		return;
	}
	if (cg_is_interpreter(program)) {
		unwrap_interpreter(w, n, u);
		return;
	}
	if (strcmp(program, "eval") == 0) {
		u->kind = CG_WRAP_SCRIPT;
		u->script_is_joined = true;
		u->script_word = 1;
		return;
	}
	if (strcmp(program, "find") == 0) {
		u->kind = CG_WRAP_FIND;
		return;
	}
	/* trap 'CMD' SIGNAL... runs CMD later; alias NAME=CMD runs it as NAME. */
	if (strcmp(program, "trap") == 0) {
		if (n > 2 && w[1].text[0] != '-') {
			u->kind = CG_WRAP_SCRIPT;
			u->script_word = 1;
		}
		return;
	}
	if (strcmp(program, "alias") == 0) {
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
	if (strcmp(program, "script") == 0) {
		for (size_t k = 1; k + 1 < n; k++)
			if (strcmp(w[k].text, "-c") == 0 || strcmp(w[k].text, "--command") == 0 ||
			    (w[k].text[0] == '-' && w[k].text[1] != '-' && strchr(w[k].text, 'c'))) {
				u->kind = CG_WRAP_SCRIPT;
				u->script_word = k + 1;
				return;
			}
		return;
	}
	if (strcmp(program, "busybox") == 0 || strcmp(program, "toybox") == 0) {
		if (n > 1 && w[1].text[0] != '-') {
			u->kind = CG_WRAP_PREFIX;
			u->next = 1;
		}
		return;
	}
	if (strcmp(program, "type") == 0 || strcmp(program, "which") == 0 ||
	    strcmp(program, "hash") == 0) {
		u->kind = CG_WRAP_QUERY;
		return;
	}
	if (cg_is_dynamic_loader(program)) {
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
	wr = find_wrapper(program);
	if (!wr)
		return;

	bool has_operand = wr->takes_operand;
	for (i = 1; i < n; i++) {
		const char *s = w[i].text;
		if (strcmp(s, "--") == 0) {
			i++;
			if (has_operand && i < n)
				i++;   /* timeout -- 5 CMD: the duration still comes first */
			break;
		}
		if (strcmp(program, "env") == 0 && is_assignment(s))
			continue;
		if (s[0] != '-' || s[1] == '\0') {
			if (has_operand) {        /* timeout's DURATION, taskset's MASK, ... */
				has_operand = false;
				continue;
			}
			break;
		}
		if (strcmp(program, "command") == 0 && (strchr(s, 'v') || strchr(s, 'V'))) {
			u->kind = CG_WRAP_QUERY;   /* command -v NAME runs nothing */
			return;
		}
		if (strcmp(program, "env") == 0 &&
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
		if (strcmp(program, "nice") == 0 && s[1] >= '0' && s[1] <= '9')
			continue;              /* nice -5 */
		if (s[1] == '-') {
			if (!strchr(s, '=') && is_long_with_arg(wr, s))
				i++;
			continue;
		}
		/* "-n 5" takes the next word; "-n5" carries its argument */
		if (s[2] == '\0' && strchr(wr->short_args, s[1]))
			i++;
	}
	if (i < n) {
		u->kind = CG_WRAP_PREFIX;
		u->next = i;
	} else if (strcmp(program, "xargs") == 0) {
		u->kind = CG_WRAP_NONE;    /* runs echo */
	}
}

void cg_mark_text_words(const char *program, const struct cg_cword *w, size_t n, bool *is_text)
{
	/* Assignments (export X=/usr/lib/jvm) name values, not accesses. */
	static const char *const all_text[] = { "echo", "printf", "true", "false", ":", "logger",
						"notify-send", "wall", "export", "declare", "typeset",
						"local", "readonly", NULL };
	static const char *const pattern_first[] = { "grep", "egrep", "fgrep", "rg", "ag", "ack",
						     "sed", "awk", "gawk", "mawk", "nawk", "jq", "yq",
						     "expr", "zgrep", NULL };
	static const char *const code_flags[] = { "-c", "-e", "-E", "--eval", "-p", "--print",
						  "-r", NULL };
	static const char *const pattern_flags[] = { "-e", "--regexp", "--expression", NULL };
	static const char *const script_file_flags[] = { "-f", "--file", NULL };
	static const char *const message_flags[] = { "-m", "--message", NULL };
	bool is_code_runner = cg_is_interpreter(program) || cg_is_shell(program);
	bool is_pattern_first = is_one_of(program, pattern_first);
	bool has_pattern_option = false;

	if (is_one_of(program, all_text)) {
		for (size_t i = 1; i < n; i++)
			is_text[i] = true;
		return;
	}
	if (strcmp(program, "env") == 0)
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
	bool is_awk = strstr(program, "awk") != NULL;
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
