import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SweepPort } from '../sweep/run-sweep';
import type { RotationSchedule } from '../sweep/schedule-rules';
import { configureRotation } from './configure-rotation';
import { listManagedSecrets } from './list-managed-secrets';
import { RotationRequestAdapter } from './rotation-request-adapter';
import { removePendingStage, versionCreatedAt } from './secret-versions';

/** {@link SweepPort} over the AWS SDK v3 client, which the caller constructs and owns. */
export class SweepAdapter implements SweepPort {
  /** RotateSecret is the very call an on-request rotation makes; one implementation serves both. */
  private readonly rotations: RotationRequestAdapter;

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly managedPrefixes: readonly string[],
  ) {
    this.rotations = new RotationRequestAdapter(client);
  }

  listManagedSecrets() {
    return listManagedSecrets(this.client, this.managedPrefixes);
  }

  /** RotateSecret with the configured function, now, and our version id as `ClientRequestToken`. */
  rotateSecret(request: { readonly secretId: string; readonly versionId: string }): Promise<void> {
    return this.rotations.rotateSecret(request);
  }

  /** RotateSecret with the function and rules, `RotateImmediately: false`: a schedule, no rotation. */
  configureRotation(request: {
    readonly secretId: string;
    readonly rotationLambdaArn: string;
    readonly schedule: RotationSchedule;
  }): Promise<void> {
    return configureRotation(this.client, request);
  }

  versionCreatedAt(secretId: string, versionId: string): Promise<Date | undefined> {
    return versionCreatedAt(this.client, secretId, versionId);
  }

  removePendingStage(secretId: string, versionId: string): Promise<void> {
    return removePendingStage(this.client, secretId, versionId);
  }
}
