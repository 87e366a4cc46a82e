/**
 * `serve`: the live dashboard and its JSON API over a record. Loopback by default; any other address
 * needs a token (--token, or --token-file so it stays out of `ps`). Runs until SIGINT/SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { collectFds } from '../collect/fds.js';
import { collectPmap } from '../collect/pmap-report.js';
import { readBootId } from '../procfs/boot-id.js';
import { readPidStat } from '../procfs/pid-stat.js';
import { readPidLimits } from '../procfs/pid-limits.js';
import { defaultDbPath } from '../record/recorder.js';
import { RecordReader, Store } from '../store/index.js';
import { Api, type LiveAccess } from '../server/api.js';
import { isLoopback, startServer } from '../server/server.js';
import { ProcsleuthError, UsageError } from '../util/errors.js';
import { parse, rootsFrom, commonOptions, toolVersion, type Command } from './command.js';
import { triage } from './triage.js';

export const serveCommand: Command = {
  summary: 'a live dashboard of the record in the browser, with a JSON API under /api/',
  usage: `usage: procsleuth serve [--listen 127.0.0.1:8017] [--db PATH] [--token T | --token-file F]
                       [--no-triage] [--no-live] [--no-redact]

  --listen ADDR:PORT  where to listen (default 127.0.0.1:8017; port 0 picks a free one). Any address
                      other than loopback requires --token or --token-file.
  --token T           clients send "Authorization: Bearer T", or open /?token=T once (sets a cookie)
  --token-file F      read the token from F (keeps it out of the process list)
  --no-triage         no findings of this host (the findings view stays empty)
  --no-live           never read fds and mappings of live processes
  --no-redact         show secrets in command lines as they are

Endpoints: /api/ lists them (overview, processes, process/PID, process/PID/fds, process/PID/maps,
findings, suspects). None reads a file a client names or runs a command.`,
  async run(args, io) {
    const { values } = parse(args, {
      'proc-root': commonOptions['proc-root'],
      'sys-root': commonOptions['sys-root'],
      listen: { type: 'string' },
      db: { type: 'string' },
      token: { type: 'string' },
      'token-file': { type: 'string' },
      'no-triage': { type: 'boolean' },
      'no-live': { type: 'boolean' },
      'no-redact': { type: 'boolean' },
    });
    const { host, port } = parseListen(values.listen ?? '127.0.0.1:8017');
    if (values.token !== undefined && values['token-file'] !== undefined)
      throw new UsageError('give --token or --token-file, not both');
    let token = values.token;
    if (values['token-file'] !== undefined) {
      try {
        token = readFileSync(values['token-file'], 'utf8').trim();
      } catch (err) {
        throw new ProcsleuthError('IO', `cannot read the token file ${values['token-file']}`, { cause: err });
      }
    }
    if (token !== undefined && token.length < 8)
      throw new UsageError('the token must be at least 8 characters');
    if (!isLoopback(host) && token === undefined)
      throw new UsageError(
        `listening on ${host} exposes the dashboard beyond this machine: give --token or --token-file`,
      );
    const roots = rootsFrom(values, io.env);
    const dbPath = values.db ?? defaultDbPath(io.env);
    const store = Store.open(dbPath, { mode: 'read' });
    let bootId: string | undefined;
    try {
      bootId = readBootId(roots.proc);
    } catch {
      // A captured tree without a boot id: live inspection can never match a recorded process.
      bootId = undefined;
    }
    const live: LiveAccess | undefined = values['no-live']
      ? undefined
      : {
          bootId,
          fds: (pid) => collectFds(roots, pid, { peers: true }),
          maps: (pid) => collectPmap(roots, pid),
          process: (pid) => {
            const st = readPidStat(roots.proc, pid);
            if (!st.ok) return undefined;
            const lim = readPidLimits(roots.proc, pid);
            const nofile = lim.ok ? lim.value.openFiles?.soft : undefined;
            return { startTimeTicks: st.value.startTimeTicks, fdLimit: nofile };
          },
        };
    const api = new Api({
      reader: new RecordReader(store),
      redact: values['no-redact'] !== true,
      version: toolVersion(),
      findings: values['no-triage']
        ? undefined
        : () => triage({ roots, traceMs: 0, cpuWindowMs: 500 }, { ...io, isTTY: false }),
      live,
      // The same detectors as `procsleuth leaks` and `spikes`, run by the server in a worker thread.
      detectors: {
        leaks: new URL('./leaks.js', import.meta.url).href,
        spikes: new URL('./spikes.js', import.meta.url).href,
      },
      procRoot: roots.proc,
      sysRoot: roots.sys,
    });
    const srv = await startServer({
      host,
      port,
      token,
      api,
      log: (l) => {
        if (l['level'] !== 'debug') io.err(JSON.stringify(l) + '\n');
      },
    });
    io.out(`procsleuth dashboard on ${srv.url}/${token ? ' (token required)' : ''}\n`);
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await srv.close();
    store.close();
    return 0;
  },
};

export function parseListen(v: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(v.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535)
    throw new UsageError(`--listen wants ADDRESS:PORT such as 127.0.0.1:8017 or [::1]:8017, got "${v}"`);
  return { host: (m[1] ?? m[2])!, port };
}
