/*
 * Shared bits of the scenario programs in test/scenarios/. Each program sets up one kind of
 * misbehaviour, prints exactly one line `READY <json>` on stdout once the state is in place, and then
 * waits until it is killed. test/helpers/scenarios.ts compiles them, waits for READY and cleans up.
 *
 * Options are `--name value` pairs; anything unknown is an error, so a typo in a test fails loudly
 * instead of silently running with a default.
 */
#ifndef SCENARIO_COMMON_H
#define SCENARIO_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static inline void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "scenario: ");
  vfprintf(stderr, fmt, ap);
  if (errno != 0) fprintf(stderr, ": %s", strerror(errno));
  fprintf(stderr, "\n");
  va_end(ap);
  exit(2);
}

/* argv scanning: every option takes a value; flags are `--x 1`. `known` lists the accepted names. */
static inline const char *opt_str(int argc, char **argv, const char *name, const char *dflt) {
  for (int i = 1; i + 1 < argc; i += 2)
    if (strcmp(argv[i], name) == 0) return argv[i + 1];
  return dflt;
}

static inline long opt_long(int argc, char **argv, const char *name, long dflt) {
  const char *s = opt_str(argc, argv, name, NULL);
  if (s == NULL) return dflt;
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || *end != '\0') die("option %s: not an integer: %s", name, s);
  return v;
}

static inline void check_opts(int argc, char **argv, const char *const *known) {
  if ((argc - 1) % 2 != 0) die("options come in pairs (--name value), got %d words", argc - 1);
  for (int i = 1; i < argc; i += 2) {
    int ok = 0;
    for (const char *const *k = known; *k != NULL; k++)
      if (strcmp(argv[i], *k) == 0) ok = 1;
    if (!ok) {
      errno = 0;
      die("unknown option %s", argv[i]);
    }
  }
}

/*
 * Tests start scenarios with SCENARIO_DIE_WITH_PARENT=1 so a crashed test runner does not leave
 * spinning workers behind; the bench state (`bench/state.ts up`) must outlive its launcher and does not.
 */
static inline void die_with(pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(1); /* the parent died before prctl took effect */
}

static inline void maybe_die_with_parent(void) {
  const char *e = getenv("SCENARIO_DIE_WITH_PARENT");
  if (e != NULL && strcmp(e, "1") == 0) die_with(getppid());
}

static pid_t *g_children;
static int g_nchildren;
static void (*g_on_exit)(void);

/* Forked workers always die with the scenario's main process: it is the one the tests kill. */
static inline pid_t fork_worker(void) {
  pid_t parent = getpid();
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    die_with(parent);
    /* a worker must not run the main process's cleanup (it would kill its siblings) */
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    g_nchildren = 0;
    g_on_exit = NULL;
  }
  return pid;
}


static inline void track_child(pid_t pid) {
  g_children = realloc(g_children, sizeof(pid_t) * (size_t)(g_nchildren + 1));
  if (g_children == NULL) die("realloc");
  g_children[g_nchildren++] = pid;
}

/*
 * On SIGTERM the main process kills and reaps its own workers before exiting, so no zombie or
 * orphan is left for pid 1 to collect (and a snapshot taken right after the test sees none).
 */
static inline void on_term(int sig) {
  (void)sig;
  for (int i = 0; i < g_nchildren; i++) kill(g_children[i], SIGKILL);
  for (int i = 0; i < g_nchildren; i++) waitpid(g_children[i], NULL, 0);
  if (g_on_exit != NULL) g_on_exit();
  _exit(0);
}

static inline void install_term_handler(void (*on_exit_fn)(void)) {
  g_on_exit = on_exit_fn;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_term;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
}

/* The one line the helper waits for. The caller passes a JSON object body. */
static inline void ready(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("READY ", stdout);
  vfprintf(stdout, fmt, ap);
  fputc('\n', stdout);
  fflush(stdout);
  va_end(ap);
}

static inline void print_pid_list(FILE *f, const pid_t *pids, int n) {
  fputc('[', f);
  for (int i = 0; i < n; i++) fprintf(f, "%s%d", i ? "," : "", (int)pids[i]);
  fputc(']', f);
}

static inline void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static inline double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Sleep until killed, without burning CPU. */
static inline void wait_forever(void) {
  for (;;) pause();
}

#endif
