/**
 * A real process that leaks fds and memory and carries planted secrets in its argv and environment,
 * and a real recorder (`record --interval 200ms`) watching it. Used by the bundle test and the
 * dashboard test: whatever the report, the bundle or the API show of it must never contain a secret.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { startCli, type Running } from '../record/helpers.js';

/** Every planted secret contains this marker; AKIA… is the AWS key id. */
export const MARKER = 'PL4NTED';
export const AWS_KEY = 'AKIAPL4NTEDKEY000001';

export const PLANTED_ARGV = [
  '--password',
  'PL4NTED-ARGV-PASS',
  '--api-token=PL4NTED-ARGV-TOKEN',
  'https://bob:PL4NTED-URL-PASS@db.example/x',
  'Authorization: Bearer PL4NTEDBEARERTOKEN123',
  `--key-id=${AWS_KEY}`,
];
export const PLANTED_ENV = {
  DB_PASSWORD: 'PL4NTED-ENV-PASS',
  GITHUB_TOKEN: 'PL4NTED-ENV-TOKEN',
  AWS_ACCESS_KEY_ID: AWS_KEY,
  DATABASE_URL: 'postgres://app:PL4NTED-ENV-URL@db/x',
};

// Opens /dev/null every 100 ms and keeps 256 KiB more every 100 ms: a steady fd and memory leak.
const LEAKER = `
const fs = require('fs');
const keep = [];
setInterval(() => { keep.push(fs.openSync('/dev/null', 'r')); keep.push(Buffer.alloc(256 * 1024, 1)); }, 100);
process.stdout.write('READY\\n');
`;

export interface Leaker {
  child: ChildProcess;
  pid: number;
  stop(): void;
}

export async function startLeaker(): Promise<Leaker> {
  const child = spawn(process.execPath, ['-e', LEAKER, '--', ...PLANTED_ARGV], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: '/tmp', ...PLANTED_ENV },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('leaker did not start')), 10_000);
    child.stdout?.once('data', () => {
      clearTimeout(t);
      resolve();
    });
    child.once('exit', () => reject(new Error('leaker exited')));
  });
  const stop = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', stop);
  return { child, pid: child.pid ?? -1, stop };
}

/** A recorder at 200 ms into `db`; resolves once `samples` samples were written. */
export async function startRecorder(db: string, samples: number): Promise<Running> {
  const r = startCli([
    'record',
    '--interval',
    '200ms',
    '--pass',
    '200ms',
    '--db',
    db,
    '--log-level',
    'debug',
  ]);
  await r.waitFor(
    (l) => l['event'] === 'sample' && typeof l['sample'] === 'number' && l['sample'] >= samples,
    60_000,
  );
  return r;
}

export async function stopRecorder(r: Running): Promise<void> {
  r.child.kill('SIGINT');
  await r.exited;
}
