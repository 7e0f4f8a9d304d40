#!/usr/bin/env node
// The operator CLI's launcher: checks the Node version, registers tsx so the TypeScript sources
// run as they are (no build step), and hands the arguments to cli/main.ts.

const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(
    `error: rotator needs Node.js 24 or newer; this is ${process.version} (${process.execPath}).\n` +
      'Run it from the project with `npx rotator` or `npm exec rotator`, which use the Node 24 in node_modules.\n',
  );
  process.exit(2);
}

const { register } = await import('tsx/esm/api');
register();
const { runCli } = await import('../cli/main.ts');
process.exitCode = await runCli(process.argv.slice(2), { io: process, env: process.env });
