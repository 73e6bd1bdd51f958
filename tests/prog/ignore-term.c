/* ignore-term: ignore SIGTERM, print "ready", sleep until killed. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	signal(SIGTERM, SIG_IGN);
	puts("ready");
	fflush(stdout);
	for (;;)
		pause();
}
