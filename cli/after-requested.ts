import type { RotationRequestResult } from '../shared/requests/request-rotation';

/** A rotation the CLI has just requested, with what the operator gave. Never a value. */
export interface RequestedRotation extends RotationRequestResult {
  readonly actor: string;
  readonly reason: string;
  readonly retirePrevious: boolean;
}

export type EmergencyStage = 'rotation' | 'propagation';

/** One progress report: shown on the progress line as `<stage>: <message>`. */
export interface EmergencyProgress {
  readonly stage: EmergencyStage;
  readonly message: string;
}

/**
 * A hook `rotator emergency` runs once its rotation request is accepted, before it waits for
 * AWSCURRENT to move and for the ledger to record the propagation. Only the local demo sets one:
 * moto runs no Lambda, so the demo plays the rotation function and the workflow here, reporting
 * through `onProgress`. In AWS there is none; the deployed orchestrator does the work.
 */
export type AfterRequested = (
  rotation: RequestedRotation,
  onProgress: (progress: EmergencyProgress) => void,
  /** Aborted when `--timeout` passes or the operator interrupts. */
  signal: AbortSignal,
) => Promise<void>;
