/*
 * procsleuth-bpfcount: the syscall profile of some processes, counted in the kernel by two small BPF
 * programs on the raw syscall tracepoints, attached in short bursts (src/trace/bpf.ts drives it).
 *
 * Why bursts: any syscall hook (tracepoint, and here there is no kprobe/fentry: no function tracing)
 * sets SYSCALL_WORK_SYSCALL_TRACEPOINT on every task, so every syscall on the machine takes the
 * slow path while a program is attached. On a 2-vCPU VM with retpolines and SRSO an empty program
 * costs a busy read() loop ~1.3x, these timed counters ~1.8-2x (bench/tracer-overhead.bench.ts). Attaching only
 * for a share of the window (the duty) keeps the average cost near 1 + duty * (that - 1); the duty
 * follows from the syscall rate of the traced processes so that the cost stays within a budget.
 *
 * Why hand-assembled BPF: no clang, libbpf or bpftool is needed at run time or build time, only the
 * bpf(2) syscall and <linux/bpf.h>.
 *
 *   procsleuth-bpfcount --pids 1,2 --ms 5000 --fd-nrs 0,1,3 --arg0-off 112
 *                       [--burst-ms 20] [--budget 0.05] [--cost-ns 800] [--min-duty 0.02] [--empty 1]
 * (--empty 1: an empty program on sys_exit for the whole window, the floor the bench compares with)
 *
 * Prints "attached" on stderr at the first attach, and at the end (window over, or SIGINT/SIGTERM)
 * one JSON object on stdout:
 *   {"windowNs":..,"tracedNs":..,"bursts":..,"calls":[[pid,nr,fd,res,count,timeNs,maxNs,blocked],..],
 *    "inFlight":[[tid,nr,fd,elapsedNs],..],"dropped":..}
 * res: the return value when negative (-errno), 0 for 0, 1 for > 0. fd -1: not an fd syscall.
 * Links are file descriptors: whatever happens to this process, its exit detaches the programs.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_INSNS 512
#define MAX_INLINE_PIDS 64
#define MAX_INFLIGHT 4096
#define MAX_PIDS 4096
#define NR_SLOTS 1024
#define BLOCKED_NS 1000000

static volatile sig_atomic_t g_stop;
static void on_stop(int sig) {
  (void)sig;
  g_stop = 1;
}

static long sys_bpf(int cmd, union bpf_attr *attr) { return syscall(__NR_bpf, cmd, attr, sizeof *attr); }

static void die(const char *what) {
  fprintf(stderr, "procsleuth-bpfcount: %s: %s\n", what, strerror(errno));
  exit(errno == EPERM || errno == EACCES ? 77 : 1);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Sleeps until `until` (monotonic ns) or a stop signal. */
static void sleep_until(uint64_t until) {
  while (!g_stop) {
    uint64_t n = now_ns();
    if (n >= until) return;
    uint64_t d = until - n;
    struct timespec ts = {.tv_sec = (time_t)(d / 1000000000ull), .tv_nsec = (long)(d % 1000000000ull)};
    nanosleep(&ts, NULL);
  }
}

static int map_create(enum bpf_map_type type, unsigned key, unsigned value, unsigned max, unsigned flags) {
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_flags = flags;
  a.map_type = type;
  a.key_size = key;
  a.value_size = value;
  a.max_entries = max;
  int fd = (int)sys_bpf(BPF_MAP_CREATE, &a);
  if (fd < 0) die("BPF_MAP_CREATE");
  return fd;
}

static int map_update(int fd, const void *key, const void *value) {
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_fd = (uint32_t)fd;
  a.key = (uint64_t)(uintptr_t)key;
  a.value = (uint64_t)(uintptr_t)value;
  a.flags = BPF_ANY;
  return (int)sys_bpf(BPF_MAP_UPDATE_ELEM, &a);
}

static int map_lookup(int fd, const void *key, void *value) {
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_fd = (uint32_t)fd;
  a.key = (uint64_t)(uintptr_t)key;
  a.value = (uint64_t)(uintptr_t)value;
  return (int)sys_bpf(BPF_MAP_LOOKUP_ELEM, &a);
}

/* 0 and the next key, or -1 at the end. `prev` NULL asks for the first key. */
static int map_next(int fd, const void *prev, void *next) {
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_fd = (uint32_t)fd;
  a.key = (uint64_t)(uintptr_t)prev;
  a.next_key = (uint64_t)(uintptr_t)next;
  return (int)sys_bpf(BPF_MAP_GET_NEXT_KEY, &a);
}

/* ---- a tiny assembler with labels ---- */

#define MAX_LABELS 64
struct prog {
  struct bpf_insn insn[MAX_INSNS];
  int n;
  int nlabels;
  int label_at[MAX_LABELS];
  struct {
    int insn, label;
  } fix[MAX_INSNS];
  int nfix;
};

static void emit(struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  if (p->n >= MAX_INSNS) {
    fprintf(stderr, "procsleuth-bpfcount: program too long\n");
    exit(1);
  }
  struct bpf_insn *i = &p->insn[p->n++];
  memset(i, 0, sizeof *i);
  i->code = code;
  i->dst_reg = dst & 0xf;
  i->src_reg = src & 0xf;
  i->off = off;
  i->imm = imm;
}
#define MOV_REG(d, s) emit(p, BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV_IMM(d, v) emit(p, BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, v)
#define ALU_IMM(op, d, v) emit(p, BPF_ALU64 | (op) | BPF_K, d, 0, 0, v)
#define ALU_REG(op, d, s) emit(p, BPF_ALU64 | (op) | BPF_X, d, s, 0, 0)
#define LDX(sz, d, s, o) emit(p, BPF_LDX | BPF_MEM | (sz), d, s, o, 0)
#define STX(sz, d, s, o) emit(p, BPF_STX | BPF_MEM | (sz), d, s, o, 0)
#define ST_IMM(sz, d, o, v) emit(p, BPF_ST | BPF_MEM | (sz), d, 0, o, v)
#define XADD(d, s, o) emit(p, BPF_STX | BPF_ATOMIC | BPF_DW, d, s, o, BPF_ADD)
#define CALL(f) emit(p, BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define EXIT() emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
#define LD_MAP(d, fd)                                                                                         \
  do {                                                                                                        \
    emit(p, BPF_LD | BPF_DW | BPF_IMM, d, BPF_PSEUDO_MAP_FD, 0, fd);                                          \
    emit(p, 0, 0, 0, 0, 0);                                                                                   \
  } while (0)
#define STACK_PTR(r, o)                                                                                       \
  do {                                                                                                        \
    MOV_REG(r, BPF_REG_10);                                                                                   \
    ALU_IMM(BPF_ADD, r, o);                                                                                   \
  } while (0)

static int newlabel(struct prog *p) {
  if (p->nlabels >= MAX_LABELS) {
    fprintf(stderr, "procsleuth-bpfcount: too many labels\n");
    exit(1);
  }
  p->label_at[p->nlabels] = -1;
  return p->nlabels++;
}
static void jmp(struct prog *p, uint8_t op, uint8_t src_kind, uint8_t dst, uint8_t src, int32_t imm, int label) {
  p->fix[p->nfix].insn = p->n;
  p->fix[p->nfix].label = label;
  p->nfix++;
  emit(p, BPF_JMP | op | src_kind, dst, src, 0, imm);
}
#define JMP_IMM(op, d, v, l) jmp(p, op, BPF_K, d, 0, v, l)
#define JMP_REG(op, d, s, l) jmp(p, op, BPF_X, d, s, 0, l)
#define GOTO(l) jmp(p, BPF_JA, BPF_K, 0, 0, 0, l)
#define LABEL(l) (p->label_at[l] = p->n)

static void resolve(struct prog *p) {
  for (int i = 0; i < p->nfix; i++)
    p->insn[p->fix[i].insn].off = (int16_t)(p->label_at[p->fix[i].label] - p->fix[i].insn - 1);
}

struct maps {
  int pids, fdnr, gen, slots, stats, drops;
  /* pids compared inline in the program (cheaper than a map lookup on every syscall of the machine) */
  const uint32_t *inline_pids;
  int ninline;
};

/*
 * One slot per thread (tid modulo NSLOTS, owner checked): the call in progress, and the current run of
 * identical calls (same syscall, fd and result), summed here without any map lookup; a run is added to
 * the stats hash only when the kind of call changes. A busy loop of one call thus costs two array
 * lookups per call, not a hash update.
 */
#define NSLOTS 16384
struct slot {
  uint32_t tid, tgid;
  uint64_t gen;
  uint64_t ts;
  int32_t nr, fd;
  int32_t run_nr, run_fd, run_res;
  uint32_t pad;
  uint64_t run_count, run_time, run_max, run_blocked;
};
#define S_TID 0
#define S_TGID 4
#define S_GEN 8
#define S_TS 16
#define S_NR 24
#define S_FD 28
#define S_RNR 32
#define S_RFD 36
#define S_RRES 40
#define S_RCOUNT 48
#define S_RTIME 56
#define S_RMAX 64
#define S_RBLOCKED 72
_Static_assert(sizeof(struct slot) == 80, "slot layout");

/* stats key and value */
struct stat_k {
  uint32_t pid;
  int32_t nr, fd, res;
};
struct stat_v {
  uint64_t count, time_ns, max_ns, blocked;
};

/* tgid in r1 (kept in r7 by callers): jump to `out` unless it is a traced pid. Clobbers r0-r5. */
static void emit_pid_filter(struct prog *p, const struct maps *m, int out) {
  if (m->ninline > 0) {
    int ok = newlabel(p);
    for (int i = 0; i < m->ninline; i++) JMP_IMM(BPF_JEQ, BPF_REG_1, (int32_t)m->inline_pids[i], ok);
    GOTO(out);
    LABEL(ok);
    return;
  }
  STX(BPF_W, BPF_REG_10, BPF_REG_1, -4);
  LD_MAP(BPF_REG_1, m->pids);
  STACK_PTR(BPF_REG_2, -4);
  CALL(BPF_FUNC_map_lookup_elem);
  JMP_IMM(BPF_JEQ, BPF_REG_0, 0, out);
}

/* Add the run in slot r9 to stats[tgid, run_nr, run_fd, run_res] and empty it. Clobbers r0-r5, stack -40..-8. */
static void emit_flush(struct prog *p, const struct maps *m) {
  int have = newlabel(p), done = newlabel(p), nomax = newlabel(p);
  LDX(BPF_DW, BPF_REG_1, BPF_REG_9, S_RCOUNT);
  JMP_IMM(BPF_JEQ, BPF_REG_1, 0, done);
  LDX(BPF_W, BPF_REG_1, BPF_REG_9, S_TGID);
  STX(BPF_W, BPF_REG_10, BPF_REG_1, -24);
  LDX(BPF_W, BPF_REG_1, BPF_REG_9, S_RNR);
  STX(BPF_W, BPF_REG_10, BPF_REG_1, -20);
  LDX(BPF_W, BPF_REG_1, BPF_REG_9, S_RFD);
  STX(BPF_W, BPF_REG_10, BPF_REG_1, -16);
  LDX(BPF_W, BPF_REG_1, BPF_REG_9, S_RRES);
  STX(BPF_W, BPF_REG_10, BPF_REG_1, -12);
  LD_MAP(BPF_REG_1, m->stats);
  STACK_PTR(BPF_REG_2, -24);
  CALL(BPF_FUNC_map_lookup_elem);
  JMP_IMM(BPF_JNE, BPF_REG_0, 0, have);
  /* first run of this kind: insert zeros, then add like any other */
  ST_IMM(BPF_DW, BPF_REG_10, -56, 0);
  ST_IMM(BPF_DW, BPF_REG_10, -48, 0);
  ST_IMM(BPF_DW, BPF_REG_10, -40, 0);
  ST_IMM(BPF_DW, BPF_REG_10, -32, 0);
  LD_MAP(BPF_REG_1, m->stats);
  STACK_PTR(BPF_REG_2, -24);
  STACK_PTR(BPF_REG_3, -56);
  MOV_IMM(BPF_REG_4, BPF_NOEXIST);
  CALL(BPF_FUNC_map_update_elem);
  LD_MAP(BPF_REG_1, m->stats);
  STACK_PTR(BPF_REG_2, -24);
  CALL(BPF_FUNC_map_lookup_elem);
  JMP_IMM(BPF_JNE, BPF_REG_0, 0, have);
  /* the stats map is full: count what is lost rather than lose it silently */
  ST_IMM(BPF_W, BPF_REG_10, -24, 0);
  LD_MAP(BPF_REG_1, m->drops);
  STACK_PTR(BPF_REG_2, -24);
  CALL(BPF_FUNC_map_lookup_elem);
  JMP_IMM(BPF_JEQ, BPF_REG_0, 0, done);
  LDX(BPF_DW, BPF_REG_1, BPF_REG_9, S_RCOUNT);
  XADD(BPF_REG_0, BPF_REG_1, 0);
  GOTO(done);
  LABEL(have);
  LDX(BPF_DW, BPF_REG_1, BPF_REG_9, S_RCOUNT);
  XADD(BPF_REG_0, BPF_REG_1, 0);
  LDX(BPF_DW, BPF_REG_1, BPF_REG_9, S_RTIME);
  XADD(BPF_REG_0, BPF_REG_1, 8);
  LDX(BPF_DW, BPF_REG_1, BPF_REG_9, S_RBLOCKED);
  XADD(BPF_REG_0, BPF_REG_1, 24);
  LDX(BPF_DW, BPF_REG_1, BPF_REG_9, S_RMAX);
  LDX(BPF_DW, BPF_REG_2, BPF_REG_0, 16);
  JMP_REG(BPF_JLE, BPF_REG_1, BPF_REG_2, nomax);
  STX(BPF_DW, BPF_REG_0, BPF_REG_1, 16); /* racy max between threads: good enough */
  LABEL(nomax);
  LABEL(done);
  ST_IMM(BPF_DW, BPF_REG_9, S_RCOUNT, 0);
}

/* r9 = &slots[tid % NSLOTS], tid in r8. Jumps to `out` if the lookup fails (it cannot). */
static void emit_slot(struct prog *p, const struct maps *m, int out) {
  MOV_REG(BPF_REG_1, BPF_REG_8);
  ALU_IMM(BPF_AND, BPF_REG_1, NSLOTS - 1);
  STX(BPF_W, BPF_REG_10, BPF_REG_1, -4);
  LD_MAP(BPF_REG_1, m->slots);
  STACK_PTR(BPF_REG_2, -4);
  CALL(BPF_FUNC_map_lookup_elem);
  JMP_IMM(BPF_JEQ, BPF_REG_0, 0, out);
  MOV_REG(BPF_REG_9, BPF_REG_0);
}

/* r0 = current burst generation. */
static void emit_gen(struct prog *p, const struct maps *m, int out) {
  ST_IMM(BPF_W, BPF_REG_10, -4, 0);
  LD_MAP(BPF_REG_1, m->gen);
  STACK_PTR(BPF_REG_2, -4);
  CALL(BPF_FUNC_map_lookup_elem);
  JMP_IMM(BPF_JEQ, BPF_REG_0, 0, out);
  LDX(BPF_DW, BPF_REG_0, BPF_REG_0, 0);
}

/* raw_tp sys_enter(struct pt_regs *regs, long id): note the call in the thread's slot. */
static void build_enter(struct prog *p, const struct maps *m, int arg0_off) {
  int out = newlabel(p), owned = newlabel(p), nofd = newlabel(p), fdread = newlabel(p);
  MOV_REG(BPF_REG_6, BPF_REG_1);
  CALL(BPF_FUNC_get_current_pid_tgid);
  MOV_REG(BPF_REG_8, BPF_REG_0);
  ALU_IMM(BPF_AND, BPF_REG_8, 0x7fffffff); /* tid (low 32 bits; pids are < 2^22) */
  MOV_REG(BPF_REG_7, BPF_REG_0);
  ALU_IMM(BPF_RSH, BPF_REG_7, 32); /* tgid */
  MOV_REG(BPF_REG_1, BPF_REG_7);
  emit_pid_filter(p, m, out);
  emit_slot(p, m, out);
  LDX(BPF_W, BPF_REG_1, BPF_REG_9, S_TID);
  JMP_REG(BPF_JEQ, BPF_REG_1, BPF_REG_8, owned);
  /* another thread had this slot: keep its run, then take the slot over */
  emit_flush(p, m);
  STX(BPF_W, BPF_REG_9, BPF_REG_8, S_TID);
  STX(BPF_W, BPF_REG_9, BPF_REG_7, S_TGID);
  LABEL(owned);
  emit_gen(p, m, out);
  STX(BPF_DW, BPF_REG_9, BPF_REG_0, S_GEN);
  LDX(BPF_DW, BPF_REG_7, BPF_REG_6, 8); /* id */
  STX(BPF_W, BPF_REG_9, BPF_REG_7, S_NR);
  ST_IMM(BPF_W, BPF_REG_9, S_FD, -1);
  JMP_IMM(BPF_JGE, BPF_REG_7, NR_SLOTS, nofd);
  STX(BPF_W, BPF_REG_10, BPF_REG_7, -4);
  LD_MAP(BPF_REG_1, m->fdnr);
  STACK_PTR(BPF_REG_2, -4);
  CALL(BPF_FUNC_map_lookup_elem);
  JMP_IMM(BPF_JEQ, BPF_REG_0, 0, nofd);
  LDX(BPF_W, BPF_REG_1, BPF_REG_0, 0);
  JMP_IMM(BPF_JEQ, BPF_REG_1, 0, nofd);
  /* fd = (int)arg0, from the saved user registers */
  ST_IMM(BPF_DW, BPF_REG_10, -16, 0);
  STACK_PTR(BPF_REG_1, -16);
  MOV_IMM(BPF_REG_2, 8);
  LDX(BPF_DW, BPF_REG_3, BPF_REG_6, 0);
  ALU_IMM(BPF_ADD, BPF_REG_3, arg0_off);
  CALL(BPF_FUNC_probe_read_kernel);
  JMP_IMM(BPF_JEQ, BPF_REG_0, 0, fdread);
  ST_IMM(BPF_W, BPF_REG_9, S_FD, -2);
  GOTO(nofd);
  LABEL(fdread);
  LDX(BPF_W, BPF_REG_1, BPF_REG_10, -16);
  STX(BPF_W, BPF_REG_9, BPF_REG_1, S_FD);
  LABEL(nofd);
  CALL(BPF_FUNC_ktime_get_ns);
  STX(BPF_DW, BPF_REG_9, BPF_REG_0, S_TS);
  LABEL(out);
  MOV_IMM(BPF_REG_0, 0);
  EXIT();
  resolve(p);
}

/* raw_tp sys_exit(struct pt_regs *regs, long ret): add the call to the thread's run. */
static void build_exit(struct prog *p, const struct maps *m) {
  int out = newlabel(p), res = newlabel(p), same = newlabel(p), nomax = newlabel(p), fast = newlabel(p);
  MOV_REG(BPF_REG_6, BPF_REG_1);
  CALL(BPF_FUNC_get_current_pid_tgid);
  MOV_REG(BPF_REG_8, BPF_REG_0);
  ALU_IMM(BPF_AND, BPF_REG_8, 0x7fffffff);
  MOV_REG(BPF_REG_1, BPF_REG_0);
  ALU_IMM(BPF_RSH, BPF_REG_1, 32);
  emit_pid_filter(p, m, out);
  emit_slot(p, m, out);
  LDX(BPF_W, BPF_REG_1, BPF_REG_9, S_TID);
  JMP_REG(BPF_JNE, BPF_REG_1, BPF_REG_8, out); /* slot taken by another thread meanwhile */
  LDX(BPF_DW, BPF_REG_7, BPF_REG_9, S_TS);
  JMP_IMM(BPF_JEQ, BPF_REG_7, 0, out); /* entered before the burst */
  ST_IMM(BPF_DW, BPF_REG_9, S_TS, 0);
  emit_gen(p, m, out);
  LDX(BPF_DW, BPF_REG_1, BPF_REG_9, S_GEN);
  JMP_REG(BPF_JNE, BPF_REG_0, BPF_REG_1, out); /* entered in an earlier burst */
  CALL(BPF_FUNC_ktime_get_ns);
  ALU_REG(BPF_SUB, BPF_REG_0, BPF_REG_7);
  MOV_REG(BPF_REG_7, BPF_REG_0); /* duration */
  LDX(BPF_DW, BPF_REG_8, BPF_REG_6, 8); /* ret -> result class */
  JMP_IMM(BPF_JSLT, BPF_REG_8, 0, res);
  JMP_IMM(BPF_JEQ, BPF_REG_8, 0, res);
  MOV_IMM(BPF_REG_8, 1);
  LABEL(res);
  /* same kind of call as the run so far? */
  LDX(BPF_DW, BPF_REG_1, BPF_REG_9, S_RCOUNT);
  JMP_IMM(BPF_JEQ, BPF_REG_1, 0, fast);
  LDX(BPF_W, BPF_REG_1, BPF_REG_9, S_RRES);
  LDX(BPF_W, BPF_REG_2, BPF_REG_9, S_RNR);
  LDX(BPF_W, BPF_REG_3, BPF_REG_9, S_NR);
  LDX(BPF_W, BPF_REG_4, BPF_REG_9, S_RFD);
  LDX(BPF_W, BPF_REG_5, BPF_REG_9, S_FD);
  MOV_REG(BPF_REG_0, BPF_REG_8);
  ALU_IMM(BPF_LSH, BPF_REG_0, 32);
  ALU_IMM(BPF_ARSH, BPF_REG_0, 32);
  ALU_IMM(BPF_LSH, BPF_REG_1, 32);
  ALU_IMM(BPF_ARSH, BPF_REG_1, 32);
  JMP_REG(BPF_JNE, BPF_REG_1, BPF_REG_0, fast);
  JMP_REG(BPF_JNE, BPF_REG_2, BPF_REG_3, fast);
  JMP_REG(BPF_JEQ, BPF_REG_4, BPF_REG_5, same);
  LABEL(fast);
  /* a new kind of call: flush the old run (if any) and start a new one */
  emit_flush(p, m);
  LDX(BPF_W, BPF_REG_1, BPF_REG_9, S_NR);
  STX(BPF_W, BPF_REG_9, BPF_REG_1, S_RNR);
  LDX(BPF_W, BPF_REG_1, BPF_REG_9, S_FD);
  STX(BPF_W, BPF_REG_9, BPF_REG_1, S_RFD);
  STX(BPF_W, BPF_REG_9, BPF_REG_8, S_RRES);
  ST_IMM(BPF_DW, BPF_REG_9, S_RTIME, 0);
  ST_IMM(BPF_DW, BPF_REG_9, S_RMAX, 0);
  ST_IMM(BPF_DW, BPF_REG_9, S_RBLOCKED, 0);
  LABEL(same);
  LDX(BPF_DW, BPF_REG_1, BPF_REG_9, S_RCOUNT);
  ALU_IMM(BPF_ADD, BPF_REG_1, 1);
  STX(BPF_DW, BPF_REG_9, BPF_REG_1, S_RCOUNT);
  LDX(BPF_DW, BPF_REG_1, BPF_REG_9, S_RTIME);
  ALU_REG(BPF_ADD, BPF_REG_1, BPF_REG_7);
  STX(BPF_DW, BPF_REG_9, BPF_REG_1, S_RTIME);
  LDX(BPF_DW, BPF_REG_1, BPF_REG_9, S_RMAX);
  JMP_REG(BPF_JLE, BPF_REG_7, BPF_REG_1, nomax);
  STX(BPF_DW, BPF_REG_9, BPF_REG_7, S_RMAX);
  LABEL(nomax);
  JMP_IMM(BPF_JLT, BPF_REG_7, BLOCKED_NS, out);
  LDX(BPF_DW, BPF_REG_1, BPF_REG_9, S_RBLOCKED);
  ALU_IMM(BPF_ADD, BPF_REG_1, 1);
  STX(BPF_DW, BPF_REG_9, BPF_REG_1, S_RBLOCKED);
  LABEL(out);
  MOV_IMM(BPF_REG_0, 0);
  EXIT();
  resolve(p);
}

static char g_log[1 << 16];

static int prog_load(const struct prog *p, const char *what) {
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_RAW_TRACEPOINT;
  a.insns = (uint64_t)(uintptr_t)p->insn;
  a.insn_cnt = (uint32_t)p->n;
  a.license = (uint64_t)(uintptr_t) "GPL";
  int fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
  if (fd >= 0) return fd;
  int e = errno;
  a.log_buf = (uint64_t)(uintptr_t)g_log;
  a.log_size = sizeof g_log;
  a.log_level = 1;
  g_log[0] = '\0';
  fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
  if (fd >= 0) return fd;
  fprintf(stderr, "procsleuth-bpfcount: verifier log for %s:\n%s\n", what, g_log);
  errno = e;
  die(what);
  return -1;
}

static int attach(int prog_fd, const char *tp) {
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.raw_tracepoint.name = (uint64_t)(uintptr_t)tp;
  a.raw_tracepoint.prog_fd = (uint32_t)prog_fd;
  int fd = (int)sys_bpf(BPF_RAW_TRACEPOINT_OPEN, &a);
  if (fd < 0) die(tp);
  return fd;
}

static const char *opt(int argc, char **argv, const char *name, const char *dflt) {
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp(argv[i], name) == 0) return argv[i + 1];
  return dflt;
}

static struct slot *g_slots;

/* Calls counted per traced pid so far (stats map plus the runs still in the slots), for the duty. */
static void totals(int stats_fd, const uint32_t *pids, uint64_t *count, int npids) {
  memset(count, 0, sizeof(uint64_t) * (size_t)npids);
  struct stat_k k, next;
  struct stat_v v;
  const void *prev = NULL;
  while (map_next(stats_fd, prev, &next) == 0) {
    if (map_lookup(stats_fd, &next, &v) == 0)
      for (int i = 0; i < npids; i++)
        if (pids[i] == next.pid) count[i] += v.count;
    k = next;
    prev = &k;
  }
  for (int s = 0; s < NSLOTS; s++) {
    const volatile struct slot *sl = &g_slots[s];
    if (sl->run_count == 0) continue;
    for (int i = 0; i < npids; i++)
      if (pids[i] == sl->tgid) count[i] += sl->run_count;
  }
}

/* Between bursts (programs detached): move the runs left in the slots into the stats map. */
static void flush_slots(int stats_fd) {
  for (int s = 0; s < NSLOTS; s++) {
    struct slot *sl = &g_slots[s];
    if (sl->run_count == 0) continue;
    struct stat_k k = {.pid = sl->tgid, .nr = sl->run_nr, .fd = sl->run_fd, .res = sl->run_res};
    struct stat_v v = {0, 0, 0, 0};
    map_lookup(stats_fd, &k, &v);
    v.count += sl->run_count;
    v.time_ns += sl->run_time;
    v.blocked += sl->run_blocked;
    if (sl->run_max > v.max_ns) v.max_ns = sl->run_max;
    if (map_update(stats_fd, &k, &v) != 0) die("stats map");
    sl->run_count = 0;
  }
}

/* CPU time of all threads of `pid` so far, in ns (/proc/PID/task/TID/schedstat, first field). */
static uint64_t cpu_ns(uint32_t pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%u/task", pid);
  DIR *d = opendir(path);
  if (d == NULL) return 0;
  uint64_t sum = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    char f[320];
    snprintf(f, sizeof f, "/proc/%u/task/%s/schedstat", pid, e->d_name);
    FILE *fp = fopen(f, "r");
    if (fp == NULL) continue;
    unsigned long long ns = 0;
    if (fscanf(fp, "%llu", &ns) == 1) sum += ns;
    fclose(fp);
  }
  closedir(d);
  return sum;
}

static void cpu_all(const uint32_t *pids, uint64_t *out, int npids) {
  for (int i = 0; i < npids; i++) out[i] = cpu_ns(pids[i]);
}

/* How often, between bursts, the CPU time of processes not seen yet is read. */
#define CHECK_MS 10

/*
 * CPU time of `pid` (all threads) in clock ticks, from /proc/PID/stat: one small file, where cpu_ns reads
 * one per thread. Coarse (10 ms), which is enough to notice that a process ran between two checks.
 */
static uint64_t cpu_ticks(uint32_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%u/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  /* fields after the command name, which may hold spaces and parentheses: from the last ')' */
  char *p = strrchr(buf, ')');
  if (p == NULL) return 0;
  unsigned long long utime = 0, stime = 0;
  /* state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15) */
  if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2) return 0;
  return utime + stime;
}

/* Whether a process still to be seen (`watch[i]`) has run since its CPU time `since[i]` was read. */
static int unseen_ran(const uint32_t *pids, const uint8_t *watch, const uint64_t *since, int npids) {
  for (int i = 0; i < npids; i++)
    if (watch[i] && cpu_ticks(pids[i]) > since[i]) return 1;
  return 0;
}

/*
 * The duty for the next period: the share of time the programs may stay attached so that the busiest
 * traced process pays `budget` on average. Per call it spent (CPU time / calls) = t + cost while
 * attached, and would spend t without us: attached it runs (t + cost) / t slower, so the average
 * cost is duty * cost / t. CPU time, not wall time: on a busy machine the process also waits for a CPU.
 */
static double next_duty(const uint64_t *calls0, const uint64_t *calls1, const uint64_t *cpu0, const uint64_t *cpu1,
                        int npids, double budget, double cost_ns, double min_duty) {
  double duty = 1.0;
  for (int i = 0; i < npids; i++) {
    uint64_t n = calls1[i] - calls0[i];
    if (n == 0 || cpu1[i] <= cpu0[i]) continue;
    double t = (double)(cpu1[i] - cpu0[i]) / (double)n - cost_ns;
    double d = t > 0 ? budget * t / cost_ns : 0;
    if (d < duty) duty = d;
  }
  return duty < min_duty ? min_duty : duty;
}

int main(int argc, char **argv) {
  static uint32_t pids[MAX_PIDS];
  int npids = 0;
  char *list = strdup(opt(argc, argv, "--pids", ""));
  for (char *s = strtok(list, ","); s != NULL && npids < MAX_PIDS; s = strtok(NULL, ","))
    pids[npids++] = (uint32_t)strtoul(s, NULL, 10);
  if (npids == 0) {
    fprintf(stderr, "usage: procsleuth-bpfcount --pids 1,2 --ms 5000 --fd-nrs 0,1 --arg0-off 112\n");
    return 2;
  }
  double window_ms = atof(opt(argc, argv, "--ms", "5000"));
  double burst_ms = atof(opt(argc, argv, "--burst-ms", "20"));
  double budget = atof(opt(argc, argv, "--budget", "0.05"));
  double cost_ns = atof(opt(argc, argv, "--cost-ns", "800"));
  double min_duty = atof(opt(argc, argv, "--min-duty", "0.02"));
  int arg0_off = atoi(opt(argc, argv, "--arg0-off", "112"));

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  struct maps m;
  m.pids = map_create(BPF_MAP_TYPE_HASH, 4, 1, MAX_PIDS, 0);
  m.fdnr = map_create(BPF_MAP_TYPE_ARRAY, 4, 4, NR_SLOTS, 0);
  m.gen = map_create(BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0);
  m.slots = map_create(BPF_MAP_TYPE_ARRAY, 4, sizeof(struct slot), NSLOTS, BPF_F_MMAPABLE);
  m.stats = map_create(BPF_MAP_TYPE_HASH, sizeof(struct stat_k), sizeof(struct stat_v), 65536, 0);
  m.drops = map_create(BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0);
  m.inline_pids = pids;
  m.ninline = npids <= MAX_INLINE_PIDS ? npids : 0;
  g_slots = mmap(NULL, sizeof(struct slot) * NSLOTS, PROT_READ | PROT_WRITE, MAP_SHARED, m.slots, 0);
  if (g_slots == MAP_FAILED) die("mmap slots");
  uint8_t one = 1;
  for (int i = 0; i < npids; i++)
    if (map_update(m.pids, &pids[i], &one) != 0) die("pid map");
  char *nrs = strdup(opt(argc, argv, "--fd-nrs", ""));
  for (char *s = strtok(nrs, ","); s != NULL; s = strtok(NULL, ",")) {
    uint32_t nr = (uint32_t)strtoul(s, NULL, 10), yes = 1;
    if (nr < NR_SLOTS && map_update(m.fdnr, &nr, &yes) != 0) die("fd syscall map");
  }

  if (strcmp(opt(argc, argv, "--empty", "0"), "1") == 0) {
    /* the floor, for the bench: a program that does nothing, on sys_exit, for the whole window */
    static struct prog pz;
    struct prog *p = &pz;
    MOV_IMM(BPF_REG_0, 0);
    EXIT();
    int lz = attach(prog_load(&pz, "empty program"), "sys_exit");
    fprintf(stderr, "attached\n");
    sleep_until(now_ns() + (uint64_t)(window_ms * 1e6));
    close(lz);
    printf("{\"windowNs\":0,\"tracedNs\":0,\"bursts\":0,\"duty\":1,\"calls\":[],\"inFlight\":[],\"dropped\":0}\n");
    return 0;
  }

  static struct prog pe, px;
  build_enter(&pe, &m, arg0_off);
  build_exit(&px, &m);
  int enter_prog = prog_load(&pe, "sys_enter program");
  int exit_prog = prog_load(&px, "sys_exit program");

  uint64_t t0 = now_ns(), end = t0 + (uint64_t)(window_ms * 1e6), traced = 0;
  uint64_t gen = 0, bursts = 0;
  uint64_t *before = calloc((size_t)npids, sizeof(uint64_t)), *after = calloc((size_t)npids, sizeof(uint64_t));
  uint64_t *cpu0 = calloc((size_t)npids, sizeof(uint64_t)), *cpu1 = calloc((size_t)npids, sizeof(uint64_t));
  uint64_t *cpu_gap = calloc((size_t)npids, sizeof(uint64_t)), *seen = calloc((size_t)npids, sizeof(uint64_t));
  uint8_t *ran_attached = calloc((size_t)npids, 1), *watch = calloc((size_t)npids, 1);
  double duty = 1.0;
  static struct slot inflight[MAX_INFLIGHT];
  int n_inflight = 0;
  while (!g_stop && now_ns() < end) {
    gen++;
    uint32_t zero = 0;
    if (map_update(m.gen, &zero, &gen) != 0) die("gen map");
    /* exit first, so that every call whose entry is recorded in this burst has its exit seen */
    int lx = attach(exit_prog, "sys_exit");
    int le = attach(enter_prog, "sys_enter");
    uint64_t b0 = now_ns();
    if (bursts == 0) fprintf(stderr, "attached\n");
    bursts++;
    /* at full duty, stay attached (detaching would only lose the calls in flight) */
    do {
      uint64_t s0 = now_ns(), s1 = s0 + (uint64_t)(burst_ms * 1e6);
      totals(m.stats, pids, before, npids);
      cpu_all(pids, cpu0, npids);
      sleep_until(s1 < end ? s1 : end);
      totals(m.stats, pids, after, npids);
      cpu_all(pids, cpu1, npids);
      duty = next_duty(before, after, cpu0, cpu1, npids, budget, cost_ns, min_duty);
    } while (duty >= 1.0 && !g_stop && now_ns() < end);
    close(le);
    close(lx);
    uint64_t b2 = now_ns();
    /* calls in flight as the burst ends (the thread waits in them); the last burst's are reported */
    n_inflight = 0;
    for (int i = 0; i < NSLOTS && n_inflight < MAX_INFLIGHT; i++)
      if (g_slots[i].ts != 0 && g_slots[i].gen == gen && g_slots[i].ts <= b2) {
        inflight[n_inflight] = g_slots[i];
        inflight[n_inflight].ts = b2 - g_slots[i].ts;
        n_inflight++;
      }
    flush_slots(m.stats);
    traced += b2 - b0;
    if (duty >= 1.0) break;
    /*
     * A traced process that made no call in any burst yet was off-CPU through every one (a loaded
     * machine; more busy workers than cores), or had not started to run: left to the duty's spacing it
     * could miss the whole window (one 20 ms burst in 2 s at 1 % duty) and be absent from the profile.
     * While detached, its CPU time is watched every CHECK_MS; when it runs, the next burst starts at
     * once. One that never runs again (blocked for good) does not bring bursts forward.
     */
    totals(m.stats, pids, seen, npids);
    /*
     * One that ran while attached and made no counted call (a pure compute loop) has been looked at: it
     * must not bring every burst forward for the rest of the window, which would undo the duty.
     */
    for (int i = 0; i < npids; i++) {
      if (seen[i] == 0 && cpu1[i] > cpu0[i]) ran_attached[i] = 1;
      watch[i] = seen[i] == 0 && !ran_attached[i];
      if (watch[i]) cpu_gap[i] = cpu_ticks(pids[i]);
    }
    uint64_t gap = (uint64_t)((double)(b2 - b0) * (1 / duty - 1));
    uint64_t next = b2 + gap, half = (uint64_t)(burst_ms * 1e6 / 2);
    int go = 0;
    while (!g_stop) {
      uint64_t now = now_ns();
      /* no burst fits before the end: stop rather than trace past the window */
      if (now + half >= end) break;
      if (now >= next) {
        go = 1;
        break;
      }
      uint64_t step = now + (uint64_t)(CHECK_MS * 1e6);
      sleep_until(step < next ? step : next);
      if (unseen_ran(pids, watch, cpu_gap, npids)) {
        go = 1;
        break;
      }
    }
    if (!go) {
      sleep_until(end);
      break;
    }
  }
  uint64_t t1 = now_ns();

  printf("{\"windowNs\":%llu,\"tracedNs\":%llu,\"bursts\":%llu,\"duty\":%.4f,\"calls\":[", (unsigned long long)(t1 - t0),
         (unsigned long long)traced, (unsigned long long)bursts, duty > 1 ? 1.0 : duty);
  struct stat_k k, next;
  struct stat_v v;
  const void *prev = NULL;
  int first = 1;
  while (map_next(m.stats, prev, &next) == 0) {
    if (map_lookup(m.stats, &next, &v) == 0) {
      printf("%s[%u,%d,%d,%d,%llu,%llu,%llu,%llu]", first ? "" : ",", next.pid, next.nr, next.fd, next.res,
             (unsigned long long)v.count, (unsigned long long)v.time_ns, (unsigned long long)v.max_ns,
             (unsigned long long)v.blocked);
      first = 0;
    }
    k = next;
    prev = &k;
  }
  printf("],\"inFlight\":[");
  for (int i = 0; i < n_inflight; i++)
    printf("%s[%u,%d,%d,%llu]", i > 0 ? "," : "", inflight[i].tid, inflight[i].nr, inflight[i].fd,
           (unsigned long long)inflight[i].ts);
  uint32_t zero = 0;
  uint64_t drops = 0;
  map_lookup(m.drops, &zero, &drops);
  printf("],\"dropped\":%llu}\n", (unsigned long long)drops);
  fflush(stdout);
  return 0;
}
