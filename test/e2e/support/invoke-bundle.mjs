// Runs a bundled Lambda artifact the way the Lambda runtime would: import index.mjs, call
// `handler(event, context)` for each event in order, and write the outcomes as JSON to a file.
// Usage: node invoke-bundle.mjs <bundle dir> <events.json> <results.json>
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [bundleDir, eventsPath, resultsPath] = process.argv.slice(2);
const events = JSON.parse(readFileSync(eventsPath, 'utf8'));
const results = { node: process.version, invocations: [] };
try {
  const { handler } = await import(pathToFileURL(join(bundleDir, 'index.mjs')).href);
  for (const event of events) {
    const context = {
      functionName: 'rotate-secret',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:rotate-secret',
      memoryLimitInMB: '256',
      awsRequestId: randomUUID(),
      getRemainingTimeInMillis: () => 30_000,
    };
    try {
      results.invocations.push({ ok: true, result: await handler(event, context) });
    } catch (error) {
      results.invocations.push({ ok: false, name: error?.name, message: error?.message });
    }
  }
} catch (error) {
  results.importError = { name: error?.name, message: error?.message };
}
writeFileSync(resultsPath, JSON.stringify(results));
