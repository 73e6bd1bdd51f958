/* interpose-net.c - connections, listening sockets and name lookups.
 *
 * A lookup of a host outside the egress allowlist fails at once with
 * EAI_FAIL ("name not allowed" on stderr) instead of a connection that
 * times out later.  The addresses an allowed lookup returns are
 * remembered, so that connecting to them needs no second resolution of
 * the allowlist.  The lookup itself runs with the reentrancy flag set: the
 * resolver's own files and sockets are libc's business.
 */
#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>

#include "preload/shim.h"

CG_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	shim_init();
	if (shim_check_net("connect", CG_EV_CONNECT, addr, len) < 0)
		return -1;
	return shim_real.connect(fd, addr, len);
}

CG_EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	shim_init();
	if (shim_check_net("bind", CG_EV_BIND, addr, len) < 0)
		return -1;
	return shim_real.bind(fd, addr, len);
}

CG_EXPORT int listen(int fd, int backlog)
{
	struct sockaddr_storage addr;
	socklen_t len = sizeof(addr);

	shim_init();
	/* listen() takes no address: judge the one the socket is bound to
	 * (an unbound socket gets an ephemeral port on every address). */
	if (getsockname(fd, (struct sockaddr *)&addr, &len) == 0 &&
	    shim_check_net("listen", CG_EV_LISTEN, (struct sockaddr *)&addr, len) < 0)
		return -1;
	return shim_real.listen(fd, backlog);
}

CG_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *addr,
			 socklen_t len)
{
	shim_init();
	if (addr && shim_check_net("sendto", CG_EV_CONNECT, addr, len) < 0)
		return -1;
	return shim_real.sendto(fd, buf, n, flags, addr, len);
}

CG_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	shim_init();
	if (msg && msg->msg_name &&
	    shim_check_net("sendmsg", CG_EV_CONNECT, msg->msg_name, msg->msg_namelen) < 0)
		return -1;
	return shim_real.sendmsg(fd, msg, flags);
}

/* Every datagram with its own address is judged; one refused refuses the
 * call (nothing is sent), as a kernel check of the first would. */
CG_EXPORT int sendmmsg(int fd, struct mmsghdr *msgs, unsigned n, int flags)
{
	shim_init();
	for (unsigned i = 0; msgs && i < n; i++)
		if (msgs[i].msg_hdr.msg_name &&
		    shim_check_net("sendmmsg", CG_EV_CONNECT, msgs[i].msg_hdr.msg_name,
				   msgs[i].msg_hdr.msg_namelen) < 0)
			return -1;
	return shim_real.sendmmsg(fd, msgs, n, flags);
}

CG_EXPORT int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
			  struct addrinfo **res)
{
	int rc;

	shim_init();
	if (node && shim_check_host("getaddrinfo", node) < 0)
		return EAI_FAIL;
	if (!shim_enter())
		return shim_real.getaddrinfo(node, service, hints, res);
	rc = shim_real.getaddrinfo(node, service, hints, res);
	shim_leave();
	if (rc == 0 && node && res)
		shim_learn_addrinfo(*res);
	return rc;
}

static struct hostent *lookup_done(struct hostent *h)
{
	shim_learn_hostent(h);
	return h;
}

CG_EXPORT struct hostent *gethostbyname(const char *name)
{
	struct hostent *h;

	shim_init();
	if (name && shim_check_host("gethostbyname", name) < 0) {
		h_errno = NO_RECOVERY;
		return NULL;
	}
	if (!shim_enter())
		return shim_real.gethostbyname(name);
	h = shim_real.gethostbyname(name);
	shim_leave();
	return lookup_done(h);
}

CG_EXPORT struct hostent *gethostbyname2(const char *name, int family)
{
	struct hostent *h;

	shim_init();
	if (name && shim_check_host("gethostbyname2", name) < 0) {
		h_errno = NO_RECOVERY;
		return NULL;
	}
	if (!shim_enter())
		return shim_real.gethostbyname2(name, family);
	h = shim_real.gethostbyname2(name, family);
	shim_leave();
	return lookup_done(h);
}

CG_EXPORT int gethostbyname_r(const char *name, struct hostent *ret, char *buf, size_t size,
			      struct hostent **result, int *err)
{
	int rc;

	shim_init();
	if (name && shim_check_host("gethostbyname_r", name) < 0) {
		if (result)
			*result = NULL;
		if (err)
			*err = NO_RECOVERY;
		return EPERM;
	}
	if (!shim_enter())
		return shim_real.gethostbyname_r(name, ret, buf, size, result, err);
	rc = shim_real.gethostbyname_r(name, ret, buf, size, result, err);
	shim_leave();
	if (rc == 0 && result && *result)
		shim_learn_hostent(*result);
	return rc;
}
