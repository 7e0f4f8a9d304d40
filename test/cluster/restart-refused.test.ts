import { randomUUID } from 'node:crypto';
import { AdmissionregistrationV1Api, KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restartedMarkerKey } from '../../shared/propagation/markers';
import { advanceRestartsStep } from '../../shared/workflow/restart-steps';
import { clusterFixture } from '../support/cluster-fixture';
import { namespaceAdvanceInput } from '../support/namespace-advance-input';
import { unreadSecrets } from '../support/unread-secrets';

/**
 * A restart the API server refuses for one workload (review 56, finding 3), in the real API server:
 * a change-freeze policy of the cluster's owners (a ValidatingAdmissionPolicy, as users write them)
 * denies every update of one Deployment. The restart step, called directly through the real
 * adapter as rbac.yaml's identity, names that one as refused with the API server's status and
 * restarts the others; before, the 403 failed the whole call and named nobody.
 */
const fx = clusterFixture();
const run = randomUUID().slice(0, 6);
const SECRET = `wf/${run}/db`;
const VERSION = '0f8b5a8e-3c1d-4a1b-9e2f-123456789abc';
const POLICY = `test-change-freeze-${run}`;
const admission = fx.admin.makeApiClient(AdmissionregistrationV1Api);
const objects = KubernetesObjectApi.makeApiClient(fx.admin);
let namespace: string;

beforeAll(async () => {
  namespace = `refused-${run}`;
  await fx.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  await fx.consumingDeployments(namespace, 'db-secret', ['api', 'frozen', 'worker']);
  await admission.createValidatingAdmissionPolicy({
    body: {
      metadata: { name: POLICY },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [
            { apiGroups: ['apps'], apiVersions: ['v1'], operations: ['UPDATE'], resources: ['deployments'] },
          ],
        },
        validations: [
          { expression: "object.metadata.name != 'frozen'", reason: 'Forbidden', message: 'change freeze' },
        ],
      },
    },
  });
  await admission.createValidatingAdmissionPolicyBinding({
    body: {
      metadata: { name: POLICY },
      spec: {
        policyName: POLICY,
        validationActions: ['Deny'],
        matchResources: {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
        },
      },
    },
  });
  // The API server enforces a new policy once its informers have it: wait for a refused dry run.
  await fx.eventually(
    'the change-freeze policy to refuse',
    async () => {
      const refused = await objects
        .patch(
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name: 'frozen', namespace, annotations: { probe: run } },
          },
          undefined,
          'All',
          undefined,
          undefined,
          PatchStrategy.MergePatch,
        )
        .then(
          () => false,
          () => true,
        );
      return refused ? true : undefined;
    },
    30_000,
  );
}, 90_000);

afterAll(async () => {
  await admission.deleteValidatingAdmissionPolicyBinding({ name: POLICY }).catch(() => undefined);
  await admission.deleteValidatingAdmissionPolicy({ name: POLICY }).catch(() => undefined);
});

describe('a restart the API server refuses (real API server)', () => {
  it('names the refused workload with the HTTP status and restarts the others', async () => {
    const progress = await advanceRestartsStep(namespaceAdvanceInput(namespace, SECRET, VERSION), {
      clusterFor: async () => fx.asRotator(),
      requireOptIn: false,
      secrets: unreadSecrets,
      syncTimeoutMs: 300_000,
      rolloutTimeoutMs: 600_000,
      rolloutPollBudgetMs: 0,
      now: () => new Date(),
    });

    expect(progress).toMatchObject({ inFlight: 2, pending: 0 });
    expect(progress.refused).toEqual({
      count: 1,
      items: [
        {
          ref: { kind: 'Deployment', namespace, name: 'frozen' },
          reason: 'the API server refused its restart (HTTP 403 Forbidden)',
        },
      ],
    });
    const markers = Object.fromEntries(
      (await fx.asRotator().listWorkloads(namespace, ['Deployment'])).map((w) => [
        w.name,
        w.podTemplateAnnotations[restartedMarkerKey(SECRET)],
      ]),
    );
    expect(markers).toEqual({ api: `${VERSION}#1`, frozen: undefined, worker: `${VERSION}#1` });
  }, 30_000);
});
