import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureTracefs, findTracefs } from './tracefs.js';

describe('tracefs', () => {
  it('finds the syscall events under kernel/tracing or kernel/debug/tracing', () => {
    const root = mkdtempSync(join(tmpdir(), 'sys-'));
    expect(findTracefs(root)).toBeUndefined();
    mkdirSync(join(root, 'kernel/debug/tracing/events/raw_syscalls/sys_exit'), { recursive: true });
    expect(findTracefs(root)).toBe(`${root}/kernel/debug/tracing`);
    mkdirSync(join(root, 'kernel/tracing/events/raw_syscalls/sys_exit'), { recursive: true });
    expect(findTracefs(root)).toBe(`${root}/kernel/tracing`);
  });

  it('never mounts on an injected root; it advises instead', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sys-'));
    mkdirSync(join(root, 'kernel/tracing'), { recursive: true });
    const s = await ensureTracefs(root);
    expect(s.path).toBeUndefined();
    expect(s.note).toBe(`tracefs is not mounted; as root run: mount -t tracefs nodev ${root}/kernel/tracing`);
  });
});
