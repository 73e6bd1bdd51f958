/* dns.c - the run's name server: answers for the allowed hosts only.
 *
 * With the name servers of /etc/resolv.conf in the egress allowlist, a
 * command could ask them about any name and have the question carried
 * out (<data>.attacker.example): a channel out.  So where the run has a
 * mount namespace of its own, its /etc/resolv.conf names this stub
 * instead, on a loopback address of its own; the real name servers leave
 * the allowlist.  A question about an allowed host (cg_decide_host, the
 * rule the shim applies to getaddrinfo) is passed to the first real name
 * server and its answer back; any other is answered NXDOMAIN here and
 * recorded as a denial.  UDP only: a truncated answer is passed on as it
 * is (glibc then asks over TCP, which finds no server: the lookup fails
 * closed). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "guard/supervisor-internal.h"

enum { DNS_HEADER_BYTES = 12, MAX_PACKET_BYTES = 4096, PENDING_MS = 5000 };

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The first IPv4 name server of the host's /etc/resolv.conf, and its
 * other lines (search, options) for the run's copy. */
static int read_host_conf(struct sockaddr_in *upstream, char *rest, size_t size)
{
	FILE *f = fopen("/etc/resolv.conf", "re");
	char line[512], addr[64];
	size_t used = 0;
	bool found = false;

	rest[0] = '\0';
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " nameserver %63s", addr) == 1) {
			if (!found && inet_pton(AF_INET, addr, &upstream->sin_addr) == 1) {
				upstream->sin_family = AF_INET;
				upstream->sin_port = htons(53);
				found = true;
			}
			continue;
		}
		/* the stub speaks UDP only: "options use-vc" would send every
		 * question over TCP, to nobody */
		if (strstr(line, "use-vc"))
			continue;
		if (used + strlen(line) + 1 < size) {
			memcpy(rest + used, line, strlen(line) + 1);
			used += strlen(line);
		}
	}
	fclose(f);
	return found ? 0 : -ENOENT;
}

int cg_dns_open(struct cg_dns *dns, const char *run_dir, struct cg_error *err)
{
	char rest[2048], path[PATH_MAX], text[2304], addr[INET_ADDRSTRLEN];
	struct sockaddr_in upstream = { 0 };
	ssize_t written;
	int fd, n;

	memset(dns, 0, sizeof(*dns));
	dns->listen_fd = dns->upstream_fd = -1;
	if (read_host_conf(&upstream, rest, sizeof(rest)) < 0)
		return 0;   /* no IPv4 name server: nothing to stand in for */
	dns->listen_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	dns->upstream_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (dns->listen_fd < 0 || dns->upstream_fd < 0 ||
	    connect(dns->upstream_fd, (struct sockaddr *)&upstream, sizeof(upstream)) < 0)
		goto none;
	/* 127.53.X.Y:53, X.Y random: port 53 of a loopback address nobody
	 * else uses (systemd-resolved has 127.0.0.53, dnsmasq 127.0.0.1). */
	for (int attempt = 0; attempt < 8; attempt++) {
		unsigned char r[2] = { 0 };
		if (getrandom(r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
			r[0] = (unsigned char)getpid(), r[1] = (unsigned char)attempt;
		dns->addr = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(53) };
		dns->addr.sin_addr.s_addr = htonl(0x7f350000u | (uint32_t)r[0] << 8 | (r[1] | 1u));
		if (bind(dns->listen_fd, (struct sockaddr *)&dns->addr, sizeof(dns->addr)) == 0)
			break;
		if (errno != EADDRINUSE || attempt == 7)
			goto none;   /* not root (port 53), or no loopback: the run keeps the real servers */
	}
	n = snprintf(path, sizeof(path), "%s/resolv.conf", run_dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		goto none;
	inet_ntop(AF_INET, &dns->addr.sin_addr, addr, sizeof(addr));
	n = snprintf(text, sizeof(text), "# CommandGuard: the run's name server answers for the allowed hosts only\n"
		     "nameserver %s\n%s", addr, rest);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd >= 0)   /* ours from here on: cg_dns_close removes it */
		snprintf(dns->conf_path, sizeof(dns->conf_path), "%s", path);
	written = fd >= 0 ? write(fd, text, (size_t)n) : -1;
	if (written != n) {
		int saved = written < 0 ? errno : EIO;
		if (fd >= 0)
			close(fd);
		cg_error_set(err, path, 0, "dns", "cannot write the run's resolv.conf: %s", strerror(saved));
		cg_dns_close(dns);
		return -saved;
	}
	close(fd);
	return 0;
none:
	cg_dns_close(dns);
	dns->listen_fd = dns->upstream_fd = -1;
	return 0;
}

bool cg_dns_active(const struct cg_dns *dns)
{
	return dns->conf_path[0] != '\0';
}

void cg_dns_close(struct cg_dns *dns)
{
	if (dns->listen_fd >= 0)
		close(dns->listen_fd);
	if (dns->upstream_fd >= 0)
		close(dns->upstream_fd);
	if (dns->conf_path[0])
		unlink(dns->conf_path);
	dns->listen_fd = dns->upstream_fd = -1;
	dns->conf_path[0] = '\0';
}

/* A host name's label: letters, digits, '-' and '_' only.  Anything else
 * (a NUL, a '.', a byte a resolver would pass on) could make the name we
 * judge differ from the one that leaves. */
static bool is_plain_label(const unsigned char *label, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = label[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return len > 0;
}

/* The one question of a plain QUERY: its name in dotted form, and the
 * question (name, QTYPE, QCLASS) as it stands in the packet, from
 * DNS_HEADER_BYTES to the returned end.  0 when the packet is anything
 * else: a response, another opcode, several questions, answer or
 * authority records, a compression pointer, a label that is not plain. */
static size_t question_name(const unsigned char *p, size_t len, char *name, size_t size)
{
	size_t at = DNS_HEADER_BYTES, out = 0;

	if (len < DNS_HEADER_BYTES + 5 || (p[2] & 0xf8) || p[4] != 0 || p[5] != 1 ||
	    p[6] || p[7] || p[8] || p[9])
		return 0;
	while (at < len && p[at]) {
		size_t label = p[at];
		if (label > 63 || at + 1 + label >= len || out + label + 2 > size ||
		    !is_plain_label(p + at + 1, label))
			return 0;
		if (out)
			name[out++] = '.';
		memcpy(name + out, p + at + 1, label);
		out += label;
		at += 1 + label;
	}
	if (at + 5 > len || out == 0)
		return 0;
	name[out] = '\0';
	return at + 5;   /* the root label, QTYPE and QCLASS */
}

static void answer_nxdomain(struct cg_dns *dns, unsigned char *p, size_t question_end,
			    const struct sockaddr_in *client)
{
	p[2] = (unsigned char)(0x80 | (p[2] & 0x79));   /* QR, the opcode and RD kept */
	p[3] = 0x80 | 3;                                 /* RA, NXDOMAIN */
	memset(p + 6, 0, 6);                             /* no answer, authority, additional */
	sendto(dns->listen_fd, p, question_end, MSG_DONTWAIT, (const struct sockaddr *)client,
	       sizeof(*client));
}

void cg_dns_on_query(struct cg_supervisor *sup, struct cg_dns *dns)
{
	unsigned char p[MAX_PACKET_BYTES];
	char name[256];
	struct sockaddr_in client;
	socklen_t client_len = sizeof(client);
	struct cg_event ev = { .kind = CG_EV_HOST };
	struct cg_reason why;
	int64_t now = mono_ms();
	ssize_t n;
	size_t end;

	n = recvfrom(dns->listen_fd, p, sizeof(p), MSG_DONTWAIT, (struct sockaddr *)&client, &client_len);
	if (n <= 0 || client_len != sizeof(client) || !(end = question_name(p, (size_t)n, name, sizeof(name))))
		return;
	memset(&why, 0, sizeof(why));
	ev.u.host.host = name;
	if (cg_decide(&sup->opt->ctx, &ev, &why) != CG_ALLOW) {
		cg_supervisor_deny(sup, "dns", name, 0, &why);
		if (!sup->opt->monitor) {
			answer_nxdomain(dns, p, end, &client);
			return;
		}
	}
	/* Passed on as the judged question alone (no additional records:
	 * nothing rides along), under an id of ours, so that two clients'
	 * ids cannot mix. */
	p[10] = p[11] = 0;
	p[3] &= 0xf0;   /* Z, AD, CD cleared */
	n = (ssize_t)end;
	for (size_t i = 0; i < CG_DNS_PENDING; i++) {
		struct cg_dns_pending *q = &dns->pending[i];
		if (q->in_use && q->deadline_ms > now)
			continue;
		q->in_use = true;
		q->client = client;
		q->client_id = (uint16_t)(p[0] << 8 | p[1]);
		q->our_id = (uint16_t)(dns->next_id++ * 0x9e37u + 1);
		q->deadline_ms = now + PENDING_MS;
		p[0] = (unsigned char)(q->our_id >> 8);
		p[1] = (unsigned char)q->our_id;
		if (send(dns->upstream_fd, p, (size_t)n, MSG_DONTWAIT) != n)
			q->in_use = false;
		return;
	}
	/* every slot waits: the client asks again */
}

/* Everything waiting on the upstream socket.  A receive error (an ICMP
 * port unreachable from the name server) is taken off the socket too, or
 * poll would report it forever. */
void cg_dns_on_answer(struct cg_dns *dns)
{
	unsigned char p[MAX_PACKET_BYTES];
	ssize_t n;

	for (int k = 0; k < CG_DNS_PENDING; k++) {
		n = recv(dns->upstream_fd, p, sizeof(p), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < DNS_HEADER_BYTES)
			continue;   /* the error is read off; a runt is dropped */
		uint16_t id = (uint16_t)(p[0] << 8 | p[1]);
		for (size_t i = 0; i < CG_DNS_PENDING; i++) {
			struct cg_dns_pending *q = &dns->pending[i];
			if (!q->in_use || q->our_id != id)
				continue;
			q->in_use = false;
			p[0] = (unsigned char)(q->client_id >> 8);
			p[1] = (unsigned char)q->client_id;
			sendto(dns->listen_fd, p, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&q->client,
			       sizeof(q->client));
			break;
		}
	}
}
