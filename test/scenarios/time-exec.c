/*
 * time-exec: not a scenario but the bench harness's stopwatch (bench/harness.ts), kept here so the same
 * helper compiles and caches it. It runs one command and reports its wall time and the CPU time of the
 * command and every descendant it waited for, in microseconds — `/usr/bin/time -f %U` prints
 * hundredths, too coarse for a 20 ms command — plus the peak RSS.
 *
 *   time-exec CMD [ARG...]
 *
 * The command inherits stdin, stdout and stderr. The result is one JSON line written to fd 3 (which
 * the command does not inherit):
 *   {"wallUs":123,"userUs":456,"sysUs":78,"maxRssKib":9000,"exitCode":0,"signal":0}
 * Exit code: the command's, 128+signal if it was killed, 127 if it could not be started.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long us_of(struct timeval tv) { return (long long)tv.tv_sec * 1000000LL + tv.tv_usec; }

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: time-exec CMD [ARG...] (result on fd 3)\n");
    return 2;
  }
  int report = fcntl(3, F_GETFD) >= 0 ? 3 : 2;
  if (report == 3) fcntl(3, F_SETFD, FD_CLOEXEC);
  int errpipe[2]; /* tells the parent if exec failed (CLOEXEC: closed on success) */
  if (pipe2(errpipe, O_CLOEXEC) < 0) return 127;

  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  pid_t pid = fork();
  if (pid < 0) return 127;
  if (pid == 0) {
    close(errpipe[0]);
    execvp(argv[1], argv + 1);
    int e = errno;
    (void)!write(errpipe[1], &e, sizeof e);
    _exit(127);
  }
  close(errpipe[1]);
  int exec_errno = 0;
  if (read(errpipe[0], &exec_errno, sizeof exec_errno) != sizeof exec_errno) exec_errno = 0;
  close(errpipe[0]);

  int status;
  struct rusage ru;
  while (wait4(pid, &status, 0, &ru) < 0)
    if (errno != EINTR) return 127;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  long long wall = (t1.tv_sec - t0.tv_sec) * 1000000LL + (t1.tv_nsec - t0.tv_nsec) / 1000;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;

  dprintf(report,
          "{\"wallUs\":%lld,\"userUs\":%lld,\"sysUs\":%lld,\"maxRssKib\":%ld,\"exitCode\":%d,\"signal\":%d,"
          "\"execErrno\":%d,\"execError\":\"%s\"}\n",
          wall, us_of(ru.ru_utime), us_of(ru.ru_stime), ru.ru_maxrss, code, sig, exec_errno,
          exec_errno ? strerror(exec_errno) : "");
  if (exec_errno) return 127;
  return sig ? 128 + sig : code;
}
