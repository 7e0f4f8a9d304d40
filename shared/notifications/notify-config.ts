import {
  type FunctionEnvironment,
  managedPrefixesVariable,
  managedPrefixSchema,
  parseEnvironment,
  wholeNumberVariable,
} from '../config';
import * as z from '../schema';
import { routeNameSchema } from './routing';

/** The notify function's defaults, for what infra does not set: the one place they are written. */
export const NOTIFY_DEFAULTS = {
  /** The route of a secret without a usable owner tag: `<prefix>default`. */
  defaultRoute: 'default',
  /** One webhook call, connection to last byte. */
  webhookTimeoutMs: 5_000,
  /** Calls per notification: the first and two retries (429, 5xx, timeouts, dropped connections). */
  webhookAttempts: 3,
} as const;

/** The notify function's environment: the variables it parses at cold start. */
export const notifyEnvSchema = z.object({
  ROTATOR_MANAGED_PREFIXES: managedPrefixesVariable,
  ROTATOR_LEDGER_TABLE: z.string().check(z.minLength(3), z.maxLength(255)),
  /** Only this state machine's executions are notified (the rule filters on it too). */
  ROTATOR_STATE_MACHINE_ARN: z.string().check(z.startsWith('arn:')),
  /** Where the webhook routes live: `<prefix><owner>`, `<prefix><default route>`. */
  ROTATOR_NOTIFICATIONS_PREFIX: managedPrefixSchema,
  ROTATOR_NOTIFICATIONS_DEFAULT_ROUTE: z._default(routeNameSchema, NOTIFY_DEFAULTS.defaultRoute),
  ROTATOR_WEBHOOK_TIMEOUT_SECONDS: z._default(
    wholeNumberVariable(1, 30),
    NOTIFY_DEFAULTS.webhookTimeoutMs / 1000,
  ),
  ROTATOR_WEBHOOK_ATTEMPTS: z._default(wholeNumberVariable(1, 5), NOTIFY_DEFAULTS.webhookAttempts),
});

export interface NotifyConfig {
  readonly managedPrefixes: readonly string[];
  readonly ledgerTableName: string;
  readonly stateMachineArn: string;
  readonly notificationsPrefix: string;
  readonly defaultRoute: string;
  readonly webhookTimeoutMs: number;
  readonly webhookAttempts: number;
}

/** Reads the notify function's configuration once, at cold start, failing fast with a ConfigError. */
export function loadNotifyConfig(env: Readonly<Record<string, string | undefined>>): NotifyConfig {
  const c = parseEnvironment(notifyEnvSchema, env);
  return {
    managedPrefixes: c.ROTATOR_MANAGED_PREFIXES,
    ledgerTableName: c.ROTATOR_LEDGER_TABLE,
    stateMachineArn: c.ROTATOR_STATE_MACHINE_ARN,
    notificationsPrefix: c.ROTATOR_NOTIFICATIONS_PREFIX,
    defaultRoute: c.ROTATOR_NOTIFICATIONS_DEFAULT_ROUTE,
    webhookTimeoutMs: c.ROTATOR_WEBHOOK_TIMEOUT_SECONDS * 1000,
    webhookAttempts: c.ROTATOR_WEBHOOK_ATTEMPTS,
  };
}

/**
 * The notify function's environment, every default written out; the inverse of {@link loadNotifyConfig}.
 * @example notifyEnvironment({ managedPrefixes, ledgerTableName, stateMachineArn, notificationsPrefix: 'ops/rotator-notifications/' })
 */
export function notifyEnvironment(
  config: Pick<
    NotifyConfig,
    'managedPrefixes' | 'ledgerTableName' | 'stateMachineArn' | 'notificationsPrefix'
  > &
    Partial<NotifyConfig>,
): FunctionEnvironment {
  return {
    ROTATOR_MANAGED_PREFIXES: config.managedPrefixes.join(','),
    ROTATOR_LEDGER_TABLE: config.ledgerTableName,
    ROTATOR_STATE_MACHINE_ARN: config.stateMachineArn,
    ROTATOR_NOTIFICATIONS_PREFIX: config.notificationsPrefix,
    ROTATOR_NOTIFICATIONS_DEFAULT_ROUTE: config.defaultRoute ?? NOTIFY_DEFAULTS.defaultRoute,
    ROTATOR_WEBHOOK_TIMEOUT_SECONDS: String(
      (config.webhookTimeoutMs ?? NOTIFY_DEFAULTS.webhookTimeoutMs) / 1000,
    ),
    ROTATOR_WEBHOOK_ATTEMPTS: String(config.webhookAttempts ?? NOTIFY_DEFAULTS.webhookAttempts),
  };
}
