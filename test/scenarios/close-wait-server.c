/*
 * close-wait-server: a TCP server that accepts connections and never closes (or reads) them. When a
 * client hangs up, the kernel moves the server's socket to CLOSE_WAIT and it stays there until the
 * application calls close() — which this one never does. That is the "application is not closing
 * sockets" leak: the test connects M times and closes, leaving M CLOSE_WAIT sockets owned by us.
 *
 *   close-wait-server [--port 0] [--addr 127.0.0.1] [--backlog 4096]
 *
 * READY {"port":<bound port>,"addr":"127.0.0.1","pid":<pid>}
 * Every accepted connection is logged on stdout as `ACCEPTED <count>` so a test can wait for them.
 */
#include "common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

int main(int argc, char **argv) {
  static const char *const known[] = {"--port", "--addr", "--backlog", NULL};
  check_opts(argc, argv, known);
  maybe_die_with_parent();
  long port = opt_long(argc, argv, "--port", 0);
  const char *addr = opt_str(argc, argv, "--addr", "127.0.0.1");
  long backlog = opt_long(argc, argv, "--backlog", 4096);

  /* many leaked sockets is the point: allow as many as the hard limit lets us */
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }

  int ls = socket(AF_INET, SOCK_STREAM, 0);
  if (ls < 0) die("socket");
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
    errno = 0;
    die("--addr: not an IPv4 address: %s", addr);
  }
  if (bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0) die("bind %s:%ld", addr, port);
  if (listen(ls, (int)backlog) < 0) die("listen");
  socklen_t len = sizeof sa;
  if (getsockname(ls, (struct sockaddr *)&sa, &len) < 0) die("getsockname");
  install_term_handler(NULL);

  ready("{\"port\":%d,\"addr\":\"%s\",\"pid\":%d}", ntohs(sa.sin_port), addr, (int)getpid());
  long accepted = 0;
  for (;;) {
    int c = accept(ls, NULL, NULL);
    if (c < 0) {
      if (errno == EINTR) continue;
      if (errno == EMFILE || errno == ENFILE) {
        /* out of fds: that is also a state worth observing; keep the process alive and quiet */
        sleep_ms(100);
        continue;
      }
      die("accept");
    }
    accepted++;
    printf("ACCEPTED %ld\n", accepted);
    fflush(stdout);
  }
}
