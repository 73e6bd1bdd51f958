/* snapshot.c - a compiled policy in one compact, position-free blob.
 *
 * The LD_PRELOAD shim runs inside every process a run starts, so it must
 * not parse guard.conf or compile patterns: that is 0.3 ms of libconfig
 * and pcre2_compile per process.  The supervisor writes the policy it has
 * already loaded as a snapshot, and the shim uses it in place
 * (cg_policy_snapshot_view): the strings stay in the mapped file, the
 * program index comes sorted, and the few tables it needs and the decoded
 * patterns come from one block of memory the caller gives, so that a new
 * process pays no malloc, no sort and no copy of the strings (see
 * bench/bench-preload).  cg_policy_snapshot_load reads the same bytes into
 * an ordinary policy that owns everything.
 *
 * Layout (native byte order: PCRE2's serialized codes are tied to the
 * machine anyway, and a snapshot never leaves the machine that wrote it):
 *
 *   header  magic "CGSNAP\0\1", u32 version, u32 flags (0),
 *           u64 frame_len, u64 frame_sum, u64 blob_len, u64 blob_sum
 *   frame   the settings, the rules and which serialized code each rule
 *           uses, as length-prefixed NUL-terminated strings and
 *           fixed-size integers; then the program index that
 *           cg_policy_index_build made (each key as a rule and the
 *           position of the name in its programs, then the rules that
 *           have globs)
 *   blob    pcre2_serialize_encode() of every pattern (rules, then the
 *           environment deny list), one shared character table
 *
 * PCRE2 does not validate serialized codes (a damaged block can make
 * pcre2_serialize_decode read past it), so the blob has its own checksum
 * and is decoded only when that matches; the frame is parsed with a
 * bounds check on every read, so that a fuzzer that repairs the frame's
 * checksum still finds nothing to crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rules/rules-internal.h"

#define SNAPSHOT_MAGIC "CGSNAP\0\1"
#define SNAPSHOT_VERSION 2u
#define SNAPSHOT_HEADER_SIZE 48u
#define SNAPSHOT_FILE "policy.snapshot"

/* ---------------------------------------------------------------- checksum */

/* Four independent multiply-xorshift lanes over 32-byte blocks: it only has
 * to notice damage (truncation, a flipped bit, a file from another version),
 * not resist an adversary, and it must cost little next to the decode. */
uint64_t cg_snapshot_checksum(const void *data, size_t len)
{
	const unsigned char *p = data;
	const uint64_t k = 0x9e3779b97f4a7c15ull;
	uint64_t lane[4] = { k ^ len, k * 3, k * 5, k * 7 };
	uint64_t h;

	for (; len >= 32; p += 32, len -= 32)
		for (int i = 0; i < 4; i++) {
			uint64_t w;
			memcpy(&w, p + 8 * i, 8);
			lane[i] = (lane[i] ^ w) * 0x100000001b3ull;
			lane[i] ^= lane[i] >> 29;
		}
	h = lane[0] ^ (lane[1] << 1 | lane[1] >> 63) ^ (lane[2] << 2 | lane[2] >> 62) ^
	    (lane[3] << 3 | lane[3] >> 61);
	for (; len > 0; p++, len--)
		h = (h ^ *p) * 0x100000001b3ull;
	/* splitmix64's finaliser: every input bit reaches every output bit. */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	return h ^ (h >> 31);
}

/* ---------------------------------------------------------------- writing */

struct buf {
	unsigned char *data;
	size_t len, cap;
	bool is_broken;   /* an allocation failed; every later put is a no-op */
};

static void put(struct buf *b, const void *src, size_t n)
{
	if (b->is_broken)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		unsigned char *d = realloc(b->data, cap);
		if (!d) {
			b->is_broken = true;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, src, n);
	b->len += n;
}

static void put_u8(struct buf *b, uint8_t v) { put(b, &v, 1); }
static void put_u32(struct buf *b, uint32_t v) { put(b, &v, 4); }
static void put_i32(struct buf *b, int32_t v) { put(b, &v, 4); }
static void put_u64(struct buf *b, uint64_t v) { put(b, &v, 8); }

static void put_str(struct buf *b, const char *s)
{
	size_t n = strlen(s);
	put_u32(b, (uint32_t)n);
	put(b, s, n + 1);   /* with its NUL: the shim uses it in place */
}

static void put_optstr(struct buf *b, const char *s)
{
	put_u8(b, s != NULL);
	if (s)
		put_str(b, s);
}

static void put_list(struct buf *b, const struct cg_strlist *l)
{
	put_u32(b, (uint32_t)l->n);
	for (size_t i = 0; i < l->n; i++)
		put_str(b, l->items[i]);
}

/* The settings lists, in the one order both directions use. */
static struct cg_strlist *settings_list(struct cg_settings *st, size_t i)
{
	struct cg_strlist *lists[] = {
		&st->paths_allowed, &st->paths_blocked, &st->paths_always, &st->paths_readable,
		&st->paths_secret, &st->cli_allow_read, &st->cli_deny_read, &st->cli_allow_write,
		&st->cli_deny_write, &st->net_hosts, &st->cli_allow_net, &st->cli_deny_net,
		&st->env_deny, &st->keep_caps,
	};
	return i < sizeof(lists) / sizeof(lists[0]) ? lists[i] : NULL;
}

static void put_settings(struct buf *b, struct cg_settings *st)
{
	uint64_t cores;

	for (size_t i = 0; settings_list(st, i); i++)
		put_list(b, settings_list(st, i));
	memcpy(&cores, &st->cpu_cores, sizeof(cores));
	put_u64(b, st->output_limit_bytes);
	put_u32(b, st->timeout_s);
	put_u32(b, st->max_timeout_s);
	put_u64(b, st->memory_bytes);
	put_u32(b, st->max_processes);
	put_u64(b, st->file_size_bytes);
	put_u64(b, cores);
	put_u32(b, st->kill_grace_ms);
	put_u32(b, st->rate_count);
	put_u32(b, st->rate_window_s);
	put_optstr(b, st->state_dir);
	put_optstr(b, st->audit_file);
	put_u8(b, st->audit_syslog);
	put_u8(b, st->audit_best_effort);
	put_u8(b, st->net_allow_loopback);
	put_u8(b, st->monitor);
}

static int write_all(int fd, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Every pattern of the policy compiled, in snapshot order: rules first,
 * then the environment deny list.  *codes is malloc'd (borrowed entries). */
static int collect_codes(struct cg_policy *p, const pcre2_code ***codes, size_t *n,
			 struct cg_error *err)
{
	const pcre2_code **v;
	int rc;

	for (size_t i = 0; i < p->n_rules; i++) {
		struct cg_rule *r = &p->rules[i];
		if (!r->is_compiled && (rc = cg_rule_compile(p, r, err)) < 0)
			return rc;
		if (r->pattern && !r->code) {
			cg_error_set(err, p->source, r->line, r->id, "pattern does not compile");
			return -EINVAL;
		}
	}
	if ((rc = cg_policy_env_compile(p, err)) < 0)
		return rc;
	v = calloc(p->n_rules + p->n_env_codes + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	*n = 0;
	for (size_t i = 0; i < p->n_rules; i++)
		if (p->rules[i].code)
			v[(*n)++] = p->rules[i].code;
	for (size_t i = 0; i < p->n_env_codes; i++) {
		if (!p->env_codes[i]) {
			free(v);
			cg_error_set(err, p->source, 0, "environment.deny", "pattern does not compile");
			return -EINVAL;
		}
		v[(*n)++] = p->env_codes[i];
	}
	*codes = v;
	return 0;
}

/* The program index as match.c builds it: each key as the rule and the
 * position of the name in its programs, then the rules with globs.  The
 * loader restores it instead of sorting again in every process. */
static int put_index(struct buf *b, struct cg_policy *p)
{
	/* Built once: the rules drop it when they change. */
	if (!p->has_index && cg_policy_index_build(p) < 0)
		return -ENOMEM;
	put_u32(b, (uint32_t)p->n_keys);
	for (size_t i = 0; i < p->n_keys; i++) {
		const struct cg_rule *r = &p->rules[p->keys[i].rule];
		size_t k = 0;
		while (k < r->programs.n && r->programs.items[k] != p->keys[i].name)
			k++;
		put_u32(b, (uint32_t)p->keys[i].rule);
		put_u32(b, (uint32_t)k);
	}
	put_u32(b, (uint32_t)p->n_glob_rules);
	for (size_t i = 0; i < p->n_glob_rules; i++)
		put_u32(b, (uint32_t)p->glob_rules[i]);
	return 0;
}

int cg_policy_snapshot_write(struct cg_policy *p, int fd, struct cg_error *err)
{
	struct buf frame = { 0 };
	const pcre2_code **codes = NULL;
	uint8_t *blob = NULL;
	PCRE2_SIZE blob_len = 0;
	size_t n_codes = 0, next = 0;
	unsigned char header[SNAPSHOT_HEADER_SIZE];
	int rc;

	if ((rc = collect_codes(p, &codes, &n_codes, err)) < 0)
		goto out;
	if (n_codes > 0) {
		int32_t n = pcre2_serialize_encode(codes, (int32_t)n_codes, &blob, &blob_len, NULL);
		if (n < 0) {
			PCRE2_UCHAR msg[128];
			pcre2_get_error_message(n, msg, sizeof(msg));
			cg_error_set(err, p->source, 0, "", "cannot serialize patterns: %s", (char *)msg);
			rc = -EINVAL;
			goto out;
		}
	}

	put_str(&frame, p->source ? p->source : "");
	put_settings(&frame, &p->settings);
	put_u32(&frame, (uint32_t)p->n_rules);
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct cg_rule *r = &p->rules[i];
		put_str(&frame, r->id);
		put_str(&frame, r->category);
		put_str(&frame, r->reason);
		put_optstr(&frame, r->pattern);
		put_list(&frame, &r->programs);
		put_u8(&frame, r->is_allow);
		put_u8(&frame, (uint8_t)r->level);
		put_i32(&frame, r->line);
		put_i32(&frame, r->code ? (int32_t)next++ : -1);
	}
	put_u32(&frame, (uint32_t)p->n_env_codes);
	for (size_t i = 0; i < p->n_env_codes; i++)
		put_i32(&frame, (int32_t)next++);
	put_u32(&frame, (uint32_t)n_codes);
	if ((rc = put_index(&frame, p)) < 0) {
		cg_error_set(err, "", 0, "", "out of memory");
		goto out;
	}
	if (frame.is_broken) {
		rc = -ENOMEM;
		cg_error_set(err, "", 0, "", "out of memory");
		goto out;
	}

	uint32_t version = SNAPSHOT_VERSION, flags = 0;
	uint64_t words[4] = { frame.len, cg_snapshot_checksum(frame.data, frame.len), blob_len,
			      cg_snapshot_checksum(blob, blob_len) };
	memcpy(header, SNAPSHOT_MAGIC, 8);
	memcpy(header + 8, &version, 4);
	memcpy(header + 12, &flags, 4);
	memcpy(header + 16, words, sizeof(words));
	if ((rc = write_all(fd, header, sizeof(header))) < 0 ||
	    (rc = write_all(fd, frame.data, frame.len)) < 0 ||
	    (blob_len > 0 && (rc = write_all(fd, blob, blob_len)) < 0))
		cg_error_set(err, "", 0, "", "cannot write the policy snapshot: %s", strerror(-rc));
out:
	free(frame.data);
	free(codes);
	if (blob)
		pcre2_serialize_free(blob);
	return rc;
}

/* ---------------------------------------------------------------- loading */

/* One reader serves both loaders.  Copying (cg_policy_snapshot_load):
 * every string and table malloc'd, as cg_policy_free expects.  Viewing
 * (cg_policy_snapshot_view): strings point into the snapshot, tables come
 * from the caller's block, nothing is freed one by one. */
struct reader {
	const unsigned char *p;
	size_t left;
	bool is_bad;      /* a read ran past the end or met an invalid value */
	bool is_oom;      /* an allocation failed (is_bad is set too) */
	bool is_view;
	unsigned char *mem;   /* viewing: the caller's block, used from the bottom */
	size_t mem_size, mem_used;
};

/* size zeroed bytes, or NULL with is_oom and is_bad set. */
static void *take_mem(struct reader *r, size_t size)
{
	void *v;

	if (!r->is_view) {
		v = calloc(1, size ? size : 1);
	} else {
		size = (size + 15) & ~(size_t)15;
		v = size <= r->mem_size - r->mem_used ? r->mem + r->mem_used : NULL;
		if (v) {
			r->mem_used += size;
			memset(v, 0, size);
		}
	}
	if (!v)
		r->is_oom = r->is_bad = true;
	return v;
}

/* PCRE2's allocator while decoding into a view: the block, never freed. */
static void *view_pcre2_alloc(size_t size, void *data)
{
	return take_mem(data, size);
}

static void view_pcre2_free(void *ptr, void *data)
{
	(void)ptr;
	(void)data;
}

static bool take(struct reader *r, void *dst, size_t n)
{
	if (r->is_bad || n > r->left) {
		r->is_bad = true;
		memset(dst, 0, n);
		return false;
	}
	memcpy(dst, r->p, n);
	r->p += n;
	r->left -= n;
	return true;
}

static uint8_t get_u8(struct reader *r) { uint8_t v; take(r, &v, 1); return v; }
static uint32_t get_u32(struct reader *r) { uint32_t v; take(r, &v, 4); return v; }
static int32_t get_i32(struct reader *r) { int32_t v; take(r, &v, 4); return v; }
static uint64_t get_u64(struct reader *r) { uint64_t v; take(r, &v, 8); return v; }

static bool get_bool(struct reader *r)
{
	uint8_t v = get_u8(r);
	if (v > 1)
		r->is_bad = true;
	return v == 1;
}

/* A NUL-terminated string: in place when viewing, else a malloc'd copy;
 * NULL when r->is_bad.  A NUL inside the counted bytes ends the string
 * early in both, so both read the same text. */
static char *get_str(struct reader *r)
{
	uint32_t n = get_u32(r);
	char *s;

	if (r->is_bad || n >= r->left || r->p[n] != '\0') {
		r->is_bad = true;
		return NULL;
	}
	if (r->is_view) {
		/* Read-only memory behind a char *: a view is never freed or
		 * edited, only read. */
		s = (char *)(uintptr_t)r->p;
	} else if ((s = malloc((size_t)n + 1))) {
		memcpy(s, r->p, (size_t)n + 1);
	} else {
		r->is_oom = r->is_bad = true;
		return NULL;
	}
	r->p += n + 1;
	r->left -= n + 1;
	return s;
}

static char *get_optstr(struct reader *r)
{
	return get_bool(r) ? get_str(r) : NULL;
}

/* A count of items each at least `min_size` bytes long: bounded by what is
 * left, so that a damaged count cannot ask for a huge allocation. */
static uint32_t get_count(struct reader *r, size_t min_size)
{
	uint32_t n = get_u32(r);
	if (!r->is_bad && (size_t)n > r->left / min_size)
		r->is_bad = true;
	return r->is_bad ? 0 : n;
}

static void get_list(struct reader *r, struct cg_strlist *l)
{
	uint32_t n = get_count(r, 5);

	if (n == 0 || !(l->items = take_mem(r, n * sizeof(*l->items))))
		return;
	for (; l->n < n && !r->is_bad; l->n++)
		if (!(l->items[l->n] = get_str(r)))
			return;
}

static void get_settings(struct reader *r, struct cg_settings *st)
{
	uint64_t cores;

	for (size_t i = 0; settings_list(st, i); i++)
		get_list(r, settings_list(st, i));
	st->output_limit_bytes = get_u64(r);
	st->timeout_s = get_u32(r);
	st->max_timeout_s = get_u32(r);
	st->memory_bytes = get_u64(r);
	st->max_processes = get_u32(r);
	st->file_size_bytes = get_u64(r);
	cores = get_u64(r);
	memcpy(&st->cpu_cores, &cores, sizeof(cores));
	st->kill_grace_ms = get_u32(r);
	st->rate_count = get_u32(r);
	st->rate_window_s = get_u32(r);
	st->state_dir = get_optstr(r);
	st->audit_file = get_optstr(r);
	st->audit_syslog = get_bool(r);
	st->audit_best_effort = get_bool(r);
	st->net_allow_loopback = get_bool(r);
	st->monitor = get_bool(r);
}

/* Index into the decoded codes, each used once: a damaged index must
 * neither leave a code unowned nor free one twice. */
static int32_t get_code_index(struct reader *r, bool *used, uint32_t n_codes)
{
	int32_t i = get_i32(r);

	if (i == -1)
		return -1;
	if (i < 0 || (uint32_t)i >= n_codes || used[i]) {
		r->is_bad = true;
		return -1;
	}
	used[i] = true;
	return i;
}

static int bad(struct cg_error *err, const char *what)
{
	cg_error_set(err, "", 0, "", "the policy snapshot is damaged: %s", what);
	return -EINVAL;
}

/* The rules and env codes, with code indices into `codes` (n_codes long)
 * that the caller fills after the blob is decoded. */
struct pending {
	int32_t *rule_code;
	int32_t *env_code;
	bool *used;         /* which codes a rule or env pattern claimed */
	uint32_t n_codes;
};

static void get_rules(struct reader *r, struct cg_policy *p, struct pending *pend)
{
	uint32_t n = get_count(r, 30);   /* the smallest rule record */

	if (n == 0)
		return;
	p->rules = take_mem(r, n * sizeof(*p->rules));
	pend->rule_code = take_mem(r, n * sizeof(*pend->rule_code));
	if (!p->rules || !pend->rule_code)
		return;
	for (; p->n_rules < n && !r->is_bad; p->n_rules++) {
		struct cg_rule *rule = &p->rules[p->n_rules];
		uint8_t level;

		rule->id = get_str(r);
		rule->category = get_str(r);
		rule->reason = get_str(r);
		rule->pattern = get_optstr(r);
		get_list(r, &rule->programs);
		rule->is_allow = get_bool(r);
		level = get_u8(r);
		if (level > CG_LEVEL_CLI)
			r->is_bad = true;
		rule->level = (enum cg_level)level;
		rule->line = get_i32(r);
		rule->is_compiled = true;
		pend->rule_code[p->n_rules] = get_code_index(r, pend->used, pend->n_codes);
		/* A pattern without its code would fail closed on every match;
		 * a code without a pattern would match nothing it claims to. */
		if (!r->is_bad && (rule->pattern != NULL) != (pend->rule_code[p->n_rules] >= 0))
			r->is_bad = true;
	}
}

static void get_env_codes(struct reader *r, struct cg_policy *p, struct pending *pend)
{
	uint32_t n = get_count(r, 4);

	if (!r->is_bad && n != p->settings.env_deny.n)
		r->is_bad = true;
	if (r->is_bad)
		return;
	/* Never NULL, even when empty: NULL means "not compiled yet". */
	pend->env_code = take_mem(r, (n + 1) * sizeof(*pend->env_code));
	p->env_codes = take_mem(r, (n + 1) * sizeof(*p->env_codes));
	if (r->is_bad)
		return;
	p->n_env_codes = n;
	for (uint32_t i = 0; i < n && !r->is_bad; i++)
		if ((pend->env_code[i] = get_code_index(r, pend->used, pend->n_codes)) < 0)
			r->is_bad = true;
}

/* The program index, as the writer's cg_policy_index_build left it.  It is
 * checked to be an index (every key names a program of its rule, at most
 * once, sorted as the binary search expects), which is what memory safety
 * needs; that it is complete the checksum vouches for, and the round-trip
 * test compares it with a freshly built one. */
static void get_index(struct reader *r, struct cg_policy *p)
{
	uint32_t n_keys = get_count(r, 8), n_programs = 0, n_glob;
	size_t *first = take_mem(r, (p->n_rules + 1) * sizeof(*first));
	bool *is_used = NULL;

	for (size_t i = 0; i < p->n_rules && !r->is_bad; i++) {
		first[i] = n_programs;
		n_programs += (uint32_t)p->rules[i].programs.n;
	}
	if (!r->is_bad)
		is_used = take_mem(r, n_programs + 1);
	if (!r->is_bad)
		p->keys = take_mem(r, (n_keys + 1) * sizeof(*p->keys));
	for (uint32_t i = 0; i < n_keys && !r->is_bad; i++) {
		uint32_t rule = get_u32(r), k = get_u32(r);
		if (r->is_bad || rule >= p->n_rules || k >= p->rules[rule].programs.n ||
		    is_used[first[rule] + k]) {
			r->is_bad = true;
			break;
		}
		is_used[first[rule] + k] = true;
		p->keys[i] = (struct cg_rule_key){ p->rules[rule].programs.items[k], rule };
		if (i > 0) {
			int c = strcmp(p->keys[i - 1].name, p->keys[i].name);
			if (c > 0 || (c == 0 && p->keys[i - 1].rule > rule))
				r->is_bad = true;
		}
	}
	p->n_keys = r->is_bad ? 0 : n_keys;

	n_glob = get_count(r, 4);
	if (!r->is_bad && n_glob > p->n_rules)
		r->is_bad = true;
	if (!r->is_bad)
		p->glob_rules = take_mem(r, (n_glob + 1) * sizeof(*p->glob_rules));
	for (uint32_t i = 0; i < n_glob && !r->is_bad; i++) {
		uint32_t rule = get_u32(r);
		if (rule >= p->n_rules || (i > 0 && rule <= p->glob_rules[i - 1]))
			r->is_bad = true;
		p->glob_rules[i] = rule;
	}
	p->n_glob_rules = r->is_bad ? 0 : n_glob;
	p->has_index = !r->is_bad;
	if (!r->is_view) {
		free(first);
		free(is_used);
	}
}

static int decode_blob(const unsigned char *blob, uint64_t blob_len, uint32_t n_codes,
		       pcre2_code **codes, pcre2_general_context *gc, struct cg_error *err)
{
	int32_t rc;

	if (n_codes == 0)
		return blob_len == 0 ? 0 : bad(err, "patterns without rules");
	if (blob_len == 0 || n_codes > INT32_MAX)
		return bad(err, "rules without patterns");
	rc = pcre2_serialize_get_number_of_codes(blob);
	if (rc != (int32_t)n_codes)
		return bad(err, "pattern count");
	rc = pcre2_serialize_decode(codes, (int32_t)n_codes, blob, gc);
	if (rc == PCRE2_ERROR_NOMEMORY) {
		cg_error_set(err, "", 0, "", "out of memory");
		return -ENOMEM;
	}
	if (rc != (int32_t)n_codes) {
		/* Written by another PCRE2 build (code unit width, pointer
		 * size, version): as unusable as a damaged one. */
		PCRE2_UCHAR msg[128];
		pcre2_get_error_message(rc < 0 ? rc : PCRE2_ERROR_BADSERIALIZEDDATA, msg, sizeof(msg));
		cg_error_set(err, "", 0, "", "the policy snapshot's patterns do not load: %s",
			     (char *)msg);
		return -EINVAL;
	}
	return 0;
}

/* Both loaders: r says which; the header is checked here. */
static int load(struct cg_policy **out, const void *data, size_t len, struct reader *r,
		struct cg_error *err)
{
	const unsigned char *bytes = data;
	struct cg_policy *p = NULL;
	struct pending pend = { 0 };
	pcre2_code **codes = NULL;
	pcre2_general_context *gc = NULL;
	uint32_t version, flags;
	uint64_t frame_len, frame_sum, blob_len, blob_sum;
	int rc = -EINVAL;

	*out = NULL;
	if (!data || len < SNAPSHOT_HEADER_SIZE || memcmp(bytes, SNAPSHOT_MAGIC, 8) != 0)
		return bad(err, "not a policy snapshot");
	memcpy(&version, bytes + 8, 4);
	memcpy(&flags, bytes + 12, 4);
	if (version != SNAPSHOT_VERSION || flags != 0) {
		cg_error_set(err, "", 0, "", "policy snapshot version %u, expected %u", version,
			     SNAPSHOT_VERSION);
		return -EINVAL;
	}
	memcpy(&frame_len, bytes + 16, 8);
	memcpy(&frame_sum, bytes + 24, 8);
	memcpy(&blob_len, bytes + 32, 8);
	memcpy(&blob_sum, bytes + 40, 8);
	if (frame_len > len - SNAPSHOT_HEADER_SIZE ||
	    blob_len != len - SNAPSHOT_HEADER_SIZE - frame_len)
		return bad(err, "truncated or padded");
	const unsigned char *frame = bytes + SNAPSHOT_HEADER_SIZE, *blob = frame + frame_len;
	if (cg_snapshot_checksum(frame, frame_len) != frame_sum)
		return bad(err, "checksum of the rules");

	r->p = frame;
	r->left = frame_len;
	if (!(p = take_mem(r, sizeof(*p))))
		goto oom;
	p->source = get_str(r);
	get_settings(r, &p->settings);
	/* The code count comes last in the frame but sizes everything else:
	 * read it first from the blob's own header, checked below. */
	if (blob_len >= 16 && blob_len <= INT32_MAX) {
		int32_t n = pcre2_serialize_get_number_of_codes(blob);
		pend.n_codes = n > 0 && (uint64_t)n <= blob_len / 16 ? (uint32_t)n : 0;
	}
	pend.used = take_mem(r, pend.n_codes + 1);
	get_rules(r, p, &pend);
	get_env_codes(r, p, &pend);
	if (get_u32(r) != pend.n_codes && !r->is_bad)
		r->is_bad = true;
	for (uint32_t i = 0; i < pend.n_codes && !r->is_bad; i++)
		if (!pend.used[i])
			r->is_bad = true;
	get_index(r, p);
	if (r->is_oom)
		goto oom;
	if (r->is_bad || r->left != 0) {
		rc = bad(err, "rule data");
		goto fail;
	}
	if (cg_snapshot_checksum(blob, blob_len) != blob_sum) {
		rc = bad(err, "checksum of the patterns");
		goto fail;
	}
	if (!(codes = take_mem(r, (pend.n_codes + 1) * sizeof(*codes))))
		goto oom;
	if (r->is_view && !(gc = pcre2_general_context_create(view_pcre2_alloc, view_pcre2_free, r)))
		goto oom;
	if ((rc = decode_blob(blob, blob_len, pend.n_codes, codes, gc, err)) < 0)
		goto fail;
	for (size_t i = 0; i < p->n_rules; i++)
		if (pend.rule_code[i] >= 0)
			p->rules[i].code = codes[pend.rule_code[i]];
	for (size_t i = 0; i < p->n_env_codes; i++)
		p->env_codes[i] = codes[pend.env_code[i]];
	p->use_jit = false;
	*out = p;
	p = NULL;
	rc = 0;
	goto done;
oom:
	rc = -ENOMEM;
	cg_error_set(err, "", 0, "", "out of memory");
fail:
	if (!r->is_view) {
		if (codes)
			for (uint32_t i = 0; i < pend.n_codes; i++)
				pcre2_code_free(codes[i]);
		cg_policy_free(p);
	}
done:
	if (!r->is_view) {
		free(codes);
		free(pend.used);
		free(pend.rule_code);
		free(pend.env_code);
	}
	return rc;
}

int cg_policy_snapshot_load(struct cg_policy **out, const void *data, size_t len,
			    struct cg_error *err)
{
	struct reader r = { .is_view = false };

	return load(out, data, len, &r, err);
}

int cg_policy_snapshot_view(struct cg_policy **out, const void *data, size_t len, void *mem,
			    size_t mem_size, struct cg_error *err)
{
	struct reader r = { .is_view = true, .mem = mem, .mem_size = mem_size };

	return load(out, data, len, &r, err);
}

/* ---------------------------------------------------------------- matching memory */

int cg_policy_set_match_memory(struct cg_policy *p, void *(*alloc)(size_t, void *),
			       void (*release)(void *, void *), void *data)
{
	pcre2_general_context *gc = pcre2_general_context_create(alloc, release, data);
	pcre2_match_data *md;

	if (!gc)
		return -ENOMEM;
	/* The match block keeps the allocator: PCRE2 (10.41 and later) takes
	 * the interpreter's backtracking frames from it on the first match
	 * and keeps them for the next. */
	md = pcre2_match_data_create(1, gc);
	pcre2_general_context_free(gc);
	if (!md)
		return -ENOMEM;
	pcre2_match_data_free(p->match_data);
	p->match_data = md;
	return 0;
}

/* ---------------------------------------------------------------- publishing */

static int env_put(char *env, size_t size, size_t *used, const char *name, const char *value)
{
	int n = snprintf(env + *used, size - *used, "%s=%s", name, value);

	if (n < 0 || (size_t)n + 2 > size - *used)
		return -ENAMETOOLONG;
	*used += (size_t)n + 1;
	env[*used] = '\0';
	return 0;
}

int cg_snapshot_publish(struct cg_policy *p, const char *workspace, const char *run_dir,
			bool is_monitor, char *env_out, size_t size, struct cg_error *err)
{
	char path[PATH_MAX];
	size_t used = 0;
	int fd, rc;

	if (size < 2 || !run_dir || run_dir[0] != '/' ||
	    snprintf(path, sizeof(path), "%s/%s", run_dir, SNAPSHOT_FILE) >= (int)sizeof(path)) {
		cg_error_set(err, run_dir ? run_dir : "", 0, "", "run directory name is not usable");
		return -EINVAL;
	}
	env_out[0] = '\0';
	/* Created read-only and exclusively: a file already there is someone
	 * else's, and the run must not be able to rewrite what it loads. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0444);
	if (fd < 0) {
		rc = -errno;
		cg_error_set(err, path, 0, "", "cannot create the policy snapshot: %s", strerror(errno));
		return rc;
	}
	rc = cg_policy_snapshot_write(p, fd, err);
	if (close(fd) < 0 && rc == 0) {
		rc = -errno;
		cg_error_set(err, path, 0, "", "cannot write the policy snapshot: %s", strerror(errno));
	}
	if (rc < 0) {
		unlink(path);
		return rc;
	}
	if ((rc = env_put(env_out, size, &used, CG_SNAPSHOT_ENV, path)) < 0 ||
	    (workspace && (rc = env_put(env_out, size, &used, CG_WORKSPACE_ENV, workspace)) < 0) ||
	    (is_monitor && (rc = env_put(env_out, size, &used, CG_MONITOR_ENV, "1")) < 0)) {
		cg_error_set(err, "", 0, "", "environment buffer too small");
		unlink(path);
		env_out[0] = '\0';
		return rc;
	}
	return 0;
}
