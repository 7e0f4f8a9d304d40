/**
 * Which restart window applies to a workload, and what it means for a restart now. Pure.
 * Precedence: the workload's `secret-rotator.io/restart-window` annotation, then the same annotation
 * on its Namespace, then its namespace's window in the deployment's `restartWindows.namespaces`, then
 * `restartWindows.default`, else none. The Namespace's annotation beats the deployment's
 * configuration because the namespace's owners set it: they know their workloads' quiet hours, the
 * deployment's settings are the platform team's guess. An emergency ignores windows.
 */
import { RestartWindowError } from '../errors';
import { ANNOTATIONS } from '../propagation/consumer-annotations';
import type { Workload } from '../propagation/workload-types';
import * as z from '../schema';
import { isWindowOpen, nextWindowOpening, parseRestartWindow, type RestartWindow } from './restart-window';

/** The deployment's windows, parsed once at cold start. */
export interface RestartWindowPolicy {
  readonly default?: RestartWindow;
  readonly namespaces: ReadonlyMap<string, RestartWindow>;
}

export const NO_WINDOWS: RestartWindowPolicy = { namespaces: new Map() };

/** How far ahead a window may open, from the cluster's plan: longer is refused (weekly windows fit). */
export const MAX_WINDOW_WAIT_MS = 8 * 86_400_000;

export type WindowDecision =
  /** Restart now: no window, an open one, or an emergency. */
  | { readonly state: 'open' }
  /** Wait: the window opens at `opensAt`. */
  | { readonly state: 'held'; readonly opensAt: Date; readonly window: string }
  /** Never restarted by this propagation: a malformed window, or one that opens too late. */
  | { readonly state: 'refused'; readonly reason: string };

export interface WindowContext {
  readonly now: Date;
  /**
   * The annotations of the workload's Namespace (`undefined`: none, or not readable). Only read
   * when the workload has no window annotation of its own ({@link needsNamespaceWindow}).
   */
  readonly namespaceAnnotations?: Readonly<Record<string, string>>;
  /** The longest wait is measured from here (the cluster's plan), so waits do not add up. */
  readonly since: Date;
  readonly emergency: boolean;
  readonly maxWaitMs?: number;
}

/**
 * What the workload's restart window says about restarting it now.
 * @example windowDecision(workload, policy, { now, since: plannedAt, emergency: false })
 */
export function windowDecision(
  workload: Pick<Workload, 'namespace' | 'annotations'>,
  policy: RestartWindowPolicy,
  context: WindowContext,
): WindowDecision {
  if (context.emergency) return { state: 'open' };
  let window: RestartWindow | undefined;
  try {
    window = windowFor(workload, policy, context.namespaceAnnotations);
  } catch (error) {
    if (error instanceof RestartWindowError)
      return { state: 'refused', reason: `${error.name}: ${error.message}` };
    throw error;
  }
  if (!window || isWindowOpen(window, context.now)) return { state: 'open' };
  const maxWaitMs = context.maxWaitMs ?? MAX_WINDOW_WAIT_MS;
  const horizon = context.since.getTime() + maxWaitMs - context.now.getTime();
  const opensAt = horizon > 0 ? nextWindowOpening(window, context.now, horizon) : undefined;
  if (!opensAt) {
    const days = Math.round((maxWaitMs / 86_400_000) * 10) / 10;
    return {
      state: 'refused',
      reason: `RestartWindowError: restart window "${window.text}" does not open within ${days} days of the plan; not restarted`,
    };
  }
  return { state: 'held', opensAt, window: window.text };
}

/**
 * The window that applies to the workload; throws RestartWindowError for a malformed annotation (the
 * workload's, or its Namespace's when the workload has none).
 * @example windowFor(workload, policy, { 'secret-rotator.io/restart-window': 'Sat 02:00-05:00 UTC' })
 */
export function windowFor(
  workload: Pick<Workload, 'namespace' | 'annotations'>,
  policy: RestartWindowPolicy,
  namespaceAnnotations?: Readonly<Record<string, string>>,
): RestartWindow | undefined {
  const own = workload.annotations[ANNOTATIONS.restartWindow];
  if (own !== undefined) return annotatedWindow(own, 'annotation');
  const namespaced = namespaceAnnotations?.[ANNOTATIONS.restartWindow];
  if (namespaced !== undefined) {
    return annotatedWindow(namespaced, `namespace ${workload.namespace}'s annotation`);
  }
  return policy.namespaces.get(workload.namespace) ?? policy.default;
}

/** Whether the workload's window depends on its Namespace's annotation (it has none of its own). */
export function needsNamespaceWindow(workload: Pick<Workload, 'annotations'>): boolean {
  return workload.annotations[ANNOTATIONS.restartWindow] === undefined;
}

function annotatedWindow(text: string, where: string): RestartWindow {
  try {
    return parseRestartWindow(text);
  } catch (error) {
    if (error instanceof RestartWindowError) {
      throw new RestartWindowError(`${where} ${ANNOTATIONS.restartWindow}: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * The deployment's windows from their configuration (cdk.json `propagation.restartWindows`);
 * throws RestartWindowError naming the entry that is malformed.
 * @example restartWindowPolicy({ default: 'Sat,Sun 02:00-05:00 UTC', namespaces: { payments: 'always' } })
 */
export function restartWindowPolicy(config: RestartWindowsConfig | undefined): RestartWindowPolicy {
  if (!config) return NO_WINDOWS;
  const parse = (text: string, where: string) => {
    try {
      return parseRestartWindow(text);
    } catch (error) {
      if (error instanceof RestartWindowError) {
        throw new RestartWindowError(`restartWindows.${where}: ${error.message}`, { cause: error });
      }
      throw error;
    }
  };
  return {
    default: config.default === undefined ? undefined : parse(config.default, 'default'),
    namespaces: new Map(
      Object.entries(config.namespaces ?? {}).map(([ns, text]) => [ns, parse(text, `namespaces.${ns}`)]),
    ),
  };
}

/** The deployment's restart windows as configured (texts in the syntax of restart-window.ts). */
export interface RestartWindowsConfig {
  readonly default?: string;
  readonly namespaces?: Readonly<Record<string, string>>;
}

/** A window's text, checked by the parser itself (its RestartWindowError message is the issue). */
const windowText = z.string().check(
  z.superRefine((text, ctx) => {
    try {
      parseRestartWindow(text);
    } catch (error) {
      if (!(error instanceof RestartWindowError)) throw error;
      ctx.addIssue({ code: 'custom', message: error.message, input: text });
    }
  }),
);

/**
 * cdk.json's `propagation.restartWindows` and the step's ROTATOR_RESTART_WINDOWS: a default window
 * and windows by namespace (Kubernetes namespace names), each checked at synth and at cold start.
 */
export const restartWindowsConfigSchema = z.strictObject({
  default: z.optional(windowText),
  namespaces: z.optional(
    z.record(
      z.string().check(z.regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a namespace name')),
      windowText,
    ),
  ),
}) satisfies z.ZodMiniType<RestartWindowsConfig>;
