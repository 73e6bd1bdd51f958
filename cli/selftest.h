/* selftest.h - `guardctl selftest`: prove, on this machine with this build
 * and policy, that each layer of the guard is present and refuses what it
 * should. */
#ifndef CG_CLI_SELFTEST_H
#define CG_CLI_SELFTEST_H

/* argv[0] is "selftest"; the options follow:
 *   guardctl selftest [--config FILE] [--json]
 * Returns the exit status: 0 when every check passed, 1 when one failed,
 * 125 for a usage error or a policy that does not load.
 *
 * `guardctl selftest --child ACTION` is the helper that the checks run
 * under guard-exec (the same binary, so the build under test is the one
 * that runs); it is not for people. */
int cg_cmd_selftest(int argc, char **argv);

#endif
