/* net.c - the egress allowlist: which addresses a run may reach.
 *
 * Loopback is allowed when the policy says so; other addresses only when
 * they belong to an allowed host.  Names are resolved lazily, once, on
 * the first connection that needs them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "guard/guard-internal.h"

struct egress_addr {
	int family;
	unsigned char addr[16];
	in_port_t port;      /* network order; 0: any port */
};

struct cg_egress {
	struct cg_strlist hosts;     /* allowed names (policy + --allow-net) */
	struct cg_strlist denied;    /* --deny-net */
	struct egress_addr *addrs;
	size_t n_addrs;
	struct egress_addr *denied_addrs;
	size_t n_denied;
	bool has_nameservers;        /* /etc/resolv.conf read */
	bool has_dns_stub;           /* the run's name server stands in for them */
	struct in_addr dns_stub;
	bool is_resolved;            /* host names resolved */
};

static int copy_list(struct cg_strlist *dst, const struct cg_strlist *src)
{
	for (size_t i = 0; i < src->n; i++)
		if (cg_strlist_add(dst, src->items[i]) < 0)
			return -ENOMEM;
	return 0;
}

int cg_egress_new(struct cg_egress **out, const struct cg_policy *p, struct cg_error *err)
{
	const struct cg_settings *st = cg_policy_settings(p);
	struct cg_egress *e = calloc(1, sizeof(*e));

	*out = NULL;
	if (!e || copy_list(&e->hosts, &st->net_hosts) < 0 ||
	    copy_list(&e->hosts, &st->cli_allow_net) < 0 ||
	    copy_list(&e->denied, &st->cli_deny_net) < 0) {
		cg_egress_free(e);
		cg_error_set(err, "", 0, "", "out of memory");
		return -ENOMEM;
	}
	*out = e;
	return 0;
}

void cg_egress_free(struct cg_egress *e)
{
	if (!e)
		return;
	cg_strlist_clear(&e->hosts);
	cg_strlist_clear(&e->denied);
	free(e->addrs);
	free(e->denied_addrs);
	free(e);
}

static int push_addr(struct egress_addr **v, size_t *n, int family, const void *addr, in_port_t port)
{
	struct egress_addr *a = realloc(*v, (*n + 1) * sizeof(**v));

	if (!a)
		return -ENOMEM;
	*v = a;
	a[*n] = (struct egress_addr){ .family = family, .port = port };
	memcpy(a[*n].addr, addr, family == AF_INET ? 4 : 16);
	(*n)++;
	return 0;
}

int cg_egress_use_dns(struct cg_egress *e, const struct sockaddr_in *stub)
{
	if (!stub)
		return 0;
	/* the stub's loopback address, even where loopback is not allowed;
	 * and never the real servers */
	e->has_nameservers = true;
	e->has_dns_stub = true;
	e->dns_stub = stub->sin_addr;
	return push_addr(&e->addrs, &e->n_addrs, AF_INET, &stub->sin_addr, htons(53));
}

static void resolve_into(const struct cg_strlist *hosts, struct egress_addr **v, size_t *n)
{
	for (size_t i = 0; i < hosts->n; i++) {
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
		if (getaddrinfo(hosts->items[i], NULL, &hints, &res) != 0)
			continue;   /* an unresolvable host admits nothing */
		for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
			if (ai->ai_family == AF_INET)
				push_addr(v, n, AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, 0);
			else if (ai->ai_family == AF_INET6)
				push_addr(v, n, AF_INET6, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 0);
		}
		freeaddrinfo(res);
	}
}

/* Name servers: DNS must work for the allowed hosts to be reachable. */
static void add_nameservers(struct cg_egress *e)
{
	FILE *f = fopen("/etc/resolv.conf", "re");
	char line[512], addr[256];
	unsigned char bin[16];

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " nameserver %255s", addr) == 1) {
			if (inet_pton(AF_INET, addr, bin) == 1)
				push_addr(&e->addrs, &e->n_addrs, AF_INET, bin, htons(53));
			else if (inet_pton(AF_INET6, addr, bin) == 1)
				push_addr(&e->addrs, &e->n_addrs, AF_INET6, bin, htons(53));
		}
	fclose(f);
}

/* Host names cost a DNS round trip each: they are resolved only for a
 * connection that neither loopback nor a name server explains. */
static void resolve(struct cg_egress *e)
{
	if (e->is_resolved)
		return;
	e->is_resolved = true;
	resolve_into(&e->hosts, &e->addrs, &e->n_addrs);
	resolve_into(&e->denied, &e->denied_addrs, &e->n_denied);
}

static bool in_set(const struct egress_addr *v, size_t n, int family, const void *addr, in_port_t port)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].family == family && memcmp(v[i].addr, addr, family == AF_INET ? 4 : 16) == 0 &&
		    (v[i].port == 0 || v[i].port == port))
			return true;
	return false;
}

static bool is_loopback(int family, const void *addr)
{
	if (family == AF_INET)
		return ((const unsigned char *)addr)[0] == 127;
	const struct in6_addr *a6 = addr;
	if (IN6_IS_ADDR_LOOPBACK(a6))
		return true;
	/* ::ffff:127.x.x.x */
	return IN6_IS_ADDR_V4MAPPED(a6) && a6->s6_addr[12] == 127;
}

static bool is_unspecified(int family, const void *addr)
{
	static const unsigned char zero[16];
	return memcmp(addr, zero, family == AF_INET ? 4 : 16) == 0;
}

static void format_addr(int family, const void *addr, in_port_t port, char *out, size_t size)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	inet_ntop(family, addr, ip, sizeof(ip));
	snprintf(out, size, family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, ntohs(port));
}

/* Pull family, address and port out of a sockaddr; false when it is not IP. */
static bool ip_of(const struct sockaddr *sa, socklen_t len, int *family, const void **addr,
		  in_port_t *port)
{
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const void *)sa;
		*family = AF_INET;
		*addr = &in->sin_addr;
		*port = in->sin_port;
		return true;
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		*family = AF_INET6;
		*addr = &in6->sin6_addr;
		*port = in6->sin6_port;
		return true;
	}
	return false;
}

static enum cg_verdict decide_unix(const struct cg_context *ctx, const struct sockaddr *sa,
				   socklen_t len, const char *verb, struct cg_reason *why)
{
	const struct sockaddr_un *un = (const void *)sa;
	size_t max = len > offsetof(struct sockaddr_un, sun_path) ?
		     len - offsetof(struct sockaddr_un, sun_path) : 0;
	char path[sizeof(un->sun_path) + 1];

	/* Unnamed and abstract sockets: Landlock's abstract-socket scope keeps
	 * the run from reaching those created outside it. */
	if (max == 0 || un->sun_path[0] == '\0')
		return CG_ALLOW;
	if (max > sizeof(un->sun_path))
		max = sizeof(un->sun_path);
	memcpy(path, un->sun_path, max);
	path[max] = '\0';
	if (path[0] == '/' && cg_path_is_allowed(ctx, path, CG_PATHS_WRITE))
		return CG_ALLOW;
	cg_reason_set(why, "network", "unix-socket", "%s Unix socket '%s' outside the allowed paths",
		      verb, path);
	return CG_BLOCK;
}

enum cg_verdict cg_decide_net(const struct cg_context *ctx, const struct cg_event *ev,
			      struct cg_reason *why)
{
	const struct cg_settings *st = cg_policy_settings(ctx->policy);
	const struct sockaddr *sa = ev->u.net.addr;
	socklen_t len = ev->u.net.len;
	int family;
	const void *addr;
	in_port_t port;
	char where[80];

	if (!sa || len < (socklen_t)sizeof(sa_family_t))
		return CG_ALLOW;   /* connected sockets: the address was judged at connect */
	if (sa->sa_family == AF_UNIX)
		return decide_unix(ctx, sa, len, ev->kind == CG_EV_CONNECT ? "Connecting to" : "Binding",
				   why);
	if (sa->sa_family == AF_NETLINK || sa->sa_family == AF_UNSPEC)
		return CG_ALLOW;   /* kernel messaging (getifaddrs), disconnect */
	if (!ip_of(sa, len, &family, &addr, &port)) {
		cg_reason_set(why, "network", "address-family", "Address family %d is not allowed",
			      sa->sa_family);
		return CG_BLOCK;
	}
	format_addr(family, addr, port, where, sizeof(where));
	bool is_local = is_loopback(family, addr) && st->net_allow_loopback;

	switch (ev->kind) {
	case CG_EV_BIND:
		/* Port 0 on any address is a client picking its source port. */
		if (is_local || port == 0)
			return CG_ALLOW;
		cg_reason_set(why, "network", "bind", "Binding to %s is not allowed (only loopback)", where);
		return CG_BLOCK;
	case CG_EV_LISTEN:
		if (is_local)
			return CG_ALLOW;
		cg_reason_set(why, "network", "listen",
			      "Listening on %s is not allowed (only loopback)", where);
		return CG_BLOCK;
	default:
		break;
	}
	struct cg_egress *e = ctx->egress;
	if (e && e->denied.n > 0) {
		resolve(e);
		if (in_set(e->denied_addrs, e->n_denied, family, addr, port)) {
			cg_reason_set(why, "network", "deny-net", "Connection to %s is denied by --deny-net",
				      where);
			return CG_BLOCK;
		}
	}
	/* With the run's name server, DNS goes through it: not to a resolver
	 * on loopback (systemd-resolved's 127.0.0.53, dnsmasq), which would
	 * answer any question. */
	if (is_local && e && e->has_dns_stub && (port == htons(53) || port == htons(853)) &&
	    !(family == AF_INET && memcmp(addr, &e->dns_stub, 4) == 0)) {
		cg_reason_set(why, "network", "dns", "Connection to %s: name lookups go through the "
			      "run's name server", where);
		return CG_BLOCK;
	}
	if (is_local)
		return CG_ALLOW;
	if (e && !e->has_nameservers) {
		e->has_nameservers = true;
		add_nameservers(e);   /* before any host: DNS is what resolves them */
	}
	if (e && !is_unspecified(family, addr) && in_set(e->addrs, e->n_addrs, family, addr, port))
		return CG_ALLOW;
	if (e && !e->is_resolved) {
		resolve(e);
		if (!is_unspecified(family, addr) && in_set(e->addrs, e->n_addrs, family, addr, port))
			return CG_ALLOW;
	}
	cg_reason_set(why, "network", "egress", "Connection to %s is not in the egress allowlist", where);
	return CG_BLOCK;
}

enum cg_verdict cg_decide_host(const struct cg_context *ctx, const char *host,
			       struct cg_reason *why)
{
	const struct cg_settings *st = cg_policy_settings(ctx->policy);
	unsigned char bin[16];
	size_t n = strlen(host);

	if (n > 0 && host[n - 1] == '.')
		n--;   /* "registry.npmjs.org." is the same name */
	for (size_t i = 0; i < st->cli_deny_net.n; i++)
		if (strncasecmp(host, st->cli_deny_net.items[i], n) == 0 && !st->cli_deny_net.items[i][n])
			goto denied;
	if ((n == 9 && strncasecmp(host, "localhost", 9) == 0) ||
	    (inet_pton(AF_INET, host, bin) == 1 && bin[0] == 127) ||
	    (inet_pton(AF_INET6, host, bin) == 1 && is_loopback(AF_INET6, bin)))
		return st->net_allow_loopback ? CG_ALLOW : CG_BLOCK;
	for (size_t i = 0; i < st->net_hosts.n; i++)
		if (strncasecmp(host, st->net_hosts.items[i], n) == 0 && !st->net_hosts.items[i][n])
			return CG_ALLOW;
	for (size_t i = 0; i < st->cli_allow_net.n; i++)
		if (strncasecmp(host, st->cli_allow_net.items[i], n) == 0 && !st->cli_allow_net.items[i][n])
			return CG_ALLOW;
denied:
	cg_reason_set(why, "network", "egress", "Host '%s' is not in the egress allowlist", host);
	return CG_BLOCK;
}
