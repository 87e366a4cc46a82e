/** Where /proc and /sys live. Injectable so a tree captured on another machine reads as if live. */
export interface Roots {
  proc: string;
  sys: string;
}

export function defaultRoots(env: NodeJS.ProcessEnv = process.env): Roots {
  return {
    proc: env['PROCSLEUTH_PROC_ROOT'] || '/proc',
    sys: env['PROCSLEUTH_SYS_ROOT'] || '/sys',
  };
}
