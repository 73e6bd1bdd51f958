/* decide.c - cg_decide(): every decision, from every layer, is made here.
 *
 * The static check judges a command line as a whole (shell structure,
 * wrappers, injection, paths it names, the repo profile).  At run time the
 * questions are narrower: a program starting with its real argv (command
 * rules only: whatever a shell goes on to start is judged when it starts),
 * a file access (the read and write sets), a network address.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard/guard-internal.h"

enum cg_verdict cg_decide_exec(const struct cg_context *ctx, const char *path, char *const argv[],
			       size_t argc, struct cg_reason *why)
{
	char program[NAME_MAX + 1], name0[NAME_MAX + 1];
	struct cg_rule_match m;
	char *const *args = argc > 0 ? argv + 1 : argv;
	size_t n_args = argc > 0 ? argc - 1 : 0;
	size_t len = strlen(path);

	/* A program that is not a file on disk (memfd_create, a deleted file)
	 * is named by whoever made it: "mount" in memory is still mount. */
	if (strncmp(path, "/memfd:", 7) == 0 ||
	    (len > 10 && strcmp(path + len - 10, " (deleted)") == 0)) {
		cg_reason_set(why, "exec", "anonymous-program",
			      "Program '%s' is not a file on disk, so it cannot be judged", path);
		return CG_BLOCK;
	}
	cg_program_name(path, program, sizeof(program));
	if (cg_is_dynamic_loader(program)) {
		/* "ld.so ./mount" runs mount with no execve of its own: judge it
		 * here, as the program it is. */
		size_t k = cg_loader_program(argv, argc);
		if (k > 0)
			return cg_decide_exec(ctx, argv[k], argv + k, argc - k, why);
		return CG_ALLOW;
	}
	if (cg_rules_blocks(ctx->policy, program, args, n_args, &m))
		goto blocked;
	/* Multi-call binaries (busybox) dispatch on argv[0]: judge that name too. */
	if (argc > 0) {
		cg_program_name(argv[0], name0, sizeof(name0));
		if (strcmp(name0, program) != 0 && cg_rules_blocks(ctx->policy, name0, args, n_args, &m))
			goto blocked;
	}
	return CG_ALLOW;
blocked:
	cg_reason_set(why, m.category, m.id, "%s", m.reason);
	return CG_BLOCK;
}

/* /proc/PID/... of another process: its memory, environment and fds are
 * not the run's to read.  /proc/self was resolved by the caller. */
static bool is_foreign_proc(const char *path, pid_t pid)
{
	const char *p;
	char *end;
	long n;

	if (strncmp(path, "/proc/", 6) != 0 || !isdigit((unsigned char)path[6]))
		return false;
	p = path + 6;
	n = strtol(p, &end, 10);
	if (*end != '\0' && *end != '/')
		return false;
	return pid <= 0 || n != (long)pid;
}

static enum cg_verdict decide_open(const struct cg_context *ctx, const struct cg_event *ev,
				   struct cg_reason *why)
{
	const char *path = ev->u.open.path;
	unsigned access = ev->u.open.access;

	if (!path || path[0] != '/') {
		cg_reason_set(why, "path", "", "Path '%s' is not absolute", path ? path : "(null)");
		return CG_BLOCK;
	}
	if (is_foreign_proc(path, ev->u.open.pid)) {
		cg_reason_set(why, "path", "proc", "Path '%s' belongs to another process", path);
		return CG_BLOCK;
	}
	if ((access & CG_ACCESS_WRITE) && !cg_path_is_allowed(ctx, path, CG_PATHS_WRITE)) {
		cg_reason_set(why, "path", "write", "Path '%s' is not in allowed paths for writing", path);
		return CG_BLOCK;
	}
	if ((access & (CG_ACCESS_READ | CG_ACCESS_EXEC)) && !cg_path_is_allowed(ctx, path, CG_PATHS_READ)) {
		cg_reason_set(why, "path", "read", "Path '%s' is not in allowed paths for reading", path);
		return CG_BLOCK;
	}
	return CG_ALLOW;
}

enum cg_verdict cg_decide(const struct cg_context *ctx, const struct cg_event *ev,
			  struct cg_reason *why)
{
	enum cg_verdict v;

	/* Empty strings; clearing all 624 bytes was 10% of a short decision. */
	why->category[0] = why->rule[0] = why->message[0] = why->layer[0] = '\0';
	switch (ev->kind) {
	case CG_EV_ARGV:
		v = cg_check_argv(ctx, ev->u.argv.argv, ev->u.argv.argc, why);
		break;
	case CG_EV_SCRIPT:
		v = cg_check_script(ctx, ev->u.script.text, ev->u.script.len, false, why);
		break;
	case CG_EV_SHELL:
		v = cg_check_script(ctx, ev->u.script.text, ev->u.script.len, true, why);
		break;
	case CG_EV_EXEC:
		v = cg_decide_exec(ctx, ev->u.exec.path, ev->u.exec.argv, ev->u.exec.argc, why);
		break;
	case CG_EV_OPEN:
		v = decide_open(ctx, ev, why);
		break;
	case CG_EV_CONNECT:
	case CG_EV_BIND:
	case CG_EV_LISTEN:
		v = cg_decide_net(ctx, ev, why);
		break;
	case CG_EV_HOST:
		v = cg_decide_host(ctx, ev->u.host.host, why);
		break;
	default:
		cg_reason_set(why, "internal", "", "unknown event kind %d", (int)ev->kind);
		v = CG_BLOCK;
		break;
	}
	if (v == CG_BLOCK && ev->kind <= CG_EV_SCRIPT)
		snprintf(why->layer, sizeof(why->layer), "static");
	return v;
}
