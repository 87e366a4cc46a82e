/**
 * The peer of each connected unix socket. /proc/net/unix does not say; only netlink sock_diag
 * (UNIX_DIAG_PEER) does, and `ss -x` is the standard client of it, so we ask ss (argv array, timeout)
 * and treat its absence as "peer unknown", never as an error.
 *
 *   Netid State  Recv-Q Send-Q   Local Address:Port   Peer Address:Port
 *   u_str ESTAB  0      0       /run/nd.sock 303107        * 303108
 *   u_dgr UNCONN 0      0                  * 12345          * 0
 */
import { ParseError } from '../util/errors.js';
import { run } from '../util/spawn.js';

/** inode → peer inode, for sockets with a peer. */
export function parseSsUnix(text: string): Map<number, number> {
  const peers = new Map<number, number>();
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (i === 0 && line.startsWith('Netid')) return;
    if (line.trim() === '') return;
    const f = line.trim().split(/\s+/);
    // Paths may hold spaces, so read from the end: … localInode peerAddr peerInode.
    const local = f[f.length - 3];
    const peer = f[f.length - 1];
    if (f.length < 7 || !/^\d+$/.test(local ?? '') || !/^\d+$/.test(peer ?? '')) {
      throw new ParseError('unexpected ss -x line', { path: 'ss -xna', line: i + 1, token: line });
    }
    if (peer !== '0') peers.set(Number(local), Number(peer));
  });
  return peers;
}

export async function readUnixPeers(): Promise<{ peers: Map<number, number>; note?: string }> {
  try {
    const r = await run(['ss', '-xna'], { timeoutMs: 10_000 });
    if (r.code !== 0)
      return {
        peers: new Map(),
        note: `ss -xna failed (${r.stderr.trim() || `exit ${r.code}`}): unix peers unknown`,
      };
    return { peers: parseSsUnix(r.stdout) };
  } catch (err) {
    return {
      peers: new Map(),
      note: `unix peers unknown: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}
