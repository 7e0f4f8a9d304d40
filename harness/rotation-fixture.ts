import { CreateRoleCommand, GetRoleCommand } from '@aws-sdk/client-iam';
import { CreateFunctionCommand, GetFunctionCommand } from '@aws-sdk/client-lambda';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  RotateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import type { LocalClients } from './local-aws';

const PLACEHOLDER_FUNCTION = 'rotation-placeholder';
// The smallest valid zip archive (an empty one): moto needs code, and runs none without Docker.
const EMPTY_ZIP = Uint8Array.from([80, 75, 5, 6, ...new Array<number>(18).fill(0)]);

/**
 * Moto needs a Lambda to exist before RotateSecret names it. It runs none of its code (no Docker),
 * so RotateSecret leaves an AWSPENDING version without a value, as AWS does before createSecret.
 * `functionName` gives the placeholder the name (so the ARN) of a function a test runs itself, e.g.
 * a synthesized function's logical id.
 */
export async function ensurePlaceholderRotationFunction(
  clients: LocalClients,
  functionName = PLACEHOLDER_FUNCTION,
): Promise<string> {
  try {
    const existing = await clients.lambda.send(new GetFunctionCommand({ FunctionName: functionName }));
    if (existing.Configuration?.FunctionArn) return existing.Configuration.FunctionArn;
  } catch {
    // not created yet
  }
  const roleArn = await ensureRole(clients);
  const created = await clients.lambda.send(
    new CreateFunctionCommand({
      FunctionName: functionName,
      Runtime: 'nodejs24.x',
      Role: roleArn,
      Handler: 'index.handler',
      Code: { ZipFile: EMPTY_ZIP },
    }),
  );
  if (!created.FunctionArn) throw new Error('moto returned no function ARN');
  return created.FunctionArn;
}

async function ensureRole(clients: LocalClients): Promise<string> {
  const RoleName = 'rotation-placeholder-role';
  try {
    const role = await clients.iam.send(new GetRoleCommand({ RoleName }));
    if (role.Role?.Arn) return role.Role.Arn;
  } catch {
    // not created yet
  }
  const role = await clients.iam.send(
    new CreateRoleCommand({
      RoleName,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      }),
    }),
  );
  if (!role.Role?.Arn) throw new Error('moto returned no role ARN');
  return role.Role.Arn;
}

export async function createSecret(
  clients: LocalClients,
  name: string,
  value: string,
  tags: Record<string, string> = {},
): Promise<string> {
  const out = await clients.secretsManager.send(
    new CreateSecretCommand({
      Name: name,
      SecretString: value,
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
  if (!out.ARN) throw new Error('moto returned no secret ARN');
  return out.ARN;
}

/** Starts a rotation the way Secrets Manager does and returns the new version's token. */
export async function startRotation(
  clients: LocalClients,
  secretId: string,
  functionArn: string,
  rotateImmediately = true,
): Promise<string> {
  const out = await clients.secretsManager.send(
    new RotateSecretCommand({
      SecretId: secretId,
      RotationLambdaARN: functionArn,
      RotationRules: { AutomaticallyAfterDays: 30 },
      RotateImmediately: rotateImmediately,
    }),
  );
  if (!out.VersionId) throw new Error('moto returned no version id');
  return out.VersionId;
}

/** Version ids with their stages, and the value of each staged version: a full picture to compare. */
export async function snapshotSecret(clients: LocalClients, secretId: string) {
  const described = await clients.secretsManager.send(new DescribeSecretCommand({ SecretId: secretId }));
  const stages = described.VersionIdsToStages ?? {};
  const values: Record<string, string | undefined> = {};
  for (const [versionId, versionStages] of Object.entries(stages)) {
    values[versionId] = await readVersion(clients, secretId, versionId, versionStages[0]);
  }
  return { stages, values };
}

/** Reads one version with an explicit stage (moto's default-version quirk makes plain reads stale). */
export async function readVersion(
  clients: LocalClients,
  secretId: string,
  versionId: string | undefined,
  versionStage: string | undefined,
): Promise<string | undefined> {
  try {
    const out = await clients.secretsManager.send(
      new GetSecretValueCommand({ SecretId: secretId, VersionId: versionId, VersionStage: versionStage }),
    );
    return out.SecretString;
  } catch {
    return undefined;
  }
}
