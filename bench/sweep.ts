/**
 * Benchmark: the sweep's listing and planning over 10,000 managed secrets in moto (plus 1,000 under
 * another prefix that must be left out). Prints wall time and Secrets Manager calls by operation.
 * Target (issue 4): at most 100 ListSecrets calls and no per-secret DescribeSecret.
 * Figures only; nothing is asserted. Run: npm run bench:sweep
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { localClients } from '../harness/local-aws';
import { ensureLocalDependencies } from '../harness/local-dependencies';
import { createSecrets, MOTO_WRITE_CONCURRENCY } from '../harness/local-secrets';
import { motoTraceback } from '../harness/moto-call-error';
import { startMoto } from '../harness/moto-server';
import { listManagedSecrets } from '../shared/aws/secrets-manager-adapter';
import { planSweep } from '../shared/sweep/plan-sweep';

const MANAGED = Number(process.env.BENCH_SECRETS ?? 10_000);
const OTHER = Math.round(MANAGED / 10);
const log = (line: string) => process.stdout.write(`${line}\n`);

ensureLocalDependencies(['MOTO_PYTHON'], (line) => process.stderr.write(`${line}\n`));
const moto = await startMoto();
try {
  const clients = localClients(moto.endpoint);
  let t = performance.now();
  const names = [
    ...Array.from({ length: MANAGED }, (_, i) => `prod/app-team/svc-${Math.floor(i / 100)}/secret-${i}`),
    ...Array.from({ length: OTHER }, (_, i) => `prod/other-team/secret-${i}`),
  ];
  const retried = countRetriedCalls(clients.secretsManager);
  await createSecrets(
    clients.secretsManager,
    names.map((Name) => ({ Name, SecretString: 'v' })),
  );
  log(
    `set-up: ${MANAGED} managed + ${OTHER} other secrets in moto (${((performance.now() - t) / 1000).toFixed(1)} s, ` +
      `${MOTO_WRITE_CONCURRENCY} at once; ${retried.calls} calls retried ${retried.retries} times after moto's 5xx answers)`,
  );
  clients.secretsManager.middlewareStack.remove('countRetriedCalls');

  const calls = new Map<string, number>();
  clients.secretsManager.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String(context.commandName).replace(/Command$/, '');
      calls.set(name, (calls.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countCalls' },
  );
  t = performance.now();
  const secrets = await listManagedSecrets(clients.secretsManager, ['prod/app-team/']);
  const listMs = performance.now() - t;
  t = performance.now();
  const decisions = planSweep(secrets, { now: new Date() });
  const planMs = performance.now() - t;
  const byAction = new Map<string, number>();
  for (const d of decisions) byAction.set(d.action.kind, (byAction.get(d.action.kind) ?? 0) + 1);
  log(`sweep over ${secrets.length} managed secrets`);
  log(`  list (paginated ListSecrets, name filter)  ${(listMs / 1000).toFixed(2)} s`);
  log(`  plan (pure)                                ${planMs.toFixed(1)} ms`);
  log(`  calls by operation                         ${JSON.stringify(Object.fromEntries(calls))}`);
  log(`  decisions                                  ${JSON.stringify(Object.fromEntries(byAction))}`);
} catch (error) {
  const traceback = await motoTraceback(error, moto);
  if (traceback) log(traceback);
  throw error;
} finally {
  await moto.stop();
}

/** Counts calls through `client` that succeeded only after retries, and their retries. */
function countRetriedCalls(client: SecretsManagerClient) {
  const counts = { calls: 0, retries: 0 };
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const attempts = (result.output as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
      if (attempts > 1) {
        counts.calls++;
        counts.retries += attempts - 1;
      }
      return result;
    },
    { step: 'initialize', name: 'countRetriedCalls' },
  );
  return counts;
}
