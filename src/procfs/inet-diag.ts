/**
 * TCP and UDP socket tables from netlink sock_diag — sock_diag(7), linux/inet_diag.h — through the
 * optional native addon native/inet_diag.c (built by binding.gyp into build/Release/inet_diag.node).
 *
 * Not a text file, so no sample of a format: the answer is an InetSocketTable, the same columns
 * net-tcp.ts parses out of /proc/net/tcp, with the same interned address strings, e.g. for
 *   0100007F:A029 00000000:0000 0A ... 13721
 * the row { localAddress → '127.0.0.1', localPort 41001, remoteAddress → '0.0.0.0', state 10, inode 13721 }.
 *
 * Why: at 35,000 TCP sockets the kernel alone spends ~100 ms formatting /proc/net/tcp{,6}; a sock_diag
 * dump is binary and filters states in the kernel (what `ss state X` does). Where sock_diag and /proc
 * disagree the addon converts to the /proc meaning (LISTEN's txQueue is 0, expiry in clock ticks); the
 * differences left are documented at fill_row in native/inet_diag.c (a SYN_RECV request's uid is 0).
 *
 * Live host only: netlink answers for the caller's network namespace, never for a `--proc-root`, so
 * the caller checks that it reads the live /proc before asking. `undefined` means "use /proc": the
 * addon did not build or load, or the kernel refused (no netlink, no diag handler, not permitted).
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { errnoCode, ProcsleuthError } from '../util/errors.js';
import { TCP_STATES, type InetSocketTable, type TcpStateName } from './net-tcp.js';

/**
 * The addon. `protocol` may be an IPPROTO number (tests reach the kernel's error path with it);
 * `formatAddress` (4 or 16 network-order bytes → [text, mapped]) is there for tests of the formatter.
 */
export interface InetDiagAddon {
  dumpInet(family: 4 | 6, protocol: 'tcp' | 'udp' | number, stateMask: number): InetSocketTable;
  formatAddress(bytes: Uint8Array): [string, boolean];
}

export type InetProtocol = 'tcp' | 'udp';

/** Resolved from this file, so it holds from src/procfs/ (tests, tsx) and from dist/procfs/ alike. */
export const INET_DIAG_ADDON_PATH = fileURLToPath(
  new URL('../../build/Release/inet_diag.node', import.meta.url),
);

/**
 * errno codes that mean "this kernel or sandbox will not do sock_diag": the caller reads /proc instead.
 * ENOENT is what the kernel answers when it has no diag handler for the protocol (module absent).
 */
const REFUSED = new Set([
  'EPERM',
  'EACCES',
  'EPROTONOSUPPORT',
  'EAFNOSUPPORT',
  'ESOCKTNOSUPPORT',
  'EOPNOTSUPP',
  'ENOENT',
  'ENOSYS',
  'EINVAL',
]);

/** Loads the addon at `path`; undefined (with the reason in `why`) when it is not there or not loadable. */
export function loadInetDiagAddon(
  path: string = INET_DIAG_ADDON_PATH,
  why?: (reason: string) => void,
): InetDiagAddon | undefined {
  try {
    const mod: unknown = createRequire(import.meta.url)(path);
    if (typeof mod === 'object' && mod !== null && typeof (mod as InetDiagAddon).dumpInet === 'function') {
      return mod as InetDiagAddon;
    }
    why?.(`${path} has no dumpInet`);
  } catch (err) {
    why?.(err instanceof Error ? err.message : String(err));
  }
  return undefined;
}

// The addon, once loaded: null = tried and failed. PROCSLEUTH_NO_NATIVE (any value, as for the fd
// walker of src/collect/fd-walk.ts) forces the /proc path, to compare the two or rule the addon out.
let addon: InetDiagAddon | null | undefined;
let unavailable: string | undefined;
let probed = false;

function theAddon(): InetDiagAddon | undefined {
  if (addon === undefined) {
    if (process.env['PROCSLEUTH_NO_NATIVE']) {
      unavailable = 'disabled by PROCSLEUTH_NO_NATIVE';
      addon = null;
    } else {
      addon = loadInetDiagAddon(INET_DIAG_ADDON_PATH, (reason) => (unavailable = reason)) ?? null;
    }
  }
  return addon ?? undefined;
}

/** The mask sock_diag wants: bit `1 << code` per state; undefined = every state TCP_STATES names. */
export function tcpStateMask(states?: readonly TcpStateName[]): number {
  let mask = 0;
  // Bits 1..12 only: bit 13 is the kernel's TCP_BOUND_INACTIVE pseudo-state (bound, never connected),
  // which /proc/net/tcp does not list.
  if (states === undefined) for (let code = 1; code <= TCP_STATES.length; code++) mask |= 1 << code;
  else for (const s of states) mask |= 1 << (TCP_STATES.indexOf(s) + 1);
  // A SYN_RECV connection is a request mini socket (NEW_SYN_RECV) in the kernel's tables; it is
  // reported as SYN_RECV, like /proc does, but only dumped when its own bit is set.
  if (mask & (1 << 3)) mask |= 1 << 12;
  return mask >>> 0;
}

/**
 * Whether sock_diag answers here: the addon loaded and an empty dump (state mask 0, which the kernel
 * answers without walking its tables) succeeded. Cached after the first call.
 */
export function inetDiagAvailable(): boolean {
  const a = theAddon();
  if (a === undefined) return false;
  if (!probed) {
    probed = true;
    try {
      a.dumpInet(4, 'tcp', 0);
    } catch (err) {
      unavailable = err instanceof Error ? err.message : String(err);
      addon = null;
      return false;
    }
  }
  return true;
}

/** Why inetDiagAvailable() is false (a load error, a refusal), for a collector's "could not read". */
export function inetDiagUnavailableReason(): string | undefined {
  return theAddon() === undefined || !inetDiagAvailable() ? unavailable : undefined;
}

/**
 * The live host's TCP or UDP sockets of one family, optionally only in `states` (filtered by the
 * kernel). Undefined when the addon is missing or the kernel refuses sock_diag: read /proc then.
 * Throws ProcsleuthError('IO') for anything else (out of memory, a reply it cannot parse).
 */
export function readInetDiag(
  family: 4 | 6,
  protocol: InetProtocol,
  states?: readonly TcpStateName[],
): InetSocketTable | undefined {
  const a = theAddon();
  if (a === undefined) return undefined;
  const mask = tcpStateMask(states);
  for (let attempt = 1; ; attempt++) {
    try {
      return a.dumpInet(family, protocol, mask);
    } catch (err) {
      const code = errnoCode(err);
      if (code !== undefined && REFUSED.has(code)) {
        unavailable = err instanceof Error ? err.message : String(err);
        return undefined;
      }
      // ENOBUFS: our socket's queue overran mid-dump (a burst of other netlink traffic); a second
      // dump usually goes through.
      if (code === 'ENOBUFS' && attempt < 2) continue;
      throw new ProcsleuthError('IO', `sock_diag dump of ${protocol}${family === 6 ? '6' : ''} failed`, {
        cause: err,
      });
    }
  }
}
