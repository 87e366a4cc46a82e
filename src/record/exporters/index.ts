/**
 * The recorder's exporters, behind one `onSample`: the export model turns each sample into Prometheus
 * families once; the metrics server serves them as text, the remote writer buffers and pushes them.
 * The recorder calls `onSample` synchronously after each sample; nothing here may throw into it.
 */
import { hostname } from 'node:os';
import type { Logger } from '../log.js';
import type { SampleInput } from '../../store/index.js';
import {
  ExportModel,
  countSeries,
  renderText,
  type ExportOptions,
  type RecorderHealth,
} from './exposition.js';
import { MetricsServer, type ListenAddress } from './metrics-server.js';
import { RemoteWriter } from './remote-write.js';

export { parseListen } from './metrics-server.js';
export type { RecorderHealth, SourceHealth } from './exposition.js';

export interface ExportersOptions extends ExportOptions {
  node?: string;
  listen?: ListenAddress;
  remoteWrite?: { url: string; bufferPath: string; maxBufferBytes?: number };
  log: Logger;
  userAgent?: string;
}

export class Exporters {
  private readonly model: ExportModel;
  private failed = false;

  private constructor(
    readonly node: string,
    private readonly log: Logger,
    opts: ExportOptions,
    readonly server: MetricsServer | undefined,
    readonly writer: RemoteWriter | undefined,
  ) {
    this.model = new ExportModel(opts);
  }

  /** Starts the server (listening before it returns, so a taken port is an error now) and the writer. */
  static async start(o: ExportersOptions): Promise<Exporters> {
    const node = o.node ?? hostname();
    const server = o.listen ? await MetricsServer.start(o.listen) : undefined;
    let writer: RemoteWriter | undefined;
    try {
      if (o.remoteWrite)
        writer = new RemoteWriter({ ...o.remoteWrite, node, log: o.log, userAgent: o.userAgent });
    } catch (err) {
      await server?.close();
      throw err;
    }
    if (server) o.log.log('info', 'metrics-listen', { ...server.address, node });
    if (writer && o.remoteWrite) o.log.log('info', 'remote-write', { url: o.remoteWrite.url, node });
    return new Exporters(node, o.log, o, server, writer);
  }

  onSample(input: SampleInput, health: RecorderHealth): void {
    try {
      const rw = this.writer?.health();
      if (rw?.lastSend) health = { ...health, sources: [...health.sources, rw.lastSend] };
      const t0 = performance.now();
      const families = this.model.update(input, health, rw);
      if (this.server) this.server.set(renderText(families, this.node));
      this.writer?.push(families, input.tMs);
      this.log.log('debug', 'export', {
        tMs: input.tMs,
        series: countSeries(families),
        ms: Math.round((performance.now() - t0) * 10) / 10,
      });
      this.failed = false;
    } catch (err) {
      if (!this.failed)
        this.log.log('error', 'export-failed', { message: err instanceof Error ? err.message : String(err) });
      this.failed = true;
    }
  }

  async close(flushMs?: number): Promise<void> {
    await Promise.all([this.server?.close(), this.writer?.close(flushMs)]);
  }
}
