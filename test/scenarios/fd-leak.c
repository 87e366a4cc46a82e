/*
 * fd-leak: a process running close to its RLIMIT_NOFILE. It lowers its own soft limit, opens fds
 * until it holds a given number (counting 0, 1, 2 and everything inherited), and optionally keeps
 * leaking one more (a pipe: two) per interval — the slow leak that ends in EMFILE days later.
 *
 *   fd-leak [--limit 256] [--open 240] [--interval-ms 0] [--kind file|pipe|socket]
 *
 * --open         total fds held once READY (as `ls /proc/PID/fd | wc -l` counts them)
 * --interval-ms  >0: open one more fd per interval until the limit refuses it (then keep waiting)
 * --kind         file: /dev/null; pipe: both ends of pipes; socket: unbound UDP sockets
 *
 * READY {"limit":256,"fds":240,"kind":"file","intervalMs":0}
 * Each later leak prints `FDS <count>` on stdout; hitting the limit prints `EMFILE <count>`.
 */
#include "common.h"

#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

static int count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL) die("opendir /proc/self/fd");
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n - 1; /* the directory stream's own fd */
}

/* Opens one fd (or two for a pipe); returns how many were opened, 0 at the limit. */
static int open_one(const char *kind, int want_one) {
  if (strcmp(kind, "pipe") == 0 && !want_one) {
    int p[2];
    if (pipe(p) == 0) return 2;
    if (errno == EMFILE) return 0;
    die("pipe");
  }
  int fd;
  if (strcmp(kind, "socket") == 0)
    fd = socket(AF_INET, SOCK_DGRAM, 0);
  else
    fd = open("/dev/null", O_RDONLY); /* also the last odd fd of a pipe run */
  if (fd >= 0) return 1;
  if (errno == EMFILE) return 0;
  die("open");
  return 0;
}

int main(int argc, char **argv) {
  static const char *const known[] = {"--limit", "--open", "--interval-ms", "--kind", NULL};
  check_opts(argc, argv, known);
  maybe_die_with_parent();
  long limit = opt_long(argc, argv, "--limit", 256);
  long target = opt_long(argc, argv, "--open", 240);
  long interval = opt_long(argc, argv, "--interval-ms", 0);
  const char *kind = opt_str(argc, argv, "--kind", "file");
  if (strcmp(kind, "file") != 0 && strcmp(kind, "pipe") != 0 && strcmp(kind, "socket") != 0) {
    errno = 0;
    die("--kind must be file, pipe or socket: %s", kind);
  }
  if (target > limit) {
    errno = 0;
    die("--open %ld exceeds --limit %ld", target, limit);
  }

  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) < 0) die("getrlimit");
  rl.rlim_cur = (rlim_t)limit;
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max) rl.rlim_cur = rl.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &rl) < 0) die("setrlimit %ld", limit);
  install_term_handler(NULL);

  int have = count_fds();
  if (have > target) {
    errno = 0;
    die("already holding %d fds, more than --open %ld", have, target);
  }
  while (have < target) {
    int got = open_one(kind, target - have == 1);
    if (got == 0) die("hit the limit at %d fds before reaching %ld", have, target);
    have += got;
  }
  ready("{\"limit\":%ld,\"fds\":%d,\"kind\":\"%s\",\"intervalMs\":%ld}", (long)rl.rlim_cur, have, kind,
        interval);
  if (interval <= 0) wait_forever();

  for (int full = 0;;) {
    sleep_ms(interval);
    if (full) continue;
    int got = open_one(kind, 0);
    if (got == 0) {
      full = 1;
      printf("EMFILE %d\n", have); /* no fd left for opendir: trust our own count */
    } else {
      have += got;
      printf("FDS %d\n", have);
    }
    fflush(stdout);
  }
}
