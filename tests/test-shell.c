/* test-shell.c - the shell lexer/parser: what each construct flattens to,
 * and that malformed or hostile input is a clear error, never a crash. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard/shell.h"

static char err[256];

static struct cg_script *parse(const char *src)
{
	struct cg_script *s = NULL;
	int r = cg_shell_parse(src, strlen(src), &s, err, sizeof(err));

	cr_assert_eq(r, 0, "parsing <<%s>> failed (%d): %s", src, r, err);
	cr_assert_not_null(s);
	return s;
}

static int parse_error(const char *src, size_t len)
{
	struct cg_script *s = (struct cg_script *)1;
	int r = cg_shell_parse(src, len, &s, err, sizeof(err));

	cr_assert_null(s, "a failed parse leaves no script");
	return r;
}

static const struct cg_word *word(const struct cg_script *s, size_t cmd, size_t i)
{
	cr_assert_lt(cmd, s->n_cmds);
	cr_assert_lt(i, s->cmds[cmd].n_words, "command %zu has %zu words", cmd, s->cmds[cmd].n_words);
	return &s->cmds[cmd].words[i];
}

static void assert_words(const struct cg_script *s, size_t cmd, const char *const expected[])
{
	size_t n = 0;

	while (expected[n])
		n++;
	cr_assert_lt(cmd, s->n_cmds);
	cr_assert_eq(s->cmds[cmd].n_words, n, "command %zu has %zu words, expected %zu", cmd,
		     s->cmds[cmd].n_words, n);
	for (size_t i = 0; i < n; i++)
		cr_assert_str_eq(s->cmds[cmd].words[i].text, expected[i]);
}

#define WORDS(s, cmd, ...) assert_words((s), (cmd), (const char *const[]){ __VA_ARGS__, NULL })

static char *repeat(const char *unit, size_t times)
{
	size_t n = strlen(unit);
	char *out = malloc(n * times + 1);

	cr_assert_not_null(out);
	for (size_t i = 0; i < times; i++)
		memcpy(out + i * n, unit, n);
	out[n * times] = '\0';
	return out;
}

/* ---------------------------------------------------------------- quoting */

Test(quoting, double_quoted_text_is_one_plain_word_without_expansion_flags)
{
	struct cg_script *s = parse("echo \"rm -rf /\"");

	cr_assert_eq(s->n_cmds, 1);
	WORDS(s, 0, "echo", "rm -rf /");
	cr_assert_eq(word(s, 0, 1)->flags, CG_WORD_QUOTED);
	cr_assert_eq(word(s, 0, 0)->flags, 0);
	cg_script_free(s);
}

Test(quoting, single_quotes_keep_dollar_and_backquote_literal)
{
	struct cg_script *s = parse("echo '$(rm -rf /) `id` $HOME'");

	cr_assert_eq(s->n_cmds, 1, "nothing inside single quotes is a command");
	WORDS(s, 0, "echo", "$(rm -rf /) `id` $HOME");
	cr_assert_eq(word(s, 0, 1)->flags, CG_WORD_QUOTED);
	cg_script_free(s);
}

Test(quoting, backslash_quotes_the_next_character)
{
	struct cg_script *s = parse("echo a\\ b \\$x \\* \\\\");

	WORDS(s, 0, "echo", "a b", "$x", "*", "\\");
	for (size_t i = 1; i < 5; i++)
		cr_assert_eq(word(s, 0, i)->flags, CG_WORD_QUOTED, "word %zu", i);
	cg_script_free(s);
}

Test(quoting, double_quotes_keep_backslashes_that_escape_nothing)
{
	struct cg_script *s = parse("echo \"a\\b \\$x \\\" \\\\\"");

	WORDS(s, 0, "echo", "a\\b $x \" \\");
	cr_assert_eq(word(s, 0, 1)->flags, CG_WORD_QUOTED);
	cg_script_free(s);
}

Test(quoting, adjacent_quoted_parts_join_into_one_word)
{
	struct cg_script *s = parse("s'u'\"d\"o -i");

	WORDS(s, 0, "sudo", "-i");
	cr_assert_eq(word(s, 0, 0)->flags, CG_WORD_QUOTED);
	cg_script_free(s);
}

Test(quoting, ansi_c_quotes_decode_their_escapes)
{
	struct cg_script *s = parse("printf $'a\\tb\\n\\x41\\101\\u00e9\\e\\'\\\\\\cA'");

	WORDS(s, 0, "printf", "a\tb\nAA\xc3\xa9\x1b'\\\x01");
	cr_assert_eq(word(s, 0, 1)->flags, CG_WORD_QUOTED);
	cg_script_free(s);
}

Test(quoting, ansi_c_quotes_encode_unicode_escapes_as_utf8_and_keep_unknown_escapes)
{
	struct cg_script *s = parse("echo $'\\u41\\u4e2d\\U0001F600\\x\\q\\c'");

	WORDS(s, 0, "echo", "A\xe4\xb8\xad\xf0\x9f\x98\x80\\x\\q\\c");
	cg_script_free(s);
}

Test(quoting, ansi_c_quote_ends_at_a_decoded_nul_like_bash)
{
	struct cg_script *s = parse("echo $'ab\\0cd'e");

	WORDS(s, 0, "echo", "abe");
	cg_script_free(s);
}

Test(quoting, ansi_c_quote_can_spell_a_command_name)
{
	struct cg_script *s = parse("$'\\x73\\x75\\x64\\x6f' id");

	WORDS(s, 0, "sudo", "id");
	cr_assert_eq(word(s, 0, 0)->flags & CG_WORD_EXPANDS, 0);
	cg_script_free(s);
}

Test(quoting, line_continuation_joins_a_word_split_across_lines)
{
	struct cg_script *s = parse("su\\\ndo \\\n  -i");

	cr_assert_eq(s->n_cmds, 1);
	WORDS(s, 0, "sudo", "-i");
	cg_script_free(s);
}

Test(quoting, locale_quotes_are_double_quotes)
{
	struct cg_script *s = parse("echo $\"hi $USER\"");

	WORDS(s, 0, "echo", "hi $USER");
	cr_assert_eq(word(s, 0, 1)->flags, CG_WORD_QUOTED | CG_WORD_PARAM);
	cg_script_free(s);
}

/* ---------------------------------------------------------------- expansions */

Test(expansions, are_kept_verbatim_and_flagged)
{
	struct cg_script *s = parse("echo a$(b)c ${x:-y} $y \"$1\" $((1+2)) `d` $$");

	WORDS(s, 0, "echo", "a$(b)c", "${x:-y}", "$y", "$1", "$((1+2))", "`d`", "$$");
	cr_assert_eq(word(s, 0, 1)->flags, CG_WORD_CMDSUB);
	cr_assert_eq(word(s, 0, 2)->flags, CG_WORD_PARAM);
	cr_assert_eq(word(s, 0, 3)->flags, CG_WORD_PARAM);
	cr_assert_eq(word(s, 0, 4)->flags, CG_WORD_PARAM | CG_WORD_QUOTED);
	cr_assert_eq(word(s, 0, 5)->flags, CG_WORD_ARITH);
	cr_assert_eq(word(s, 0, 6)->flags, CG_WORD_CMDSUB);
	cr_assert_eq(word(s, 0, 7)->flags, CG_WORD_PARAM);
	cg_script_free(s);
}

Test(expansions, command_substitution_as_command_name_is_flagged_and_parsed_one_level_down)
{
	struct cg_script *s = parse("$(echo sudo) ls");

	cr_assert_eq(s->n_cmds, 2);
	WORDS(s, 0, "$(echo sudo)", "ls");
	cr_assert(word(s, 0, 0)->flags & CG_WORD_CMDSUB);
	cr_assert_eq(s->cmds[0].depth, 0);
	cr_assert_eq(s->cmds[0].parent, -1);
	WORDS(s, 1, "echo", "sudo");
	cr_assert_eq(s->cmds[1].depth, 1);
	cr_assert_eq(s->cmds[1].parent, 0);
	cg_script_free(s);
}

Test(expansions, nested_substitutions_point_to_the_command_holding_them)
{
	struct cg_script *s = parse("a $(b $(c) `d`) \"$(e)\"");

	cr_assert_eq(s->n_cmds, 5);
	WORDS(s, 1, "b", "$(c)", "`d`");
	WORDS(s, 2, "c");
	WORDS(s, 3, "d");
	WORDS(s, 4, "e");
	cr_assert_eq(s->cmds[1].parent, 0);
	cr_assert_eq(s->cmds[2].parent, 1);
	cr_assert_eq(s->cmds[2].depth, 2);
	cr_assert_eq(s->cmds[3].parent, 1);
	cr_assert_eq(s->cmds[3].depth, 2);
	cr_assert_eq(s->cmds[4].parent, 0);
	cr_assert_eq(word(s, 0, 2)->flags, CG_WORD_CMDSUB | CG_WORD_QUOTED);
	cg_script_free(s);
}

Test(expansions, backquotes_undo_their_escapes_before_parsing)
{
	struct cg_script *s = parse("echo `ls \\`pwd\\` \\$HOME`");

	cr_assert_eq(s->n_cmds, 3);
	WORDS(s, 0, "echo", "`ls \\`pwd\\` \\$HOME`");
	WORDS(s, 1, "ls", "`pwd`", "$HOME");
	cr_assert_eq(word(s, 1, 2)->flags, CG_WORD_PARAM);
	WORDS(s, 2, "pwd");
	cr_assert_eq(s->cmds[2].depth, 2);
	cr_assert_eq(s->cmds[2].parent, 1);
	cg_script_free(s);
}

Test(expansions, process_substitutions_are_parsed_like_command_substitutions)
{
	struct cg_script *s = parse("diff <(ls a) >(tee b) --f=<(c)");

	cr_assert_eq(s->n_cmds, 4);
	WORDS(s, 0, "diff", "<(ls a)", ">(tee b)", "--f=<(c)");
	cr_assert_eq(s->cmds[0].n_redirs, 0, "<( is not a redirection");
	for (size_t i = 1; i < 4; i++) {
		cr_assert_eq(word(s, 0, i)->flags, CG_WORD_CMDSUB);
		cr_assert_eq(s->cmds[i].depth, 1);
		cr_assert_eq(s->cmds[i].parent, 0);
	}
	WORDS(s, 1, "ls", "a");
	WORDS(s, 2, "tee", "b");
	WORDS(s, 3, "c");
	cg_script_free(s);
}

Test(expansions, arithmetic_is_flagged_and_not_parsed_as_commands)
{
	struct cg_script *s = parse("echo $((x * (2 + 3))) $[1+1]");

	cr_assert_eq(s->n_cmds, 1);
	WORDS(s, 0, "echo", "$((x * (2 + 3)))", "$[1+1]");
	cr_assert_eq(word(s, 0, 1)->flags, CG_WORD_ARITH);
	cr_assert_eq(word(s, 0, 2)->flags, CG_WORD_ARITH);
	cg_script_free(s);
}

Test(expansions, command_substitution_inside_arithmetic_is_still_parsed)
{
	struct cg_script *s = parse("echo $(( $(id -u) + 1 ))");

	cr_assert_eq(s->n_cmds, 2);
	cr_assert_eq(word(s, 0, 1)->flags, CG_WORD_ARITH | CG_WORD_CMDSUB);
	WORDS(s, 1, "id", "-u");
	cr_assert_eq(s->cmds[1].parent, 0);
	cg_script_free(s);
}

Test(expansions, dollar_paren_paren_without_double_close_is_a_substitution_of_a_subshell)
{
	struct cg_script *s = parse("echo $((a); (b))");

	cr_assert_eq(s->n_cmds, 3);
	cr_assert_eq(word(s, 0, 1)->flags, CG_WORD_CMDSUB);
	WORDS(s, 1, "a");
	WORDS(s, 2, "b");
	cg_script_free(s);
}

Test(expansions, braced_parameter_hides_no_command_substitution)
{
	struct cg_script *s = parse("echo ${x:-$(rm -rf /)} \"${y#'}'}\" ${z:-{a}b}");

	cr_assert_eq(s->n_cmds, 2);
	WORDS(s, 0, "echo", "${x:-$(rm -rf /)}", "${y#'}'}", "${z:-{a}b}");
	cr_assert_eq(word(s, 0, 1)->flags, CG_WORD_PARAM | CG_WORD_CMDSUB);
	WORDS(s, 1, "rm", "-rf", "/");
	cr_assert_eq(s->cmds[1].depth, 1);
	cg_script_free(s);
}

Test(expansions, substitution_keeps_its_case_statement_parentheses)
{
	struct cg_script *s = parse("x=$(case $y in a) echo a;; (b) echo b;; esac) ls");

	cr_assert_eq(s->n_cmds, 3);
	WORDS(s, 0, "ls");
	cr_assert_eq(s->cmds[0].n_assigns, 1);
	cr_assert_str_eq(s->cmds[0].assigns[0].text, "x=$(case $y in a) echo a;; (b) echo b;; esac)");
	WORDS(s, 1, "echo", "a");
	WORDS(s, 2, "echo", "b");
	cg_script_free(s);
}

Test(expansions, glob_characters_are_flagged_only_when_unquoted)
{
	struct cg_script *s = parse("ls *.c a?b [ab] '*' \"?\" \\[");

	cr_assert_eq(word(s, 0, 1)->flags, CG_WORD_GLOB);
	cr_assert_eq(word(s, 0, 2)->flags, CG_WORD_GLOB);
	cr_assert_eq(word(s, 0, 3)->flags, CG_WORD_GLOB);
	cr_assert_eq(word(s, 0, 4)->flags, CG_WORD_QUOTED);
	cr_assert_eq(word(s, 0, 5)->flags, CG_WORD_QUOTED);
	cr_assert_eq(word(s, 0, 6)->flags, CG_WORD_QUOTED);
	cg_script_free(s);
}

Test(expansions, extended_glob_patterns_are_one_glob_word_and_their_substitutions_are_parsed)
{
	struct cg_script *s = parse("ls @(a|b) !(x*) +(\"y z\") *(c) ?(d$(id))");

	cr_assert_eq(s->n_cmds, 2);
	WORDS(s, 0, "ls", "@(a|b)", "!(x*)", "+(\"y z\")", "*(c)", "?(d$(id))");
	for (size_t i = 1; i < 5; i++)
		cr_assert_eq(word(s, 0, i)->flags, CG_WORD_GLOB, "word %zu", i);
	cr_assert_eq(word(s, 0, 5)->flags, CG_WORD_GLOB | CG_WORD_CMDSUB);
	WORDS(s, 1, "id");
	cg_script_free(s);
}

Test(expansions, leading_unquoted_tilde_is_flagged)
{
	struct cg_script *s = parse("ls ~/x ~root a~ '~' of=~/y");

	cr_assert_eq(word(s, 0, 1)->flags, CG_WORD_TILDE);
	cr_assert_eq(word(s, 0, 2)->flags, CG_WORD_TILDE);
	cr_assert_eq(word(s, 0, 3)->flags, 0);
	cr_assert_eq(word(s, 0, 4)->flags, CG_WORD_QUOTED);
	cr_assert_eq(word(s, 0, 5)->flags, CG_WORD_TILDE, "bash expands ~ after NAME=");
	cg_script_free(s);
}

Test(expansions, brace_expansion_is_flagged)
{
	struct cg_script *s = parse("{rm,-rf,/} {1..3} {a} '{a,b}' x{y");

	WORDS(s, 0, "{rm,-rf,/}", "{1..3}", "{a}", "{a,b}", "x{y");
	cr_assert_eq(word(s, 0, 0)->flags, CG_WORD_BRACE);
	cr_assert_eq(word(s, 0, 1)->flags, CG_WORD_BRACE);
	cr_assert_eq(word(s, 0, 2)->flags, 0);
	cr_assert_eq(word(s, 0, 3)->flags, CG_WORD_QUOTED);
	cr_assert_eq(word(s, 0, 4)->flags, 0);
	cg_script_free(s);
}

Test(expansions, unquoted_heredoc_body_substitutions_are_parsed)
{
	struct cg_script *s = parse("cat <<EOF\nhello $(id) `whoami`\nEOF\n");

	cr_assert_eq(s->n_cmds, 3);
	WORDS(s, 1, "id");
	WORDS(s, 2, "whoami");
	cr_assert_eq(s->cmds[1].parent, 0);
	cr_assert_eq(s->cmds[1].depth, 1);
	cg_script_free(s);
}

Test(expansions, quoted_heredoc_body_is_data)
{
	struct cg_script *s = parse("cat <<'EOF'\nhello $(id)\nEOF\n");

	cr_assert_eq(s->n_cmds, 1);
	cr_assert_str_eq(s->cmds[0].redirs[0].heredoc, "hello $(id)\n");
	cg_script_free(s);
}

/* ---------------------------------------------------------------- lists and pipelines */

Test(lists, operators_separate_commands)
{
	struct cg_script *s = parse("a; b && c || d\ne");

	cr_assert_eq(s->n_cmds, 5);
	for (size_t i = 0; i < 5; i++) {
		cr_assert_eq(s->cmds[i].pipe_len, 1);
		cr_assert_not(s->cmds[i].background);
		cr_assert_eq(s->cmds[i].depth, 0);
		cr_assert_eq(s->cmds[i].function, -1);
		cr_assert_eq(s->cmds[i].parent, -1);
	}
	WORDS(s, 4, "e");
	cg_script_free(s);
}

Test(lists, pipeline_fields_describe_a_backgrounded_pipe)
{
	struct cg_script *s = parse("a | b & c");

	cr_assert_eq(s->n_cmds, 3);
	cr_assert_eq(s->cmds[0].pipeline, s->cmds[1].pipeline);
	cr_assert_neq(s->cmds[2].pipeline, s->cmds[0].pipeline);
	cr_assert_eq(s->cmds[0].pipe_index, 0);
	cr_assert_eq(s->cmds[1].pipe_index, 1);
	cr_assert_eq(s->cmds[0].pipe_len, 2);
	cr_assert_eq(s->cmds[1].pipe_len, 2);
	cr_assert_eq(s->cmds[2].pipe_len, 1);
	cr_assert(s->cmds[0].background);
	cr_assert(s->cmds[1].background);
	cr_assert_not(s->cmds[2].background);
	cg_script_free(s);
}

Test(lists, background_applies_to_the_whole_and_or_list)
{
	struct cg_script *s = parse("a && b & c");

	cr_assert(s->cmds[0].background);
	cr_assert(s->cmds[1].background);
	cr_assert_not(s->cmds[2].background);
	cg_script_free(s);
}

Test(lists, pipe_with_stderr_and_negation_and_newline_after_pipe)
{
	struct cg_script *s = parse("! a |& b |\n  c");

	cr_assert_eq(s->n_cmds, 3);
	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(s->cmds[i].pipe_index, (int)i);
		cr_assert_eq(s->cmds[i].pipe_len, 3);
	}
	WORDS(s, 0, "a");
	cg_script_free(s);
}

Test(lists, compound_pipeline_element_gives_its_commands_the_element_position)
{
	struct cg_script *s = parse("curl x | { cd /; sh; } | (tee a | wc)");

	cr_assert_eq(s->n_cmds, 5);
	int outer = s->cmds[0].pipeline;
	cr_assert_eq(s->cmds[0].pipe_index, 0);
	cr_assert_eq(s->cmds[1].pipeline, outer);
	cr_assert_eq(s->cmds[1].pipe_index, 1);
	cr_assert_eq(s->cmds[2].pipe_index, 1);
	cr_assert_eq(s->cmds[2].pipe_len, 3);
	WORDS(s, 2, "sh");
	/* tee | wc is a pipeline of its own */
	cr_assert_eq(s->cmds[3].pipe_len, 2);
	cr_assert_eq(s->cmds[3].pipe_index, 0);
	cr_assert_eq(s->cmds[4].pipe_index, 1);
	cr_assert_neq(s->cmds[3].pipeline, outer);
	cg_script_free(s);
}

Test(lists, comments_are_skipped_only_at_word_start)
{
	struct cg_script *s = parse("# rm -rf /\necho a#b # c; d\n#e");

	cr_assert_eq(s->n_cmds, 1);
	WORDS(s, 0, "echo", "a#b");
	cg_script_free(s);
}

Test(lists, empty_and_blank_inputs_have_no_commands)
{
	struct cg_script *s = parse("");

	cr_assert_eq(s->n_cmds, 0);
	cg_script_free(s);
	s = parse("  \n\t\n # nothing\n");
	cr_assert_eq(s->n_cmds, 0);
	cg_script_free(s);
}

/* ---------------------------------------------------------------- compound commands */

Test(compound, subshells_and_brace_groups_list_their_commands)
{
	struct cg_script *s = parse("(a; (b)) && { c; { d; }; }");

	cr_assert_eq(s->n_cmds, 4);
	WORDS(s, 0, "a");
	WORDS(s, 1, "b");
	WORDS(s, 2, "c");
	WORDS(s, 3, "d");
	cg_script_free(s);
}

Test(compound, if_elif_else_lists_every_command)
{
	struct cg_script *s = parse("if a; then b; elif c\nthen d; else e; fi");

	cr_assert_eq(s->n_cmds, 5);
	WORDS(s, 0, "a");
	WORDS(s, 4, "e");
	cg_script_free(s);
}

Test(compound, loops_list_their_commands_and_for_words_substitutions)
{
	struct cg_script *s = parse("while a; do b; done; until c; do d; done\n"
				    "for f in x $(ls) \"y z\"; do rm $f; done\n"
				    "for g do e; done; for ((i = 0; i < 3; i++)); do f; done\n"
				    "select o in a b; do g; done");

	cr_assert_eq(s->n_cmds, 9);
	WORDS(s, 3, "d");
	WORDS(s, 4, "ls");
	cr_assert_eq(s->cmds[4].depth, 1);
	cr_assert_eq(s->cmds[4].parent, -1, "a for list is in no command");
	WORDS(s, 5, "rm", "$f");
	WORDS(s, 6, "e");
	WORDS(s, 7, "f");
	WORDS(s, 8, "g");
	cg_script_free(s);
}

Test(compound, case_items_list_their_commands)
{
	struct cg_script *s = parse("case $x in\n a|b) one;;\n (c*) two; three;&\n d) four;;&\n *) five\nesac");

	cr_assert_eq(s->n_cmds, 5);
	WORDS(s, 0, "one");
	WORDS(s, 1, "two");
	WORDS(s, 2, "three");
	WORDS(s, 3, "four");
	WORDS(s, 4, "five");
	cg_script_free(s);
}

Test(compound, reserved_words_are_only_recognised_in_command_position)
{
	struct cg_script *s = parse("echo if then fi { } done; [ a ] && test b");

	cr_assert_eq(s->n_cmds, 3);
	WORDS(s, 0, "echo", "if", "then", "fi", "{", "}", "done");
	WORDS(s, 1, "[", "a", "]");
	cg_script_free(s);
}

Test(compound, double_bracket_test_is_one_command_of_its_words)
{
	struct cg_script *s = parse("[[ -f $x && ( $y < z || ! -d w ) ]] && [[ $v =~ ^(a|b)[0-9]+$ ]]");

	cr_assert_eq(s->n_cmds, 2);
	WORDS(s, 0, "[[", "-f", "$x", "&&", "(", "$y", "<", "z", "||", "!", "-d", "w", ")", "]]");
	cr_assert_eq(s->cmds[0].n_redirs, 0, "< inside [[ ]] compares strings");
	WORDS(s, 1, "[[", "$v", "=~", "^(a|b)[0-9]+$", "]]");
	cg_script_free(s);
}

Test(compound, arithmetic_command_is_one_command_flagged_arith)
{
	struct cg_script *s = parse("(( i += $(id -u) )) && echo ok");

	cr_assert_eq(s->n_cmds, 3);
	WORDS(s, 0, "((", " i += $(id -u) ", "))");
	cr_assert(word(s, 0, 1)->flags & CG_WORD_ARITH);
	cr_assert(word(s, 0, 1)->flags & CG_WORD_CMDSUB);
	WORDS(s, 1, "id", "-u");
	WORDS(s, 2, "echo", "ok");
	cg_script_free(s);
}

Test(compound, time_is_a_word_before_a_simple_command_and_skipped_before_a_compound)
{
	struct cg_script *s = parse("time -p make; time { a; }");

	cr_assert_eq(s->n_cmds, 2);
	WORDS(s, 0, "time", "-p", "make");
	WORDS(s, 1, "a");
	cg_script_free(s);
}

Test(compound, coproc_is_skipped_before_a_compound_command_and_a_word_otherwise)
{
	struct cg_script *s = parse("coproc { a; }; coproc NAME (b); coproc c d");

	cr_assert_eq(s->n_cmds, 3);
	WORDS(s, 0, "a");
	WORDS(s, 1, "b");
	WORDS(s, 2, "coproc", "c", "d");
	cg_script_free(s);
}

Test(compound, redirections_after_a_compound_command_get_a_carrier_command)
{
	struct cg_script *s = parse("while read l; do rm \"$l\"; done < list > /etc/out");

	cr_assert_eq(s->n_cmds, 3);
	cr_assert_eq(s->cmds[2].n_words, 0);
	cr_assert_eq(s->cmds[2].n_redirs, 2);
	cr_assert_eq(s->cmds[2].redirs[0].kind, CG_REDIR_IN);
	cr_assert_str_eq(s->cmds[2].redirs[1].target.text, "/etc/out");
	cg_script_free(s);
}

/* ---------------------------------------------------------------- functions */

Test(functions, every_definition_syntax_records_the_function_and_its_body)
{
	struct cg_script *s = parse("a() { x; }\nb() (y)\nfunction c { z; }\nfunction d() { w; }\nfunction e\n{ v; }\na");

	cr_assert_eq(s->n_functions, 5);
	const char *names[] = { "a", "b", "c", "d", "e" };
	for (int i = 0; i < 5; i++) {
		cr_assert_str_eq(s->functions[i].name, names[i]);
		cr_assert_eq(s->cmds[i].function, i);
	}
	cr_assert_eq(s->n_cmds, 6);
	WORDS(s, 5, "a");
	cr_assert_eq(s->cmds[5].function, -1);
	cg_script_free(s);
}

Test(functions, fork_bomb_yields_the_function_its_piped_background_body_and_the_call)
{
	struct cg_script *s = parse(":(){ :|:& };:");

	cr_assert_eq(s->n_functions, 1);
	cr_assert_str_eq(s->functions[0].name, ":");
	cr_assert_eq(s->n_cmds, 3);
	for (size_t i = 0; i < 2; i++) {
		WORDS(s, i, ":");
		cr_assert_eq(s->cmds[i].function, 0);
		cr_assert_eq(s->cmds[i].pipe_len, 2);
		cr_assert_eq(s->cmds[i].pipe_index, (int)i);
		cr_assert(s->cmds[i].background);
	}
	cr_assert_eq(s->cmds[0].pipeline, s->cmds[1].pipeline);
	WORDS(s, 2, ":");
	cr_assert_eq(s->cmds[2].function, -1);
	cr_assert_not(s->cmds[2].background);
	cg_script_free(s);
}

Test(functions, fork_bomb_with_another_name_and_spacing)
{
	struct cg_script *s = parse("bomb ( ) {\n  bomb | bomb &\n}\nbomb");

	cr_assert_str_eq(s->functions[0].name, "bomb");
	cr_assert_eq(s->n_cmds, 3);
	cr_assert_eq(s->cmds[1].pipe_len, 2);
	cr_assert(s->cmds[1].background);
	cg_script_free(s);
}

Test(functions, body_redirections_and_substitutions_belong_to_the_function)
{
	struct cg_script *s = parse("f() { echo $(id); } > log");

	cr_assert_eq(s->n_cmds, 3);
	for (size_t i = 0; i < 3; i++)
		cr_assert_eq(s->cmds[i].function, 0, "command %zu", i);
	cr_assert_eq(s->cmds[1].depth, 1);
	cr_assert_eq(s->cmds[2].redirs[0].kind, CG_REDIR_OUT);
	cg_script_free(s);
}

/* ---------------------------------------------------------------- redirections */

Test(redirections, kinds_fds_and_targets)
{
	struct cg_script *s = parse("cmd <in >out >>app 2>err >|clob 3<>rw 2>&1 >&- <&3 &>both &>>both2 >&file 4>&5-");
	const struct {
		enum cg_redir_kind kind;
		int fd;
		const char *target;
	} expected[] = {
		{ CG_REDIR_IN, -1, "in" },         { CG_REDIR_OUT, -1, "out" },
		{ CG_REDIR_APPEND, -1, "app" },    { CG_REDIR_OUT, 2, "err" },
		{ CG_REDIR_OUT, -1, "clob" },      { CG_REDIR_RDWR, 3, "rw" },
		{ CG_REDIR_DUP, 2, "1" },          { CG_REDIR_DUP, -1, "-" },
		{ CG_REDIR_DUP, -1, "3" },         { CG_REDIR_OUT_ERR, -1, "both" },
		{ CG_REDIR_OUT_ERR, -1, "both2" }, { CG_REDIR_OUT_ERR, -1, "file" },
		{ CG_REDIR_DUP, 4, "5-" },
	};
	size_t n = sizeof(expected) / sizeof(expected[0]);

	cr_assert_eq(s->n_cmds, 1);
	WORDS(s, 0, "cmd");
	cr_assert_eq(s->cmds[0].n_redirs, n);
	for (size_t i = 0; i < n; i++) {
		const struct cg_redir *r = &s->cmds[0].redirs[i];
		cr_assert_eq(r->kind, expected[i].kind, "redirection %zu", i);
		cr_assert_eq(r->fd, expected[i].fd, "redirection %zu", i);
		cr_assert_str_eq(r->target.text, expected[i].target, "redirection %zu", i);
		cr_assert_null(r->heredoc);
	}
	cg_script_free(s);
}

Test(redirections, may_come_before_the_command_and_between_words)
{
	struct cg_script *s = parse(">/etc/passwd echo a 2>/dev/null b");

	WORDS(s, 0, "echo", "a", "b");
	cr_assert_eq(s->cmds[0].n_redirs, 2);
	cr_assert_str_eq(s->cmds[0].redirs[0].target.text, "/etc/passwd");
	cg_script_free(s);
}

Test(redirections, heredoc_body_is_captured_and_fed_to_sh)
{
	struct cg_script *s = parse("sh <<EOF\nrm -rf /\necho $HOME\nEOF\necho done");

	cr_assert_eq(s->n_cmds, 2, "the body is not parsed as commands");
	WORDS(s, 0, "sh");
	cr_assert_eq(s->cmds[0].n_redirs, 1);
	const struct cg_redir *r = &s->cmds[0].redirs[0];
	cr_assert_eq(r->kind, CG_REDIR_HEREDOC);
	cr_assert_str_eq(r->target.text, "EOF");
	cr_assert_str_eq(r->heredoc, "rm -rf /\necho $HOME\n");
	cr_assert_not(r->heredoc_quoted);
	WORDS(s, 1, "echo", "done");
	cg_script_free(s);
}

Test(redirections, heredoc_with_quoted_delimiter_and_tab_stripping)
{
	struct cg_script *s = parse("cat <<-\"END\"\n\tone $x\n\t\ttwo\n\tEND\n");
	const struct cg_redir *r = &s->cmds[0].redirs[0];

	cr_assert(r->heredoc_quoted);
	cr_assert_str_eq(r->target.text, "END");
	cr_assert_str_eq(r->heredoc, "one $x\ntwo\n");
	cg_script_free(s);
}

Test(redirections, several_heredocs_on_one_line_take_bodies_in_order)
{
	struct cg_script *s = parse("cat <<A - <<\\B | sh <<C; echo x\n1\nA\n2\nB\n3\nC\necho y");

	cr_assert_eq(s->n_cmds, 4);
	cr_assert_str_eq(s->cmds[0].redirs[0].heredoc, "1\n");
	cr_assert_str_eq(s->cmds[0].redirs[1].heredoc, "2\n");
	cr_assert(s->cmds[0].redirs[1].heredoc_quoted);
	cr_assert_str_eq(s->cmds[1].redirs[0].heredoc, "3\n");
	WORDS(s, 2, "echo", "x");
	WORDS(s, 3, "echo", "y");
	cg_script_free(s);
}

Test(redirections, heredoc_delimiter_split_by_a_continuation_still_ends_the_body)
{
	/* bash joins "EO\<newline>F" into the delimiter, so rm runs */
	struct cg_script *s = parse("cat <<EOF\nEO\\\nF\nrm -rf /\n");

	cr_assert_eq(s->n_cmds, 2);
	cr_assert_str_eq(s->cmds[0].redirs[0].heredoc, "");
	WORDS(s, 1, "rm", "-rf", "/");
	cg_script_free(s);
}

Test(redirections, heredoc_operator_split_by_a_continuation_is_read_as_bash_reads_it)
{
	/* bash reads "<<\<newline>-EOF" as "<<-EOF": the tab-indented EOF ends the body */
	struct cg_script *s = parse("cat <<\\\n-EOF\n\tEOF\nrm -rf /\nEOF\n");

	cr_assert_str_eq(s->cmds[0].redirs[0].target.text, "EOF");
	cr_assert_str_eq(s->cmds[0].redirs[0].heredoc, "");
	cr_assert_eq(s->n_cmds, 3);
	WORDS(s, 1, "rm", "-rf", "/");
	cg_script_free(s);
}

Test(redirections, heredoc_cut_short_by_end_of_input_keeps_what_it_read)
{
	struct cg_script *s = parse("sh <<EOF\nreboot\n");

	cr_assert_str_eq(s->cmds[0].redirs[0].heredoc, "reboot\n");
	cg_script_free(s);
}

Test(redirections, heredoc_inside_command_substitution)
{
	struct cg_script *s = parse("x=$(cat <<EOF\nbody\nEOF\n)\necho $x");

	cr_assert_eq(s->n_cmds, 3);
	cr_assert_str_eq(s->cmds[1].redirs[0].heredoc, "body\n");
	WORDS(s, 2, "echo", "$x");
	cg_script_free(s);
}

Test(redirections, newline_inside_a_substitution_does_not_start_an_outer_heredoc_body)
{
	struct cg_script *s = parse("cat <<E $(echo\n)\nbody\nE\necho after");

	cr_assert_eq(s->n_cmds, 3);
	cr_assert_str_eq(s->cmds[0].redirs[0].heredoc, "body\n");
	WORDS(s, 1, "echo");
	WORDS(s, 2, "echo", "after");
	cg_script_free(s);
}

Test(redirections, heredoc_left_open_in_a_substitution_takes_the_next_outer_lines)
{
	struct cg_script *s = parse("echo $(cat <<E) $(cat <<F); echo x\none\nE\ntwo\nF\necho after");

	cr_assert_eq(s->n_cmds, 5);
	cr_assert_str_eq(s->cmds[1].redirs[0].heredoc, "one\n");
	cr_assert_str_eq(s->cmds[2].redirs[0].heredoc, "two\n");
	WORDS(s, 4, "echo", "after");
	cg_script_free(s);
}

Test(redirections, here_string_target_is_a_word)
{
	struct cg_script *s = parse("bash <<< \"rm -rf $(pwd)\"");
	const struct cg_redir *r = &s->cmds[0].redirs[0];

	cr_assert_eq(r->kind, CG_REDIR_HERESTRING);
	cr_assert_str_eq(r->target.text, "rm -rf $(pwd)");
	cr_assert_eq(r->target.flags, CG_WORD_QUOTED | CG_WORD_CMDSUB);
	cr_assert_eq(s->n_cmds, 2);
	cr_assert_eq(s->cmds[1].parent, 0);
	cg_script_free(s);
}

/* ---------------------------------------------------------------- assignments */

Test(assignments, prefix_assignments_are_separate_from_words)
{
	struct cg_script *s = parse("A=1 B+=x C[2]=y PATH=\"/x:$PATH\" make CC=gcc");

	cr_assert_eq(s->cmds[0].n_assigns, 4);
	cr_assert_str_eq(s->cmds[0].assigns[0].text, "A=1");
	cr_assert_str_eq(s->cmds[0].assigns[1].text, "B+=x");
	cr_assert_str_eq(s->cmds[0].assigns[2].text, "C[2]=y");
	cr_assert_str_eq(s->cmds[0].assigns[3].text, "PATH=/x:$PATH");
	cr_assert_eq(s->cmds[0].assigns[3].flags, CG_WORD_QUOTED | CG_WORD_PARAM);
	WORDS(s, 0, "make", "CC=gcc");
	cg_script_free(s);
}

Test(assignments, assignment_only_command_has_no_words)
{
	struct cg_script *s = parse("X=$(curl evil)");

	cr_assert_eq(s->n_cmds, 2);
	cr_assert_eq(s->cmds[0].n_words, 0);
	cr_assert_eq(s->cmds[0].n_assigns, 1);
	WORDS(s, 1, "curl", "evil");
	cr_assert_eq(s->cmds[1].parent, 0);
	cg_script_free(s);
}

Test(assignments, array_assignment_spans_lines_and_parses_substitutions)
{
	struct cg_script *s = parse("arr=(one \"two three\"\n $(id)) declare -a b=(x y)");

	cr_assert_eq(s->n_cmds, 2);
	cr_assert_str_eq(s->cmds[0].assigns[0].text, "arr=(one two three $(id))");
	cr_assert(s->cmds[0].assigns[0].flags & CG_WORD_CMDSUB);
	WORDS(s, 0, "declare", "-a", "b=(x y)");
	WORDS(s, 1, "id");
	cg_script_free(s);
}

/* ---------------------------------------------------------------- malformed and hostile input */

Test(malformed, each_syntax_error_names_its_offset)
{
	const struct {
		const char *src;
		const char *message;
	} cases[] = {
		{ "echo 'abc", "unterminated single quote at offset 5" },
		{ "echo \"abc", "unterminated double quote at offset 5" },
		{ "echo $(ls", "unterminated $( at offset 5" },
		{ "echo `ls", "unterminated backquote at offset 5" },
		{ "echo ${x", "unterminated ${ at offset 5" },
		{ "echo $'x", "unterminated $' quote at offset 5" },
		{ "a )", "unmatched ')' at offset 2" },
		{ "if a; then b", "missing 'fi' for 'if' at offset 0" },
		{ "x; while a; do b", "missing 'done' for 'while' at offset 3" },
		{ "case x in a) b;;", "missing 'esac' for 'case' at offset 0" },
		{ "{ a;", "missing '}' for '{' at offset 0" },
		{ "(a", "missing ')' for '(' at offset 0" },
		{ "a && ; b", "unexpected ';' at offset 5" },
		{ "a |", "unexpected end of input at offset 3" },
		{ "fi", "unexpected 'fi' at offset 0" },
		{ "echo (x)", "unexpected 'x' at offset 6" },
		{ "echo >", "missing word after redirection '>' at offset 5" },
		{ "f() ls", "body of function 'f' is not a compound command at offset 4" },
		{ "[[ -f x", "missing ']]' for '[[' at offset 0" },
		{ "a=(b", "unterminated array assignment at offset 2" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = parse_error(cases[i].src, strlen(cases[i].src));
		cr_assert_eq(r, -EINVAL, "<<%s>> gave %d", cases[i].src, r);
		cr_assert_str_eq(err, cases[i].message, "<<%s>>", cases[i].src);
	}
}

Test(malformed, error_inside_a_backquote_names_the_offset_in_the_input)
{
	cr_assert_eq(parse_error("echo `a 'b`", 11), -EINVAL);
	cr_assert_str_eq(err, "unterminated single quote at offset 8");
}

Test(malformed, line_continuation_after_dollar_is_refused)
{
	/* bash would run "$(rm x)", expand "${x}" or decode the $'...' */
	const char *cases[] = { "echo \"$\\\n(rm x)\"", "$\\\n{x} a", "echo $\\\n\\\n'\\x41'" };

	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(parse_error(cases[i], strlen(cases[i])), -EINVAL, "%s", cases[i]);
		cr_assert(strstr(err, "line continuation after '$'"), "%s", err);
	}
	struct cg_script *s = parse("echo $\\\n b");
	WORDS(s, 0, "echo", "$", "b");
	cg_script_free(s);
}

Test(malformed, embedded_nul_is_an_error)
{
	cr_assert_eq(parse_error("echo a\0; rm -rf /", 17), -EINVAL);
	cr_assert_str_eq(err, "NUL byte in the command at offset 6");
}

Test(malformed, ten_thousand_open_parentheses_are_too_deep_not_a_crash)
{
	char *src = repeat("(", 10000);

	cr_assert_eq(parse_error(src, strlen(src)), -E2BIG);
	cr_assert(strstr(err, "nesting deeper than 64 levels"), "%s", err);
	free(src);
}

Test(malformed, deep_nesting_of_every_kind_is_bounded)
{
	const char *units[] = { "$(", "{ ", "if ", "${", "$((", "\"$(", "a=(", "[[ $(", "f() {", "<(", "while " };

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		char *src = repeat(units[i], 20000);
		int r = parse_error(src, strlen(src));
		cr_assert(r == -E2BIG || r == -EINVAL, "%s gave %d", units[i], r);
		cr_assert_neq(err[0], '\0');
		free(src);
	}
}

Test(malformed, nesting_up_to_the_limit_is_accepted)
{
	char *open = repeat("( ", CG_SHELL_MAX_DEPTH), *close = repeat(" )", CG_SHELL_MAX_DEPTH);
	size_t n = strlen(open);
	char *src = malloc(2 * n + 2);

	cr_assert_not_null(src);
	sprintf(src, "%sa%s", open, close);
	struct cg_script *s = parse(src);
	WORDS(s, 0, "a");
	cg_script_free(s);
	free(src);
	free(open);
	free(close);
}

Test(malformed, one_mebibyte_of_commands_parses)
{
	char *src = repeat("a;", CG_SHELL_MAX_INPUT / 2);
	struct cg_script *s = parse(src);

	cr_assert_eq(s->n_cmds, CG_SHELL_MAX_INPUT / 2);
	WORDS(s, CG_SHELL_MAX_INPUT / 2 - 1, "a");
	cg_script_free(s);
	free(src);
}

Test(malformed, one_mebibyte_of_double_quotes_is_one_word_or_a_clear_error)
{
	char *src = repeat("\"", CG_SHELL_MAX_INPUT);
	struct cg_script *s = parse(src);

	cr_assert_eq(s->n_cmds, 1);
	WORDS(s, 0, "");
	cg_script_free(s);
	cr_assert_eq(parse_error(src, CG_SHELL_MAX_INPUT - 1), -EINVAL);
	cr_assert_str_eq(err, "unterminated double quote at offset 1048574");
	free(src);
}

Test(malformed, one_mebibyte_word_and_pipeline_parse)
{
	char *src = repeat("a", CG_SHELL_MAX_INPUT);
	struct cg_script *s = parse(src);

	cr_assert_eq(strlen(word(s, 0, 0)->text), CG_SHELL_MAX_INPUT);
	cg_script_free(s);
	free(src);

	src = repeat("a|", CG_SHELL_MAX_INPUT / 2);
	src[CG_SHELL_MAX_INPUT - 1] = 'b';
	s = parse(src);
	cr_assert_eq(s->n_cmds, CG_SHELL_MAX_INPUT / 2);
	cr_assert_eq(s->cmds[0].pipe_len, (int)(CG_SHELL_MAX_INPUT / 2));
	cr_assert_eq(s->cmds[s->n_cmds - 1].pipe_index, (int)(CG_SHELL_MAX_INPUT / 2 - 1));
	cg_script_free(s);
	free(src);
}

Test(malformed, input_over_the_limit_is_rejected)
{
	char *src = repeat("a", CG_SHELL_MAX_INPUT + 1);

	cr_assert_eq(parse_error(src, strlen(src)), -E2BIG);
	cr_assert_str_eq(err, "input of 1048577 bytes is over the limit of 1048576 bytes");
	free(src);
}

Test(malformed, many_unterminated_constructs_fail_without_crashing)
{
	const char *units[] = { "'", "`", "$'", "<<", "<(", "$[", "@(", "case ", "for ", "\\", ";;", "|", "&&",
				"}", ")", "((", "$((", "[[ ", "function ", "<<E\n", "${x:-`" };

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		char *src = repeat(units[i], 100000);
		struct cg_script *s = NULL;
		int r = cg_shell_parse(src, strlen(src), &s, err, sizeof(err));
		cr_assert(r == 0 || r == -EINVAL || r == -E2BIG, "%s gave %d", units[i], r);
		cr_assert(r == 0 || err[0], "an error has a message");
		cg_script_free(s);
		free(src);
	}
}

Test(malformed, null_error_buffer_is_allowed)
{
	struct cg_script *s = NULL;

	cr_assert_eq(cg_shell_parse("'", 1, &s, NULL, 0), -EINVAL);
	cr_assert_null(s);
	cg_script_free(NULL);
}
