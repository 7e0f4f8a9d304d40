/**
 * The operator CLI, `rotator`: status, history, plan (dry run) and emergency rotation. Parses the
 * command line (commander), validates configuration once, runs one command, and turns any error
 * into one line `error: <message>` and an exit code. It never reads a secret value.
 */

import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { AfterRequested } from './after-requested';
import { type CliIo, type CliServices, createCliContext, type GlobalOptions, writeLine } from './cli-context';
import { describeFailure, EXIT, exitCodeFor } from './exit-codes';
import { parseDuration } from './time-format';

// Commands, the AWS SDK clients and the Kubernetes client are imported when a command runs, so
// `--help` and usage errors answer at once and `status` never loads the Kubernetes client.

export interface CliDeps {
  readonly io: CliIo;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** @default AWS SDK clients from the global options, and the DynamoDB ledger */
  readonly services?: (options: GlobalOptions) => CliServices;
  /** `rotator emergency`'s hook after its request is accepted; only the local demo sets one. */
  readonly afterRequested?: AfterRequested;
  readonly pollMs?: number;
  readonly now?: () => Date;
}

const EXIT_HELP = `
Exit codes:
  0  done (status: no secret is overdue or stuck)
  1  failed (an AWS or cluster call failed, a rotation or propagation failed or timed out)
  2  refused or bad input (unmanaged secret, missing option); status: a secret is overdue or stuck;
     report: a secret breaks policy; audit: something lags behind AWSCURRENT`;

/** Runs the CLI with `argv` (arguments after the program name); resolves to the exit code. */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram(deps, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (!(error instanceof CommanderError)) {
      writeLine(
        deps.io.stderr,
        describeFailure(error, program.opts<{ verbose?: boolean }>().verbose === true),
      );
    }
    return exitCodeFor(error);
  }
}

function buildProgram(deps: CliDeps, setExit: (code: number) => void): Command {
  const program = new Command('rotator')
    .description(
      'Operate the secret rotation orchestrator: status, history, dry-run plans, compliance reports, convergence audits, emergency rotations.',
    )
    .option('--region <region>', 'AWS region (default: the SDK chain, e.g. AWS_REGION)')
    .option('--endpoint-url <url>', 'send every AWS call to this endpoint (moto, LocalStack)')
    .option('--ledger-table <name>', 'rotation ledger table (default: env ROTATOR_LEDGER_TABLE)')
    .option(
      '--prefix <prefix>',
      'managed secret-name prefix, repeatable (default: env ROTATOR_MANAGED_PREFIXES)',
      collect,
    )
    .addOption(
      new Option('--output <format>', 'text (tables) or json (for scripts) on stdout')
        .choices(['text', 'json'])
        .default('text'),
    )
    .option('--json', 'the same as --output json', false)
    .option('--verbose', 'print stack traces on errors', false)
    .addHelpText('after', EXIT_HELP)
    .exitOverride()
    .configureOutput({ writeOut: (s) => deps.io.stdout.write(s), writeErr: (s) => deps.io.stderr.write(s) });
  const context = async () => {
    const raw = program.opts<Partial<GlobalOptions> & { prefix?: string[]; output?: string }>();
    const options: GlobalOptions = {
      region: raw.region,
      endpointUrl: raw.endpointUrl,
      ledgerTable: raw.ledgerTable ?? deps.env.ROTATOR_LEDGER_TABLE,
      prefix: raw.prefix ?? collect(deps.env.ROTATOR_MANAGED_PREFIXES ?? '', []),
      json: raw.json === true || raw.output === 'json',
      verbose: raw.verbose === true,
    };
    const services = deps.services ?? (await defaultServices());
    return createCliContext({ options, env: deps.env, services, io: deps.io, now: deps.now });
  };

  program
    .command('status')
    .description('Every managed secret: age, schedule, last rotation and propagation, and flags')
    .addHelpText(
      'after',
      examples(
        'rotator status --prefix prod/app-team/',
        "rotator status --output json | jq '.[] | select(.flags | length > 0)'",
      ),
    )
    .addHelpText(
      'after',
      '\nFlags: OVERDUE, STUCK (the sweep’s rules), ROTATING, NOT-PROPAGATED (AWSCURRENT has no successful\n' +
        'propagation in the ledger). Exits 2 when any secret is OVERDUE or STUCK, so it can gate CI.',
    )
    .action(async () => {
      const { runStatus } = await import('./status-command');
      setExit(await runStatus(await context()));
    });

  program
    .command('history')
    .description('Ledger history of one secret, newest first')
    .addHelpText(
      'after',
      examples(
        'rotator history prod/app-team/db-password',
        'rotator history prod/app-team/db-password --limit 5 --output json',
      ),
    )
    .argument('<secret>', 'secret name')
    .option('--limit <n>', 'at most this many entries', positiveInt, 20)
    .action(async (secret: string, opts: { limit: number }) => {
      const { runHistory } = await import('./history-command');
      setExit(await runHistory(await context(), secret, opts.limit));
    });

  program
    .command('plan')
    .description('Dry run: what a rotation of <secret> would resync and restart in each cluster, and why')
    .addHelpText(
      'after',
      examples(
        'rotator plan prod/app-team/db-password --cluster prod-eu-1',
        'rotator plan prod/app-team/db-password --kubeconfig ~/.kube/config --output json',
      ),
    )
    .argument('<secret>', 'secret name or ARN')
    .addOption(kubeconfigOption())
    .addOption(eksClusterOption())
    .option('--require-opt-in', 'restart only workloads that opt in by annotation', false)
    .action(
      async (secret: string, opts: { kubeconfig: string[]; cluster: string[]; requireOptIn: boolean }) => {
        const { runPlan } = await import('./plan-command');
        const options = {
          kubeconfigs: opts.kubeconfig,
          eksClusters: opts.cluster,
          requireOptIn: opts.requireOptIn,
        };
        setExit(await runPlan(await context(), secret, options));
      },
    );

  program
    .command('report')
    .description(
      'Compliance: every managed secret with age, maximum-age policy, last rotation and propagation, verdict',
    )
    .addOption(
      new Option(
        '--format <format>',
        'table, json or csv on stdout (default: table, json with --output json)',
      ).choices(['table', 'json', 'csv']),
    )
    .option(
      '--max-age <prefix=days>',
      'a maximum age by prefix, repeatable; replaces env ROTATOR_MAX_AGE_RULES (cdk.json compliance.maxAge as JSON)',
      (value: string, previous: MaxAgeRuleArgument[] = []) => [...previous, maxAgeRule(value)],
    )
    .option(
      '--default-max-age <days>',
      'for secrets no rule or tag covers (default: env ROTATOR_DEFAULT_MAX_AGE_DAYS)',
    )
    .addOption(
      new Option('--allow <finding>', 'a finding that does not fail the run, repeatable')
        .choices([
          'never-propagated',
          'schedule-missed',
          'propagation-failed',
          'overdue',
          'rotation-failed',
          'invalid-policy',
        ])
        .argParser((value: string, previous: string[] = []) => [...previous, value]),
    )
    .addHelpText(
      'after',
      examples(
        'rotator report --prefix prod/app-team/',
        'rotator report --max-age prod/=90 --max-age prod/app-team/legacy/=365 --format csv > report.csv',
        `ROTATOR_MAX_AGE_RULES="$(jq -c .context.orchestrator.compliance.maxAge cdk.json)" rotator report --format json`,
      ),
    )
    .addHelpText(
      'after',
      '\nA secret’s tag rotator:max-age-days wins over the rules; the longest prefix wins among them.\n' +
        'Verdicts, worst first: invalid-policy, rotation-failed, propagation-failed, overdue (older than its\n' +
        'maximum age, rotation on or off), schedule-missed, never-propagated, rotating, propagating, ok.\n' +
        'Exits 2 when any secret has one of the first six (less those given to --allow), so it can gate CI;\n' +
        '1 when a call failed. Reads ListSecrets and the ledger only, never a value.',
    )
    .action(
      async (opts: {
        format?: 'table' | 'json' | 'csv';
        maxAge?: MaxAgeRuleArgument[];
        defaultMaxAge?: string;
        allow?: string[];
      }) => {
        const [{ runReport }, { loadMaxAgeRules }] = await Promise.all([
          import('./report-command'),
          import('../shared/compliance/compliance-config'),
        ]);
        const ctx = await context();
        const env = {
          ...deps.env,
          ...(opts.maxAge && { ROTATOR_MAX_AGE_RULES: JSON.stringify(opts.maxAge) }),
          ...(opts.defaultMaxAge !== undefined && { ROTATOR_DEFAULT_MAX_AGE_DAYS: opts.defaultMaxAge }),
        };
        const format = opts.format ?? (ctx.options.json ? 'json' : 'table');
        const allow = new Set(
          (opts.allow ?? []) as import('../shared/compliance/compliance-verdict').Finding[],
        );
        setExit(await runReport(ctx, { format, rules: loadMaxAgeRules(env, ctx.prefixes), allow }));
      },
    );

  program
    .command('audit')
    .description(
      'Prove <secret> converged: every ExternalSecret synced since AWSCURRENT moved, every consumer pod newer',
    )
    .argument('<secret>', 'secret name or ARN')
    .addOption(kubeconfigOption())
    .addOption(eksClusterOption())
    .addHelpText(
      'after',
      examples(
        'rotator audit prod/app-team/db-password --cluster prod-eu-1 --cluster prod-us-1',
        'rotator audit prod/app-team/db-password --kubeconfig ~/.kube/config --output json | jq \'.clusters[].externalSecrets[] | select(.sync.state != "synced")\'',
      ),
    )
    .addHelpText(
      'after',
      '\nReads DescribeSecret, ListSecretVersionIds, the ledger, ExternalSecrets, stores, workloads and pods\n' +
        '(list pods: see infra/kubernetes/rbac.yaml); never a secret value, never a Kubernetes Secret.\n' +
        'Exits 0 when everything converged, 2 when an ExternalSecret or a consumer lags, 1 when a cluster\n' +
        'could not be audited (e.g. 403: the identity lacks a rule).',
    )
    .action(async (secret: string, opts: { kubeconfig: string[]; cluster: string[] }) => {
      const { runAudit } = await import('./audit-command');
      setExit(
        await runAudit(await context(), secret, { kubeconfigs: opts.kubeconfig, eksClusters: opts.cluster }),
      );
    });

  program
    .command('emergency')
    .description('Rotate <secret> now (repairing a stuck rotation) and follow it to the pods')
    .addHelpText(
      'after',
      examples(
        'rotator emergency prod/app-team/db-password --reason "leaked in CI logs"',
        'rotator emergency prod/app-team/db-password --reason "key compromise" --retire-previous --timeout 30m',
      ),
    )
    .argument('<secret>', 'secret name or ARN')
    .requiredOption('--reason <text>', 'why (recorded in the ledger with your IAM identity)')
    .option(
      '--retire-previous',
      'remove AWSPREVIOUS from the old version once every consumer is verified',
      false,
    )
    .addOption(
      new Option('--timeout <duration>', 'how long to wait for rotation and propagation (e.g. 90s, 15m, 1h)')
        .argParser(duration)
        .default(15 * 60_000, '15m'),
    )
    .addHelpText(
      'after',
      '\nExits 0 when the rotation and its propagation succeeded, 1 when either failed or timed out.',
    )
    .action(async (secret: string, opts: { reason: string; retirePrevious: boolean; timeout: number }) => {
      const { runEmergency } = await import('./emergency-command');
      const { bindRequestRotation } = await import('./request-rotation-binding');
      const ctx = await context();
      setExit(
        await runEmergency(
          ctx,
          secret,
          { reason: opts.reason, retirePrevious: opts.retirePrevious, timeoutMs: opts.timeout },
          {
            requestRotation: bindRequestRotation(ctx),
            afterRequested: deps.afterRequested,
            pollMs: deps.pollMs,
          },
        ),
      );
    });
  return program;
}

async function defaultServices(): Promise<(options: GlobalOptions) => CliServices> {
  const [{ createAwsServices }, { DynamoDbLedger }] = await Promise.all([
    import('./aws-services'),
    import('../shared/ledger/dynamodb-ledger'),
  ]);
  return (options) => createAwsServices(options, (client, table) => new DynamoDbLedger(client, table));
}

/** `--kubeconfig`, repeatable: the clusters `plan` and `audit` read, by kubeconfig file. */
function kubeconfigOption(): Option {
  return new Option(
    '--kubeconfig <path>',
    'a cluster by kubeconfig (its current context names it), repeatable',
  )
    .argParser(collect)
    .default([]);
}

/** `--cluster`, repeatable: the clusters `plan` and `audit` read, by EKS name. */
function eksClusterOption(): Option {
  return new Option(
    '--cluster <eks-name>',
    'an EKS cluster by name (DescribeCluster + EKS token), repeatable',
  )
    .argParser(collect)
    .default([]);
}

/** A command's help epilogue: example invocations, one per line. */
function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}`;
}

/** Repeatable option values; each may also be a comma-separated list. */
function collect(value: string, previous: string[] = []): string[] {
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  return [...previous, ...items];
}

/** `prod/=90` → `{ prefix: 'prod/', days: 90 }`; the days are checked with the rules' schema. */
interface MaxAgeRuleArgument {
  readonly prefix: string;
  readonly days: number;
}

function maxAgeRule(value: string): MaxAgeRuleArgument {
  const at = value.lastIndexOf('=');
  if (at <= 0) throw new InvalidArgumentError('expected <prefix>=<days>, e.g. prod/=90');
  const days = value.slice(at + 1);
  return { prefix: value.slice(0, at), days: /^\d+$/.test(days) ? Number(days) : Number.NaN };
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of at least 1');
  return n;
}

function duration(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new InvalidArgumentError('must be a duration such as 90s, 15m or 1h');
  return ms;
}
