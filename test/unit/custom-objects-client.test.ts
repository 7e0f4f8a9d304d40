import { describe, expect, it } from 'vitest';
import { CustomObjectsClient } from '../../shared/kubernetes/custom-objects-client';
import type { KubernetesTransport } from '../../shared/kubernetes/kubernetes-transport';

function recording(): { transport: KubernetesTransport; paths: string[] } {
  const paths: string[] = [];
  const transport = {
    send: async (request: { path: string }) => {
      paths.push(request.path);
      return { status: 200, text: '{"items":[]}' };
    },
  } as unknown as KubernetesTransport;
  return { transport, paths };
}

describe('CustomObjectsClient paths', () => {
  it('puts named groups under /apis and the core group under /api', async () => {
    const { transport, paths } = recording();
    const client = new CustomObjectsClient(transport);
    await client.list({ group: 'apps', version: 'v1', plural: 'deployments' }, { namespace: 'team-a' });
    await client.list({ group: '', version: 'v1', plural: 'pods' }, { namespace: 'team-a' });
    await client.get({ group: 'batch', version: 'v1', plural: 'cronjobs' }, 'nightly', 'team-a');
    expect(paths).toEqual([
      '/apis/apps/v1/namespaces/team-a/deployments',
      '/api/v1/namespaces/team-a/pods',
      '/apis/batch/v1/namespaces/team-a/cronjobs/nightly',
    ]);
  });

  it('sends a field selector, a limit and a continue token when given', async () => {
    const { transport, paths } = recording();
    await new CustomObjectsClient(transport).list(
      { group: '', version: 'v1', plural: 'pods' },
      { namespace: 'ns', limit: 500, continue: 'abc', fieldSelector: 'status.phase!=Succeeded' },
    );
    const url = new URL(paths[0] ?? '', 'https://cluster');
    expect(url.pathname).toBe('/api/v1/namespaces/ns/pods');
    expect(url.searchParams.get('fieldSelector')).toBe('status.phase!=Succeeded');
    expect(url.searchParams.get('limit')).toBe('500');
    expect(url.searchParams.get('continue')).toBe('abc');
  });
});

describe('CustomObjectsClient lists', () => {
  it('reads `items: null` (a metadata-only list of nothing, as kube-apiserver sends it) as no items', async () => {
    const transport = {
      send: async () => ({
        status: 200,
        text: '{"kind":"PartialObjectMetadataList","apiVersion":"meta.k8s.io/v1","metadata":{},"items":null}',
      }),
    } as unknown as KubernetesTransport;
    const list = await new CustomObjectsClient(transport).list(
      { group: '', version: 'v1', plural: 'pods' },
      { namespace: 'empty', accept: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1' },
    );
    expect(list.items).toEqual([]);
  });

  it('refuses a 200 answer that is not a list (no array of items), rather than read it as empty', async () => {
    const transport = {
      send: async () => ({ status: 200, text: '{"kind":"Status","status":"Success"}' }),
    } as unknown as KubernetesTransport;
    const failure = await new CustomObjectsClient(transport)
      .list({ group: 'external-secrets.io', version: 'v1', plural: 'externalsecrets' })
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({ httpStatus: 200, reason: 'ResponseNotList' });
  });
});
