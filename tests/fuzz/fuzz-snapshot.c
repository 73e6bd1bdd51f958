/* fuzz-snapshot - libFuzzer target for the policy snapshot loader
 * (rules/snapshot.c), which every process of a run calls through the
 * preload shim.
 *
 * Each input is loaded twice: as it is (the magic, lengths and checksums
 * must turn damage away), and with the checksum of its rule frame
 * repaired, so that the fuzzer reaches the parser behind it.  The PCRE2
 * block keeps its own checksum: PCRE2 does not validate serialized codes,
 * so a decode of damaged ones is exactly what the loader must never do.
 * A snapshot that loads is matched against a few commands and freed;
 * then it is used in place as the shim does (cg_policy_snapshot_view).
 *
 * Build (from a build directory; libconfig only for the seeds' policy):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -include config.h -I. -I$SRC \
 *     $SRC/tests/fuzz/fuzz-snapshot.c $SRC/rules/snapshot.c $SRC/rules/match.c \
 *     $SRC/rules/error.c $SRC/rules/config.c $SRC/rules/builtin.S -Wa,-I$SRC/conf \
 *     -lpcre2-8 -lconfig -o fuzz-snapshot
 *   ./fuzz-snapshot $SRC/tests/fuzz/corpus-snapshot
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void use(struct cg_policy *p)
{
	static char *const rm_args[] = { "-rf", "/" };
	static char *const sudo_args[] = { "ls" };
	struct cg_rule_match m;
	struct cg_rule_info info;

	cg_rules_blocks(p, "rm", rm_args, 2, &m);
	cg_rules_blocks(p, "sudo", sudo_args, 1, &m);
	cg_policy_env_denied(p, "GITHUB_TOKEN");
	for (size_t i = 0; cg_policy_rule_at(p, i, &info); i++)
		;
}

/* A view is never freed: like the shim, it matches with memory from an
 * arena of ours (a bump allocator emptied for every input). */
static _Alignas(16) unsigned char arena[1 << 16];
static size_t arena_used;

static void *arena_alloc(size_t n, void *data)
{
	void *p = arena + arena_used;

	(void)data;
	n = (n + 15) & ~(size_t)15;
	if (n > sizeof(arena) - arena_used)
		return NULL;
	arena_used += n;
	return p;
}

static void arena_release(void *p, void *data)
{
	(void)p;
	(void)data;
}

static void load(const uint8_t *data, size_t size)
{
	/* the shim's loader: in place, its tables from this block */
	static _Alignas(16) unsigned char mem[1 << 20];
	struct cg_policy *p = NULL;
	struct cg_error err;

	if (cg_policy_snapshot_load(&p, data, size, &err) == 0) {
		use(p);
		cg_policy_free(p);
	}
	arena_used = 0;
	if (cg_policy_snapshot_view(&p, data, size, mem, sizeof(mem), &err) == 0 &&
	    cg_policy_set_match_memory(p, arena_alloc, arena_release, NULL) == 0)
		use(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t frame_len, sum;
	uint8_t *copy;

	load(data, size);
	if (size < 48)
		return 0;
	memcpy(&frame_len, data + 16, 8);
	if (frame_len > size - 48)
		return 0;
	copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	sum = cg_snapshot_checksum(copy + 48, frame_len);
	memcpy(copy + 24, &sum, 8);
	load(copy, size);
	free(copy);
	return 0;
}
