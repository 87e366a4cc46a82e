/*
 * shm-map: a process holding a large shared anonymous mapping, as databases and preforking servers
 * do. mmap(MAP_SHARED|MAP_ANONYMOUS) is backed by shmem and shows in /proc/PID/maps as
 * `/dev/zero (deleted)`; its pages count as RssShmem, not RssAnon. Optionally also a SysV segment
 * (`/SYSV00000000 (deleted)` in maps). Both are touched so the pages are really resident.
 *
 *   shm-map [--mib 64] [--sysv-mib 0] [--children 0]
 *
 * --sysv-mib  size of a SysV segment; it is marked IPC_RMID at once so it disappears with us
 * --children  forked processes that share the same mapping (shared memory counted once, not N times)
 *
 * READY {"mib":64,"sysvMib":0,"shmid":-1,"address":"0x7f...","pids":[children]}
 */
#include "common.h"

#include <stdint.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>

int main(int argc, char **argv) {
  static const char *const known[] = {"--mib", "--sysv-mib", "--children", NULL};
  check_opts(argc, argv, known);
  maybe_die_with_parent();
  long mib = opt_long(argc, argv, "--mib", 64);
  long sysv_mib = opt_long(argc, argv, "--sysv-mib", 0);
  long children = opt_long(argc, argv, "--children", 0);
  if (mib < 1 || sysv_mib < 0 || children < 0) die("sizes must be positive");
  size_t len = (size_t)mib << 20;

  char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) die("mmap %ld MiB", mib);
  /* write every page: untouched shared pages are not resident and would not show in RSS */
  memset(p, 0xa5, len);

  int shmid = -1;
  if (sysv_mib > 0) {
    size_t slen = (size_t)sysv_mib << 20;
    shmid = shmget(IPC_PRIVATE, slen, IPC_CREAT | 0600);
    if (shmid < 0) die("shmget %ld MiB", sysv_mib);
    char *s = shmat(shmid, NULL, 0);
    if (s == (void *)-1) {
      int e = errno;
      shmctl(shmid, IPC_RMID, NULL);
      errno = e;
      die("shmat");
    }
    /* removed now, destroyed when the last process detaches: a killed test leaks no segment */
    shmctl(shmid, IPC_RMID, NULL);
    memset(s, 0x5a, slen);
  }
  install_term_handler(NULL);

  for (long i = 0; i < children; i++) {
    pid_t pid = fork_worker();
    if (pid == 0) {
      volatile char sink = p[0]; /* the child maps the same pages; reading keeps nothing private */
      (void)sink;
      wait_forever();
    }
    track_child(pid);
  }

  printf("READY {\"mib\":%ld,\"sysvMib\":%ld,\"shmid\":%d,\"address\":\"%p\",\"pids\":", mib, sysv_mib, shmid,
         (void *)p);
  print_pid_list(stdout, g_children, g_nchildren);
  printf("}\n");
  fflush(stdout);
  wait_forever();
}
