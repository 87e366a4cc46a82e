/*
 * procfast: the hot loop of a snapshot in C, with a TypeScript fallback (src/collect/fd-walk.ts).
 * (Reading the per-process files in C was measured too: 139 ms against 143-185 ms in Node for 6,500
 * files — the kernel's cost, not Node's, so that stays in TypeScript.)
 *
 * walk: the walk over every process's fds that maps socket (and pipe) inodes to their owners — what
 * `ss -p` and `lsof` do — in C. Node pays ~5 us of its own per readlinkSync on top of the kernel; on a
 * host with 40,000 socket fds that is most of a snapshot. Here each fd costs one readlinkat() relative
 * to the open /proc/PID/fd directory, so the kernel does not walk /proc/PID again for every fd.
 *
 *   walk(procRoot: string, pids: Int32Array, pipes: boolean) → {
 *     counts: Int32Array   per pid: fds listed, or -1 (the process exited), -2 (permission denied)
 *     offsets: Int32Array  per pid: start of its entries in inodes/fds (length pids + 1)
 *     inodes: Float64Array socket (and with `pipes`, pipe) inodes; pipes are stored negated
 *     fds: Int32Array      the fd number of each entry
 *   }
 *   walkAsync(procRoot, pids, pipes) → Promise of the same, walked on a libuv worker thread
 *
 * walkAsync exists so a snapshot can read every process's files on the main thread while the walk
 * (mostly kernel time: ~5 us per readlinkat) runs on the other core.
 *
 *   readFilesAsync(procRoot, pids: Int32Array, names: string[]) → Promise of {
 *     data: Uint8Array     the bytes of every <procRoot>/<pid>/<name>, pid-major, back to back
 *     offsets: Int32Array  start of item i = pid index * names.length + name index (length items + 1)
 *     errnos: Int32Array   per item: 0, or the errno that failed its open or read
 *   }
 *
 * Only the I/O: the text is parsed in TypeScript by the one parser of each file (src/procfs/). It
 * exists because some files cost the kernel far more than the reader (smaps_rollup walks the page
 * tables of the process): read on a worker thread, that cost moves to the other core.

 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
  double *inodes;
  int32_t *fds;
  size_t len, cap;
} entries_t;

static int push(entries_t *e, double inode, int32_t fd) {
  if (e->len == e->cap) {
    size_t cap = e->cap ? e->cap * 2 : 4096;
    double *ni = realloc(e->inodes, cap * sizeof(double));
    if (!ni) return -1;
    e->inodes = ni;
    int32_t *nf = realloc(e->fds, cap * sizeof(int32_t));
    if (!nf) return -1;
    e->fds = nf;
    e->cap = cap;
  }
  e->inodes[e->len] = inode;
  e->fds[e->len] = fd;
  e->len++;
  return 0;
}

/* "socket:[12345]" or "pipe:[12345]" → 12345; 0 when the text is neither. */
static double bracket_number(const char *s, ssize_t n, const char *prefix, size_t plen) {
  if ((size_t)n <= plen + 1 || memcmp(s, prefix, plen) != 0 || s[n - 1] != ']') return 0;
  double v = 0;
  for (ssize_t i = (ssize_t)plen; i < n - 1; i++) {
    if (s[i] < '0' || s[i] > '9') return 0;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

static napi_value make_typed(napi_env env, napi_typedarray_type type, size_t count, size_t elem, const void *src) {
  void *data = NULL;
  napi_value ab, ta;
  if (napi_create_arraybuffer(env, count * elem, &data, &ab) != napi_ok) return NULL;
  if (count) memcpy(data, src, count * elem);
  if (napi_create_typedarray(env, type, count, ab, 0, &ta) != napi_ok) return NULL;
  return ta;
}

/* The outcome of one walk, filled off the JS thread; freed once turned into typed arrays. */
typedef struct {
  char root[4096];
  int32_t *pids;
  size_t npids;
  bool pipes;
  int32_t *counts, *offsets;
  entries_t e;
  int err; /* 0, or ENOMEM */
  napi_deferred deferred;
  napi_async_work work;
} walk_t;

static void walk_free(walk_t *w) {
  free(w->pids);
  free(w->counts);
  free(w->offsets);
  free(w->e.inodes);
  free(w->e.fds);
  free(w);
}

/* The walk itself: plain C, no N-API, so it may run on any thread. */
static void do_walk(walk_t *w) {
  w->counts = calloc(w->npids ? w->npids : 1, sizeof(int32_t));
  w->offsets = calloc(w->npids + 1, sizeof(int32_t));
  if (!w->counts || !w->offsets) {
    w->err = ENOMEM;
    return;
  }
  entries_t *e = &w->e;
  char path[4200], link[256];
  for (size_t i = 0; i < w->npids; i++) {
    w->offsets[i] = (int32_t)e->len;
    snprintf(path, sizeof path, "%s/%d/fd", w->root, w->pids[i]);
    int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
      w->counts[i] = (errno == EACCES || errno == EPERM) ? -2 : -1;
      continue;
    }
    DIR *d = fdopendir(dfd);
    if (!d) {
      close(dfd);
      w->counts[i] = -1;
      continue;
    }
    int32_t n = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
      if (de->d_name[0] == '.') continue;
      n++;
      ssize_t len = readlinkat(dfd, de->d_name, link, sizeof link - 1);
      /* An fd closed between readdir and readlinkat is normal: skip it. */
      if (len <= 0) continue;
      double ino = bracket_number(link, len, "socket:[", 8);
      if (ino == 0 && w->pipes) {
        ino = bracket_number(link, len, "pipe:[", 6);
        ino = -ino;
      }
      if (ino != 0 && push(e, ino, atoi(de->d_name)) != 0) {
        closedir(d);
        w->err = ENOMEM;
        return;
      }
    }
    /* readdir failing on a process that exits under us (ENOENT) leaves the count as far as it got. */
    w->counts[i] = (errno == ENOENT || errno == ESRCH) && n == 0 ? -1 : n;
    closedir(d);
  }
  w->offsets[w->npids] = (int32_t)e->len;
}

/* Reads (procRoot, pids, pipes) into a new walk_t; NULL with a pending exception on bad arguments. */
static walk_t *walk_args(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) {
    napi_throw_type_error(env, NULL, "walk(procRoot, pids, pipes)");
    return NULL;
  }
  walk_t *w = calloc(1, sizeof *w);
  if (!w) {
    napi_throw_error(env, "ENOMEM", "fdwalk: out of memory");
    return NULL;
  }
  size_t rootLen = 0;
  napi_typedarray_type ptype;
  void *pdata = NULL;
  if (napi_get_value_string_utf8(env, argv[0], w->root, sizeof w->root, &rootLen) != napi_ok ||
      napi_get_typedarray_info(env, argv[1], &ptype, &w->npids, &pdata, NULL, NULL) != napi_ok ||
      ptype != napi_int32_array || napi_get_value_bool(env, argv[2], &w->pipes) != napi_ok) {
    free(w);
    napi_throw_type_error(env, NULL, "walk(procRoot: string, pids: Int32Array, pipes: boolean)");
    return NULL;
  }
  /* A copy: the caller's Int32Array may be collected while a worker thread reads it. */
  w->pids = malloc((w->npids ? w->npids : 1) * sizeof(int32_t));
  if (!w->pids) {
    free(w);
    napi_throw_error(env, "ENOMEM", "fdwalk: out of memory");
    return NULL;
  }
  if (w->npids) memcpy(w->pids, pdata, w->npids * sizeof(int32_t));
  return w;
}

/* The typed-array result object; NULL (with an exception pending) on failure. */
static napi_value walk_result(napi_env env, walk_t *w) {
  if (w->err) {
    napi_throw_error(env, "ENOMEM", "fdwalk: out of memory");
    return NULL;
  }
  napi_value out, v;
  if (napi_create_object(env, &out) != napi_ok) return NULL;
  if (!(v = make_typed(env, napi_int32_array, w->npids, sizeof(int32_t), w->counts))) return NULL;
  napi_set_named_property(env, out, "counts", v);
  if (!(v = make_typed(env, napi_int32_array, w->npids + 1, sizeof(int32_t), w->offsets))) return NULL;
  napi_set_named_property(env, out, "offsets", v);
  if (!(v = make_typed(env, napi_float64_array, w->e.len, sizeof(double), w->e.inodes))) return NULL;
  napi_set_named_property(env, out, "inodes", v);
  if (!(v = make_typed(env, napi_int32_array, w->e.len, sizeof(int32_t), w->e.fds))) return NULL;
  napi_set_named_property(env, out, "fds", v);
  return out;
}

static napi_value walk(napi_env env, napi_callback_info info) {
  walk_t *w = walk_args(env, info);
  if (!w) return NULL;
  do_walk(w);
  napi_value out = walk_result(env, w);
  walk_free(w);
  return out;
}

static void walk_execute(napi_env env, void *data) {
  (void)env;
  do_walk((walk_t *)data);
}

static void walk_complete(napi_env env, napi_status status, void *data) {
  walk_t *w = data;
  napi_value out = status == napi_ok ? walk_result(env, w) : NULL;
  if (out) {
    napi_resolve_deferred(env, w->deferred, out);
  } else {
    napi_value err = NULL;
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) napi_get_and_clear_last_exception(env, &err);
    if (!err) {
      napi_value msg;
      napi_create_string_utf8(env, "fdwalk: the walk was cancelled", NAPI_AUTO_LENGTH, &msg);
      napi_create_error(env, NULL, msg, &err);
    }
    napi_reject_deferred(env, w->deferred, err);
  }
  napi_delete_async_work(env, w->work);
  walk_free(w);
}

static napi_value walk_async(napi_env env, napi_callback_info info) {
  walk_t *w = walk_args(env, info);
  if (!w) return NULL;
  napi_value promise, name;
  if (napi_create_promise(env, &w->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "procfast.walk", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, walk_execute, walk_complete, w, &w->work) != napi_ok ||
      napi_queue_async_work(env, w->work) != napi_ok) {
    walk_free(w);
    napi_throw_error(env, NULL, "fdwalk: cannot queue the walk");
    return NULL;
  }
  return promise;
}

typedef struct {
  char root[4096];
  int32_t *pids;
  size_t npids;
  char **names;
  size_t nnames;
  uint8_t *data;
  size_t len, cap;
  int32_t *offsets, *errnos;
  int err; /* 0, or ENOMEM */
  napi_deferred deferred;
  napi_async_work work;
} files_t;

static void files_free(files_t *f) {
  for (size_t i = 0; i < f->nnames; i++) free(f->names[i]);
  free(f->names);
  free(f->pids);
  free(f->data);
  free(f->offsets);
  free(f->errnos);
  free(f);
}

static int files_reserve(files_t *f, size_t more) {
  if (f->len + more <= f->cap) return 0;
  size_t cap = f->cap ? f->cap : 1 << 20;
  while (cap < f->len + more) cap *= 2;
  uint8_t *nd = realloc(f->data, cap);
  if (!nd) return -1;
  f->data = nd;
  f->cap = cap;
  return 0;
}

static void files_execute(napi_env env, void *data) {
  (void)env;
  files_t *f = data;
  size_t items = f->npids * f->nnames;
  f->offsets = calloc(items + 1, sizeof(int32_t));
  f->errnos = calloc(items ? items : 1, sizeof(int32_t));
  if (!f->offsets || !f->errnos) {
    f->err = ENOMEM;
    return;
  }
  char path[4400];
  for (size_t i = 0; i < f->npids; i++) {
    for (size_t k = 0; k < f->nnames; k++) {
      size_t item = i * f->nnames + k;
      f->offsets[item] = (int32_t)f->len;
      snprintf(path, sizeof path, "%s/%d/%s", f->root, f->pids[i], f->names[k]);
      int fd = open(path, O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        f->errnos[item] = errno;
        continue;
      }
      size_t start = f->len;
      for (;;) {
        if (files_reserve(f, 65536) != 0) {
          close(fd);
          f->err = ENOMEM;
          return;
        }
        ssize_t n = read(fd, f->data + f->len, f->cap - f->len);
        if (n < 0) {
          f->errnos[item] = errno;
          f->len = start; /* a failed read keeps none of its bytes */
          break;
        }
        if (n == 0) break;
        f->len += (size_t)n;
      }
      close(fd);
      if (f->len > INT32_MAX) {
        f->err = ENOMEM;
        return;
      }
    }
  }
  f->offsets[items] = (int32_t)f->len;
}

static void files_complete(napi_env env, napi_status status, void *data) {
  files_t *f = data;
  napi_value out = NULL, v;
  size_t items = f->npids * f->nnames;
  if (status == napi_ok && !f->err && napi_create_object(env, &out) == napi_ok) {
    if ((v = make_typed(env, napi_uint8_array, f->len, 1, f->data)))
      napi_set_named_property(env, out, "data", v);
    else out = NULL;
    if (out && (v = make_typed(env, napi_int32_array, items + 1, sizeof(int32_t), f->offsets)))
      napi_set_named_property(env, out, "offsets", v);
    else out = NULL;
    if (out && (v = make_typed(env, napi_int32_array, items, sizeof(int32_t), f->errnos)))
      napi_set_named_property(env, out, "errnos", v);
    else out = NULL;
  }
  if (out) {
    napi_resolve_deferred(env, f->deferred, out);
  } else {
    napi_value err = NULL, msg;
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) napi_get_and_clear_last_exception(env, &err);
    if (!err) {
      napi_create_string_utf8(env, f->err ? "readFiles: out of memory" : "readFiles: cancelled", NAPI_AUTO_LENGTH, &msg);
      napi_create_error(env, NULL, msg, &err);
    }
    napi_reject_deferred(env, f->deferred, err);
  }
  napi_delete_async_work(env, f->work);
  files_free(f);
}

static napi_value read_files_async(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  const char *usage = "readFilesAsync(procRoot: string, pids: Int32Array, names: string[])";
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  files_t *f = calloc(1, sizeof *f);
  if (!f) {
    napi_throw_error(env, "ENOMEM", "readFiles: out of memory");
    return NULL;
  }
  size_t rootLen = 0;
  napi_typedarray_type ptype;
  void *pdata = NULL;
  uint32_t nnames = 0;
  bool isArray = false;
  if (napi_get_value_string_utf8(env, argv[0], f->root, sizeof f->root, &rootLen) != napi_ok ||
      napi_get_typedarray_info(env, argv[1], &ptype, &f->npids, &pdata, NULL, NULL) != napi_ok ||
      ptype != napi_int32_array || napi_is_array(env, argv[2], &isArray) != napi_ok || !isArray ||
      napi_get_array_length(env, argv[2], &nnames) != napi_ok) {
    free(f);
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  f->pids = malloc((f->npids ? f->npids : 1) * sizeof(int32_t));
  f->names = calloc(nnames ? nnames : 1, sizeof(char *));
  if (!f->pids || !f->names) {
    files_free(f);
    napi_throw_error(env, "ENOMEM", "readFiles: out of memory");
    return NULL;
  }
  if (f->npids) memcpy(f->pids, pdata, f->npids * sizeof(int32_t));
  for (uint32_t k = 0; k < nnames; k++) {
    napi_value el;
    size_t n = 0;
    if (napi_get_element(env, argv[2], k, &el) != napi_ok ||
        napi_get_value_string_utf8(env, el, NULL, 0, &n) != napi_ok || n == 0 || n > 255) {
      files_free(f);
      napi_throw_type_error(env, NULL, usage);
      return NULL;
    }
    f->nnames = k + 1;
    if (!(f->names[k] = malloc(n + 1)) ||
        napi_get_value_string_utf8(env, el, f->names[k], n + 1, &n) != napi_ok) {
      files_free(f);
      napi_throw_error(env, "ENOMEM", "readFiles: out of memory");
      return NULL;
    }
  }
  napi_value promise, name;
  if (napi_create_promise(env, &f->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "procfast.readFiles", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, files_execute, files_complete, f, &f->work) != napi_ok ||
      napi_queue_async_work(env, f->work) != napi_ok) {
    files_free(f);
    napi_throw_error(env, NULL, "readFiles: cannot queue the read");
    return NULL;
  }
  return promise;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_value fn;
  if (napi_create_function(env, "walk", NAPI_AUTO_LENGTH, walk, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "walk", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "walkAsync", NAPI_AUTO_LENGTH, walk_async, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "walkAsync", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "readFilesAsync", NAPI_AUTO_LENGTH, read_files_async, NULL, &fn) != napi_ok)
    return NULL;
  if (napi_set_named_property(env, exports, "readFilesAsync", fn) != napi_ok) return NULL;
  return exports;
}
