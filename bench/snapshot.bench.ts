/**
 * Issue 2, "Fast": `procsleuth snapshot --json` against what a person runs by hand to see the same
 * things — processes (`ps`), TCP sockets with their owners (`ss -tanp`) and open files (`lsof`) — on
 * the bench state (1,000 extra processes, 20,000 loopback connections). Target: faster than `ps` plus
 * `ss -tanp` alone, while collecting far more.
 */
import { beforeCandidate, defineBench } from './harness.js';

const PS = ['ps', '-eo', 'pid,ppid,pcpu,rss,vsz,nlwp,args'];
const SS = ['ss', '-tanp'];
const LSOF = ['lsof', '-n', '-P'];

export default defineBench({
  name: 'snapshot',
  title: 'procsleuth snapshot --json vs ps / ss -tanp / lsof',
  baseline: 'procsleuth snapshot --json',
  candidates: [
    {
      name: 'procsleuth snapshot --json',
      commands: [['node', 'bin/procsleuth.js', 'snapshot', '--json']],
      requires: ['dist/cli/main.js'],
    },
    ...beforeCandidate('procsleuth snapshot --json', ['snapshot', '--json']),
    { name: 'ps -eo …', commands: [PS] },
    { name: 'ss -tanp', commands: [SS] },
    // lsof exits 1 when some /proc entry vanished or could not be read: the listing is still complete
    { name: 'lsof -n -P', commands: [LSOF], okExitCodes: [0, 1] },
    { name: 'ps + ss -tanp', commands: [PS, SS], note: 'run one after the other, times summed' },
    {
      name: 'ps + ss -tanp + lsof',
      commands: [PS, SS, LSOF],
      okExitCodes: [0, 1],
      note: 'the whole manual sequence, times summed',
    },
  ],
});
