import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { readdirSync, readlinkSync } from 'node:fs';
import { nativeWalker, walkFdsAsync, walkJs, walkNative } from './fd-walk.js';
import { prefetchFiles } from './prefetch.js';
import { listPids } from '../procfs/pids.js';

let server: Server;
const sockets: Socket[] = [];

beforeAll(async () => {
  server = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  for (let i = 0; i < 20; i++) {
    await new Promise<void>((r) => {
      const c = connect(port, '127.0.0.1', () => r());
      sockets.push(c);
    });
  }
});

afterAll(() => {
  for (const s of sockets) s.destroy();
  server.close();
});

function mySocketInodes(): number[] {
  return readdirSync('/proc/self/fd')
    .map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return '';
      }
    })
    .filter((l) => l.startsWith('socket:['))
    .map((l) => Number(l.slice(8, -1)))
    .sort((a, b) => a - b);
}

describe('walkFds', () => {
  it('finds every socket this process holds, with its fd (TypeScript walker)', () => {
    const w = walkJs('/proc', [process.pid], {});
    expect([...(w.socketsByPid.get(process.pid) ?? [])].sort((a, b) => a - b)).toEqual(mySocketInodes());
    // Both listings see their own directory fd.
    expect(w.fdCounts.get(process.pid)).toBe(readdirSync('/proc/self/fd').length);
  });

  it('counts a pid that does not exist as vanished, not as an error', () => {
    const w = walkJs('/proc', [999_999_999], {});
    expect(w.vanished.has(999_999_999)).toBe(true);
  });

  it('the C walker (when built) agrees with the TypeScript one on every process', () => {
    const n = nativeWalker();
    if (!n) {
      // CI builds it (npm install runs node-gyp); a checkout without a compiler falls back.
      console.warn('native walker not built: build/Release/procfast.node missing');
      return;
    }
    const pids = listPids('/proc').filter((p) => p !== process.pid);
    const a = walkNative(n, '/proc', pids, { pipes: true });
    const b = walkJs('/proc', pids, { pipes: true });
    // Processes come and go between the two walks (the suite runs beside this test): compare the
    // pids both saw, whose fd counts did not change in between.
    let compared = 0;
    for (const [pid, count] of b.fdCounts) {
      if (a.fdCounts.get(pid) !== count) continue;
      expect([...(a.socketsByPid.get(pid) ?? [])].sort()).toEqual(
        [...(b.socketsByPid.get(pid) ?? [])].sort(),
      );
      compared++;
    }
    expect(compared).toBeGreaterThan(pids.length / 2);
    const mine = walkNative(n, '/proc', [process.pid], {});
    expect([...(mine.socketsByPid.get(process.pid) ?? [])].sort((x, y) => x - y)).toEqual(mySocketInodes());
    expect(walkNative(n, '/proc', [999_999_999], {}).vanished.has(999_999_999)).toBe(true);
  });

  it('the walk on a worker thread gives what the synchronous walk gives, owners included', async () => {
    const a = await walkFdsAsync('/proc', [process.pid, 999_999_999], { pipes: true });
    const b = walkJs('/proc', [process.pid, 999_999_999], { pipes: true });
    expect(a.vanished.has(999_999_999)).toBe(true);
    expect([...(a.socketsByPid.get(process.pid) ?? [])].sort()).toEqual(
      [...(b.socketsByPid.get(process.pid) ?? [])].sort(),
    );
    const inodes = mySocketInodes();
    for (const inode of inodes) expect(a.owners.get(inode)).toEqual(b.owners.get(inode));
  });
});

describe('prefetchFiles', () => {
  it('reads files on a worker thread, with the errors classified like any read', async () => {
    const pre = await prefetchFiles('/proc', [process.pid, 999_999_999], ['status', 'smaps_rollup']);
    if (!pre) {
      console.warn('native helpers not built: build/Release/procfast.node missing');
      return;
    }
    const status = pre.get(process.pid, 'status');
    expect(status?.ok && status.text).toMatch(new RegExp(`^Pid:\\s+${process.pid}$`, 'm'));
    expect(pre.get(process.pid, 'smaps_rollup')).toMatchObject({ ok: true });
    expect(pre.get(999_999_999, 'status')).toEqual({ ok: false, failure: { kind: 'gone' } });
    expect(pre.get(process.pid, 'maps')).toBeUndefined();
  });
});
