/*
 * mem-leak: memory shapes over time, for the leak detector to tell apart. Every shape is made of real
 * malloc + memset (so the pages are resident and RSS moves) and real free.
 *
 *   mem-leak [--mode steady] [--kib 1024] [--interval-ms 100] [--period 10] [--base-kib 0]
 *            [--leak-kib KIB] [--cap-kib KIB] [--step-after 10] [--step-kib KIB] [--max-kib 1048576]
 *            [--seed 1]
 *
 * modes (one tick per --interval-ms):
 *   steady         +kib every tick, never freed (a leak)
 *   sawtooth-leak  +kib every tick for --period ticks, then frees all of it except --leak-kib
 *                  (default kib): the floor of the saw rises every period (a leak hidden by GC-like churn)
 *   sawtooth       the same without the leak: the floor stays flat (not a leak)
 *   plateau        +kib every tick until --cap-kib (default kib*period), then flat (warm-up, not a leak)
 *   step           flat, one jump of --step-kib (default kib*period) after --step-after ticks (not a leak)
 *   noise          flat around --base-kib, plus a random 0..2*kib block replaced every tick (not a leak)
 *   noise-leak     the same noise, plus --leak-kib kept every --period ticks: a slow leak under random
 *                  noise larger than minutes of its growth (a leak)
 * --base-kib is allocated before READY in every mode. --max-kib caps any growth so a forgotten
 * process cannot eat the machine.
 *
 * READY {"mode":"steady","kib":1024,"intervalMs":100,"baseKib":0}
 * then one line per tick: `HELD <kib held by the program> <tick>`.
 */
#include "common.h"

#include <malloc.h>

struct block {
  char *p;
  size_t kib;
};

static struct block *g_blocks;
static size_t g_nblocks, g_capblocks;
static long g_held_kib, g_max_kib;

static char *alloc_kib(long kib) {
  if (kib <= 0) return NULL;
  if (g_held_kib + kib > g_max_kib) return NULL;
  char *p = malloc((size_t)kib << 10);
  if (p == NULL) die("malloc %ld KiB", kib);
  memset(p, 0x33, (size_t)kib << 10);
  g_held_kib += kib;
  return p;
}

static void keep(char *p, long kib) {
  if (p == NULL) return;
  if (g_nblocks == g_capblocks) {
    g_capblocks = g_capblocks ? g_capblocks * 2 : 64;
    g_blocks = realloc(g_blocks, g_capblocks * sizeof *g_blocks);
    if (g_blocks == NULL) die("realloc");
  }
  g_blocks[g_nblocks++] = (struct block){p, (size_t)kib};
}

/* Frees every kept block from index `from` on, and hands the pages back to the kernel. */
static void free_from(size_t from) {
  while (g_nblocks > from) {
    struct block b = g_blocks[--g_nblocks];
    free(b.p);
    g_held_kib -= (long)b.kib;
  }
  malloc_trim(0);
}

int main(int argc, char **argv) {
  static const char *const known[] = {"--mode",     "--kib",      "--interval-ms", "--period",
                                      "--base-kib", "--leak-kib", "--cap-kib",     "--step-after",
                                      "--step-kib", "--max-kib",  "--seed",        NULL};
  check_opts(argc, argv, known);
  maybe_die_with_parent();
  const char *mode = opt_str(argc, argv, "--mode", "steady");
  long kib = opt_long(argc, argv, "--kib", 1024);
  long interval = opt_long(argc, argv, "--interval-ms", 100);
  long period = opt_long(argc, argv, "--period", 10);
  long base = opt_long(argc, argv, "--base-kib", 0);
  long leak = opt_long(argc, argv, "--leak-kib", kib);
  long cap = opt_long(argc, argv, "--cap-kib", kib * period);
  long step_after = opt_long(argc, argv, "--step-after", 10);
  long step_kib = opt_long(argc, argv, "--step-kib", kib * period);
  g_max_kib = opt_long(argc, argv, "--max-kib", 1024L * 1024);
  srand((unsigned)opt_long(argc, argv, "--seed", 1));
  if (kib < 0 || interval < 1 || period < 1) die("--kib >= 0, --interval-ms >= 1, --period >= 1");

  enum { STEADY, SAW_LEAK, SAW, PLATEAU, STEP, NOISE, NOISE_LEAK } m;
  if (strcmp(mode, "steady") == 0)
    m = STEADY;
  else if (strcmp(mode, "sawtooth-leak") == 0)
    m = SAW_LEAK;
  else if (strcmp(mode, "sawtooth") == 0)
    m = SAW;
  else if (strcmp(mode, "plateau") == 0)
    m = PLATEAU;
  else if (strcmp(mode, "step") == 0)
    m = STEP;
  else if (strcmp(mode, "noise") == 0)
    m = NOISE;
  else if (strcmp(mode, "noise-leak") == 0)
    m = NOISE_LEAK;
  else {
    errno = 0;
    die("unknown --mode %s", mode);
  }

  /*
   * A fixed mmap threshold: blocks of 64 KiB and more get their own mapping and free() unmaps them.
   * glibc's default threshold moves up after the first free, after which freed memory can stay in the
   * heap and RSS would not fall when the program says it freed.
   */
  mallopt(M_MMAP_THRESHOLD, 64 * 1024);
  install_term_handler(NULL);

  keep(alloc_kib(base), base);
  size_t floor_blocks = g_nblocks; /* blocks below this index survive a sawtooth drop */
  ready("{\"mode\":\"%s\",\"kib\":%ld,\"intervalMs\":%ld,\"baseKib\":%ld}", mode, kib, interval, base);

  char *noise = NULL;
  long noise_kib = 0;
  for (long tick = 1;; tick++) {
    sleep_ms(interval);
    switch (m) {
      case STEADY:
        keep(alloc_kib(kib), kib);
        break;
      case SAW_LEAK:
      case SAW:
        if (tick % period == 0) {
          free_from(floor_blocks);
          if (m == SAW_LEAK) {
            keep(alloc_kib(leak), leak);
            floor_blocks = g_nblocks;
          }
        } else {
          keep(alloc_kib(kib), kib);
        }
        break;
      case PLATEAU:
        if (g_held_kib - base < cap) keep(alloc_kib(kib), kib);
        break;
      case STEP:
        if (tick == step_after) keep(alloc_kib(step_kib), step_kib);
        break;
      case NOISE_LEAK:
        if (tick % period == 0) keep(alloc_kib(leak), leak);
        __attribute__((fallthrough)); /* the same noise on top */
      case NOISE:
        if (noise != NULL) {
          free(noise);
          g_held_kib -= noise_kib;
          malloc_trim(0);
        }
        noise_kib = kib > 0 ? rand() % (2 * kib + 1) : 0;
        noise = alloc_kib(noise_kib);
        if (noise == NULL) noise_kib = 0;
        break;
    }
    printf("HELD %ld %ld\n", g_held_kib, tick);
    fflush(stdout);
  }
}
