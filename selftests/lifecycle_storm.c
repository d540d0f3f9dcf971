// SPDX-License-Identifier: GPL-2.0
/*
 * A storm of task lifecycles for the reload tests: WORKERS processes (4 by
 * default) each fork children without pause; every child starts a thread,
 * both touch a few fresh pages, the thread exits, and the child exits while
 * a second thread still runs. So tasks are created, fault, become threads
 * and exit on every CPU at every moment, including while cowtrace.ko
 * attaches and detaches its hooks.
 *
 * It runs until SIGTERM or SIGINT, then kills its workers and waits until
 * every task it created is reaped (it is their subreaper), and exits 0:
 * once it has exited, no task of the storm exists any more.
 *
 * Usage: lifecycle_storm [WORKERS]
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_WORKERS	64
#define PAGES		4

static sig_atomic_t stopping;

/* Runs only inside sigsuspend(): the flag is read after it returns. */
static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

static void touch_pages(void)
{
	long page = sysconf(_SC_PAGESIZE);
	char *p;
	int i;

	p = mmap(NULL, PAGES * page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return;
	for (i = 0; i < PAGES; i++)
		p[i * page] = 1;
	munmap(p, PAGES * page);
}

static void *thread_fn(void *stay)
{
	touch_pages();
	if (stay)
		pause();	/* killed by the child's exit_group() */
	return NULL;
}

/* One short life: a thread joined, a thread left running at exit. */
static void child(void)
{
	static int stay = 1;
	pthread_t t;

	touch_pages();
	if (!pthread_create(&t, NULL, thread_fn, NULL))
		pthread_join(t, NULL);
	pthread_create(&t, NULL, thread_fn, &stay);
	_exit(0);
}

static void worker(void)
{
	pid_t pid;

	sigset_t none;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (;;) {
		pid = fork();
		if (pid == 0)
			child();
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
}

int main(int argc, char **argv)
{
	pid_t workers[MAX_WORKERS];
	sigset_t stop, old;
	int n = 4, i;

	if (argc == 2)
		n = atoi(argv[1]);
	if (argc > 2 || n < 1 || n > MAX_WORKERS) {
		fprintf(stderr, "usage: lifecycle_storm [WORKERS (1..%d)]\n",
			MAX_WORKERS);
		return 2;
	}
	/* Orphans of killed workers come back to us, to be reaped. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1)) {
		perror("lifecycle_storm: PR_SET_CHILD_SUBREAPER");
		return 1;
	}
	/* Blocked but for sigsuspend(): a stop is never missed. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_BLOCK, &stop, &old);
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	for (i = 0; i < n; i++) {
		workers[i] = fork();
		if (workers[i] < 0) {
			perror("lifecycle_storm: fork");
			n = i;
			stopping = 1;
			break;
		}
		if (workers[i] == 0)
			worker();
	}
	while (!stopping)
		sigsuspend(&old);
	for (i = 0; i < n; i++)
		kill(workers[i], SIGKILL);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	return errno == ECHILD ? 0 : 1;
}
