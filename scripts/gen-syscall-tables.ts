/**
 * Regenerates src/trace/syscalls-x86_64.ts, src/trace/syscalls-aarch64.ts and src/trace/errno-table.ts.
 *
 *   node --import tsx scripts/gen-syscall-tables.ts [--x86-tbl arch/x86/entry/syscalls/syscall_64.tbl]
 *                                                    [--generic-tbl scripts/syscall.tbl]
 *
 * With the kernel's tables (a linux checkout, ≥ 6.11 for scripts/syscall.tbl) it reads them directly.
 * Without, it falls back to the installed uapi headers (Debian's linux-libc-dev): asm/unistd_64.h
 * for x86_64 and asm-generic/unistd.h run through `gcc -E -dM` with the __ARCH_WANT_* macros that
 * arm64's uapi asm/unistd.h defines; syscalls newer than those headers come from LATER below.
 * Errno names come from asm-generic/errno-base.h and errno.h (x86_64 and arm64 both use them).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const OUT = resolve(import.meta.dirname, '../src/trace');

// Added after linux-libc-dev 6.1 (whose last entry is 450), from torvalds/linux 6.18:
// arch/x86/entry/syscalls/syscall_64.tbl and scripts/syscall.tbl. Numbers ≥ 424 are shared.
const LATER_COMMON: [number, string][] = [
  [451, 'cachestat'],
  [452, 'fchmodat2'],
  [453, 'map_shadow_stack'],
  [454, 'futex_wake'],
  [455, 'futex_wait'],
  [456, 'futex_requeue'],
  [457, 'statmount'],
  [458, 'listmount'],
  [459, 'lsm_get_self_attr'],
  [460, 'lsm_set_self_attr'],
  [461, 'lsm_list_modules'],
  [462, 'mseal'],
  [463, 'setxattrat'],
  [464, 'getxattrat'],
  [465, 'listxattrat'],
  [466, 'removexattrat'],
  [467, 'open_tree_attr'],
  [468, 'file_getattr'],
  [469, 'file_setattr'],
];
const LATER_X86_64: [number, string][] = [
  [335, 'uretprobe'],
  [336, 'uprobe'],
];

// arm64's uapi asm/unistd.h (and, since 6.11, arch/arm64/kernel/Makefile.syscalls) selects these.
const ARM64_WANTS = [
  'RENAMEAT',
  'NEW_STAT',
  'SET_GET_RLIMIT',
  'TIME32_SYSCALLS',
  'SYS_CLONE3',
  'MEMFD_SECRET',
];
const ARM64_ABIS = new Set(['common', '64', 'renameat', 'rlimit', 'memfd_secret']);

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** `nr abi name entry` lines; '#' starts a comment. */
function fromTbl(path: string, abis: Set<string>): Map<number, string> {
  const m = new Map<number, string>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const f = line.replace(/#.*/, '').trim().split(/\s+/);
    if (f.length < 3 || !/^\d+$/.test(f[0] ?? '')) continue;
    if (!abis.has(f[1] ?? '')) continue;
    m.set(Number(f[0]), f[2] ?? '');
  }
  return m;
}

function fromDefines(text: string): Map<number, string> {
  const m = new Map<number, string>();
  for (const [, name, nr] of text.matchAll(/^#define __NR_(\w+) (\d+)$/gm)) {
    if (name === undefined || nr === undefined || name.startsWith('3264') || name === 'syscalls') continue;
    m.set(Number(nr), name);
  }
  return m;
}

function x86FromHeaders(): Map<number, string> {
  const m = fromDefines(readFileSync('/usr/include/x86_64-linux-gnu/asm/unistd_64.h', 'utf8'));
  for (const [nr, name] of [...LATER_X86_64, ...LATER_COMMON]) m.set(nr, name);
  return m;
}

function arm64FromHeaders(): Map<number, string> {
  const src =
    ARM64_WANTS.map((w) => `#define __ARCH_WANT_${w}\n`).join('') + '#include <asm-generic/unistd.h>\n';
  // __BITS_PER_LONG is 64 on the host; arm64 is 64-bit too, so the 64-bit names are the ones we want.
  const r = spawnSync('gcc', ['-E', '-dM', '-x', 'c', '-'], { input: src, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gcc -E failed: ${r.stderr}`);
  const raw = new Map<string, string>();
  for (const [, wide, name, val] of r.stdout.matchAll(/^#define __NR(3264)?_(\w+) (.+)$/gm))
    raw.set(wide ? `3264_${name ?? ''}` : (name ?? ''), (val ?? '').trim());
  const m = new Map<number, string>();
  for (const [name, val] of raw) {
    // arch_specific_syscall marks where arch-private numbers would start; it is not a syscall.
    if (name === 'syscalls' || name === 'arch_specific_syscall' || name.startsWith('3264')) continue;
    // `#define __NR_fcntl __NR3264_fcntl`: follow one level of indirection.
    const v = val.startsWith('__NR3264_') ? (raw.get(val.slice('__NR'.length)) ?? '') : val;
    if (/^\d+$/.test(v)) m.set(Number(v), name);
  }
  for (const [nr, name] of LATER_COMMON) m.set(nr, name);
  return m;
}

function errnos(): Map<number, string> {
  const m = new Map<number, string>();
  for (const f of ['errno-base.h', 'errno.h']) {
    const text = readFileSync(`/usr/include/asm-generic/${f}`, 'utf8');
    // Aliases (EWOULDBLOCK = EAGAIN, EDEADLOCK = EDEADLK) are defined as names, so the first name wins.
    for (const [, name, nr] of text.matchAll(/^#define\s+(E\w+)\s+(\d+)/gm))
      if (!m.has(Number(nr))) m.set(Number(nr), name ?? '');
  }
  return m;
}

function emit(file: string, constName: string, source: string, m: Map<number, string>): void {
  const body = [...m.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([nr, name]) => `  ${nr}: '${name}',`)
    .join('\n');
  const text = `// Generated by scripts/gen-syscall-tables.ts from ${source}. Do not edit.\n\nexport const ${constName}: Readonly<Record<number, string>> = {\n${body}\n};\n`;
  writeFileSync(resolve(OUT, file), text);
  console.log(`${file}: ${m.size} entries`);
}

const x86Tbl = arg('--x86-tbl');
const genericTbl = arg('--generic-tbl');
emit(
  'syscalls-x86_64.ts',
  'SYSCALLS_X86_64',
  x86Tbl
    ? 'arch/x86/entry/syscalls/syscall_64.tbl'
    : 'asm/unistd_64.h (linux-libc-dev) + later syscalls up to 6.18',
  x86Tbl ? fromTbl(x86Tbl, new Set(['common', '64'])) : x86FromHeaders(),
);
emit(
  'syscalls-aarch64.ts',
  'SYSCALLS_AARCH64',
  genericTbl
    ? 'scripts/syscall.tbl (arm64 ABIs)'
    : 'asm-generic/unistd.h with arm64 __ARCH_WANT_* (linux-libc-dev) + later syscalls up to 6.18',
  genericTbl ? fromTbl(genericTbl, ARM64_ABIS) : arm64FromHeaders(),
);
emit('errno-table.ts', 'ERRNO_NAMES', 'asm-generic/errno-base.h and errno.h', errnos());
