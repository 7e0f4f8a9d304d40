/**
 * What every integration *-iam test shares, so a test file keeps only its own part: the handler it
 * drives, the paths it sends down, the role and the actions it expects. Each test records the
 * commands a real handler sends to moto ({@link recordSentCommands}), turns them into the requests
 * IAM authorizes and asks the policy simulator whether the role of the stack cdk.json deploys
 * allows them (moto enforces no IAM, so a call the role lacks would otherwise first fail in AWS).
 */
import { randomUUID } from 'node:crypto';
import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, expect, inject, vi } from 'vitest';
import { localAwsEnvironment, localClient, localClients } from '../../harness/local-aws';
import { LOCAL_AWS } from '../../harness/moto-server';
import {
  actionsOf,
  allAllowed,
  decisionsFor,
  type IamRequest,
  iamRequestsOf,
  motoSecretArns,
  recordSentCommands,
  synthDeployedStack,
  type WorldMapping,
} from './aws-call-recorder';
import { captureOutput, type OutputCapture } from './output-capture';

/** How a test's moto world differs from the default (secrets looked up in moto, none rotated, no other resources). */
export interface WorldParts {
  readonly secretArn?: WorldMapping['secretArn'];
  readonly rotatedBy?: WorldMapping['rotatedBy'];
  /** The deployed ARN of each table, state machine or function the test made in moto, by moto's name or ARN. */
  readonly resources?: Readonly<Record<string, string>>;
}

/**
 * Registers the file's hooks (output captured from the first beforeAll, so a printed value shows in
 * {@link outputText}; the recorder, timers and environment restored after all) and synthesizes the
 * stack once, with `overrides` of cdk.json's `orchestrator` keys. Call it at the top of a test file.
 */
export function roleSimulation(overrides: Record<string, unknown> = {}) {
  // Skips aws-cdk-lib's built-in CloudFormation validation at synthesis: these tests read the
  // role policies of a template they never deploy.
  vi.stubEnv('CDK_VALIDATION', 'false');
  const endpoint = inject('motoEndpoint');
  const clients = localClients(endpoint);
  const recorder = recordSentCommands();
  const deployed = synthDeployedStack(overrides);
  let output: OutputCapture | undefined;
  beforeAll(() => {
    output = captureOutput();
  });
  afterAll(() => {
    output?.stop();
    recorder.restore();
    vi.useRealTimers();
    vi.unstubAllEnvs();
  });

  return {
    endpoint,
    clients,
    recorder,
    deployed,
    /** The deployed ledger table's ARN. */
    ledgerTable: deployed.arnOf(deployed.stack.ledger.table),
    /** The deployed rotation function's ARN. */
    rotationFunction: deployed.arnOf(deployed.stack.orchestrator.rotationFunction),
    /** The deployed propagation state machine's ARN (cdk.json configures clusters, so it exists). */
    propagationStateMachine(): string {
      const workflow = deployed.stack.propagation?.workflow.stateMachine;
      if (!workflow) throw new Error('the deployed stack has no propagation workflow');
      return deployed.refs[deployed.stack.resolve(workflow.stateMachineArn).Ref] ?? '';
    },
    /** What this process printed since the first beforeAll (for leak checks). */
    outputText: () => output?.text() ?? '',

    /**
     * A fresh module graph and the function's environment (moto's endpoint and credentials, then
     * `env`), so the handler imported next reads its config and builds its clients anew.
     */
    stubHandlerEnvironment(env: Readonly<Record<string, string>>): void {
      vi.resetModules();
      for (const [key, value] of Object.entries({ ...localAwsEnvironment(endpoint), ...env })) {
        vi.stubEnv(key, value);
      }
    },

    /** A moto state machine that only waits, for a handler that starts executions. */
    async createWaitingStateMachine(namePrefix: string): Promise<string> {
      const created = await localClient(SFNClient, endpoint).send(
        new CreateStateMachineCommand({
          name: `${namePrefix}-${randomUUID().slice(0, 8)}`,
          definition: JSON.stringify({
            StartAt: 'Wait',
            States: { Wait: { Type: 'Wait', Seconds: 3600, End: true } },
          }),
          roleArn: `arn:aws:iam::${LOCAL_AWS.accountId}:role/states`,
        }),
      );
      return created.stateMachineArn ?? '';
    },

    /**
     * Takes the commands recorded so far, expects their distinct actions to be exactly `actions`
     * (the paths driven must reach AWS at all, or the test proves nothing) and every request they
     * make to be Allowed for the role whose logical id matches `role`. Returns the requests for the
     * test's own checks.
     */
    async expectRoleAllows(role: RegExp, actions: readonly string[], world: WorldParts = {}) {
      const resources = new Map(Object.entries(world.resources ?? {}));
      const requests: IamRequest[] = await iamRequestsOf(recorder.sent.splice(0), {
        secretArn: world.secretArn ?? motoSecretArns(clients.secretsManager),
        rotatedBy: world.rotatedBy ?? (() => undefined),
        resourceArn: (name) => resources.get(name) ?? `unknown resource ${name}`,
      });
      expect(actionsOf(requests)).toEqual(actions);
      expect(await decisionsFor(deployed, role, requests)).toEqual(allAllowed(requests));
      return requests;
    },
  };
}
