/* output.c - the command's stdout and stderr: passed through in arrival
 * order, together capped, the rest drained unseen so that the command
 * never blocks on a full pipe, optionally captured and logged. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guard/supervisor-internal.h"

enum { CHUNK_BYTES = 65536, PIPE_BYTES = 1 << 20 };

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int open_logs(struct cg_output *out, const struct cg_run_options *opt,
		     struct cg_error *err)
{
	static const char *const names[2] = { "stdout.log", "stderr.log" };
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", opt->log_dir, opt->run_id) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if (mkdir(opt->log_dir, 0700) < 0 && errno != EEXIST)
		goto fail;
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		goto fail;
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s/%s", opt->log_dir, opt->run_id, names[i]);
		out->log_fd[i] = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (out->log_fd[i] < 0)
			goto fail;
	}
	return 0;
fail:
	cg_error_set(err, path, 0, "log-dir", "%s", strerror(errno));
	return -errno;
}

int cg_output_open(struct cg_output *out, const struct cg_run_options *opt, struct cg_error *err)
{
	int fds[2], rc;

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < 2; i++) {
		out->pipe_rd[i] = out->pipe_wr[i] = out->log_fd[i] = -1;
		/* --json: the output goes into the result object only, so that
		 * stdout holds one parseable JSON document. */
		out->pass_fd[i] = opt->is_quiet ? -1 : i == CG_OUT_STDOUT ? STDOUT_FILENO : STDERR_FILENO;
	}
	out->limit_bytes = opt->output_limit_bytes;
	out->capture = opt->capture;
	out->null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (out->null_fd < 0) {
		cg_error_set(err, "/dev/null", 0, "output", "%s", strerror(errno));
		return -errno;
	}
	for (int i = 0; i < 2; i++) {
		if (pipe2(fds, O_CLOEXEC) < 0) {
			cg_error_set(err, NULL, 0, "output", "pipe: %s", strerror(errno));
			return -errno;
		}
		out->pipe_rd[i] = fds[0];
		out->pipe_wr[i] = fds[1];
		/* A large pipe halves the wake-ups of a chatty command. */
		fcntl(fds[0], F_SETPIPE_SZ, PIPE_BYTES);
		fcntl(fds[0], F_SETFL, O_NONBLOCK);
	}
	if (opt->log_dir && opt->run_id) {
		rc = open_logs(out, opt, err);
		if (rc)
			return rc;
	}
	return 0;
}

static void keep(struct cg_output *out, int i, const char *data, size_t len)
{
	if (out->capture) {
		if (out->len[i] + len > out->cap[i]) {
			size_t cap = out->cap[i] ? out->cap[i] : 4096;
			char *p;
			while (cap < out->len[i] + len)
				cap *= 2;
			p = realloc(out->buf[i], cap + 1);
			if (!p)
				goto pass;   /* the capture is best effort; the pass-through is not */
			out->buf[i] = p;
			out->cap[i] = cap;
		}
		memcpy(out->buf[i] + out->len[i], data, len);
		out->len[i] += len;
		out->buf[i][out->len[i]] = '\0';
	}
pass:
	/* A closed stdout of ours must not stop the draining. */
	if (out->pass_fd[i] >= 0)
		write_all(out->pass_fd[i], data, len);
	if (out->log_fd[i] >= 0)
		write_all(out->log_fd[i], data, len);
}

static void close_stream(struct cg_output *out, int i)
{
	close(out->pipe_rd[i]);
	out->pipe_rd[i] = -1;
}

int cg_output_drain(struct cg_output *out, int i)
{
	char buf[CHUNK_BYTES];
	ssize_t n;

	if (out->pipe_rd[i] < 0)
		return 0;
	for (;;) {
		if (out->kept_bytes >= out->limit_bytes) {
			/* Past the cap: move pages to /dev/null without copying. */
			n = splice(out->pipe_rd[i], NULL, out->null_fd, NULL, PIPE_BYTES,
				   SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
			if (n < 0 && errno == EINVAL)
				n = read(out->pipe_rd[i], buf, sizeof(buf));
			if (n > 0) {
				out->produced[i] += (uint64_t)n;
				out->dropped_bytes += (uint64_t)n;
				continue;
			}
		} else {
			uint64_t room = out->limit_bytes - out->kept_bytes;
			n = read(out->pipe_rd[i], buf, sizeof(buf));
			if (n > 0) {
				size_t kept = (uint64_t)n < room ? (size_t)n : (size_t)room;
				out->produced[i] += (uint64_t)n;
				keep(out, i, buf, kept);
				out->kept_bytes += kept;
				out->dropped_bytes += (uint64_t)n - kept;
				/* one read per wake-up keeps stdout and stderr interleaved */
				return 0;
			}
		}
		if (n == 0) {
			close_stream(out, i);
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return 0;
		close_stream(out, i);
		return -errno;
	}
}

bool cg_output_open_streams(const struct cg_output *out)
{
	return out->pipe_rd[0] >= 0 || out->pipe_rd[1] >= 0;
}

void cg_output_finish(struct cg_output *out, struct cg_run_result *res)
{
	char line[160];

	res->stdout_bytes = out->produced[CG_OUT_STDOUT];
	res->stderr_bytes = out->produced[CG_OUT_STDERR];
	res->dropped_bytes = out->dropped_bytes;
	res->truncated = out->dropped_bytes > 0;
	res->stdout_buf = out->buf[CG_OUT_STDOUT];
	res->stdout_len = out->len[CG_OUT_STDOUT];
	res->stderr_buf = out->buf[CG_OUT_STDERR];
	res->stderr_len = out->len[CG_OUT_STDERR];
	out->buf[0] = out->buf[1] = NULL;
	if (res->truncated) {
		int n = snprintf(line, sizeof(line),
				 "guard: output truncated: %llu bytes dropped (limit %llu)\n",
				 (unsigned long long)out->dropped_bytes,
				 (unsigned long long)out->limit_bytes);
		write_all(STDERR_FILENO, line, (size_t)n);
	}
	for (int i = 0; i < 2; i++) {
		if (out->pipe_rd[i] >= 0)
			close(out->pipe_rd[i]);
		if (out->pipe_wr[i] >= 0)
			close(out->pipe_wr[i]);
		if (out->log_fd[i] >= 0)
			close(out->log_fd[i]);
		out->pipe_rd[i] = out->pipe_wr[i] = out->log_fd[i] = -1;
		free(out->buf[i]);
		out->buf[i] = NULL;
	}
	if (out->null_fd >= 0)
		close(out->null_fd);
	out->null_fd = -1;
}
