import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EKSClient } from '@aws-sdk/client-eks';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { toAwsCallError } from '../shared/errors';
import type { LedgerPort } from '../shared/ledger/ledger-port';
import type { CliServices, GlobalOptions } from './cli-context';

/** Builds the ledger over a DynamoDB client (the DynamoDB adapter in production). */
export type LedgerFactory = (client: DynamoDBClient, tableName: string) => LedgerPort;

/**
 * SDK clients for one CLI run. Region and credentials come from the SDK's usual chain unless
 * `--region` is given; `--endpoint-url` points every client at one endpoint (moto, LocalStack).
 */
export function createAwsServices(options: GlobalOptions, openLedger: LedgerFactory): CliServices {
  const config = {
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpointUrl ? { endpoint: options.endpointUrl } : {}),
  };
  const sts = new STSClient(config);
  return {
    secretsManager: new SecretsManagerClient(config),
    eks: new EKSClient(config),
    ledger: options.ledgerTable ? openLedger(new DynamoDBClient(config), options.ledgerTable) : undefined,
    async callerArn() {
      const out = await sts.send(new GetCallerIdentityCommand({})).catch((error: unknown) => {
        throw toAwsCallError('GetCallerIdentity', 'caller', error);
      });
      if (!out.Arn) throw toAwsCallError('GetCallerIdentity', 'caller', new Error('no Arn returned'));
      return out.Arn;
    },
  };
}
