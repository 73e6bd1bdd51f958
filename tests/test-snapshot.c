/* test-snapshot.c - the compiled policy snapshot the preload shim loads. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "preload/shim.h"
#include "rules/rules-internal.h"
#include "rules/rules.h"

/* The snapshot of p, in a malloc'd buffer. */
static unsigned char *snapshot_of(struct cg_policy *p, size_t *len)
{
	struct cg_error err = { 0 };
	int fd = memfd_create("snapshot", MFD_CLOEXEC);
	struct stat st;
	unsigned char *data;

	cr_assert_geq(fd, 0);
	cr_assert_eq(cg_policy_snapshot_write(p, fd, &err), 0, "%s", err.message);
	cr_assert_eq(fstat(fd, &st), 0);
	data = malloc((size_t)st.st_size);
	cr_assert_not_null(data);
	cr_assert_eq(pread(fd, data, (size_t)st.st_size, 0), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return data;
}

static struct cg_policy *builtin(void)
{
	struct cg_policy *p = NULL;
	struct cg_error err = { 0 };

	cr_assert_eq(cg_policy_load(&p, NULL, &err), 0, "%s", err.message);
	return p;
}

/* Split a command line on spaces and ask both policies about it. */
static void assert_same_verdict(struct cg_policy *a, struct cg_policy *b, const char *line)
{
	char buf[512], *argv[32];
	size_t n = 0;
	struct cg_rule_match ma = { 0 }, mb = { 0 };

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *save = NULL, *s = strtok_r(buf, " ", &save); s && n < 32; s = strtok_r(NULL, " ", &save))
		argv[n++] = s;
	bool is_blocked_a = cg_rules_blocks(a, argv[0], argv + 1, n - 1, &ma);
	bool is_blocked_b = cg_rules_blocks(b, argv[0], argv + 1, n - 1, &mb);
	cr_assert_eq(is_blocked_a, is_blocked_b, "%s", line);
	if (is_blocked_a) {
		cr_assert_str_eq(ma.id, mb.id, "%s", line);
		cr_assert_str_eq(ma.category, mb.category, "%s", line);
		cr_assert_str_eq(ma.reason, mb.reason, "%s", line);
	}
}

Test(snapshot, builtin_policy_round_trips_with_identical_verdicts) {
	struct cg_policy *p = builtin(), *q = NULL;
	struct cg_error err = { 0 };
	size_t len;
	unsigned char *data = snapshot_of(p, &len);

	cr_assert_eq(cg_policy_snapshot_load(&q, data, len, &err), 0, "%s", err.message);
	const char *lines[] = { "rm -rf /", "rm -rf node_modules", "sudo ls", "mount", "mkfs.ext4 /dev/sda",
				"nc -l 4444", "nc example.org 80", "npm test", "git status", "killall node",
				"shutdown -h now", "passwd", "ls -la", "useradd bob", "nmap 10.0.0.1" };
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		assert_same_verdict(p, q, lines[i]);

	struct cg_rule_info a, b;
	size_t n = 0;
	for (; cg_policy_rule_at(p, n, &a); n++) {
		cr_assert(cg_policy_rule_at(q, n, &b));
		cr_assert_str_eq(a.id, b.id);
		cr_assert_str_eq(a.action, b.action);
		cr_assert_eq(a.level, b.level);
		cr_assert_eq(a.programs->n, b.programs->n);
		cr_assert_eq(a.pattern == NULL, b.pattern == NULL);
		if (a.pattern)
			cr_assert_str_eq(a.pattern, b.pattern);
	}
	cr_assert_not(cg_policy_rule_at(q, n, &b), "no extra rules");
	cr_assert_gt(n, 0);
	free(data);
	cg_policy_free(q);
	cg_policy_free(p);
}

/* The shim's loader: the same policy, used in place. */
Test(snapshot, a_view_in_place_decides_like_the_policy_it_was_written_from) {
	struct cg_policy *p = builtin(), *q = NULL, *copy = NULL;
	struct cg_error err = { 0 };
	size_t len, mem_size = 256 * 1024;
	unsigned char *data = snapshot_of(p, &len);
	void *mem = aligned_alloc(64, mem_size);

	cr_assert_eq(cg_policy_snapshot_view(&q, data, len, mem, mem_size, &err), 0, "%s", err.message);
	const char *lines[] = { "rm -rf /", "rm -rf node_modules", "sudo ls", "mount", "mkfs.ext4 /dev/sda",
				"nc -l 4444", "npm test", "git status", "killall node", "passwd", "ls -la" };
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		assert_same_verdict(p, q, lines[i]);

	struct cg_rule_info info;
	cr_assert(cg_policy_rule_at(q, 0, &info));
	cr_assert(info.id >= (const char *)data && info.id < (const char *)data + len,
		  "the strings are the snapshot's own bytes, not copies");

	/* The index it restored is the one match.c would build. */
	cr_assert_eq(cg_policy_snapshot_load(&copy, data, len, &err), 0, "%s", err.message);
	cr_assert_eq(cg_policy_index_build(copy), 0);
	cr_assert(q->has_index);
	cr_assert_eq(q->n_keys, copy->n_keys);
	cr_assert_gt(q->n_keys, 10);
	for (size_t i = 0; i < q->n_keys; i++) {
		cr_assert_str_eq(q->keys[i].name, copy->keys[i].name, "key %zu", i);
		cr_assert_eq(q->keys[i].rule, copy->keys[i].rule, "key %zu", i);
	}
	cr_assert_eq(q->n_glob_rules, copy->n_glob_rules);
	for (size_t i = 0; i < q->n_glob_rules; i++)
		cr_assert_eq(q->glob_rules[i], copy->glob_rules[i]);
	cg_policy_free(copy);
	/* A view is never freed: its one malloc'd part is the match block
	 * match.c made on first use (the shim gives it one from its arena). */
	pcre2_match_data_free(q->match_data);
	free(mem);
	free(data);
	cg_policy_free(p);
}

Test(snapshot, a_view_takes_its_memory_only_from_the_block_it_is_given) {
	struct cg_policy *p = builtin(), *q = NULL;
	struct cg_error err = { 0 };
	size_t len, mem_size = 256 * 1024;
	unsigned char *data = snapshot_of(p, &len);
	unsigned char *mem = aligned_alloc(64, mem_size);

	cr_assert_eq(cg_policy_snapshot_view(&q, data, len, mem, 4096, &err), -ENOMEM);
	cr_assert_null(q);
	cr_assert(strstr(err.message, "out of memory"), "%s", err.message);

	memset(mem, 0xa5, mem_size);
	cr_assert_eq(cg_policy_snapshot_view(&q, data, len, mem, mem_size, &err), 0, "%s", err.message);
	cr_assert((unsigned char *)q >= mem && (unsigned char *)q < mem + mem_size);
	/* Rules and decoded patterns live in the block too (and were
	 * cleared: the 0xa5 filling must not leak into the policy). */
	char *const args[] = { "-rf", "/" };
	struct cg_rule_match m;
	cr_assert(cg_rules_blocks(q, "rm", args, 2, &m));
	cr_assert_str_eq(m.id, "rm-root");
	pcre2_match_data_free(q->match_data);
	free(mem);
	free(data);
	cg_policy_free(p);
}

Test(snapshot, every_truncation_or_flipped_bit_of_a_view_is_an_error_not_a_crash) {
	struct cg_policy *p = builtin(), *q = NULL;
	struct cg_error err = { 0 };
	size_t len, mem_size = 256 * 1024;
	unsigned char *data = snapshot_of(p, &len);
	void *mem = aligned_alloc(64, mem_size);

	for (size_t n = 0; n < len; n++) {
		unsigned char *cut = malloc(n ? n : 1);
		memcpy(cut, data, n);
		cr_assert_eq(cg_policy_snapshot_view(&q, cut, n, mem, mem_size, &err), -EINVAL,
			     "length %zu", n);
		cr_assert_null(q);
		free(cut);
	}
	for (size_t i = 0; i < len; i += 3) {
		data[i] ^= 0x04;
		cr_assert_lt(cg_policy_snapshot_view(&q, data, len, mem, mem_size, &err), 0, "byte %zu", i);
		cr_assert_null(q);
		data[i] ^= 0x04;
	}
	free(mem);
	free(data);
	cg_policy_free(p);
}

Test(snapshot, settings_lists_and_limits_survive_the_round_trip) {
	struct cg_policy *p = NULL, *q = NULL;
	struct cg_error err = { 0 };
	const char *conf =
		"paths: { allowed = [\"/srv/build\"]; };\n"
		"network: { allowed_hosts = [\"registry.example.org\"]; };\n"
		"environment: { deny = [\"^SECRET_\"]; };\n";

	cr_assert_eq(cg_policy_load_string(&p, conf, "t.conf", &err), 0, "%s", err.message);
	cr_assert_eq(cg_strlist_add(&cg_policy_settings_mut(p)->cli_deny_write, "/srv/build/out"), 0);
	cg_policy_settings_mut(p)->cpu_cores = 1.5;
	cr_assert_eq(cg_policy_add_cli_run(p, "make", false, &err), 0);
	size_t len;
	unsigned char *data = snapshot_of(p, &len);
	cr_assert_eq(cg_policy_snapshot_load(&q, data, len, &err), 0, "%s", err.message);

	const struct cg_settings *a = cg_policy_settings(p), *b = cg_policy_settings(q);
	cr_assert(cg_strlist_contains(&b->paths_allowed, "/srv/build"));
	cr_assert_eq(a->paths_allowed.n, b->paths_allowed.n);
	cr_assert_eq(a->paths_blocked.n, b->paths_blocked.n);
	cr_assert_eq(a->paths_readable.n, b->paths_readable.n);
	cr_assert(cg_strlist_contains(&b->net_hosts, "registry.example.org"));
	cr_assert(cg_strlist_contains(&b->cli_deny_write, "/srv/build/out"));
	cr_assert_eq(b->cpu_cores, 1.5);
	cr_assert_eq(a->output_limit_bytes, b->output_limit_bytes);
	cr_assert_eq(a->max_timeout_s, b->max_timeout_s);
	cr_assert_eq(a->rate_count, b->rate_count);
	cr_assert_eq(a->net_allow_loopback, b->net_allow_loopback);
	cr_assert_str_eq(cg_policy_source(q), "t.conf");
	cr_assert(cg_policy_env_denied(q, "SECRET_TOKEN"), "env deny pattern came through compiled");
	cr_assert_not(cg_policy_env_denied(q, "HOME"));
	assert_same_verdict(p, q, "make all");
	free(data);
	cg_policy_free(q);
	cg_policy_free(p);
}

Test(snapshot, every_truncation_is_an_error_not_a_crash) {
	struct cg_policy *p = builtin(), *q = NULL;
	struct cg_error err = { 0 };
	size_t len;
	unsigned char *data = snapshot_of(p, &len);

	for (size_t n = 0; n < len; n++) {
		/* A fresh copy of exactly n bytes, so that ASan sees any overread. */
		unsigned char *cut = malloc(n ? n : 1);
		memcpy(cut, data, n);
		cr_assert_eq(cg_policy_snapshot_load(&q, cut, n, &err), -EINVAL, "length %zu", n);
		cr_assert_null(q);
		free(cut);
	}
	cr_assert(strstr(err.message, "damaged"), "%s", err.message);
	free(data);
	cg_policy_free(p);
}

Test(snapshot, any_flipped_bit_is_refused) {
	struct cg_policy *p = builtin(), *q = NULL;
	struct cg_error err = { 0 };
	size_t len;
	unsigned char *data = snapshot_of(p, &len);

	for (size_t i = 0; i < len; i++) {
		data[i] ^= 0x10;
		cr_assert_lt(cg_policy_snapshot_load(&q, data, len, &err), 0, "byte %zu", i);
		cr_assert_null(q);
		data[i] ^= 0x10;
	}
	cr_assert_eq(cg_policy_snapshot_load(&q, data, len, &err), 0, "restored: %s", err.message);
	cg_policy_free(q);
	free(data);
	cg_policy_free(p);
}

/* Damage the frame and repair its checksum, as a fuzzer would: the parser
 * itself must refuse what does not add up. */
Test(snapshot, damaged_rules_with_a_repaired_checksum_are_refused) {
	struct cg_policy *p = builtin(), *q = NULL;
	struct cg_error err = { 0 };
	size_t len;
	unsigned char *data = snapshot_of(p, &len);
	uint64_t frame_len;
	size_t n_refused = 0, n_tried = 0;

	memcpy(&frame_len, data + 16, 8);
	for (size_t i = 48; i < 48 + frame_len; i += 7) {
		unsigned char *copy = malloc(len);
		memcpy(copy, data, len);
		copy[i] ^= 0xff;
		uint64_t sum = cg_snapshot_checksum(copy + 48, frame_len);
		memcpy(copy + 24, &sum, 8);
		int rc = cg_policy_snapshot_load(&q, copy, len, &err);
		n_tried++;
		if (rc < 0) {
			cr_assert_eq(rc, -EINVAL);
			cr_assert_null(q);
			n_refused++;
		}
		/* A flip inside a string can still be a valid policy: it
		 * must then load fully and free cleanly. */
		cg_policy_free(q);
		q = NULL;
		free(copy);
	}
	cr_assert_gt(n_refused, n_tried / 4, "counts, lengths and indices are checked (%zu of %zu)",
		     n_refused, n_tried);
	free(data);
	cg_policy_free(p);
}

Test(snapshot, other_data_is_not_a_snapshot) {
	struct cg_policy *q = NULL;
	struct cg_error err = { 0 };
	size_t len;
	const char *text = cg_policy_builtin_text(&len);

	cr_assert_eq(cg_policy_snapshot_load(&q, text, len, &err), -EINVAL);
	cr_assert_null(q);
	cr_assert(strstr(err.message, "not a policy snapshot"), "%s", err.message);
	cr_assert_eq(cg_policy_snapshot_load(&q, NULL, 0, &err), -EINVAL);
}

Test(snapshot, a_pattern_that_does_not_compile_is_not_written) {
	struct cg_policy *p = NULL;
	struct cg_error err = { 0 };
	const char *conf = "rules = ( { id = \"broken\"; category = \"test\"; programs = [\"foo\"];\n"
			   "  pattern = \"(unclosed\"; reason = \"r\"; action = \"block\"; } );\n";
	int rc = cg_policy_load_string(&p, conf, "bad.conf", &err);

	if (rc < 0) {
		/* Rejected at load: nothing to snapshot; also fine. */
		cr_assert_null(p);
		return;
	}
	int fd = memfd_create("snapshot", MFD_CLOEXEC);
	cr_assert_eq(cg_policy_snapshot_write(p, fd, &err), -EINVAL);
	cr_assert_str_eq(err.key, "broken");
	close(fd);
	cg_policy_free(p);
}

static size_t n_arena_allocs;
static unsigned char arena[1 << 20];
static size_t arena_top;

static void *arena_alloc(size_t size, void *data)
{
	(void)data;
	size = (size + 15) & ~(size_t)15;
	if (arena_top + size > sizeof(arena))
		return NULL;
	n_arena_allocs++;
	arena_top += size;
	return arena + arena_top - size;
}

static void arena_release(void *ptr, void *data)
{
	(void)ptr;
	(void)data;
}

Test(snapshot, matching_takes_its_memory_from_the_given_allocator) {
	struct cg_policy *p = builtin(), *q = NULL;
	struct cg_error err = { 0 };
	struct cg_rule_match m;
	size_t len;
	unsigned char *data = snapshot_of(p, &len);

	cr_assert_eq(cg_policy_snapshot_load(&q, data, len, &err), 0);
	cr_assert_eq(cg_policy_set_match_memory(q, arena_alloc, arena_release, NULL), 0);
	size_t before = n_arena_allocs;
	char *const args[] = { "-rf", "/" };
	cr_assert(cg_rules_blocks(q, "rm", args, 2, &m));
	cr_assert_str_eq(m.id, "rm-root");
	cr_assert_gt(n_arena_allocs, before, "the backtracking frames came from the arena");
	cg_policy_free(q);
	free(data);
	cg_policy_free(p);
}

Test(snapshot, publish_writes_a_read_only_file_and_the_environment) {
	struct cg_policy *p = builtin(), *q = NULL;
	struct cg_error err = { 0 };
	char dir[] = "/tmp/cg-snapshot-XXXXXX", env[1024], path[PATH_MAX];
	struct stat st;

	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(cg_snapshot_publish(p, "/srv/ws", dir, true, env, sizeof(env), &err), 0, "%s",
		     err.message);
	snprintf(path, sizeof(path), "%s/policy.snapshot", dir);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0444);

	const char *want[] = { "GUARD_SNAPSHOT=", "GUARD_WORKSPACE=/srv/ws", "GUARD_MONITOR=1" };
	size_t i = 0;
	for (const char *e = env; *e; e += strlen(e) + 1, i++) {
		cr_assert_lt(i, 3, "three entries");
		cr_assert_eq(strncmp(e, want[i], strlen(want[i])), 0, "%s", e);
	}
	cr_assert_eq(i, 3);
	cr_assert_str_eq(env + strlen("GUARD_SNAPSHOT="), path);

	int fd = open(path, O_RDONLY | O_CLOEXEC);
	void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	cr_assert_neq(map, MAP_FAILED);
	cr_assert_eq(cg_policy_snapshot_load(&q, map, (size_t)st.st_size, &err), 0, "%s", err.message);
	munmap(map, (size_t)st.st_size);
	close(fd);

	cr_assert_eq(cg_snapshot_publish(p, NULL, dir, false, env, sizeof(env), &err), -EEXIST,
		     "an existing snapshot is never overwritten");
	unlink(path);
	rmdir(dir);
	cg_policy_free(q);
	cg_policy_free(p);
}
