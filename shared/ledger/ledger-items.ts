import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { convertToAttr, marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { LedgerItemInvalidError } from '../errors';
import * as z from '../schema';
import {
  type LedgerEntry,
  type MoveRecord,
  type PropagationClaim,
  type PropagationKey,
  type PropagationRecord,
  type PropagationStatus,
  type RotationRecord,
  type SecretLedgerSummary,
  TRIGGERS,
  type WindowWait,
} from './ledger-port';

/**
 * The ledger table's layout, shared by the adapter, the CDK construct and the local helper.
 *
 * One partition per secret (`pk = SECRET#<name>`), every item keyed by version so the hot paths are
 * direct GetItem/PutItem calls:
 * - `sk = ROTATION#<versionId>`: the rotation record (findRotation is one GetItem);
 * - `sk = PROPAGATION#<versionId>#<move seq>`: the claim and outcome of one AWSCURRENT move of a
 *   version, the exactly-once lock (a version made current again is a new move, a new item);
 * - `sk = SUMMARY`: copies of the newest rotation and propagation (summaries is one BatchGetItem),
 *   and the secret's current move (`currentMove`, the one field here that decides anything: its
 *   sequence number only grows, by conditional writes).
 *
 * History needs time order across both kinds, which version-keyed sort keys cannot give, so the
 * rotation and propagation items carry `historyAt` (`<UTC ISO time, ms>#<sk>`) and a local secondary
 * index orders a secret's items by it. The summary has no `historyAt`, so the index leaves it out.
 * An LSI shares the partition (no second copy to keep in step, strongly consistent reads possible);
 * its 10 GB per-secret limit is millions of records.
 */
export const LEDGER_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  historyIndex: 'history',
  historySortKey: 'historyAt',
} as const;

export const SUMMARY_SK = 'SUMMARY';
export const secretKey = (secretName: string) => `SECRET#${secretName}`;
export const rotationKey = (versionId: string) => `ROTATION#${versionId}`;
export const propagationKey = (key: PropagationKey) => `PROPAGATION#${key.versionId}#${key.moveSeq}`;

export type Item = Record<string, AttributeValue>;

const STATUSES = {
  'in-progress': 'in-progress',
  succeeded: 'succeeded',
  failed: 'failed',
} as const satisfies { [K in PropagationStatus]: K };

const name = z.string().check(z.minLength(1), z.maxLength(2048));
const timestamp = z.iso.datetime({ offset: true });

const rotationSchema = z.object({
  secretName: name,
  secretArn: name,
  versionId: name,
  trigger: z.enum(TRIGGERS),
  actor: name,
  reason: z.optional(z.string().check(z.maxLength(1024))),
  requestedAt: timestamp,
  emergency: z.optional(z.boolean()),
  retirePrevious: z.optional(z.boolean()),
  repairedPendingVersionId: z.optional(name),
  firstMoveSeq: z.optional(z.number().check(z.int(), z.positive())),
}) satisfies z.ZodMiniType<RotationRecord>;

const claimSchema = z.object({
  secretName: name,
  secretArn: name,
  versionId: name,
  moveSeq: z.optional(z.number().check(z.int(), z.positive())),
  fromVersionId: z.optional(name),
  trigger: z.enum(TRIGGERS),
  actor: name,
  reason: z.optional(z.string().check(z.maxLength(1024))),
  executionId: name,
  startedAt: timestamp,
}) satisfies z.ZodMiniType<PropagationClaim>;

/** One cluster's outcome, as the workflow's record step receives it and the ledger stores it. */
export const clusterOutcomeSchema = z.object({
  cluster: name,
  outcome: z.enum(['succeeded', 'failed']),
  synced: z.array(z.string()),
  restarted: z.array(z.string()),
  failed: z.array(z.string()),
  nextPod: z.optional(z.array(z.string())),
  notRestarted: z.optional(z.array(z.string())),
  notSynced: z.optional(z.array(z.string())),
  gone: z.optional(z.array(z.string())),
  notifyRoutes: z.optional(z.array(z.string().check(z.maxLength(128)))),
  counts: z.optional(z.record(z.string(), z.number())),
});

export const moveSchema = z.object({
  seq: z.number().check(z.int(), z.positive()),
  versionId: name,
  fromVersionId: z.optional(name),
  at: timestamp,
  movedAt: z.optional(timestamp),
  trigger: z.enum(TRIGGERS),
  actor: name,
  byRotation: z.optional(z.boolean()),
}) satisfies z.ZodMiniType<MoveRecord>;

export const windowWaitSchema = z.object({
  cluster: name,
  until: timestamp,
  held: z.number().check(z.int(), z.nonnegative()),
  notedAt: timestamp,
  leaseUntil: timestamp,
}) satisfies z.ZodMiniType<WindowWait>;

/** What finishPropagation writes over the claim. */
export const outcomeSchema = z.object({
  status: z.enum(STATUSES),
  finishedAt: z.optional(timestamp),
  durationMs: z.optional(z.number().check(z.int(), z.nonnegative())),
  clusters: z.optional(z.array(clusterOutcomeSchema)),
  error: z.optional(z.string().check(z.maxLength(2048))),
});
export type PropagationOutcome = z.infer<typeof outcomeSchema>;

const propagationSchema = z.extend(claimSchema, {
  ...outcomeSchema.shape,
  windowWait: z.optional(windowWaitSchema),
}) satisfies z.ZodMiniType<PropagationRecord>;

const summarySchema = z.object({
  secretName: name,
  lastRotation: z.optional(rotationSchema),
  lastPropagation: z.optional(propagationSchema),
  currentMove: z.optional(moveSchema),
}) satisfies z.ZodMiniType<SecretLedgerSummary>;

/** Milliseconds since the epoch of an ISO time; the schemas above have checked its format. */
export const timeMs = (iso: string) => Date.parse(iso);

const historyAt = (iso: string, sk: string) => `${new Date(timeMs(iso)).toISOString()}#${sk}`;

/** The rotation item; the record is checked first so that what we write we can read back. */
export function rotationItem(record: RotationRecord): Item {
  const valid = parse(rotationSchema, record, `record for "${record.secretName}"`);
  const sk = rotationKey(valid.versionId);
  return marshalMap({
    ...valid,
    pk: secretKey(valid.secretName),
    sk,
    kind: 'rotation',
    historyAt: historyAt(valid.requestedAt, sk),
  });
}

/** The claim item: a fresh in-progress record with no outcome fields left over from an earlier attempt. */
export function claimItem(claim: PropagationClaim): Item {
  const valid = parse(claimSchema, claim, `claim for "${claim.secretName}"`);
  const sk = propagationKey({ versionId: valid.versionId, moveSeq: valid.moveSeq ?? 1 });
  return marshalMap({
    ...valid,
    status: STATUSES['in-progress'],
    pk: secretKey(valid.secretName),
    sk,
    kind: 'propagation',
    historyAt: historyAt(valid.startedAt, sk),
    startedAtMs: timeMs(valid.startedAt),
  });
}

export function parseRotation(item: Item): RotationRecord {
  return parse(rotationSchema, unmarshall(item), describeKey(item));
}

export function parsePropagation(item: Item): PropagationRecord {
  return parse(propagationSchema, unmarshall(item), describeKey(item));
}

export function parseSummary(item: Item): SecretLedgerSummary {
  return parse(summarySchema, unmarshall(item), describeKey(item));
}

export function parseLedgerEntry(item: Item): LedgerEntry {
  const kind = item.kind?.S;
  if (kind === 'rotation') return { kind, ...parseRotation(item) };
  if (kind === 'propagation') return { kind, ...parsePropagation(item) };
  throw new LedgerItemInvalidError(`Ledger item ${describeKey(item)} has no known kind`);
}

export function parseMove(value: unknown, what: string): MoveRecord {
  return parse(moveSchema, value, what);
}

export function parseWindowWait(wait: unknown, what: string): WindowWait {
  return parse(windowWaitSchema, wait, what);
}

export function parseOutcome(outcome: unknown, what: string): PropagationOutcome {
  return parse(outcomeSchema, outcome, what);
}

function parse<T>(schema: z.ZodMiniType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  // Field paths and zod's generic messages only: never the stored values.
  const fields = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'item'}: ${issue.message}`);
  throw new LedgerItemInvalidError(`Ledger ${what} is malformed (${fields.join('; ')})`);
}

function describeKey(item: Item): string {
  return `item ${item.pk?.S ?? '?'} ${item.sk?.S ?? '?'}`;
}

// util-dynamodb's marshall with the ledger's one option: undefined fields are left out (optional
// record fields are absent, never NULL). Reads go through unmarshall and then the zod schemas above.
const MARSHALL_OPTIONS = { removeUndefinedValues: true } as const;

/** One plain value (string, number, boolean, null, list, map) as a DynamoDB attribute. */
export function marshal(value: unknown): AttributeValue {
  return convertToAttr(value, MARSHALL_OPTIONS);
}

/** A plain object as a DynamoDB item; undefined fields are left out. */
export function marshalMap(value: object): Item {
  return marshall(value, MARSHALL_OPTIONS);
}
