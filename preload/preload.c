/* preload.c - libguard-preload.so: the engine's decisions inside every
 * dynamically linked process of a run, before a call reaches the kernel.
 *
 * How the shim gets the policy
 *
 *   The supervisor loads guard.conf once, writes the compiled policy with
 *   cg_snapshot_publish() to RUN_DIR/policy.snapshot (created 0444, in a
 *   directory the run cannot write) and starts the command with
 *
 *     LD_PRELOAD=/usr/lib/commandguard/libguard-preload.so
 *     GUARD_SNAPSHOT=RUN_DIR/policy.snapshot   the file, by absolute path
 *     GUARD_WORKSPACE=/abs/workspace           always an allowed path
 *     GUARD_MONITOR=1                          only with --monitor
 *     GUARD_REPORT=RUN_DIR/preload.sock        optional, see below
 *
 *   A path rather than an inherited fd: Python's subprocess closes every
 *   fd it does not know (close_fds=True), so an fd would be gone in its
 *   children and they would all fail closed.  The run's Landlock read set
 *   must contain the snapshot file.  A process maps the file at its first
 *   guarded call (or at its first fork, so that the children inherit it),
 *   checks its checksums and uses it in place with the patterns PCRE2
 *   already compiled (cg_policy_snapshot_view: no malloc, no copy of the
 *   strings, about 30 us in a new process for the default policy); the
 *   real libc functions are found in the constructor, where dlsym is safe.
 *
 *   Every process of a run pays for the constructor, so it calls as
 *   little of libc as it can (see save_env), and a process that makes no
 *   guarded call never maps the snapshot.
 *
 *   Missing GUARD_SNAPSHOT (the shim preloaded by hand) or a snapshot that
 *   does not load: every guarded call fails, with one line that says why,
 *   unless GUARD_MONITOR=1.
 *
 * What it tells the supervisor
 *
 *   Every denial prints one line to stderr with one write(2):
 *     guard: denied CALL DETAIL: MESSAGE [CATEGORY/RULE] (layer preload)
 *   and, when GUARD_REPORT names a Unix datagram socket, sends it one
 *   datagram (never blocking; lost if nobody listens):
 *     "v1\tPID\tCALL\tDETAIL\tCATEGORY\tRULE\tblocked|allowed\tMESSAGE"
 *   which the supervisor records as a denial with layer "preload".  stderr
 *   alone is not enough: a program may point it at /dev/null.
 *
 * Descendants keep the shim: exec with a hand-made environment gets
 * LD_PRELOAD and the GUARD_* entries put back (shim_fix_env), and
 * system()/popen() restore them in environ for the shell they start.
 *
 * Safety.  The exec, open and connect paths do not call malloc: PCRE2
 * matches with a match block whose frames come from a static arena, paths
 * are resolved in stack buffers, the real functions were found in the
 * constructor, the policy is used in place in the mapped snapshot with
 * its tables in a static block.  Three exceptions remain: the engine
 * joins an argv longer than 1 KiB in a malloc'd buffer (rules/match.c);
 * the first network question of a process makes the egress list, and the
 * first connection to a non-loopback address that no allowed lookup
 * returned resolves it (guard/net.c).  Decisions that touch shared state (rule matching, the
 * egress list) hold a spin lock that fork() takes and releases around
 * itself (pthread_atfork), so a child never inherits it held.  A call the
 * shim's own code makes (an lstat while resolving, a lookup of the
 * egress list) is recognised by a thread-local flag and goes straight to
 * libc.
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "guard/guard-internal.h"
#include "preload/shim.h"

/* The state every process touches (the constructor, the first guarded
 * call) is kept together in the data page that relocation has already
 * made private, instead of spread over the .bss pages between the big
 * buffers: each page touched is a page fault in every process of a run. */
#define HOT __attribute__((section(".data.shim_hot")))

struct shim_real shim_real HOT;

enum shim_state {
	SHIM_NEW,          /* constructor not run yet */
	SHIM_STARTING,     /* one thread is resolving the real functions */
	SHIM_RESOLVED,     /* real functions and environment known; no policy yet */
	SHIM_LOADING,      /* one thread is loading the snapshot */
	SHIM_READY,        /* policy loaded */
	SHIM_NO_SNAPSHOT,  /* GUARD_SNAPSHOT not set */
	SHIM_BROKEN,       /* snapshot missing, unreadable or damaged */
};

static atomic_int state HOT = SHIM_NEW;
static struct cg_policy *policy HOT;
static struct cg_context context HOT;
static bool is_monitor HOT;
static char broken_reason[384];
static atomic_bool has_said_broken HOT;

static char report_path[sizeof(((struct sockaddr_un *)0)->sun_path)] HOT;

/* "NAME=value" of our variables as the run started, for descendants. */
enum { ENV_PRELOAD, ENV_SNAPSHOT, ENV_WORKSPACE, ENV_MONITOR, ENV_REPORT, N_ENV };
static const char *const env_names[N_ENV] = { "LD_PRELOAD", CG_SNAPSHOT_ENV, CG_WORKSPACE_ENV,
					       CG_MONITOR_ENV, CG_REPORT_ENV };
static char *env_saved[N_ENV] HOT;  /* "" when unset */
static char *self_path = "";        /* this library, as the loader found it */

/* The strings above, packed in the hot page; paths too long for it go to
 * a mapping big enough for every variable at its longest. */
static char env_area_small[1024] HOT;
static char *env_area HOT = env_area_small;
static size_t env_area_size HOT = sizeof(env_area_small), env_area_used HOT;

/* a + b + c (NUL-terminated) in env_area, or "" when they do not fit. */
static char *area_put(const char *a, const char *b, size_t b_len, const char *c)
{
	size_t na = strlen(a), nc = strlen(c), need = na + b_len + nc + 1;
	char *out;

	if (need > env_area_size - env_area_used) {
		size_t size = N_ENV * (PATH_MAX + 16);
		char *big = env_area == env_area_small
				    ? mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
				    : MAP_FAILED;
		if (big == MAP_FAILED || need > size)
			return "";
		env_area = big;
		env_area_size = size;
		env_area_used = 0;
	}
	out = env_area + env_area_used;
	memcpy(out, a, na);
	memcpy(out + na, b, b_len);
	memcpy(out + na + b_len, c, nc + 1);
	env_area_used += na + b_len + nc + 1;
	return out;
}

static __thread int depth __attribute__((tls_model("initial-exec")));

/* ---------------------------------------------------------------- the lock */

static atomic_int decision_lock HOT;

static void lock(void)
{
	while (atomic_exchange_explicit(&decision_lock, 1, memory_order_acquire))
		sched_yield();
}

static void unlock(void)
{
	atomic_store_explicit(&decision_lock, 0, memory_order_release);
}

static void wait_while(int busy);
static void load_once(void);

/* fork() waits for a snapshot load in another thread to finish and for the
 * lock to be free, so that the child never starts with either half done.
 * A child nearly always execs, which is a guarded call: the policy is
 * loaded here, once, instead of in every child (a shell that runs a
 * hundred programs loads it once).  Loading calls no malloc, so this is
 * safe wherever fork itself is. */
static void before_fork(void)
{
	if (depth == 0) {
		depth++;
		load_once();
		depth--;
	}
	wait_while(SHIM_LOADING);
	lock();
}

static void unlock_in_child(void)
{
	atomic_store_explicit(&decision_lock, 0, memory_order_relaxed);
}

/* ---------------------------------------------------------------- the arena */

/* PCRE2's backtracking frames (20 KiB at first, doubling when a match
 * needs more) and the match block.  Used only under the lock; a block is
 * returned to the arena when it is the last one handed out, which is how
 * PCRE2 uses it (free the old frames, allocate bigger ones). */
#define ARENA_SIZE (1u << 20)
#define ARENA_BLOCKS 32
static unsigned char arena[ARENA_SIZE] __attribute__((aligned(64)));
static size_t arena_top HOT;
static struct { size_t offset, size; bool is_free; } arena_block[ARENA_BLOCKS] HOT;
static size_t arena_n HOT;

static void *arena_alloc(size_t size, void *data)
{
	size = (size + 63) & ~(size_t)63;
	if (arena_n == ARENA_BLOCKS || size > ARENA_SIZE - arena_top)
		return NULL;   /* PCRE2 reports "no memory": the rule fails closed */
	arena_block[arena_n].offset = arena_top;
	arena_block[arena_n].size = size;
	arena_block[arena_n].is_free = false;
	arena_n++;
	arena_top += size;
	return arena + arena_top - size;
}

static void arena_release(void *ptr, void *data)
{
	size_t offset = (size_t)((unsigned char *)ptr - arena);

	if (!ptr)
		return;
	for (size_t i = 0; i < arena_n; i++)
		if (arena_block[i].offset == offset)
			arena_block[i].is_free = true;
	while (arena_n > 0 && arena_block[arena_n - 1].is_free) {
		arena_n--;
		arena_top = arena_block[arena_n].offset;
	}
}

/* ---------------------------------------------------------------- reporting */

static void write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void say(const char *line)
{
	write_all(STDERR_FILENO, line, strlen(line));
}

static void report_to_supervisor(const char *call, const char *detail, const struct cg_reason *why,
				 bool is_enforced)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char msg[1024];
	int fd, n;

	if (!report_path[0] || !shim_real.sendto)
		return;
	n = snprintf(msg, sizeof(msg), "v1\t%d\t%s\t%s\t%s\t%s\t%s\t%s", (int)getpid(), call, detail,
		     why->category, why->rule, is_enforced ? "blocked" : "allowed", why->message);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	memcpy(addr.sun_path, report_path, strlen(report_path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	shim_real.sendto(fd, msg, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&addr,
			 sizeof(addr));
	close(fd);
}

/* execvp and Python's subprocess try every PATH entry in turn: one line
 * for "mount" is enough, not one per directory.  The last denial's call,
 * rule and program name, hashed. */
static atomic_uint_least64_t last_denial HOT;

static uint64_t hash_str(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return (h ^ 0xff) * 0x100000001b3ull;
}

static bool is_repeat(const char *call, const char *detail, const struct cg_reason *why)
{
	const char *base = strrchr(detail, '/');
	uint64_t h = 0xcbf29ce484222325ull;

	h = hash_str(h, call);
	h = hash_str(h, why->category);
	h = hash_str(h, why->rule);
	h = hash_str(h, base && strcmp(why->category, "path") != 0 ? base : detail);
	return atomic_exchange(&last_denial, h) == h;
}

static void report(const char *call, const char *detail, const struct cg_reason *why,
		   bool is_enforced)
{
	char line[1200];
	int n;

	if (is_repeat(call, detail, why))
		return;

	if (why->rule[0])
		n = snprintf(line, sizeof(line), "guard: denied %s %s: %s [%s/%s] (layer preload%s)\n",
			     call, detail, why->message, why->category, why->rule,
			     is_enforced ? "" : ", monitor: allowed");
	else
		n = snprintf(line, sizeof(line), "guard: denied %s %s: %s [%s] (layer preload%s)\n",
			     call, detail, why->message, why->category,
			     is_enforced ? "" : ", monitor: allowed");
	if (n > 0 && (size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	if (n > 0)
		write_all(STDERR_FILENO, line, (size_t)n);
	report_to_supervisor(call, detail, why, is_enforced);
}

/* ---------------------------------------------------------------- initialisation */

static void resolve_real(void)
{
#define REAL(name) *(void **)&shim_real.name = dlsym(RTLD_NEXT, #name)
#define REAL_AS(field, name) *(void **)&shim_real.field = dlsym(RTLD_NEXT, name)
	REAL(execve); REAL(execvpe); REAL(fexecve); REAL(execveat);
	REAL(posix_spawn); REAL(posix_spawnp); REAL(system); REAL(popen);
	REAL(open); REAL(open64); REAL(openat); REAL(openat64);
	REAL_AS(open_2, "__open_2"); REAL_AS(open64_2, "__open64_2");
	REAL_AS(openat_2, "__openat_2"); REAL_AS(openat64_2, "__openat64_2");
	REAL(creat); REAL(creat64); REAL(fopen); REAL(fopen64); REAL(freopen); REAL(freopen64);
	REAL(rename); REAL(renameat); REAL(renameat2); REAL(link); REAL(linkat);
	REAL(symlink); REAL(symlinkat); REAL(unlink); REAL(unlinkat); REAL(rmdir);
	REAL(mkdir); REAL(mkdirat); REAL(truncate); REAL(truncate64);
	REAL(chmod); REAL(fchmodat); REAL(chown); REAL(lchown); REAL(fchownat);
	REAL(connect); REAL(bind); REAL(listen); REAL(sendto); REAL(sendmsg); REAL(sendmmsg);
	REAL(getaddrinfo); REAL(gethostbyname); REAL(gethostbyname2); REAL(gethostbyname_r);
#undef REAL
#undef REAL_AS
}

/* Every process of the run passes through here, so it calls almost
 * nothing in libc: the first call of each libc function costs a symbol
 * lookup and its cold code a page fault (getenv, stdio and the string
 * functions cost 11 us a process, where this costs 2). */

extern char **environ;

/* The value in "NAME=value" when entry is about name, else NULL. */
static const char *value_of(const char *entry, const char *name)
{
	while (*name && *entry == *name) {
		entry++;
		name++;
	}
	return *name == '\0' && *entry == '=' ? entry + 1 : NULL;
}

static size_t length_of(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

/* This library's path, for descendants' LD_PRELOAD: the LD_PRELOAD entry
 * that names it (dladdr costs 20 us in a new process), else dladdr. */
static void find_self(const char *v)
{
	static const char name[] = "libguard-preload.so";
	Dl_info info;

	while (v && *v) {
		size_t len = 0, base = 0;
		while (v[len] && v[len] != ':' && v[len] != ' ') {
			if (v[len] == '/')
				base = len + 1;
			len++;
		}
		if (v[0] == '/' && len - base == sizeof(name) - 1 &&
		    memcmp(v + base, name, sizeof(name) - 1) == 0) {
			self_path = area_put("", v, len, "");
			return;
		}
		v += len;
		while (*v == ':' || *v == ' ')
			v++;
	}
	if (dladdr((void *)shim_init, &info) && info.dli_fname && info.dli_fname[0] == '/')
		self_path = area_put("", info.dli_fname, strlen(info.dli_fname), "");
}

/* Our variables as the process started: one pass over the environment
 * (getenv would scan it once per name). */
static void save_env(void)
{
	const char *values[N_ENV] = { NULL };

	for (char **e = environ; e && *e; e++) {
		if ((*e)[0] != 'L' && (*e)[0] != 'G')
			continue;
		for (int i = 0; i < N_ENV; i++)
			if (!values[i] && (values[i] = value_of(*e, env_names[i])))
				break;
	}
	for (int i = 0; i < N_ENV; i++)
		env_saved[i] = "";
	find_self(values[ENV_PRELOAD]);
	if (self_path[0])
		env_saved[ENV_PRELOAD] = area_put("LD_PRELOAD=", self_path, strlen(self_path), "");
	for (int i = ENV_SNAPSHOT; i < N_ENV; i++) {
		size_t n = values[i] ? length_of(values[i], PATH_MAX) : PATH_MAX;
		if (n < PATH_MAX)
			env_saved[i] = area_put(env_names[i], "=", 1, values[i]);
	}
	is_monitor = values[ENV_MONITOR] && values[ENV_MONITOR][0] == '1' && !values[ENV_MONITOR][1];
	if (values[ENV_REPORT]) {
		size_t n = length_of(values[ENV_REPORT], sizeof(report_path));
		if (n < sizeof(report_path))
			memcpy(report_path, values[ENV_REPORT], n + 1);
	}
	/* GUARD_WORKSPACE's value, inside its saved entry. */
	if (values[ENV_WORKSPACE] && values[ENV_WORKSPACE][0] == '/' && env_saved[ENV_WORKSPACE][0])
		context.workspace = env_saved[ENV_WORKSPACE] + strlen(CG_WORKSPACE_ENV) + 1;
}

/* The policy's tables and decoded patterns (cg_policy_snapshot_view):
 * 12 KiB for the default policy; a bigger one gets a mapping. */
static unsigned char view_mem[64 * 1024] __attribute__((aligned(64)));

/* Map the snapshot and use it in place: no malloc, no copy, nothing
 * parsed twice.  The mapping stays for the life of the process (the
 * policy's strings are in it). */
static int read_snapshot(const char *path, struct cg_error *err)
{
	struct stat st;
	void *data, *mem = view_mem;
	size_t len, mem_size = sizeof(view_mem);
	int fd, rc;

	fd = shim_real.open ? shim_real.open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0) {
		cg_error_set(err, path, 0, "", "cannot open the policy snapshot: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || st.st_size <= 0) {
		cg_error_set(err, path, 0, "", "the policy snapshot is empty or unreadable");
		close(fd);
		return -1;
	}
	len = (size_t)st.st_size;
	data = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (data == MAP_FAILED) {
		cg_error_set(err, path, 0, "", "cannot map the policy snapshot: %s", strerror(errno));
		return -1;
	}
	rc = cg_policy_snapshot_view(&policy, data, len, mem, mem_size, err);
	if (rc == -ENOMEM) {
		/* Every table is smaller than the frame it comes from, every
		 * decoded pattern as big as its serialized form. */
		mem_size += 16 * len;
		mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (mem != MAP_FAILED)
			rc = cg_policy_snapshot_view(&policy, data, len, mem, mem_size, err);
		else
			mem = view_mem;
	}
	if (rc < 0) {
		munmap(data, len);
		if (mem != view_mem)
			munmap(mem, mem_size);
		return -1;
	}
	return 0;
}

static enum shim_state load_policy(void)
{
	const char *path = env_saved[ENV_SNAPSHOT] + strlen(CG_SNAPSHOT_ENV) + 1;
	struct cg_error err = { 0 };
	char msg[sizeof(err.message) + sizeof(err.file) + 8];

	if (read_snapshot(path, &err) < 0 ||
	    cg_policy_set_match_memory(policy, arena_alloc, arena_release, NULL) < 0) {
		snprintf(broken_reason, sizeof(broken_reason), "policy snapshot unusable: %s",
			 cg_error_format(&err, msg, sizeof(msg)));
		return SHIM_BROKEN;
	}
	context.policy = policy;
	return SHIM_READY;
}

static void wait_while(int busy)
{
	while (atomic_load_explicit(&state, memory_order_acquire) == busy)
		sched_yield();
}

/* Everything but the policy: cheap enough for every process, and done in
 * the constructor, where dlsym is safe. */
void shim_init(void)
{
	int expected = SHIM_NEW;

	if (atomic_load_explicit(&state, memory_order_acquire) >= SHIM_RESOLVED)
		return;
	if (!atomic_compare_exchange_strong(&state, &expected, SHIM_STARTING)) {
		/* Another thread is initialising; this thread's own nested
		 * calls (depth > 0) must not wait for themselves. */
		if (depth == 0)
			wait_while(SHIM_STARTING);
		return;
	}
	depth++;
	resolve_real();
	save_env();
	pthread_atfork(before_fork, unlock, unlock_in_child);
	depth--;
	if (!env_saved[ENV_SNAPSHOT][0]) {
		snprintf(broken_reason, sizeof(broken_reason),
			 "libguard-preload.so is loaded without %s", CG_SNAPSHOT_ENV);
		atomic_store_explicit(&state, SHIM_NO_SNAPSHOT, memory_order_release);
		return;
	}
	atomic_store_explicit(&state, SHIM_RESOLVED, memory_order_release);
}

/* The policy, loaded at the first guarded call rather than in the
 * constructor: a process that never opens, runs or connects anything
 * (/bin/true, and most of what a build runs is small) does not pay for it.
 * Loading maps the snapshot and uses it in place: no malloc, so a first
 * guarded call in a signal handler or a vfork child can load it too. */
static void load_once(void)
{
	int expected = SHIM_RESOLVED;

	if (atomic_load_explicit(&state, memory_order_acquire) != SHIM_RESOLVED ||
	    !atomic_compare_exchange_strong(&state, &expected, SHIM_LOADING)) {
		wait_while(SHIM_LOADING);
		return;
	}
	atomic_store_explicit(&state, load_policy(), memory_order_release);
}

__attribute__((constructor)) static void shim_constructor(void)
{
	shim_init();
}

/* ---------------------------------------------------------------- the guard */

bool shim_enter(void)
{
	shim_init();
	if (depth > 0 || atomic_load_explicit(&state, memory_order_acquire) == SHIM_STARTING)
		return false;
	depth++;
	load_once();
	return true;
}

void shim_leave(void)
{
	depth--;
}

/* The common end of every check: v is the engine's verdict (or CG_BLOCK
 * with why filled for a shim that has no policy). */
static int conclude(const char *call, const char *detail, enum cg_verdict v,
		    const struct cg_reason *why, int deny_errno, int saved_errno)
{
	if (v == CG_ALLOW) {
		errno = saved_errno;
		return 0;
	}
	report(call, detail, why, !is_monitor);
	if (is_monitor) {
		errno = saved_errno;
		return 0;
	}
	errno = deny_errno;
	return -1;
}

/* No usable policy: the first refusal says why, the rest are silent. */
static int refuse_unloaded(const char *call, const char *detail, int deny_errno, int saved_errno)
{
	if (!atomic_exchange(&has_said_broken, true)) {
		char line[600];
		snprintf(line, sizeof(line), "guard: %s: %s %s (layer preload)\n", broken_reason,
			 is_monitor ? "allowing" : "refusing", "guarded calls");
		say(line);
	}
	(void)call;
	(void)detail;
	if (is_monitor) {
		errno = saved_errno;
		return 0;
	}
	errno = deny_errno;
	return -1;
}

static int decide(const char *call, const char *detail, const struct cg_event *ev, bool needs_lock,
		  int deny_errno, int saved_errno)
{
	struct cg_reason why;
	enum cg_verdict v;

	if (atomic_load_explicit(&state, memory_order_acquire) != SHIM_READY)
		return refuse_unloaded(call, detail, deny_errno, saved_errno);
	if (needs_lock)
		lock();
	/* The egress list copies the policy's host lists (malloc): made at
	 * the first network question, not in every process.  Without it
	 * only loopback is allowed. */
	if (!context.egress && (ev->kind == CG_EV_CONNECT || ev->kind == CG_EV_BIND ||
				ev->kind == CG_EV_LISTEN || ev->kind == CG_EV_HOST)) {
		struct cg_error err;
		cg_egress_new(&context.egress, policy, &err);
	}
	v = cg_decide(&context, ev, &why);
	if (needs_lock)
		unlock();
	if (v == CG_BLOCK)
		snprintf(why.layer, sizeof(why.layer), "preload");
	return conclude(call, detail, v, &why, deny_errno, saved_errno);
}

/* "/proc/self/fd/FD" into out: without stdio, whose cold code would be
 * paged in by the first open of nearly every process. */
static void proc_fd_name(int fd, char out[32])
{
	static const char prefix[] = "/proc/self/fd/";
	char digits[12];
	size_t n = 0;
	unsigned v = fd < 0 ? 0 : (unsigned)fd;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	memcpy(out, prefix, sizeof(prefix) - 1);
	for (size_t i = 0; i < n; i++)
		out[sizeof(prefix) - 1 + i] = digits[n - 1 - i];
	out[sizeof(prefix) - 1 + n] = '\0';
}

/* The directory dirfd stands for, or the cwd; into out (PATH_MAX). */
static int base_of(int dirfd, char *out)
{
	char proc[32];
	ssize_t n;

	if (dirfd == AT_FDCWD)
		return getcwd(out, PATH_MAX) ? 0 : -1;
	proc_fd_name(dirfd, proc);
	n = readlink(proc, out, PATH_MAX - 1);
	if (n <= 0 || out[0] != '/')
		return -1;
	out[n] = '\0';
	return 0;
}

/* What /proc/self/fd/FD names, when it is a path. */
static int fd_path(int fd, char *out)
{
	char proc[32];
	ssize_t n;

	proc_fd_name(fd, proc);
	n = readlink(proc, out, PATH_MAX - 1);
	if (n <= 0)
		return -1;
	out[n] = '\0';
	/* An fd whose file was unlinked since it was opened: the name it had. */
	if (n > 10 && strcmp(out + n - 10, " (deleted)") == 0)
		out[n - 10] = '\0';
	return 0;
}

/* Resolve path (relative to dirfd) as the kernel would, into out.  The
 * kernel does it for us when the object exists (an O_PATH open and a
 * readlink of its /proc/self/fd entry: three system calls however deep
 * the path); for a name still to be created, its directory.  1 resolved,
 * 0 the call will fail anyway (let it), -1 could not tell. */
static int resolve_path(int dirfd, const char *path, bool is_nofollow, char *out)
{
	int fd, rc;

	fd = shim_real.openat(dirfd, path, O_PATH | O_CLOEXEC | (is_nofollow ? O_NOFOLLOW : 0));
	if (fd >= 0) {
		rc = fd_path(fd, out);
		close(fd);
		if (rc < 0)
			return -1;
		/* "pipe:[123]", "socket:[456]": /dev/stdout or /proc/self/fd/N
		 * reopening a pipe the process holds; no file to judge. */
		return out[0] == '/' ? 1 : 0;
	}
	if (errno != ENOENT)
		return errno == ENOTDIR || errno == EACCES || errno == ENAMETOOLONG ? 0 : -1;
	/* A dangling symlink: creating through it makes its target, which
	 * only a walk component by component finds. */
	if (!is_nofollow) {
		fd = shim_real.openat(dirfd, path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			close(fd);
			return -1;
		}
	}

	/* Split off the last component ("dir/name", "name", "dir/name/"). */
	char parent[PATH_MAX];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof(parent))
		return 0;
	memcpy(parent, path, n + 1);
	while (n > 1 && parent[n - 1] == '/')
		parent[--n] = '\0';
	char *slash = strrchr(parent, '/');
	const char *last;
	if (!slash) {
		last = path;
		snprintf(parent, sizeof(parent), ".");
	} else {
		*slash = '\0';
		last = path + (slash - parent) + 1;
		if (slash == parent)
			snprintf(parent, sizeof(parent), "/");
	}
	fd = shim_real.openat(dirfd, parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	rc = fd_path(fd, out);
	close(fd);
	if (rc < 0 || out[0] != '/')
		return -1;
	size_t len = strlen(out), last_len = strcspn(last, "/");
	if (len + 1 + last_len + 1 > PATH_MAX)
		return 0;
	if (len > 1)
		out[len++] = '/';
	memcpy(out + len, last, last_len);
	out[len + last_len] = '\0';
	/* "dir/.." or "dir/." as the last component: tidy lexically. */
	if (strcmp(last, "..") == 0 || strcmp(last, ".") == 0)
		return cg_path_normalize("/", out, out, PATH_MAX) == 0 ? 1 : -1;
	return 1;
}

/* "echo hi > /dev/stderr" on a terminal: reopening a terminal the process
 * already holds through one of its fd names.  Any other file reached that
 * way is judged as itself (an fd opened for reading must not become a
 * writable one through /proc/self/fd). */
static bool is_own_terminal(const char *path, const char *resolved)
{
	static const char *const fd_names[] = { "/dev/stdin", "/dev/stdout", "/dev/stderr",
						"/dev/fd/", "/proc/self/fd/", "/proc/thread-self/fd/" };
	bool is_fd_name = false;

	if (strncmp(resolved, "/dev/pts/", 9) != 0 && strncmp(resolved, "/dev/tty", 8) != 0)
		return false;
	for (size_t i = 0; i < sizeof(fd_names) / sizeof(fd_names[0]); i++) {
		size_t n = strlen(fd_names[i]);
		if (strncmp(path, fd_names[i], n) == 0 &&
		    (fd_names[i][n - 1] == '/' ? strspn(path + n, "0123456789") == strlen(path + n)
					       : path[n] == '\0'))
			is_fd_name = true;
	}
	return is_fd_name;
}

/* The caller's pid for an open event: the engine needs it only to tell
 * this process's /proc/PID from another's, and every other open saves a
 * system call (Python makes hundreds at start-up). */
static pid_t pid_for(const char *path)
{
	return strncmp(path, "/proc/", 6) == 0 ? getpid() : 0;
}

int shim_check_path(const char *call, int dirfd, const char *path, unsigned access,
		    bool is_nofollow)
{
	int saved_errno = errno, rc;
	char resolved[PATH_MAX];

	if (shim_is_null(path) || !shim_enter())
		return 0;
	rc = resolve_path(dirfd, path, is_nofollow, resolved);
	if (rc < 0) {
		/* No /proc, or an error we cannot read: walk it ourselves. */
		char base[PATH_MAX];
		if (path[0] != '/' && base_of(dirfd, base) < 0)
			rc = 0;
		else
			rc = cg_path_resolve(path[0] == '/' ? "/" : base, path, resolved) == 0 ? 1 : 0;
	}
	if (rc == 0 || is_own_terminal(path, resolved)) {
		shim_leave();
		errno = saved_errno;
		return 0;
	}
	struct cg_event ev = { .kind = CG_EV_OPEN };
	ev.u.open.path = resolved;
	ev.u.open.access = access;
	ev.u.open.pid = pid_for(ev.u.open.path);
	rc = decide(call, resolved, &ev, false, EACCES, saved_errno);
	shim_leave();
	return rc;
}

void shim_explain_refusal(const char *call, int dirfd, const char *path, unsigned access)
{
	shim_check_path(call, dirfd, path, access, false);
	errno = EACCES;
}

int shim_check_opened(const char *call, int fd, const char *path, unsigned access)
{
	int saved_errno = errno, rc;
	char opened[PATH_MAX];

	if (fd < 0 || !shim_enter())
		return 0;
	if (fd_path(fd, opened) < 0) {
		shim_leave();
		/* No /proc: judge the name instead. */
		return shim_check_path(call, AT_FDCWD, path, access, false);
	}
	/* Pipes, sockets and memfds reopened through /proc/self/fd have no
	 * path to judge. */
	if (opened[0] != '/' || strncmp(opened, "/memfd:", 7) == 0) {
		shim_leave();
		errno = saved_errno;
		return 0;
	}
	struct cg_event ev = { .kind = CG_EV_OPEN };
	ev.u.open.path = opened;
	ev.u.open.access = access;
	ev.u.open.pid = pid_for(ev.u.open.path);
	rc = decide(call, opened, &ev, false, EACCES, saved_errno);
	shim_leave();
	return rc;
}

int shim_check_exec(const char *call, int dirfd, const char *path, char *const argv[])
{
	int saved_errno = errno, rc;
	char base[PATH_MAX], resolved[PATH_MAX];
	size_t argc = 0;

	if (shim_is_null(path))
		return 0;
	if (!shim_enter()) {
		/* Our own code never starts programs: this is a signal
		 * handler that interrupted a decision on this thread, and the
		 * policy is busy.  Refuse rather than let it through unseen. */
		if (depth > 0) {
			say("guard: denied exec during a decision (signal handler) (layer preload)\n");
			errno = EPERM;
			return -1;
		}
		return 0;
	}
	while (argv && argv[argc])
		argc++;
	struct cg_event ev = { .kind = CG_EV_EXEC };
	ev.u.exec.path = path;
	ev.u.exec.argv = argv;
	ev.u.exec.argc = argc;
	rc = decide(call, path, &ev, true, EPERM, saved_errno);
	/* A symlink to a forbidden program (ln -s /usr/bin/sudo x) runs
	 * that program: judge the name it resolves to as well. */
	if (rc == 0 && atomic_load(&state) == SHIM_READY &&
	    (path[0] == '/' || base_of(dirfd, base) == 0) &&
	    cg_path_resolve(path[0] == '/' ? "/" : base, path, resolved) == 0) {
		/* fexecve of a memfd: /proc/self/fd/N names "/memfd:NAME (deleted)",
		 * and NAME is all there is to judge (the seccomp layer looks
		 * at the image itself). */
		size_t len = strlen(resolved);
		if (strncmp(resolved, "/memfd:", 7) == 0) {
			if (len > 17 && strcmp(resolved + len - 10, " (deleted)") == 0)
				resolved[len - 10] = '\0';
			memmove(resolved + 1, resolved + 7, strlen(resolved + 7) + 1);
		}
		const char *a = strrchr(path, '/'), *b = strrchr(resolved, '/');
		if (strcmp(a ? a + 1 : path, b ? b + 1 : resolved) != 0) {
			ev.u.exec.path = resolved;
			rc = decide(call, resolved, &ev, true, EPERM, saved_errno);
		}
	}
	shim_leave();
	return rc;
}

int shim_check_shell(const char *call, const char *command)
{
	int saved_errno = errno, rc;

	if (shim_is_null(command) || !shim_enter())
		return 0;
	struct cg_event ev = { .kind = CG_EV_SHELL };
	ev.u.script.text = command;
	ev.u.script.len = strlen(command);
	rc = decide(call, command, &ev, true, EPERM, saved_errno);
	shim_leave();
	return rc;
}

/* Addresses that an allowed name lookup returned in this process: the
 * program connects to them next, and the egress list (resolved on its
 * own, maybe to other addresses of the same host) must not say no. */
#define LEARNED_MAX 256
static struct { int family; unsigned char addr[16]; } learned[LEARNED_MAX];
static size_t n_learned;

static void learn(int family, const void *addr)
{
	size_t len = family == AF_INET ? 4 : 16;

	for (size_t i = 0; i < n_learned; i++)
		if (learned[i].family == family && memcmp(learned[i].addr, addr, len) == 0)
			return;
	if (n_learned == LEARNED_MAX)
		return;
	learned[n_learned].family = family;
	memcpy(learned[n_learned].addr, addr, len);
	n_learned++;
}

void shim_learn_addrinfo(const struct addrinfo *res)
{
	lock();
	for (; res; res = res->ai_next) {
		if (res->ai_family == AF_INET && res->ai_addr)
			learn(AF_INET, &((const struct sockaddr_in *)(const void *)res->ai_addr)->sin_addr);
		else if (res->ai_family == AF_INET6 && res->ai_addr)
			learn(AF_INET6, &((const struct sockaddr_in6 *)(const void *)res->ai_addr)->sin6_addr);
	}
	unlock();
}

void shim_learn_hostent(const struct hostent *h)
{
	if (!h || (h->h_addrtype != AF_INET && h->h_addrtype != AF_INET6))
		return;
	lock();
	for (char **a = h->h_addr_list; a && *a; a++)
		learn(h->h_addrtype, *a);
	unlock();
}

static bool is_learned(const struct sockaddr *sa, socklen_t len)
{
	int family = sa->sa_family;
	const void *addr;
	bool found = false;

	if (family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in))
		addr = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6))
		addr = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	else
		return false;
	lock();
	for (size_t i = 0; i < n_learned && !found; i++)
		found = learned[i].family == family &&
			memcmp(learned[i].addr, addr, family == AF_INET ? 4 : 16) == 0;
	unlock();
	return found;
}

static void format_sockaddr(const struct sockaddr *sa, socklen_t len, char *out, size_t size)
{
	char ip[64] = "?";

	if (!sa || len < (socklen_t)sizeof(sa_family_t)) {
		snprintf(out, size, "(no address)");
	} else if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const void *)sa;
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		snprintf(out, size, "%s:%u", ip, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		snprintf(out, size, "[%s]:%u", ip, ntohs(in6->sin6_port));
	} else if (sa->sa_family == AF_UNIX) {
		const struct sockaddr_un *un = (const void *)sa;
		size_t max = len - offsetof(struct sockaddr_un, sun_path);
		if (max > sizeof(un->sun_path))
			max = sizeof(un->sun_path);
		snprintf(out, size, "unix:%.*s", (int)max, un->sun_path[0] ? un->sun_path : "@");
	} else {
		snprintf(out, size, "family %d", sa->sa_family);
	}
}

int shim_check_net(const char *call, enum cg_event_kind kind, const struct sockaddr *addr,
		   socklen_t len)
{
	int saved_errno = errno, rc;
	char detail[160];

	if (!shim_enter())
		return 0;
	if (kind == CG_EV_CONNECT && addr && atomic_load(&state) == SHIM_READY &&
	    is_learned(addr, len)) {
		shim_leave();
		errno = saved_errno;
		return 0;
	}
	format_sockaddr(addr, len, detail, sizeof(detail));
	struct cg_event ev = { .kind = kind };
	ev.u.net.addr = addr;
	ev.u.net.len = len;
	rc = decide(call, detail, &ev, true, EPERM, saved_errno);
	shim_leave();
	return rc;
}

int shim_check_host(const char *call, const char *host)
{
	int saved_errno = errno, rc;
	unsigned char bin[16];

	if (shim_is_null(host) || !shim_enter())
		return 0;
	/* A numeric address is not a lookup: connect() judges it. */
	if (inet_pton(AF_INET, host, bin) == 1 || inet_pton(AF_INET6, host, bin) == 1) {
		shim_leave();
		return 0;
	}
	struct cg_event ev = { .kind = CG_EV_HOST };
	ev.u.host.host = host;
	rc = decide(call, host, &ev, true, EPERM, saved_errno);
	shim_leave();
	errno = saved_errno;
	return rc;
}

/* ---------------------------------------------------------------- environment */

static bool name_is(const char *entry, const char *name)
{
	size_t n = strlen(name);
	return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

/* Does the LD_PRELOAD entry list this library (space or colon separated)? */
static bool preload_has_self(const char *entry)
{
	const char *v = entry + strlen("LD_PRELOAD="), *self = env_saved[ENV_PRELOAD] + 11;
	size_t n = strlen(self);

	while (*v) {
		size_t len = strcspn(v, ": ");
		if (len == n && strncmp(v, self, n) == 0)
			return true;
		v += len;
		v += strspn(v, ": ");
	}
	return false;
}

static bool env_is_complete(char *const envp[])
{
	for (int i = 0; i < N_ENV; i++) {
		bool is_found = false;
		if (!env_saved[i][0])
			continue;
		for (size_t k = 0; envp && envp[k] && !is_found; k++) {
			if (i == ENV_PRELOAD)
				is_found = name_is(envp[k], "LD_PRELOAD") && preload_has_self(envp[k]);
			else
				is_found = strcmp(envp[k], env_saved[i]) == 0;
		}
		if (!is_found)
			return false;
	}
	return true;
}

size_t shim_env_slots(char *const envp[])
{
	size_t n = 0;

	while (envp && envp[n])
		n++;
	return n + N_ENV + 1;
}

char *const *shim_fix_env(char *const envp[], char **buf, size_t n_buf, char *preload_buf,
			  size_t preload_size)
{
	size_t n = 0;
	const char *their_preload = NULL;

	if (env_is_complete(envp))
		return envp;
	for (size_t k = 0; envp && envp[k]; k++) {
		bool is_ours = false;
		for (int i = 0; i < N_ENV && !is_ours; i++)
			is_ours = env_saved[i][0] && name_is(envp[k], env_names[i]);
		if (name_is(envp[k], "LD_PRELOAD"))
			their_preload = envp[k] + 11;
		if (is_ours)
			continue;
		if (n + 1 >= n_buf)
			return NULL;
		buf[n++] = envp[k];
	}
	for (int i = 0; i < N_ENV; i++) {
		if (!env_saved[i][0])
			continue;
		if (n + 1 >= n_buf)
			return NULL;
		buf[n] = env_saved[i];
		/* Keep the program's own preloads after ours. */
		if (i == ENV_PRELOAD && their_preload && their_preload[0] &&
		    snprintf(preload_buf, preload_size, "%s:%s", env_saved[i], their_preload) <
			    (int)preload_size)
			buf[n] = preload_buf;
		n++;
	}
	buf[n] = NULL;
	return buf;
}

void shim_restore_environ(void)
{
	const char *preload = getenv("LD_PRELOAD");
	char entry[PATH_MAX + 16];

	if (env_saved[ENV_PRELOAD][0]) {
		snprintf(entry, sizeof(entry), "LD_PRELOAD=%s", preload ? preload : "");
		if (!preload || !preload_has_self(entry)) {
			char value[PATH_MAX * 2];
			if (preload && preload[0])
				snprintf(value, sizeof(value), "%s:%s", self_path, preload);
			else
				snprintf(value, sizeof(value), "%s", self_path);
			setenv("LD_PRELOAD", value, 1);
		}
	}
	for (int i = ENV_SNAPSHOT; i < N_ENV; i++) {
		if (!env_saved[i][0])
			continue;
		const char *want = env_saved[i] + strlen(env_names[i]) + 1;
		const char *have = getenv(env_names[i]);
		if (!have || strcmp(have, want) != 0)
			setenv(env_names[i], want, 1);
	}
}

const char *shim_find_program(const char *file, const char *path_env, char *out)
{
	const char *p = path_env && path_env[0] ? path_env : "/bin:/usr/bin";
	size_t file_len = strlen(file);

	if (!file[0] || strchr(file, '/'))
		return file;
	while (true) {
		size_t len = strcspn(p, ":");
		/* An empty PATH entry is the current directory. */
		if (len + 1 + file_len + 1 <= PATH_MAX) {
			if (len == 0) {
				memcpy(out, file, file_len + 1);
			} else {
				memcpy(out, p, len);
				out[len] = '/';
				memcpy(out + len + 1, file, file_len + 1);
			}
			struct stat st;
			if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
				return out;
		}
		if (!p[len])
			break;
		p += len + 1;
	}
	return file;
}
