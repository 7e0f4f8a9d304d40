/**
 * The local story: start moto, create a sample secret under a managed prefix, rotate it through the
 * real rotation handler (the four steps Secrets Manager would call), and print versions, stages and
 * timings. Values are never printed.
 */
import { Command } from 'commander';
import { localLambdaContext } from './local/lambda-context';
import { localAwsEnvironment, localClients } from './local/local-aws';
import { startMoto } from './local/moto-server';
import {
  createSecret,
  ensurePlaceholderRotationFunction,
  readVersion,
  snapshotSecret,
  startRotation,
} from './local/rotation-fixture';

const PREFIX = 'demo/app-team/';
const SECRET = `${PREFIX}orders-db`;
const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;

const program = new Command('demo')
  .description('Rotate a sample secret in a local Secrets Manager (moto) through the real rotation handler.')
  .option('--verbose', 'also print the handler’s structured logs and EMF metrics', false)
  .parse();
const { verbose } = program.opts<{ verbose: boolean }>();

const say = (line = '') => process.stdout.write(`${line}\n`);
const time = async <T>(work: () => Promise<T>): Promise<[T, number]> => {
  const started = performance.now();
  const result = await work();
  return [result, Math.round(performance.now() - started)];
};

say('Secret rotation orchestrator — local demo');
const [moto, motoMs] = await time(() => startMoto());
say(`✓ local AWS (moto) on ${moto.endpoint} (${motoMs} ms)`);
try {
  await run(moto.endpoint);
} finally {
  await moto.stop();
  say('✓ local AWS stopped');
}

async function run(endpoint: string) {
  const clients = localClients(endpoint);
  const initial = {
    username: 'orders_app',
    password: 'initial-password-from-setup',
    host: 'db.internal',
    port: 5432,
  };
  const arn = await createSecret(clients, SECRET, JSON.stringify(initial), { 'rotator:fields': 'password' });
  say(`✓ created ${SECRET} (JSON; tag rotator:fields=password)`);

  Object.assign(process.env, localAwsEnvironment(endpoint), {
    ROTATOR_MANAGED_PREFIXES: PREFIX,
    POWERTOOLS_LOG_LEVEL: verbose ? 'INFO' : 'SILENT',
    POWERTOOLS_METRICS_DISABLED: verbose ? 'false' : 'true',
  });
  const { handler } = await import('../functions/rotate-secret/handler');

  const placeholder = await ensurePlaceholderRotationFunction(clients);
  const token = await startRotation(clients, arn, placeholder);
  say(`✓ RotateSecret started version ${token}`);
  say('');
  say('  step           outcome            time');
  for (const step of STEPS) {
    const event = { Step: step, SecretId: arn, ClientRequestToken: token };
    const [result, ms] = await time(() => handler(event, localLambdaContext('rotate-secret')));
    say(`  ${step.padEnd(14)} ${result.outcome.padEnd(18)} ${String(ms).padStart(4)} ms`);
  }
  say('');
  const snapshot = await snapshotSecret(clients, arn);
  say('  version                                stages');
  for (const [versionId, stages] of Object.entries(snapshot.stages)) {
    say(`  ${versionId.padEnd(38)} ${stages.join(', ')}`);
  }
  const rotated = JSON.parse((await readVersion(clients, arn, token, 'AWSCURRENT')) ?? '{}');
  const kept = Object.keys(initial).filter(
    (key) => key !== 'password' && rotated[key] === initial[key as never],
  );
  say('');
  say(`✓ password regenerated (${String(rotated.password ?? '').length} characters; value not shown)`);
  say(`✓ fields kept as they were: ${kept.join(', ')}`);
}
