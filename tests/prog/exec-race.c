/* exec-race: TRIES times, a thread flips a path buffer between GOOD and
 * BAD while the main thread (in a forked copy, so the flipper runs there
 * too) calls execve on it.  BAD is a blocked program (a copy of marker
 * named mount) that appends to MARKER when it runs.  Prints how many
 * execs were attempted. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char path[4096];
static const char *good, *bad;
static atomic_int stop;

static void *flip(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		strcpy(path, bad);
		strcpy(path, good);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int tries;

	if (argc < 5)
		return 2;
	good = argv[1];
	bad = argv[2];
	tries = atoi(argv[4]);
	for (int i = 0; i < tries; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			pthread_t t;
			char *args[] = { "true", argv[3], NULL };
			strcpy(path, good);
			pthread_create(&t, NULL, flip, NULL);
			for (;;)
				execve(path, args, (char *[]){ NULL });
		}
		waitpid(pid, NULL, 0);
	}
	printf("%d tries\n", tries);
	return 0;
}
