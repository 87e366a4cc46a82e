/**
 * Issue 3, "Fast": `procsleuth triage --no-trace` against the manual sequence a person runs on a
 * burning host — `uptime; ps -eo …; ss -tanp; lsof -n -P; pmap -x PID` for the top process — on the
 * bench state (1,000 extra processes, 20,000 loopback connections). Target: at least 5× faster.
 * The top process is pid 1 here: any pid costs pmap the same few milliseconds.
 */
import { beforeCandidate, defineBench } from './harness.js';

export default defineBench({
  name: 'triage',
  title: 'procsleuth triage --no-trace vs uptime; ps; ss -tanp; lsof; pmap -x',
  baseline: 'procsleuth triage --no-trace',
  candidates: [
    {
      name: 'procsleuth triage --no-trace',
      // --cpu-window 250ms: the manual sequence has no CPU window either (ps prints lifetime averages).
      commands: [['node', 'bin/procsleuth.js', 'triage', '--no-trace', '--json', '--cpu-window', '250ms']],
      requires: ['dist/cli/main.js'],
      okExitCodes: [0, 1],
    },
    ...beforeCandidate(
      'procsleuth triage --no-trace',
      ['triage', '--no-trace', '--json', '--cpu-window', '250ms'],
      [0, 1],
    ),
    {
      name: 'uptime; ps; ss -tanp; lsof; pmap -x',
      commands: [
        ['uptime'],
        ['ps', '-eo', 'pid,ppid,pcpu,rss,vsz,nlwp,args'],
        ['ss', '-tanp'],
        ['lsof', '-n', '-P'],
        ['pmap', '-x', '1'],
      ],
      okExitCodes: [0, 1],
      note: 'the manual sequence, times summed',
    },
  ],
});
