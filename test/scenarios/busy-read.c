/*
 * busy-read: the bug in the story. N worker processes each hold a non-blocking unix stream socket at
 * fd 11 and spin on read(11, ...) which returns -1 EAGAIN forever, because the peer never writes.
 * The main process is that peer: it owns the listener (or the other end of each socketpair), so a
 * tool that resolves fd 11 can name the unix socket, its path and the peer process.
 *
 *   busy-read [--workers 3] [--path /tmp/x.sock] [--socketpair 0|1] [--pause-us 0]
 *
 * --path        where to bind the listener (default /tmp/procsleuth-busy-read-<pid>.sock; removed on exit)
 * --socketpair  1: use socketpair() instead of a listener (no path, peer found only through inodes)
 * --pause-us    sleep between reads; 0 (default) is the real bug, >0 keeps a 2-core CI machine usable
 *
 * READY {"pids":[worker pids],"fd":11,"path":"...","peerPid":<main pid>,"socketpair":false}
 */
#include "common.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

#define BUSY_FD 11

static char g_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

static long g_pause_us;

static void cleanup(void) {
  if (g_path[0] != '\0') unlink(g_path);
}

#define READY_FD 12

/* Sets fd 11 up, tells the main process (one byte on READY_FD), then spins. */
static void spin_on(int fd, int ready_w) {
  if (dup2(fd, BUSY_FD) < 0 || dup2(ready_w, READY_FD) < 0) die("dup2");
  int fl = fcntl(BUSY_FD, F_GETFL);
  if (fl < 0 || fcntl(BUSY_FD, F_SETFL, fl | O_NONBLOCK) < 0) die("fcntl O_NONBLOCK");
  /* drop what fork copied (the peer ends of earlier workers, the listener) so fd 11 has one owner here */
  close_range(3, BUSY_FD - 1, 0);
  close_range(READY_FD + 1, ~0U, 0);
  /* only now is the state what READY claims: the main process waits for this byte */
  if (write(READY_FD, "r", 1) != 1) die("write ready");
  close(READY_FD);
  char buf[4096];
  for (;;) {
    ssize_t n = read(BUSY_FD, buf, sizeof buf);
    if (n == 0) _exit(0); /* peer gone: nothing left to spin on */
    if (n < 0 && errno != EAGAIN && errno != EINTR) _exit(3);
    if (g_pause_us > 0) usleep((useconds_t)g_pause_us);
  }
}

int main(int argc, char **argv) {
  static const char *const known[] = {"--workers", "--path", "--socketpair", "--pause-us", NULL};
  check_opts(argc, argv, known);
  maybe_die_with_parent();
  long workers = opt_long(argc, argv, "--workers", 3);
  int use_pair = opt_long(argc, argv, "--socketpair", 0) != 0;
  g_pause_us = opt_long(argc, argv, "--pause-us", 0);
  if (workers < 1 || workers > 4096) die("--workers out of range: %ld", workers);

  int listener = -1;
  if (!use_pair) {
    const char *p = opt_str(argc, argv, "--path", NULL);
    if (p != NULL)
      snprintf(g_path, sizeof g_path, "%s", p);
    else
      snprintf(g_path, sizeof g_path, "/tmp/procsleuth-busy-read-%d.sock", (int)getpid());
    unlink(g_path);
    listener = socket(AF_UNIX, SOCK_STREAM, 0);
    if (listener < 0) die("socket");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", g_path);
    if (bind(listener, (struct sockaddr *)&sa, sizeof sa) < 0) die("bind %s", g_path);
    if (listen(listener, (int)workers) < 0) die("listen");
  }
  install_term_handler(cleanup);
  int ready_pipe[2];
  if (pipe(ready_pipe) < 0) die("pipe");

  for (long i = 0; i < workers; i++) {
    int pair[2] = {-1, -1};
    if (use_pair && socketpair(AF_UNIX, SOCK_STREAM, 0, pair) < 0) die("socketpair");
    pid_t pid = fork_worker();
    if (pid == 0) {
      int fd;
      if (use_pair) {
        close(pair[0]);
        fd = pair[1];
      } else {
        close(listener);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0) die("socket");
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", g_path);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) die("connect %s", g_path);
      }
      spin_on(fd, ready_pipe[1]);
    }
    track_child(pid);
    /* the main process keeps its end open (and never writes): that is what keeps read() at EAGAIN */
    if (use_pair) {
      close(pair[1]);
    } else if (accept(listener, NULL, NULL) < 0) {
      die("accept");
    }
  }

  close(ready_pipe[1]);
  for (long got = 0; got < workers;) {
    char b[64];
    ssize_t n = read(ready_pipe[0], b, sizeof b);
    if (n <= 0) die("a worker died before setting up fd 11");
    got += n;
  }
  close(ready_pipe[0]);

  printf("READY {\"pids\":");
  print_pid_list(stdout, g_children, g_nchildren);
  printf(",\"fd\":%d,\"path\":\"%s\",\"peerPid\":%d,\"socketpair\":%s}\n", BUSY_FD, use_pair ? "" : g_path,
         (int)getpid(), use_pair ? "true" : "false");
  fflush(stdout);
  wait_forever();
}
