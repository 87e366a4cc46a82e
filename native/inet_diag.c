/*
 * inet_diag.node — TCP/UDP socket tables from netlink sock_diag, the interface `ss` uses
 * (sock_diag(7), linux/inet_diag.h). It exists for one reason: at 35,000 TCP sockets the kernel spends
 * ~100 ms just formatting /proc/net/tcp{,6} as text, while a sock_diag dump is binary and filters by
 * state in the kernel. src/procfs/inet-diag.ts loads it; src/procfs/net-tcp.ts stays the fallback.
 *
 *   dumpInet(family: 4 | 6, protocol: 'tcp' | 'udp' | number, stateMask: number) -> table
 *   formatAddress(bytes: Uint8Array(4 | 16)) -> [text, mapped]     (for tests of the formatter)
 *
 * The table has exactly the shape of InetSocketTable (src/procfs/net-tcp.ts): columns as typed arrays,
 * addresses interned here (a small open-addressing map) and formatted like net-tcp.ts formats them
 * (dotted IPv4; RFC 5952 IPv6; IPv4-mapped IPv6 as dotted IPv4 with mapped[] = true). A numeric protocol
 * is accepted so tests can reach the kernel's "no such diag handler" error path.
 *
 * Where sock_diag and /proc/net/tcp differ, this file converts to the /proc meaning (see fill_row):
 * LISTEN's wqueue (the backlog limit in sock_diag, write_seq - snd_una in /proc), the timer expiry
 * (milliseconds here, clock ticks there). Errors come back as a thrown Error with `code` ('EPERM', ...),
 * `errno` (negative, like Node's system errors) and `syscall`, so the caller can fall back to /proc.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>

#define TCP_LISTEN_STATE 10
#define TCP_SYN_RECV_STATE 3
#define TCP_NEW_SYN_RECV_STATE 12

/* ------------------------------------------------------------------------------------------------ */
/* Errors */

static const char *errno_name(int err) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char *n = strerrorname_np(err);
  if (n != NULL) return n;
#endif
  switch (err) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENOENT: return "ENOENT";
    case EINVAL: return "EINVAL";
    case ENOMEM: return "ENOMEM";
    case ENOBUFS: return "ENOBUFS";
    case EMSGSIZE: return "EMSGSIZE";
    case EPROTO: return "EPROTO";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: return "EUNKNOWN";
  }
}

/* Throws an Error shaped like Node's system errors: { code, errno (negative), syscall }. */
static void throw_errno(napi_env env, int err, const char *syscall) {
  char msg[160];
  snprintf(msg, sizeof msg, "inet_diag %s: %s (%s)", syscall, strerror(err), errno_name(err));
  napi_value code, text, error, no, sc;
  if (napi_create_string_utf8(env, errno_name(err), NAPI_AUTO_LENGTH, &code) != napi_ok ||
      napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text) != napi_ok ||
      napi_create_error(env, code, text, &error) != napi_ok) {
    napi_throw_error(env, errno_name(err), msg);
    return;
  }
  napi_create_int32(env, -err, &no);
  napi_set_named_property(env, error, "errno", no);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sc);
  napi_set_named_property(env, error, "syscall", sc);
  napi_throw(env, error);
}

/* ------------------------------------------------------------------------------------------------ */
/* Address interning: 16-byte keys (IPv4 in the first 4), ids in first-seen order. */

typedef struct {
  uint8_t (*keys)[16]; /* by id */
  int32_t *slots;      /* open addressing, -1 = empty */
  uint32_t mask;
  uint32_t count;
  uint32_t cap;
} addr_dict;

static uint32_t hash16(const uint8_t *k) {
  uint32_t w[4];
  memcpy(w, k, 16);
  uint32_t h = (w[0] ^ 0x9e3779b9u) * 0x85ebca6bu;
  h ^= w[1] * 0xc2b2ae35u;
  h ^= w[2] * 0x27d4eb2fu;
  h ^= w[3];
  h = (h ^ (h >> 15)) * 0x2c1b3c6du;
  return h ^ (h >> 13);
}

static int dict_init(addr_dict *d) {
  d->mask = 255;
  d->count = 0;
  d->cap = 128;
  d->keys = malloc(sizeof *d->keys * d->cap);
  d->slots = malloc(sizeof *d->slots * (d->mask + 1));
  if (d->keys == NULL || d->slots == NULL) return -1;
  memset(d->slots, 0xff, sizeof *d->slots * (d->mask + 1));
  return 0;
}

static void dict_free(addr_dict *d) {
  free(d->keys);
  free(d->slots);
}

static int dict_grow(addr_dict *d) {
  uint32_t size = (d->mask + 1) * 2;
  int32_t *slots = malloc(sizeof *slots * size);
  if (slots == NULL) return -1;
  memset(slots, 0xff, sizeof *slots * size);
  for (uint32_t id = 0; id < d->count; id++) {
    uint32_t s = hash16(d->keys[id]) & (size - 1);
    while (slots[s] >= 0) s = (s + 1) & (size - 1);
    slots[s] = (int32_t)id;
  }
  free(d->slots);
  d->slots = slots;
  d->mask = size - 1;
  return 0;
}

/* The id of `key`, adding it if new; -1 when out of memory. */
static int64_t dict_id(addr_dict *d, const uint8_t *key) {
  uint32_t s = hash16(key) & d->mask;
  for (;; s = (s + 1) & d->mask) {
    int32_t id = d->slots[s];
    if (id < 0) break;
    if (memcmp(d->keys[id], key, 16) == 0) return id;
  }
  if (d->count == d->cap) {
    uint8_t (*keys)[16] = realloc(d->keys, sizeof *keys * d->cap * 2);
    if (keys == NULL) return -1;
    d->keys = keys;
    d->cap *= 2;
  }
  uint32_t id = d->count++;
  memcpy(d->keys[id], key, 16);
  d->slots[s] = (int32_t)id;
  /* At most half full keeps probe chains short. */
  if (d->count * 2 > d->mask && dict_grow(d) != 0) return -1;
  return id;
}

/* Formats like formatIpv4 / formatIpv6Words / the mapped rule of net-tcp.ts; returns whether mapped. */
static int format_address(const uint8_t *b, int v4, char *out, size_t outlen) {
  if (v4) {
    snprintf(out, outlen, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
    return 0;
  }
  static const uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (memcmp(b, mapped_prefix, 12) == 0) {
    snprintf(out, outlen, "%u.%u.%u.%u", b[12], b[13], b[14], b[15]);
    return 1;
  }
  unsigned g[8];
  for (int i = 0; i < 8; i++) g[i] = ((unsigned)b[2 * i] << 8) | b[2 * i + 1];
  /* Longest run of zero groups, at least 2 long, the first one on a tie (RFC 5952 §4.2). */
  int best_at = -1, best_len = 1;
  for (int i = 0; i < 8;) {
    if (g[i] != 0) {
      i++;
      continue;
    }
    int j = i;
    while (j < 8 && g[j] == 0) j++;
    if (j - i > best_len) {
      best_at = i;
      best_len = j - i;
    }
    i = j;
  }
  size_t n = 0;
  out[0] = '\0';
  for (int i = 0; i < 8; i++) {
    if (i == best_at) {
      n += (size_t)snprintf(out + n, outlen - n, "::");
      i += best_len - 1;
      continue;
    }
    int after_gap = best_at >= 0 && i == best_at + best_len;
    n += (size_t)snprintf(out + n, outlen - n, "%s%x", (i == 0 || after_gap) ? "" : ":", g[i]);
  }
  return 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* Rows, grown by doubling. */

typedef struct {
  uint32_t len, cap;
  uint32_t *local_address, *remote_address, *tx_queue, *rx_queue, *retransmits, *uid;
  uint16_t *local_port, *remote_port;
  uint8_t *state, *timer;
  double *timer_expires_ticks, *inode, *drops;
  int with_drops;
} rows;

#define ROW_COLUMNS(X)                                                                              \
  X(local_address) X(remote_address) X(tx_queue) X(rx_queue) X(retransmits) X(uid) X(local_port)    \
      X(remote_port) X(state) X(timer) X(timer_expires_ticks) X(inode) X(drops)

static void rows_free(rows *r) {
#define FREE_COL(c) free(r->c);
  ROW_COLUMNS(FREE_COL)
#undef FREE_COL
}

static int rows_grow(rows *r) {
  uint32_t cap = r->cap == 0 ? 1024 : r->cap * 2;
  int ok = 1;
#define GROW_COL(c)                                               \
  {                                                               \
    void *p = realloc(r->c, sizeof *r->c * (size_t)cap);          \
    if (p == NULL) ok = 0;                                        \
    else r->c = p;                                                \
  }
  ROW_COLUMNS(GROW_COL)
#undef GROW_COL
  if (!ok) return -1;
  r->cap = cap;
  return 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* The dump. */

typedef struct {
  int family;     /* AF_INET or AF_INET6 */
  int protocol;   /* IPPROTO_* */
  uint32_t states;
  long clk_tck;
  rows r;
  addr_dict d;
} dump;

/*
 * One inet_diag_msg into a row, in /proc/net/tcp's meaning:
 * - LISTEN: sock_diag's wqueue is sk_max_ack_backlog, /proc's tx_queue is write_seq - snd_una (0 on a
 *   listener), so it is 0 here too. rqueue is the accept queue in both.
 * - Expiry: milliseconds here, clock ticks (USER_HZ) in /proc; both are clamped at 0 by the kernel.
 * - TIME_WAIT and request (SYN_RECV) mini sockets come with uid and inode 0, as in /proc — except that
 *   /proc shows a SYN_RECV request with its listener's uid, which sock_diag does not send.
 * - `idiag_retrans` is icsk_retransmits with a retransmit timer (1) but icsk_probes_out with a
 *   keepalive/zero-window timer (2, 4); /proc always prints icsk_retransmits there. Both are almost
 *   always 0 in those states.
 */
static int fill_row(dump *dp, const struct inet_diag_msg *m, uint32_t drops) {
  rows *r = &dp->r;
  if (r->len == r->cap && rows_grow(r) != 0) return -1;
  uint32_t i = r->len;
  uint8_t key[16];
  int v4 = dp->family == AF_INET;

  memset(key, 0, sizeof key);
  memcpy(key, m->id.idiag_src, v4 ? 4 : 16);
  int64_t la = dict_id(&dp->d, key);
  memset(key, 0, sizeof key);
  memcpy(key, m->id.idiag_dst, v4 ? 4 : 16);
  int64_t ra = dict_id(&dp->d, key);
  if (la < 0 || ra < 0) return -1;

  r->local_address[i] = (uint32_t)la;
  r->remote_address[i] = (uint32_t)ra;
  r->local_port[i] = ntohs(m->id.idiag_sport);
  r->remote_port[i] = ntohs(m->id.idiag_dport);
  r->state[i] = m->idiag_state;
  r->tx_queue[i] =
      (dp->protocol == IPPROTO_TCP && m->idiag_state == TCP_LISTEN_STATE) ? 0 : m->idiag_wqueue;
  r->rx_queue[i] = m->idiag_rqueue;
  r->timer[i] = m->idiag_timer;
  r->timer_expires_ticks[i] = (double)(((uint64_t)m->idiag_expires * (uint64_t)dp->clk_tck) / 1000u);
  r->retransmits[i] = m->idiag_retrans;
  r->uid[i] = m->idiag_uid;
  r->inode[i] = (double)m->idiag_inode;
  r->drops[i] = (double)drops;
  r->len++;
  return 0;
}

/* SK_MEMINFO_DROPS from the INET_DIAG_SKMEMINFO attribute (requested for UDP only), else 0. */
static uint32_t drops_of(const struct nlmsghdr *h) {
  int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(struct inet_diag_msg));
  const struct rtattr *a =
      (const struct rtattr *)((const char *)NLMSG_DATA(h) + NLMSG_ALIGN(sizeof(struct inet_diag_msg)));
  for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (a->rta_type == INET_DIAG_SKMEMINFO && RTA_PAYLOAD(a) >= (SK_MEMINFO_DROPS + 1) * sizeof(uint32_t)) {
      uint32_t v;
      memcpy(&v, (const char *)RTA_DATA(a) + SK_MEMINFO_DROPS * sizeof(uint32_t), sizeof v);
      return v;
    }
  }
  return 0;
}

/*
 * Sends the dump request and reads every reply into dp. Returns 0 or an errno; `*syscall` names the
 * step that failed.
 */
static int run_dump(dump *dp, const char **syscall) {
  int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) {
    *syscall = "socket";
    return errno;
  }

  struct {
    struct nlmsghdr nlh;
    struct inet_diag_req_v2 req;
  } msg;
  memset(&msg, 0, sizeof msg);
  const uint32_t seq = 0x70736c74; /* one request per socket: any constant will do */
  msg.nlh.nlmsg_len = sizeof msg;
  msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  msg.nlh.nlmsg_seq = seq;
  msg.req.sdiag_family = (uint8_t)dp->family;
  msg.req.sdiag_protocol = (uint8_t)dp->protocol;
  msg.req.idiag_states = dp->states;
  /* UDP's drop counter only travels in SKMEMINFO; TCP needs no extension, which keeps records small. */
  msg.req.idiag_ext = dp->r.with_drops ? (1u << (INET_DIAG_SKMEMINFO - 1)) : 0;

  struct sockaddr_nl kernel;
  memset(&kernel, 0, sizeof kernel);
  kernel.nl_family = AF_NETLINK;

  ssize_t sent;
  do sent = sendto(fd, &msg, sizeof msg, 0, (struct sockaddr *)&kernel, sizeof kernel);
  while (sent < 0 && errno == EINTR);
  if (sent < 0) {
    int err = errno;
    close(fd);
    *syscall = "sendto";
    return err;
  }

  /*
   * The kernel fills one skb per recv, capped at ~32 KiB however large our buffer (netlink_recvmsg
   * caps max_recvmsg_len), so 64 KiB never truncates; MSG_TRUNC reports a truncation should a future
   * kernel send more.
   */
  const size_t bufsize = 64 * 1024;
  char *buf = malloc(bufsize);
  if (buf == NULL) {
    close(fd);
    *syscall = "malloc";
    return ENOMEM;
  }

  int err = 0;
  for (int done = 0; !done;) {
    ssize_t n = recv(fd, buf, bufsize, MSG_TRUNC);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno; /* ENOBUFS: the socket overran; the caller may retry or fall back */
      *syscall = "recv";
      break;
    }
    if (n == 0) {
      err = EPROTO;
      *syscall = "recv";
      break;
    }
    if ((size_t)n > bufsize) {
      err = EMSGSIZE;
      *syscall = "recv";
      break;
    }
    int len = (int)n;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != seq) continue;
      if (h->nlmsg_type == NLMSG_DONE) {
        /* A dump that failed part-way ends with DONE carrying the negative errno. */
        if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
          int code;
          memcpy(&code, NLMSG_DATA(h), sizeof code);
          if (code < 0) {
            err = -code;
            *syscall = "dump";
          }
        }
        done = 1;
        break;
      }
      if (h->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *e = NLMSG_DATA(h);
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof *e)) err = EPROTO;
        else if (e->error == 0) continue; /* an ack */
        else err = -e->error;
        *syscall = "dump";
        done = 1;
        break;
      }
      if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY) continue;
      if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
        err = EPROTO;
        *syscall = "recv";
        done = 1;
        break;
      }
      const struct inet_diag_msg *m = NLMSG_DATA(h);
      if (m->idiag_family != dp->family) continue;
      if (fill_row(dp, m, dp->r.with_drops ? drops_of(h) : 0) != 0) {
        err = ENOMEM;
        *syscall = "malloc";
        done = 1;
        break;
      }
    }
  }
  free(buf);
  close(fd);
  return err;
}

/* ------------------------------------------------------------------------------------------------ */
/* To JS. */

#define CHECK(call)                    \
  do {                                 \
    if ((call) != napi_ok) goto fail;  \
  } while (0)

static napi_status column(napi_env env, napi_value obj, const char *name, napi_typedarray_type type,
                          const void *data, size_t elem, uint32_t len) {
  void *dst;
  napi_value ab, ta;
  napi_status s = napi_create_arraybuffer(env, elem * len, &dst, &ab);
  if (s != napi_ok) return s;
  if (len > 0) memcpy(dst, data, elem * len);
  s = napi_create_typedarray(env, type, len, ab, 0, &ta);
  if (s != napi_ok) return s;
  return napi_set_named_property(env, obj, name, ta);
}

static napi_value to_js(napi_env env, dump *dp) {
  napi_value obj, v, addresses, mapped;
  rows *r = &dp->r;
  CHECK(napi_create_object(env, &obj));
  CHECK(napi_create_uint32(env, dp->family == AF_INET ? 4 : 6, &v));
  CHECK(napi_set_named_property(env, obj, "family", v));
  CHECK(napi_create_uint32(env, r->len, &v));
  CHECK(napi_set_named_property(env, obj, "length", v));

  CHECK(napi_create_array_with_length(env, dp->d.count, &addresses));
  CHECK(napi_create_array_with_length(env, dp->d.count, &mapped));
  for (uint32_t id = 0; id < dp->d.count; id++) {
    char text[64];
    int m = format_address(dp->d.keys[id], dp->family == AF_INET, text, sizeof text);
    CHECK(napi_create_string_latin1(env, text, NAPI_AUTO_LENGTH, &v));
    CHECK(napi_set_element(env, addresses, id, v));
    CHECK(napi_get_boolean(env, m != 0, &v));
    CHECK(napi_set_element(env, mapped, id, v));
  }
  CHECK(napi_set_named_property(env, obj, "addresses", addresses));
  CHECK(napi_set_named_property(env, obj, "mapped", mapped));

  CHECK(column(env, obj, "localAddress", napi_uint32_array, r->local_address, 4, r->len));
  CHECK(column(env, obj, "localPort", napi_uint16_array, r->local_port, 2, r->len));
  CHECK(column(env, obj, "remoteAddress", napi_uint32_array, r->remote_address, 4, r->len));
  CHECK(column(env, obj, "remotePort", napi_uint16_array, r->remote_port, 2, r->len));
  CHECK(column(env, obj, "state", napi_uint8_array, r->state, 1, r->len));
  CHECK(column(env, obj, "txQueue", napi_uint32_array, r->tx_queue, 4, r->len));
  CHECK(column(env, obj, "rxQueue", napi_uint32_array, r->rx_queue, 4, r->len));
  CHECK(column(env, obj, "timer", napi_uint8_array, r->timer, 1, r->len));
  CHECK(column(env, obj, "timerExpiresTicks", napi_float64_array, r->timer_expires_ticks, 8, r->len));
  CHECK(column(env, obj, "retransmits", napi_uint32_array, r->retransmits, 4, r->len));
  CHECK(column(env, obj, "uid", napi_uint32_array, r->uid, 4, r->len));
  CHECK(column(env, obj, "inode", napi_float64_array, r->inode, 8, r->len));
  if (r->with_drops) {
    CHECK(column(env, obj, "drops", napi_float64_array, r->drops, 8, r->len));
  } else {
    CHECK(napi_get_undefined(env, &v));
    CHECK(napi_set_named_property(env, obj, "drops", v));
  }
  return obj;
fail:
  return NULL;
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", msg);
  return NULL;
}

static napi_value dump_inet(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 3) return throw_type(env, "dumpInet(family, protocol, stateMask) takes 3 arguments");

  int32_t family;
  if (napi_get_value_int32(env, argv[0], &family) != napi_ok || (family != 4 && family != 6))
    return throw_type(env, "family must be 4 or 6");

  int protocol = -1;
  napi_valuetype t;
  napi_typeof(env, argv[1], &t);
  if (t == napi_string) {
    char p[8];
    size_t plen;
    if (napi_get_value_string_utf8(env, argv[1], p, sizeof p, &plen) == napi_ok) {
      if (strcmp(p, "tcp") == 0) protocol = IPPROTO_TCP;
      else if (strcmp(p, "udp") == 0) protocol = IPPROTO_UDP;
    }
  } else if (t == napi_number) {
    int32_t n;
    if (napi_get_value_int32(env, argv[1], &n) == napi_ok && n >= 0 && n <= 255) protocol = n;
  }
  if (protocol < 0) return throw_type(env, "protocol must be 'tcp', 'udp' or an IPPROTO number");

  napi_typeof(env, argv[2], &t);
  uint32_t states;
  if (t != napi_number || napi_get_value_uint32(env, argv[2], &states) != napi_ok)
    return throw_type(env, "stateMask must be a number");

  dump dp;
  memset(&dp, 0, sizeof dp);
  dp.family = family == 4 ? AF_INET : AF_INET6;
  dp.protocol = protocol;
  dp.states = states;
  dp.clk_tck = sysconf(_SC_CLK_TCK);
  if (dp.clk_tck <= 0) dp.clk_tck = 100;
  dp.r.with_drops = protocol == IPPROTO_UDP;
  if (dict_init(&dp.d) != 0) {
    dict_free(&dp.d);
    throw_errno(env, ENOMEM, "malloc");
    return NULL;
  }

  const char *syscall = "";
  int err = run_dump(&dp, &syscall);
  napi_value result = NULL;
  if (err != 0) throw_errno(env, err, syscall);
  else {
    result = to_js(env, &dp);
    if (result == NULL) {
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (!pending) napi_throw_error(env, "ENOMEM", "inet_diag: could not build the result");
    }
  }
  rows_free(&dp.r);
  dict_free(&dp.d);
  return result;
}

/* formatAddress(bytes: Uint8Array of 4 or 16) -> [text, mapped]: the formatter alone, for tests that
 * compare it with net-tcp.ts's on addresses no socket on the test host can have. */
static napi_value format_address_js(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  bool is_ta = false;
  if (argc < 1 || napi_is_typedarray(env, argv[0], &is_ta) != napi_ok || !is_ta)
    return throw_type(env, "formatAddress takes a Uint8Array");
  napi_typedarray_type type;
  size_t len;
  void *data;
  if (napi_get_typedarray_info(env, argv[0], &type, &len, &data, NULL, NULL) != napi_ok ||
      type != napi_uint8_array || (len != 4 && len != 16))
    return throw_type(env, "formatAddress takes a Uint8Array of 4 or 16 bytes");
  uint8_t key[16];
  memset(key, 0, sizeof key);
  memcpy(key, data, len);
  char text[64];
  int m = format_address(key, len == 4, text, sizeof text);
  napi_value out, v;
  if (napi_create_array_with_length(env, 2, &out) != napi_ok) return NULL;
  napi_create_string_latin1(env, text, NAPI_AUTO_LENGTH, &v);
  napi_set_element(env, out, 0, v);
  napi_get_boolean(env, m != 0, &v);
  napi_set_element(env, out, 1, v);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "dumpInet", NAPI_AUTO_LENGTH, dump_inet, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "dumpInet", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "formatAddress", NAPI_AUTO_LENGTH, format_address_js, NULL, &fn) != napi_ok)
    return NULL;
  if (napi_set_named_property(env, exports, "formatAddress", fn) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
