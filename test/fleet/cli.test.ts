/**
 * The record command's export options as a user meets them: bad values are usage errors (exit 2, the
 * option named), a taken port or a buffer held by another recorder stops the start with a message, and
 * `--once --remote-write` sends its one sample before it exits.
 */
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../record/helpers.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'procsleuth-fleet-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('record export options', () => {
  it('refuses bad values, naming the option', async () => {
    const db = join(dir, 'bad.db');
    const cases: [string[], RegExp][] = [
      [['--metrics-listen', 'localhost:http'], /--metrics-listen wants \[ADDR:\]PORT/],
      [['--metrics-listen', '127.0.0.1:70000'], /--metrics-listen/],
      [['--remote-write', 'ftp://example/x'], /--remote-write wants an http/],
      [['--remote-write', 'http://127.0.0.1:1/w', '--remote-write-buffer', '10KiB'], /at least 1MiB/],
      [
        ['--remote-write', 'http://127.0.0.1:1/w', '--remote-write-buffer', 'lots'],
        /--remote-write-buffer wants a size/,
      ],
      [['--metrics-listen', '0', '--export-groups', '0'], /--export-groups/],
      [['--node', ''], /--node/],
    ];
    for (const [args, msg] of cases) {
      const r = await runCli(['record', '--once', '--db', db, ...args]);
      expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(msg)]);
    }
  });

  it('stops at start when the port is taken, and leaves the database unlocked', async () => {
    const taken = http.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    const db = join(dir, 'port.db');
    const r = await runCli(['record', '--once', '--db', db, '--metrics-listen', `127.0.0.1:${port}`]);
    taken.close();
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot start the exporters: .*EADDRINUSE/);
    // the next recorder on that database starts fine
    expect((await runCli(['record', '--once', '--db', db])).code).toBe(0);
  });

  it('refuses a second recorder on the same remote-write buffer', async () => {
    const db = join(dir, 'twice.db');
    const args = [
      'record',
      '--interval',
      '1s',
      '--db',
      db,
      '--remote-write',
      'http://127.0.0.1:1/api/v1/write',
    ];
    const first = startCli(args);
    await first.waitFor((l) => l.event === 'start');
    const second = await runCli(args);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/in use by another recorder/);
    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
  });

  it('--once --remote-write sends its sample before exiting', async () => {
    const bodies: number[] = [];
    const rx = http.createServer((req, res) => {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => {
        bodies.push(n);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => rx.listen(0, '127.0.0.1', r));
    const port = (rx.address() as { port: number }).port;
    const r = await runCli([
      'record',
      '--once',
      '--db',
      join(dir, 'once.db'),
      '--remote-write',
      `http://127.0.0.1:${port}/api/v1/write`,
      '--node',
      'once',
    ]);
    rx.close();
    expect(r.code).toBe(0);
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toBeGreaterThan(1_000);
    const stop = r.stderr
      .split('\n')
      .filter((l) => l.includes('"remote-write-stop"'))
      .map((l) => JSON.parse(l) as { samples: number; sent: number })[0];
    expect(stop?.samples).toBe(0);
    expect(stop?.sent).toBeGreaterThan(50);
  });
});
