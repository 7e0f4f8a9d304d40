/**
 * The rotation ledger: what happened to each managed secret, never a value. One DynamoDB table
 * (see dynamodb-ledger.ts); every write that decides "who does this" is a conditional write, so
 * duplicate and concurrent triggers for one secret version give one propagation.
 */

/** What asked for the work; the zod enums that parse a trigger derive from this list. */
export const TRIGGERS = ['scheduled', 'event', 'emergency', 'request', 'reconcile', 'manual'] as const;
export type Trigger = (typeof TRIGGERS)[number];

/** A rotation that the orchestrator started or observed (RotateSecret's new version). */
export interface RotationRecord {
  readonly secretName: string;
  readonly secretArn: string;
  /** The version RotateSecret created (AWSPENDING until the rotation finishes). */
  readonly versionId: string;
  readonly trigger: Trigger;
  /** Caller identity: an IAM ARN, `scheduler`, `eventbridge:<rule>`, … */
  readonly actor: string;
  readonly reason?: string;
  readonly requestedAt: string;
  /** Emergency rotations propagate with no waves; the option is carried to the propagation. */
  readonly emergency?: boolean;
  /** Remove AWSPREVIOUS from the old version once every consumer is verified. */
  readonly retirePrevious?: boolean;
  /** A stuck rotation (its AWSPENDING version) removed before this one started. */
  readonly repairedPendingVersionId?: string;
  /**
   * The AWSCURRENT move that first made this version current (registerMove notes it): any later
   * move to the version is a return to it (a rollback), not this rotation's. Absent until then.
   */
  readonly firstMoveSeq?: number;
}

export type PropagationStatus = 'in-progress' | 'succeeded' | 'failed';

/** Per-cluster outcome, names and counts only. Lists are capped; `counts` has the full numbers. */
export interface ClusterOutcome {
  readonly cluster: string;
  readonly outcome: 'succeeded' | 'failed';
  readonly synced: readonly string[];
  /** Restarted by this propagation and verified rolled out. */
  readonly restarted: readonly string[];
  readonly failed: readonly string[];
  /** Consumers that pick the value up on their next pod (OnDelete, …): never restarted, never verified. */
  readonly nextPod?: readonly string[];
  /** Consumers left unrestarted because the restarts stopped (a failed rollout or canary). */
  readonly notRestarted?: readonly string[];
  /**
   * ExternalSecrets that name the secret through a store in a region where it is neither the
   * primary nor a replica: never resynced, reported (not a failure: there the name is another secret).
   */
  readonly notSynced?: readonly string[];
  /**
   * Deleted while the propagation ran (the API server answered 404): an ExternalSecret gone before
   * its resync or its sync check, a consumer gone before its restart. Skipped and named, not failures.
   */
  readonly gone?: readonly string[];
  /**
   * Notification routes (route names, not webhooks) that annotations on the Namespaces this
   * propagation touched ask for (`secret-rotator.io/notify`): the notify function sends to them too.
   */
  readonly notifyRoutes?: readonly string[];
  /** Full counts of every list above (lists hold at most a few dozen names each). */
  readonly counts?: Readonly<Record<string, number>>;
}

/**
 * One AWSCURRENT move of a secret: which version became current, from which, and its sequence
 * number (1, 2, … per secret). A version that becomes AWSCURRENT again (a rollback) is a new move.
 */
export interface MoveRecord {
  readonly seq: number;
  readonly versionId: string;
  readonly fromVersionId?: string;
  /** When the ledger registered it. */
  readonly at: string;
  /** When AWSCURRENT moved, from the event that started the propagation; absent for a reconcile. */
  readonly movedAt?: string;
  readonly trigger: Trigger;
  readonly actor: string;
  /**
   * Whether the move made a rotation's new version current (it carries that rotation's trigger,
   * actor, emergency and retire options); false for a version made current again (a rollback, any
   * label move back). Absent on moves recorded before it existed.
   */
  readonly byRotation?: boolean;
}

export interface PropagationClaim {
  readonly secretName: string;
  readonly secretArn: string;
  readonly versionId: string;
  /** The AWSCURRENT move this propagation carries ({@link MoveRecord.seq}); absent on old records (1). */
  readonly moveSeq?: number;
  /** The version that was AWSCURRENT before the move. */
  readonly fromVersionId?: string;
  readonly trigger: Trigger;
  readonly actor: string;
  readonly reason?: string;
  /** Who holds the claim: the Step Functions execution (or CLI run) id. */
  readonly executionId: string;
  readonly startedAt: string;
}

/**
 * A propagation waiting for a restart window (the workflow's Wait state): until when, how many
 * consumers are held, in which cluster (the latest wait noted), and the claim's lease extended past it.
 */
export interface WindowWait {
  readonly cluster: string;
  /** When the earliest held consumer's window opens. */
  readonly until: string;
  readonly held: number;
  readonly notedAt: string;
  /** Nobody takes the claim over (and the sweep starts no propagation) before this. */
  readonly leaseUntil: string;
}

export interface PropagationRecord extends PropagationClaim {
  readonly status: PropagationStatus;
  /** Set while (and kept after) the propagation waited for a restart window. */
  readonly windowWait?: WindowWait;
  readonly finishedAt?: string;
  readonly durationMs?: number;
  readonly clusters?: readonly ClusterOutcome[];
  /** Error name and safe message when failed. */
  readonly error?: string;
}

export type ClaimResult =
  | { readonly claimed: true }
  /** Someone else holds or finished this version: do nothing. */
  | { readonly claimed: false; readonly existing: PropagationRecord };

export type LedgerEntry =
  | ({ readonly kind: 'rotation' } & RotationRecord)
  | ({ readonly kind: 'propagation' } & PropagationRecord);

/** Per-secret summary, kept up to date by the writes above (no scan needed for status). */
export interface SecretLedgerSummary {
  readonly secretName: string;
  readonly lastRotation?: RotationRecord;
  readonly lastPropagation?: PropagationRecord;
  /** The newest AWSCURRENT move a propagation was started for. */
  readonly currentMove?: MoveRecord;
}

/** Which propagation: one version's one AWSCURRENT move. */
export interface PropagationKey {
  readonly versionId: string;
  readonly moveSeq: number;
}

export interface LedgerPort {
  recordRotation(record: RotationRecord): Promise<void>;
  /** The rotation record of one version, if the orchestrator started it. */
  findRotation(secretName: string, versionId: string): Promise<RotationRecord | undefined>;
  /**
   * Registers the secret's current AWSCURRENT move: the stored move when it already names this
   * version (a replay or a concurrent delivery of the same move), else a new move numbered one
   * higher (a conditional write: of two concurrent registrations of one move, both get the same).
   */
  registerMove(secretName: string, move: Omit<MoveRecord, 'seq'>): Promise<MoveRecord>;
  /**
   * Claims the propagation of one version's move (`claim.moveSeq`). Succeeds when nobody has claimed it, when the same
   * executionId claims again (a retried task), when the earlier attempt failed, or when an
   * in-progress claim is older than `leaseMs` (its holder died). Otherwise returns the holder.
   */
  claimPropagation(
    claim: PropagationClaim,
    options: { readonly leaseMs: number; readonly now: Date },
  ): Promise<ClaimResult>;
  /**
   * Records the outcome; only the claim's holder (same executionId) may finish it. With
   * `onlyInProgress`, an outcome already recorded is left alone
   * ({@link PropagationAlreadyFinishedError}): a failure caught after Record wrote success must not
   * turn that success into a failure. When the holder finds its own outcome already recorded, the
   * summary is brought up to it first, best effort (an attempt that died between the record and its
   * summary left the summary in progress); a failed catch-up is reported in the error's
   * `summaryNotUpdated`, never thrown instead of it.
   *
   * Returns the record as written, with what the claim's holder noted on it before (its
   * `windowWait`), so the caller needs no read of its own; undefined if the store returned none.
   */
  finishPropagation(
    secretName: string,
    key: PropagationKey,
    executionId: string,
    result: Pick<PropagationRecord, 'status' | 'finishedAt' | 'durationMs' | 'clusters' | 'error'>,
    options?: { readonly onlyInProgress?: boolean },
  ): Promise<PropagationRecord | undefined>;
  /**
   * Notes that the holder's propagation waits for a restart window and extends its lease to
   * `wait.leaseUntil`; only the holder (same executionId) of an in-progress claim may
   * ({@link PropagationHeldByOtherError}, {@link PropagationAlreadyFinishedError} otherwise).
   */
  noteWindowWait(
    secretName: string,
    key: PropagationKey,
    executionId: string,
    wait: WindowWait,
  ): Promise<void>;
  /** Newest first. */
  history(secretName: string, options?: { readonly limit?: number }): Promise<LedgerEntry[]>;
  /** Summaries for many secrets (BatchGetItem), keyed by secret name; missing secrets are absent. */
  summaries(secretNames: readonly string[]): Promise<Map<string, SecretLedgerSummary>>;
}
