// Hosts one bundled Lambda artifact the way a warm Lambda container does: imports index.mjs once,
// then runs `handler(event, context)` for each request. Requests arrive on stdin and results leave
// on file descriptor 3, one JSON object per line, so the function's own stdout and stderr (its
// logs) stay apart. Usage: node lambda-container.mjs <bundle dir> <function name>
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

const [bundleDir, functionName = 'function'] = process.argv.slice(2);
const results = createWriteStream(null, { fd: 3 });
const send = (message) => results.write(`${JSON.stringify(message)}\n`);

let handler;
try {
  ({ handler } = await import(pathToFileURL(join(bundleDir, 'index.mjs')).href));
  send({ ready: true, node: process.version });
} catch (error) {
  send({ ready: false, name: error?.name, message: error?.message });
  process.exit(1);
}

for await (const line of createInterface({ input: process.stdin })) {
  const { id, event } = JSON.parse(line);
  const started = Date.now();
  const context = {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    getRemainingTimeInMillis: () => Math.max(0, 120_000 - (Date.now() - started)),
  };
  try {
    send({ id, ok: true, result: (await handler(event, context)) ?? null });
  } catch (error) {
    send({ id, ok: false, errorType: error?.name ?? 'Error', errorMessage: String(error?.message ?? error) });
  }
}
