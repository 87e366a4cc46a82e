/*
 * sleepers: N extra processes that sleep forever, so a snapshot has a realistic process count to walk
 * (the bench state's "1,000 extra processes"). Each child touches a little private memory, so its
 * smaps are not all shared pages, and blocks in pause() (state S, like most daemons).
 *
 *   sleepers [--count 1000] [--kib 64]
 *
 * READY {"count":N,"pids":[...]}
 */
#include "common.h"

int main(int argc, char **argv) {
  static const char *const known[] = {"--count", "--kib", NULL};
  check_opts(argc, argv, known);
  maybe_die_with_parent();
  long count = opt_long(argc, argv, "--count", 1000);
  long kib = opt_long(argc, argv, "--kib", 64);
  if (count < 0 || count > 30000 || kib < 0) die("--count 0..30000, --kib >= 0");
  install_term_handler(NULL);

  for (long i = 0; i < count; i++) {
    pid_t pid = fork_worker();
    if (pid == 0) {
      if (kib > 0) {
        char *p = malloc((size_t)kib << 10);
        if (p != NULL) memset(p, 1, (size_t)kib << 10);
      }
      wait_forever();
    }
    track_child(pid);
  }
  printf("READY {\"count\":%ld,\"pids\":", count);
  print_pid_list(stdout, g_children, g_nchildren);
  printf("}\n");
  fflush(stdout);
  wait_forever();
}
