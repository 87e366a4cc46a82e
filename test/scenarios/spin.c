/*
 * spin: N threads (or N processes) burning CPU in user space, optionally starting after a delay so a
 * recorder sees the onset of a spike. `--syscalls 1` makes each iteration also call getppid(), so the
 * time splits between user and system like a chatty server rather than a pure compute loop.
 *
 *   spin [--threads 1] [--procs 0] [--delay-ms 0] [--duration-ms 0] [--syscalls 0]
 *
 * --procs        1: fork N processes instead of starting N threads
 * --duration-ms  >0: stop burning after this long (then idle until killed); 0 burns forever
 *
 * READY {"threads":N,"mode":"threads"|"procs","delayMs":D,"pids":[...]} is printed before the delay,
 * so a test can take its "before" sample; `SPINNING` follows when the burn starts.
 */
#include "common.h"

#include <pthread.h>

static long g_delay, g_duration, g_syscalls;

static void *burn(void *arg) {
  (void)arg;
  sleep_ms(g_delay);
  double end = g_duration > 0 ? now_ms() + (double)g_duration : 0;
  volatile unsigned long x = 0;
  for (;;) {
    for (int i = 0; i < 100000; i++) {
      x = x * 6364136223846793005UL + 1442695040888963407UL;
      if (g_syscalls) (void)getppid();
    }
    if (end > 0 && now_ms() >= end) break;
  }
  for (;;) pause();
  return NULL;
}

int main(int argc, char **argv) {
  static const char *const known[] = {"--threads", "--procs", "--delay-ms", "--duration-ms", "--syscalls", NULL};
  check_opts(argc, argv, known);
  maybe_die_with_parent();
  long n = opt_long(argc, argv, "--threads", 1);
  int procs = opt_long(argc, argv, "--procs", 0) != 0;
  g_delay = opt_long(argc, argv, "--delay-ms", 0);
  g_duration = opt_long(argc, argv, "--duration-ms", 0);
  g_syscalls = opt_long(argc, argv, "--syscalls", 0);
  if (n < 1 || n > 1024) die("--threads out of range: %ld", n);
  install_term_handler(NULL);

  if (procs) {
    for (long i = 0; i < n; i++) {
      pid_t pid = fork_worker();
      if (pid == 0) burn(NULL);
      track_child(pid);
    }
  } else {
    for (long i = 0; i < n; i++) {
      pthread_t t;
      if (pthread_create(&t, NULL, burn, NULL) != 0) die("pthread_create");
    }
  }
  printf("READY {\"threads\":%ld,\"mode\":\"%s\",\"delayMs\":%ld,\"pids\":", n, procs ? "procs" : "threads",
         g_delay);
  print_pid_list(stdout, g_children, g_nchildren);
  printf("}\n");
  fflush(stdout);
  if (g_delay > 0) {
    sleep_ms(g_delay);
    printf("SPINNING\n");
    fflush(stdout);
  }
  wait_forever();
}
