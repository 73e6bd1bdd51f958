/* fuzz-shell - libFuzzer target for the shell parser (guard/shell.c).
 *
 * The input is a command string, NULs included (they must be an error).
 * Besides "no crash, no leak", every script the parser returns is checked
 * against the promises of shell.h, and a failed parse must leave no script
 * and a message.
 *
 *   clang -g -fsanitize=fuzzer,address,undefined -I. tests/fuzz/fuzz-shell.c \
 *         guard/shell.c -o /tmp/fuzz-shell
 *   /tmp/fuzz-shell -max_len=4096 tests/fuzz/corpus-shell
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guard/shell.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_word(const struct cg_word *w)
{
	if (!w->text || (w->flags & ~0x7fu))
		abort();
}

static void check_script(const struct cg_script *s)
{
	for (size_t i = 0; i < s->n_functions; i++)
		if (!s->functions[i].name)
			abort();
	for (size_t i = 0; i < s->n_cmds; i++) {
		const struct cg_simple_cmd *c = &s->cmds[i];
		if (c->pipe_len < 1 || c->pipe_index < 0 || c->pipe_index >= c->pipe_len)
			abort();
		if (c->depth < 0 || c->depth > CG_SHELL_MAX_DEPTH)
			abort();
		if (c->function < -1 || c->function >= (int)s->n_functions)
			abort();
		/* a substitution's commands follow the command that holds them */
		if (c->parent < -1 || c->parent >= (int)i)
			abort();
		if (c->parent >= 0 && s->cmds[c->parent].depth >= c->depth)
			abort();
		for (size_t j = 0; j < c->n_assigns; j++)
			check_word(&c->assigns[j]);
		for (size_t j = 0; j < c->n_words; j++)
			check_word(&c->words[j]);
		for (size_t j = 0; j < c->n_redirs; j++) {
			const struct cg_redir *r = &c->redirs[j];
			check_word(&r->target);
			if ((r->heredoc != NULL) != (r->kind == CG_REDIR_HEREDOC))
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cg_script *s = NULL;
	char err[256];
	int r = cg_shell_parse((const char *)data, size, &s, err, sizeof(err));

	if (r == 0) {
		if (!s || memchr(data, '\0', size))
			abort();
		check_script(s);
		cg_script_free(s);
	} else if (s || err[0] == '\0' || (r != -EINVAL && r != -E2BIG && r != -ENOMEM)) {
		abort();
	}
	return 0;
}
