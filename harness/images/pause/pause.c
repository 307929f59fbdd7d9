/*
 * hardway pause: the pod sandbox process. It holds the pod's namespaces open and, as PID 1 of the
 * pod, reaps orphaned children (what Kubernetes' own pause does). Exits 0 on SIGINT/SIGTERM.
 * Build: gcc -static -O2 -o pause pause.c
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define VERSION "hardway-pause 1.0"

static volatile sig_atomic_t stop;

static void on_stop(int signo) {
  (void)signo;
  stop = 1;
}

static void on_child(int signo) {
  (void)signo;
  /* Several children may have exited for one SIGCHLD: reap all of them. */
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

int main(int argc, char **argv) {
  if (argc > 1 && (strcmp(argv[1], "-v") == 0 || strcmp(argv[1], "--version") == 0)) {
    puts(VERSION);
    return 0;
  }
  if (getpid() != 1) fprintf(stderr, "pause: warning: not PID 1, orphans will not be reaped here\n");

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = on_stop;
  if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0) {
    perror("pause: sigaction");
    return 1;
  }
  sa.sa_handler = on_child;
  sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
  if (sigaction(SIGCHLD, &sa, NULL) < 0) {
    perror("pause: sigaction");
    return 2;
  }

  /* Block the stop signals between the check and pause() so none is lost in that window. */
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  sigprocmask(SIG_BLOCK, &block, &old);
  while (!stop) sigsuspend(&old);
  return 0;
}
