import { describe, expect, it } from 'vitest';
import { type CliDeps, runCli } from '../../cli/main';
import { captureIo, FakeLedger, fakeSecretsManager, fakeServices } from '../support/cli-harness';

const PREFIX = 'p/app/';

/** runCli over fakes; reports what was printed and every call made. */
async function run(argv: string[], options: { env?: Record<string, string>; failWith?: Error } = {}) {
  const out = captureIo();
  const sm = fakeSecretsManager(() => {
    if (options.failWith) throw options.failWith;
    return { SecretList: [] };
  });
  const ledger = new FakeLedger();
  const fakes = fakeServices({ secretsManager: sm.client, ledger });
  let servicesBuilt = 0;
  const deps: CliDeps = {
    io: out.io,
    env: options.env ?? {},
    services: () => {
      servicesBuilt++;
      return fakes.services();
    },
  };
  const code = await runCli(argv, deps);
  return { code, ...out, smCalls: sm.calls, stsCalls: fakes.stsCalls, ledger, servicesBuilt };
}

describe('rotator argument parsing and refusals', () => {
  it('prints help with the exit codes and exits 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout()).toMatch(/Usage: rotator/);
    expect(r.stdout()).toMatch(/Exit codes:\n {2}0 .*\n {2}1 .*\n {2}2 /);
  });

  it('documents that status exits 2 on overdue or stuck secrets', async () => {
    const r = await run(['status', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout()).toMatch(/Exits 2 when any secret is OVERDUE or STUCK/);
  });

  it.each(['status', 'history', 'plan', 'emergency'])('shows examples in %s --help', async (command) => {
    const r = await run([command, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout()).toMatch(new RegExp(`\\nExamples:\\n {2}\\$ rotator ${command} `));
  });

  it('prints JSON with --output json as with --json, and refuses another format (exit 2, nothing called)', async () => {
    const env = { ROTATOR_MANAGED_PREFIXES: PREFIX };
    const json = await run(['status', '--json'], { env });
    const output = await run(['status', '--output', 'json'], { env });
    expect(output.code).toBe(0);
    expect(JSON.parse(output.stdout())).toEqual([]);
    expect(output.stdout()).toBe(json.stdout());
    const text = await run(['status', '--output', 'text'], { env });
    expect(text.stdout()).not.toBe(json.stdout());
    const refused = await run(['status', '--output', 'yaml'], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr()).toMatch(/option '--output <format>' argument 'yaml' is invalid/);
    expect(refused.servicesBuilt).toBe(0);
  });

  it('refuses emergency without --reason: exit 2, one clear line, nothing called', async () => {
    const r = await run(['emergency', `${PREFIX}db`, '--prefix', PREFIX]);
    expect(r.code).toBe(2);
    expect(r.stderr()).toBe("error: required option '--reason <text>' not specified\n");
    expect(r.servicesBuilt).toBe(0);
    expect([...r.smCalls, ...r.stsCalls, ...r.ledger.calls]).toEqual([]);
  });

  it.each([
    ['emergency', ['emergency', 'other/db', '--reason', 'leaked']],
    ['plan', ['plan', 'other/db', '--kubeconfig', '/nonexistent']],
    ['history', ['history', 'other/db']],
  ])('refuses an unmanaged secret in %s with the typed error before any call (exit 2)', async (_, argv) => {
    const r = await run([...argv, '--prefix', PREFIX]);
    expect(r.code).toBe(2);
    expect(r.stderr()).toBe(
      'error: Secret "other/db" is outside the managed prefixes of this deployment; nothing was changed\n',
    );
    expect([...r.smCalls, ...r.stsCalls, ...r.ledger.calls]).toEqual([]);
  });

  it('needs managed prefixes from --prefix or ROTATOR_MANAGED_PREFIXES', async () => {
    const missing = await run(['status']);
    expect(missing.code).toBe(2);
    expect(missing.stderr()).toMatch(/^error: no managed prefixes: pass --prefix/);
    const fromEnv = await run(['status'], { env: { ROTATOR_MANAGED_PREFIXES: `${PREFIX},q/` } });
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.smCalls).toEqual(['ListSecrets']);
  });

  it('refuses a malformed prefix as the deployment would', async () => {
    const r = await run(['status', '--prefix', 'p/*']);
    expect(r.code).toBe(2);
    expect(r.stderr()).toMatch(/^error: Invalid configuration: ROTATOR_MANAGED_PREFIXES/);
  });

  it.each([
    [['history', `${PREFIX}db`, '--limit', '0'], /--limit <n>' argument '0' is invalid/],
    [
      ['emergency', `${PREFIX}db`, '--reason', 'x', '--timeout', 'soon'],
      /--timeout <duration>' argument 'soon' is invalid/,
    ],
    [['rotate-everything'], /unknown command 'rotate-everything'/],
    [['plan', `${PREFIX}db`], /plan needs at least one cluster/],
  ])('exits 2 on bad input %j', async (argv, message) => {
    const r = await run([...argv, '--prefix', PREFIX]);
    expect(r.code).toBe(2);
    expect(r.stderr()).toMatch(message);
  });

  it('refuses history without a ledger table, naming the option and the variable', async () => {
    const out = captureIo();
    const sm = fakeSecretsManager(() => ({}));
    const code = await runCli(['history', `${PREFIX}db`, '--prefix', PREFIX], {
      io: out.io,
      env: {},
      services: fakeServices({ secretsManager: sm.client }).services,
    });
    expect(code).toBe(2);
    expect(out.stderr()).toBe(
      'error: no ledger table: pass --ledger-table <name> or set ROTATOR_LEDGER_TABLE\n',
    );
  });

  it('reports an AWS failure as one line and exit 1, with the stack only under --verbose', async () => {
    const denied = Object.assign(new Error('User is not authorized\n  to perform ListSecrets'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
    });
    const quiet = await run(['status', '--prefix', PREFIX], { failWith: denied });
    expect(quiet.code).toBe(1);
    expect(quiet.stderr()).toBe(
      `error: ListSecrets on "${PREFIX}" failed: AccessDeniedException (User is not authorized to perform ListSecrets)\n`,
    );
    const verbose = await run(['status', '--prefix', PREFIX, '--verbose'], { failWith: denied });
    expect(verbose.stderr().split('\n').length).toBeGreaterThan(3);
    expect(verbose.stderr()).toMatch(/\n\s+at /);
  });
});
