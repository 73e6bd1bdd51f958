/* shim.h - what the files of libguard-preload.so share.
 *
 * Everything here is hidden (-fvisibility=hidden); only the interposed libc
 * names are exported, each marked CG_EXPORT.
 */
#ifndef CG_SHIM_H
#define CG_SHIM_H

#include <dirent.h>
#include <netdb.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "guard/guard.h"

#define CG_EXPORT __attribute__((visibility("default")))

/* glibc declares most path arguments nonnull, so the compiler would drop
 * a NULL check; a program can pass NULL all the same.  This hides the
 * value from the optimiser. */
static inline bool shim_is_null(const void *p)
{
	__asm__("" : "+r"(p));
	return p == NULL;
}

/* The real functions, found with dlsym(RTLD_NEXT) once, in the constructor
 * (dlsym takes the loader's lock: calling it later, in a fork child or a
 * signal handler, could deadlock). */
struct shim_real {
	int (*execve)(const char *, char *const[], char *const[]);
	int (*execvpe)(const char *, char *const[], char *const[]);
	int (*fexecve)(int, char *const[], char *const[]);
	int (*execveat)(int, const char *, char *const[], char *const[], int);
	int (*posix_spawn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
			   const posix_spawnattr_t *, char *const[], char *const[]);
	int (*posix_spawnp)(pid_t *, const char *, const posix_spawn_file_actions_t *,
			    const posix_spawnattr_t *, char *const[], char *const[]);
	int (*system)(const char *);
	FILE *(*popen)(const char *, const char *);

	int (*open)(const char *, int, ...);
	int (*open64)(const char *, int, ...);
	int (*openat)(int, const char *, int, ...);
	int (*openat64)(int, const char *, int, ...);
	int (*open_2)(const char *, int);
	int (*open64_2)(const char *, int);
	int (*openat_2)(int, const char *, int);
	int (*openat64_2)(int, const char *, int);
	int (*creat)(const char *, mode_t);
	int (*creat64)(const char *, mode_t);
	FILE *(*fopen)(const char *, const char *);
	FILE *(*fopen64)(const char *, const char *);
	FILE *(*freopen)(const char *, const char *, FILE *);
	FILE *(*freopen64)(const char *, const char *, FILE *);
	int (*rename)(const char *, const char *);
	int (*renameat)(int, const char *, int, const char *);
	int (*renameat2)(int, const char *, int, const char *, unsigned);
	int (*link)(const char *, const char *);
	int (*linkat)(int, const char *, int, const char *, int);
	int (*symlink)(const char *, const char *);
	int (*symlinkat)(const char *, int, const char *);
	int (*unlink)(const char *);
	int (*unlinkat)(int, const char *, int);
	int (*rmdir)(const char *);
	int (*mkdir)(const char *, mode_t);
	int (*mkdirat)(int, const char *, mode_t);
	int (*truncate)(const char *, off_t);
	int (*truncate64)(const char *, off_t);
	int (*chmod)(const char *, mode_t);
	int (*fchmodat)(int, const char *, mode_t, int);
	int (*chown)(const char *, uid_t, gid_t);
	int (*lchown)(const char *, uid_t, gid_t);
	int (*fchownat)(int, const char *, uid_t, gid_t, int);

	int (*connect)(int, const struct sockaddr *, socklen_t);
	int (*bind)(int, const struct sockaddr *, socklen_t);
	int (*listen)(int, int);
	ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	int (*sendmmsg)(int, struct mmsghdr *, unsigned, int);
	int (*getaddrinfo)(const char *, const char *, const struct addrinfo *, struct addrinfo **);
	struct hostent *(*gethostbyname)(const char *);
	struct hostent *(*gethostbyname2)(const char *, int);
	int (*gethostbyname_r)(const char *, struct hostent *, char *, size_t, struct hostent **, int *);
};

extern struct shim_real shim_real;

/* Resolve the real functions and load the snapshot, once.  Safe to call
 * from any interposed function: calls made before our constructor ran
 * (other libraries' constructors) initialise here. */
void shim_init(void);

/* The reentrancy guard.  shim_enter() returns false when this thread is
 * already inside the shim's own decision code: the call is the engine's
 * own (getaddrinfo resolving the egress list, an lstat of the path
 * resolver) and goes straight to libc. */
bool shim_enter(void);
void shim_leave(void);

/* The guarded questions.  Each returns 0 when the call may proceed and -1
 * with errno set (EACCES for files, EPERM for programs and the network)
 * when it must fail; a denial is reported on stderr and to the supervisor.
 * `call` names the libc function in the message. */

/* CG_ACCESS_* on `path` relative to dirfd (AT_FDCWD for the cwd).  With
 * is_nofollow the last component is the object itself (unlink, rename,
 * lchown), not what a symlink there points to. */
int shim_check_path(const char *call, int dirfd, const char *path, unsigned access,
		    bool is_nofollow);
/* An fd the real call just opened for reading: judged by what the kernel
 * opened (/proc/self/fd), which costs one readlink instead of resolving
 * every component.  On -1 the caller closes fd (errno is EACCES). */
int shim_check_opened(const char *call, int fd, const char *path, unsigned access);
/* A read the kernel refused with EACCES (Landlock, file modes): when the
 * policy refuses it too, print the denial so the user learns which rule;
 * errno stays EACCES. */
void shim_explain_refusal(const char *call, int dirfd, const char *path, unsigned access);
/* A program about to start: path as the kernel will see it (already found
 * in PATH for the p-variants), its argv. */
int shim_check_exec(const char *call, int dirfd, const char *path, char *const argv[]);
/* A system()/popen() string. */
int shim_check_shell(const char *call, const char *command);
int shim_check_net(const char *call, enum cg_event_kind kind, const struct sockaddr *addr,
		   socklen_t len);
/* A name lookup; 0 allowed, -1 denied (no errno: the caller returns its
 * own error code). */
int shim_check_host(const char *call, const char *host);
/* Addresses an allowed lookup returned: connections to them are allowed. */
void shim_learn_addrinfo(const struct addrinfo *res);
void shim_learn_hostent(const struct hostent *h);

/* The environment for a new program: envp itself when it already carries
 * LD_PRELOAD with the shim and the GUARD_* entries, else a copy in `buf`
 * (n_buf pointers) with them put back.  NULL when buf is too small (the
 * caller then fails with E2BIG). */
char *const *shim_fix_env(char *const envp[], char **buf, size_t n_buf, char *preload_buf,
			  size_t preload_size);
/* How many pointers shim_fix_env needs for envp. */
size_t shim_env_slots(char *const envp[]);
/* Put our variables back into environ before system()/popen(), whose
 * shells inherit it. */
void shim_restore_environ(void);

/* Find `file` in PATH the way execvp does; out holds PATH_MAX bytes.
 * Returns out, or file itself when it contains a '/' or is not found
 * (the real call then reports the error). */
const char *shim_find_program(const char *file, const char *path_env, char *out);

#endif
