/**
 * EventBridge's "Step Functions Execution Status Change" event, as the notify function receives it
 * from the default bus: which execution of which state machine ended how, and the execution's
 * input (the starter's `{secretId, versionId, …}`). Parsed at the edge; fields named, never values.
 */

import { InvalidEventError } from '../errors';
import * as z from '../schema';

export const FINAL_STATUSES = ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] as const;
export type FinalStatus = (typeof FINAL_STATUSES)[number];

const epochMs = z.optional(z.nullable(z.number()));

const eventSchema = z.object({
  source: z.literal('aws.states'),
  'detail-type': z.literal('Step Functions Execution Status Change'),
  detail: z.object({
    executionArn: z.string().check(z.startsWith('arn:')),
    stateMachineArn: z.string().check(z.startsWith('arn:')),
    name: z.string().check(z.minLength(1), z.maxLength(80)),
    status: z.string().check(z.minLength(1)),
    startDate: epochMs,
    stopDate: epochMs,
    /** The execution's input as JSON text; absent or null when it was too large to include. */
    input: z.optional(z.nullable(z.string())),
    /** The error name of a failed execution (the Fail state's, `States.Timeout`, …). */
    error: z.optional(z.nullable(z.string())),
  }),
});

/** The starter's input fields the notification needs; the rest of the input is ignored. */
const inputSchema = z.object({
  secretId: z.string().check(z.minLength(1), z.maxLength(2048)),
  versionId: z.string().check(z.minLength(32), z.maxLength(64)),
});

/** An error name Step Functions reports: a word like `PropagationFailed` or `States.Timeout`. */
const ERROR_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;

export interface ExecutionEnded {
  readonly executionName: string;
  readonly stateMachineArn: string;
  readonly status: FinalStatus;
  readonly secretId: string;
  readonly versionId: string;
  /** Only when it is one word; any other text is dropped. */
  readonly errorName?: string;
  readonly durationMs?: number;
}

/** An event of another state machine, or of an execution that has not ended (RUNNING). */
export interface ExecutionNotEnded {
  readonly ignored: string;
}

/**
 * The ended execution an event reports, or why it is ignored (not ended, another state machine).
 * A malformed event, or one without the execution's input, is an {@link InvalidEventError}.
 * @example parseExecutionStatusEvent(event, stateMachineArn) // { executionName, status: 'FAILED', secretId, … }
 */
export function parseExecutionStatusEvent(
  raw: unknown,
  stateMachineArn: string,
): ExecutionEnded | ExecutionNotEnded {
  const parsed = eventSchema.safeParse(raw);
  if (!parsed.success)
    throw new InvalidEventError(`Malformed execution status event (${fieldsOf(parsed.error)})`);
  const { detail } = parsed.data;
  if (detail.stateMachineArn !== stateMachineArn) return { ignored: 'an execution of another state machine' };
  const status = FINAL_STATUSES.find((s) => s === detail.status);
  if (!status) return { ignored: `execution status ${detail.status.slice(0, 20)} is not final` };
  const input = inputSchema.safeParse(jsonOrUndefined(detail.input));
  if (!input.success) {
    throw new InvalidEventError(
      `Execution ${detail.name}: its input is missing or malformed (${fieldsOf(input.error)})`,
    );
  }
  return {
    executionName: detail.name,
    stateMachineArn: detail.stateMachineArn,
    status,
    secretId: input.data.secretId,
    versionId: input.data.versionId,
    ...(detail.error && ERROR_NAME.test(detail.error) ? { errorName: detail.error } : {}),
    ...(detail.startDate && detail.stopDate ? { durationMs: detail.stopDate - detail.startDate } : {}),
  };
}

function jsonOrUndefined(text: string | null | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function fieldsOf(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  return error.issues.map((i) => `${i.path.map(String).join('.') || 'value'}: ${i.message}`).join('; ');
}
