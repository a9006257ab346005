/**
 * Tenant isolation (`TenancyConfig: PER_TENANT`): every invoke names a tenant (`X-Amz-Tenant-Id`), environments
 * are never shared between tenants, and the runtime sees the tenant (`Lambda-Runtime-Aws-Tenant-Id` →
 * `context.tenantId`).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CreateFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  waitUntilFunctionActiveV2,
} from '@aws-sdk/client-lambda';
import { rawZip } from '../helpers/raw-zip.ts';
import { ROLE, startApi } from './harness.ts';

const HANDLER = `
const environment = Math.random().toString(36).slice(2);
export const handler = async (event, context) => {
  console.log('tenant', context.tenantId);
  return { tenant: context.tenantId, environment };
};
`;

test('tenancy: PER_TENANT functions need a tenant id, run each tenant in its own environments, and pass it to the runtime', async (t) => {
  const h = await startApi(t);
  const zip = rawZip([{ name: 'index.mjs', data: HANDLER }]);
  for (const [name, tenancy] of [
    ['isolated', { TenancyConfig: { TenantIsolationMode: 'PER_TENANT' as const } }],
    ['shared', {}],
  ] as const) {
    await h.sdk.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'nodejs24.x',
        Role: ROLE,
        Handler: 'index.handler',
        Code: { ZipFile: zip },
        ...tenancy,
      }),
    );
    await waitUntilFunctionActiveV2({ client: h.sdk, maxWaitTime: 60, minDelay: 1 }, { FunctionName: name });
  }
  const config = await h.sdk.send(new GetFunctionConfigurationCommand({ FunctionName: 'isolated' }));
  assert.deepEqual(config.TenancyConfig, { TenantIsolationMode: 'PER_TENANT' });
  const plain = await h.sdk.send(new GetFunctionConfigurationCommand({ FunctionName: 'shared' }));
  assert.equal(plain.TenancyConfig, undefined);

  const invoke = async (name: string, tenant?: string) => {
    const r = await h.sdk.send(
      new InvokeCommand({ FunctionName: name, ...(tenant !== undefined ? { TenantId: tenant } : {}) }),
    );
    assert.equal(r.FunctionError, undefined);
    return JSON.parse(Buffer.from(r.Payload ?? []).toString()) as { tenant?: string; environment: string };
  };
  const blue = await invoke('isolated', 'blue');
  const green = await invoke('isolated', 'green');
  const blueAgain = await invoke('isolated', 'blue');
  assert.equal(blue.tenant, 'blue');
  assert.equal(green.tenant, 'green');
  assert.notEqual(green.environment, blue.environment, 'a tenant never gets another tenant’s environment');
  assert.equal(blueAgain.environment, blue.environment, 'a tenant’s warm environment is reused');
  assert.equal((await invoke('shared')).tenant, undefined);

  await assert.rejects(h.sdk.send(new InvokeCommand({ FunctionName: 'isolated' })), {
    name: 'InvalidParameterValueException',
    message:
      'The invoked function is enabled with tenancy configuration. Add a valid tenant ID in your request and try again.',
  });
  await assert.rejects(h.sdk.send(new InvokeCommand({ FunctionName: 'shared', TenantId: 'blue' })), {
    name: 'InvalidParameterValueException',
    message:
      'The invoked function is not enabled with tenancy configuration. Remove the tenant ID from your request and try again.',
  });
  await assert.rejects(h.sdk.send(new InvokeCommand({ FunctionName: 'isolated', TenantId: 'no\ttabs' })), {
    name: 'ValidationException',
  });

  // Event invocations keep their tenant through the queue.
  const queued = await h.sdk.send(
    new InvokeCommand({ FunctionName: 'isolated', TenantId: 'red', InvocationType: 'Event' }),
  );
  assert.equal(queued.StatusCode, 202);
  let lines: string[] = [];
  for (let i = 0; i < 200 && !lines.some((l) => l.includes('\ttenant red')); i++) {
    await new Promise((r) => setTimeout(r, 50));
    lines = [];
    for (const stream of await h.lambkin.logs.listStreams('/aws/lambda/isolated'))
      for (const e of await h.lambkin.logs.readEvents('/aws/lambda/isolated', stream.logStreamName))
        lines.push(e.message);
  }
  assert.ok(
    lines.some((l) => l.includes('\tINFO\ttenant red')),
    lines.join('\n'),
  );
});
