// Prints N free local ports, space-separated, for up.sh (see freePorts: below the ephemeral range).
// Usage: node --import tsx scripts/cluster/free-ports.ts N
import { freePorts } from '../../harness/free-port';

const count = Number.parseInt(process.argv[2] ?? '', 10);
if (!Number.isInteger(count) || count < 1) {
  process.stderr.write('usage: free-ports.ts N (N >= 1)\n');
  process.exit(2);
}
process.stdout.write(`${(await freePorts(count)).join(' ')}\n`);
