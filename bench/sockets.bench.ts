/**
 * Issue 2, "Fast": `procsleuth sockets` against the script it replaces — for each of four TCP states,
 * the top remote addresses by count. The peer is a shell pipeline by nature, so it runs as one
 * `bash -c` script, written the way people run it (note it also counts unix sockets and the header
 * line, since `ss -n` without `-t` lists every family). Loopback addresses are the host's own, which
 * `procsleuth sockets` leaves out by default; the bench state lives on loopback, hence
 * `--include-local`. Target: at least 1.5× faster.
 */
import { beforeCandidate, defineBench } from './harness.js';

export const ORIGINAL_SCRIPT = `
for s in established syn-recv time-wait last-ack; do
  echo "== $s"
  ss -n state $s | awk '{print $5}' | cut -d: -f1 | sort | uniq -c | sort -rn | head
done
`;

export default defineBench({
  name: 'sockets',
  title: 'procsleuth sockets vs the ss | awk | sort | uniq -c script (4 states)',
  baseline: 'procsleuth sockets --include-local',
  candidates: [
    {
      name: 'procsleuth sockets --include-local',
      commands: [['node', 'bin/procsleuth.js', 'sockets', '--include-local']],
      requires: ['dist/cli/main.js'],
    },
    ...beforeCandidate('procsleuth sockets --include-local', ['sockets', '--include-local']),
    {
      // The script names no owners: this is the like-for-like candidate (no walk of every fd).
      name: 'procsleuth sockets --include-local --no-owners',
      commands: [['node', 'bin/procsleuth.js', 'sockets', '--include-local', '--no-owners']],
      requires: ['dist/cli/main.js'],
    },
    {
      name: 'procsleuth sockets --include-local --json',
      commands: [['node', 'bin/procsleuth.js', 'sockets', '--include-local', '--json']],
      requires: ['dist/cli/main.js'],
    },
    ...beforeCandidate('procsleuth sockets --include-local --no-owners', [
      'sockets',
      '--include-local',
      '--no-owners',
    ]),
    { name: 'ss | awk | sort | uniq -c script', commands: [['bash', '-c', ORIGINAL_SCRIPT]] },
  ],
});
