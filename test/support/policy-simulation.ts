import { runSimulation, runUnsafeSimulation } from '@cloud-copilot/iam-simulate';

/** One request to evaluate against a role's identity policies (and a resource policy, if any). */
export interface SimulatedRequest {
  readonly identityPolicies: readonly { readonly name: string; readonly policy: unknown }[];
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  readonly accountId: string;
  readonly context: Readonly<Record<string, string>>;
  readonly resourcePolicy?: object | undefined;
}

/**
 * The simulator's decision (`Allowed`, `ImplicitlyDenied`, `ExplicitlyDenied`) for a request, in
 * strict mode: a malformed request (unknown action, wrong resource type or context key) throws
 * rather than passing as a denial.
 */
export async function simulatedDecision(request: SimulatedRequest): Promise<string> {
  const simulation = {
    identityPolicies: [...request.identityPolicies],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: request.resourcePolicy,
    request: {
      principal: request.principal,
      action: request.action,
      resource: { resource: request.resource, accountId: request.accountId },
      contextVariables: { ...request.context },
    },
  };
  const result = await runSimulation(simulation, { simulationMode: 'Strict' });
  if (result.resultType === 'error') throw new Error(`simulation failed: ${JSON.stringify(result.errors)}`);
  const ignored = result.resultType === 'single' ? (result.result.ignoredContextKeys ?? []) : [];
  // The simulator's key filter recognizes a variable key only at a '/' (aws:PrincipalTag/x), so it
  // drops kms:EncryptionContext:<key>, a key the Service Authorization Reference lists for
  // kms:Decrypt and kms:GenerateDataKey. Once the request above is validated, evaluate exactly
  // what was given; any other dropped key is a mistake in the test.
  if (ignored.some((key) => !key.startsWith('kms:EncryptionContext:'))) {
    throw new Error(`simulation ignored context keys: ${ignored.join(', ')}`);
  }
  if (ignored.length === 0) return result.overallResult;
  // The unsafe engine loads the key policy without a name and then reads it; a validated-policy
  // wrapper carries one.
  const keyPolicy = simulation.resourcePolicy && {
    __validated: true,
    policyDocument: simulation.resourcePolicy,
    metadata: { name: 'key policy' },
  };
  return runUnsafeSimulation({ ...simulation, resourcePolicy: keyPolicy }, {});
}
