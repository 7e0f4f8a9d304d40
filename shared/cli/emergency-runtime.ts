import type { RotationRequestResult } from '../requests/request-rotation';

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
 * What happens between "rotation requested" and the CLI's waits for AWSCURRENT to move and for the
 * ledger to record the propagation. In AWS, nothing: Secrets Manager invokes the rotation function
 * and the rotation's events start the workflow. A local mode (moto runs no Lambda) drives the
 * rotation steps and the workflow itself here, reporting through `onProgress`, and returns once
 * they are done; the CLI's waits then find the outcome at once.
 */
export interface EmergencyRuntime {
  afterRotationRequested(
    rotation: RequestedRotation,
    onProgress: (progress: EmergencyProgress) => void,
    /** Aborted when `--timeout` passes or the operator interrupts. */
    signal: AbortSignal,
  ): Promise<void>;
}

/** AWS mode: the deployed orchestrator does the work; the CLI only watches. */
export const awsEmergencyRuntime: EmergencyRuntime = {
  async afterRotationRequested() {},
};
