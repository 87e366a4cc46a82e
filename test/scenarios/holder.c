/*
 * holder: holds TCP connections on loopback for the bench state (bench/state.ts). One holder is both
 * ends of its connections: it listens on 127.0.0.1:<port>, connects to itself from --sources local
 * addresses 127.1.<group>.<1..sources>, and accepts each connection, so every connection costs two
 * sockets and two fds here. Several holders share the 20,000 connections because RLIMIT_NOFILE cannot
 * be raised past the hard limit (20,000 on the bench VM).
 *
 *   holder [--established 2000] [--close-wait 0] [--time-wait 0] [--group 1] [--sources 8]
 *
 * --established  connections kept open at both ends (ESTABLISHED twice in `ss -tan`)
 * --close-wait   the client closes, we never close the accepted end: CLOSE_WAIT here (one fd each),
 *                and the client end sits in FIN_WAIT2 until tcp_fin_timeout
 * --time-wait    the client closes first, then we close the accepted end: TIME_WAIT lands on the
 *                client side and holds no fd. TIME_WAIT lasts 60 s (TCP_TIMEWAIT_LEN, not tunable),
 *                so we re-create them all just before they expire: the count stays at the target
 *                except for about a second a minute where old and new overlap (higher, never lower).
 * Source addresses with IP_BIND_ADDRESS_NO_PORT pick the port at connect() per 4-tuple, so no holder
 * runs out of ephemeral ports (ip_local_port_range is ~28,000 ports per source/destination pair).
 *
 * READY {"pid":P,"port":N,"established":E,"closeWait":C,"timeWait":T,"fds":F,"fdLimit":L,"sources":[...]}
 */
#include "common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define TW_REFRESH_MS 59000.0

static int g_listener;
static struct sockaddr_in g_dst;
static long g_group, g_sources, g_next_src;

/*
 * Exiting would close every connection the normal way and leave one TIME_WAIT per connection for a
 * minute, polluting the next bench run; an abortive close (linger 0 → RST) leaves nothing behind.
 */
static int g_maxfd;

static void reset_all(void) {
  struct linger lg = {.l_onoff = 1, .l_linger = 0};
  for (int fd = 3; fd <= g_maxfd; fd++) setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

/* One connection to ourselves: returns the accepted (server) end, client end in *client. */
static int connect_pair(int *client) {
  int c = socket(AF_INET, SOCK_STREAM, 0);
  if (c < 0) die("socket (client)");
  int one = 1;
  if (setsockopt(c, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one) < 0) die("IP_BIND_ADDRESS_NO_PORT");
  struct sockaddr_in src = {.sin_family = AF_INET, .sin_port = 0};
  long host = 1 + (g_next_src++ % g_sources);
  src.sin_addr.s_addr = htonl((127u << 24) | (1u << 16) | ((unsigned)g_group << 8) | (unsigned)host);
  if (bind(c, (struct sockaddr *)&src, sizeof src) < 0) die("bind source 127.1.%ld.%ld", g_group, host);
  if (connect(c, (struct sockaddr *)&g_dst, sizeof g_dst) < 0) die("connect");
  int s = accept(g_listener, NULL, NULL);
  if (s < 0) die("accept");
  *client = c;
  if (c > g_maxfd) g_maxfd = c;
  if (s > g_maxfd) g_maxfd = s;
  return s;
}

static void make_time_wait(long n) {
  char buf[64];
  for (long i = 0; i < n; i++) {
    int c;
    int s = connect_pair(&c);
    close(c); /* the client closes first, so TIME_WAIT is the client's */
    while (read(s, buf, sizeof buf) > 0) {
    } /* wait for its FIN */
    close(s);
  }
}

int main(int argc, char **argv) {
  static const char *const known[] = {"--established", "--close-wait", "--time-wait", "--group", "--sources", NULL};
  check_opts(argc, argv, known);
  maybe_die_with_parent();
  long est = opt_long(argc, argv, "--established", 2000);
  long cw = opt_long(argc, argv, "--close-wait", 0);
  long tw = opt_long(argc, argv, "--time-wait", 0);
  g_group = opt_long(argc, argv, "--group", 1);
  g_sources = opt_long(argc, argv, "--sources", 8);
  if (est < 0 || cw < 0 || tw < 0) die("counts must be >= 0");
  if (g_group < 0 || g_group > 255 || g_sources < 1 || g_sources > 254) die("--group 0..255, --sources 1..254");

  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) < 0) die("getrlimit");
  rlim_t need = (rlim_t)(2 * est + cw + 16);
  if (rl.rlim_cur < need) {
    rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && need > rl.rlim_max ? rl.rlim_max : need;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0) die("setrlimit");
  }
  if (rl.rlim_cur < need) {
    errno = 0;
    die("need %lu fds for %ld connections + %ld CLOSE_WAIT, hard limit is %lu: use more holders",
        (unsigned long)need, est, cw, (unsigned long)rl.rlim_max);
  }

  g_listener = socket(AF_INET, SOCK_STREAM, 0);
  if (g_listener < 0) die("socket (listener)");
  g_dst = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(g_listener, (struct sockaddr *)&g_dst, sizeof g_dst) < 0) die("bind listener");
  if (listen(g_listener, 4096) < 0) die("listen");
  socklen_t len = sizeof g_dst;
  if (getsockname(g_listener, (struct sockaddr *)&g_dst, &len) < 0) die("getsockname");
  install_term_handler(reset_all);

  for (long i = 0; i < est; i++) {
    int c;
    (void)connect_pair(&c); /* both ends stay open and idle */
  }
  for (long i = 0; i < cw; i++) {
    int c;
    (void)connect_pair(&c);
    close(c); /* the accepted end is never closed: CLOSE_WAIT */
  }
  make_time_wait(tw);

  printf("READY {\"pid\":%d,\"port\":%d,\"established\":%ld,\"closeWait\":%ld,\"timeWait\":%ld,\"fdLimit\":%lu,"
         "\"sources\":[",
         (int)getpid(), ntohs(g_dst.sin_port), est, cw, tw, (unsigned long)rl.rlim_cur);
  for (long h = 1; h <= g_sources; h++) printf("%s\"127.1.%ld.%ld\"", h > 1 ? "," : "", g_group, h);
  printf("]}\n");
  fflush(stdout);

  for (;;) {
    double t0 = now_ms();
    while (now_ms() - t0 < TW_REFRESH_MS) sleep_ms((long)(TW_REFRESH_MS - (now_ms() - t0)) + 1);
    make_time_wait(tw);
  }
}
