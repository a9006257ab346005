/**
 * The tutorial's "From the UI" path in real Chromium against a live Lambkin: create a layer by uploading a
 * custom-runtime zip, create a function on provided.al2023 with a handler written in the editor, add the layer by
 * its version ARN, save, run a test event, and read the result, the REPORT figures and the logs. Screenshots of
 * each step go to test-artifacts/console/.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { FIXTURES } from '../engine/harness.ts';
import { zipDirectory } from '../helpers/zip-dir.ts';
import { ARTIFACTS, startConsole } from './harness.ts';

test('console: layer upload → custom-runtime function → add layer by ARN → save → test event → result and logs', async (t) => {
  const h = await startConsole(t);
  const { page } = h;
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const layerZip = await zipDirectory(join(FIXTURES, 'sh-runtime'), join(h.dir, 'sh-runtime.zip'));

  // 1. Layers → Create layer: name, description, the runtime zip, compatible runtimes left empty.
  await page.goto(`${h.url}/#/layers`);
  await page.getByRole('heading', { name: 'Layers' }).waitFor();
  await page.getByRole('link', { name: 'Create layer' }).click();
  await page.getByLabel('Name').fill('sh-runtime');
  await page.getByLabel('Description (optional)').fill('A custom runtime in POSIX shell');
  await page.locator('#layer-zip').setInputFiles(layerZip);
  await page.getByText('sh-runtime.zip').waitFor();
  await h.shot('01-create-layer');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.getByText('Version 1 created.').waitFor();
  const arn = 'arn:aws:lambda:us-east-1:000000000000:layer:sh-runtime:1';
  await page.locator('td.arn code', { hasText: arn }).waitFor();
  await h.shot('02-layer-created');

  // 2. Functions → Create function → Author from scratch: provided.al2023, a shell handler typed in the editor.
  await page.getByRole('link', { name: 'Functions', exact: true }).click();
  await page.getByRole('link', { name: 'Create function' }).first().click();
  await page.getByLabel('Function name').fill('hello');
  assert.equal(await page.getByLabel('Runtime').inputValue(), 'provided.al2023');
  assert.equal(await page.getByLabel('Handler').inputValue(), 'function.handler');
  await page.getByLabel('File name').fill('function.sh');
  await page
    .getByLabel('Code', { exact: true })
    .fill('handler() {\n  echo "hello from the console: $1" >&2\n  printf \'{"hello":%s}\' "$1"\n}\n');
  await h.shot('03-create-function');
  await page.getByRole('button', { name: 'Create function' }).click();
  await page.getByRole('heading', { name: 'hello' }).waitFor();
  await page.locator('.meta .badge', { hasText: 'Active' }).waitFor();

  // 3. Configuration → Layers → Add a layer → Provide a layer version ARN → Save.
  await page.getByRole('link', { name: 'Configuration' }).click();
  await page.getByRole('button', { name: 'Add a layer' }).click();
  await page.getByLabel('Provide a layer version ARN').check();
  await page.getByRole('textbox', { name: 'Layer version ARN' }).fill(arn);
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.locator('.layer-list code', { hasText: arn }).waitFor();
  await page.getByLabel('Memory (MB)').fill('256');
  await h.shot('04-add-layer');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  const saved = (await (await fetch(`${h.url}/2015-03-31/functions/hello`)).json()) as {
    Configuration: { Layers: { Arn: string }[]; MemorySize: number };
  };
  assert.deepEqual(
    saved.Configuration.Layers.map((l) => l.Arn),
    [arn],
  );
  assert.equal(saved.Configuration.MemorySize, 256);

  // 4. Test: a named event, saved in the browser, invoked; the result, the REPORT figures and the log tail.
  await page.getByRole('link', { name: 'Test' }).click();
  await page.getByLabel('Event name').fill('from-console');
  await page.getByLabel('Event JSON').fill('{"from":"console"}');
  await page.getByRole('button', { name: 'Save event' }).click();
  await page.getByRole('button', { name: 'Test', exact: true }).click();
  await page.getByRole('heading', { name: 'Execution result: succeeded' }).waitFor();
  const response = await page.getByTestId('invoke-response').textContent();
  assert.deepEqual(JSON.parse(response ?? ''), { hello: { from: 'console' } });
  const logs = (await page.getByTestId('invoke-logs').textContent()) ?? '';
  assert.match(logs, /START RequestId: [0-9a-f-]{36} Version: \$LATEST/);
  assert.match(logs, /hello from the console: \{"from":"console"\}/);
  assert.match(logs, /REPORT RequestId: .*Duration: .*Init Duration: /);
  const figures = page.locator('.figures');
  await figures.getByText('256 MB').waitFor();
  assert.doesNotMatch((await figures.textContent()) ?? '', /warm start/); // the first invoke is a cold start
  await h.shot('05-test-result');
  const stored = await page.evaluate(() => localStorage.getItem('lambkin.testEvents.hello'));
  assert.deepEqual(JSON.parse(stored ?? '{}'), { 'from-console': '{"from":"console"}' });

  // A second invoke is warm: no Init Duration.
  await page.getByRole('button', { name: 'Test', exact: true }).click();
  await page.locator('.figures dd', { hasText: 'warm start' }).waitFor();

  // 5. Monitor: the environment that ran it (warm), the chart from the REPORT lines, live logs.
  await page.getByRole('link', { name: 'Monitor' }).click();
  const envRow = page.locator('section[aria-labelledby="envs-title"] tbody tr');
  await envRow.first().waitFor();
  assert.equal(await envRow.count(), 1);
  assert.match((await envRow.first().textContent()) ?? '', /warm.*\$LATEST|\$LATEST.*warm/);
  const logsApi = await fetch(`${h.url}/`, {
    method: 'POST',
    headers: { 'x-amz-target': 'Logs_20140328.FilterLogEvents', 'content-type': 'application/x-amz-json-1.1' },
    body: JSON.stringify({ logGroupName: '/aws/lambda/hello' }),
  });
  if (logsApi.ok) {
    await page.locator('.logview', { hasText: 'hello from the console' }).waitFor();
    await page.locator('.chart figcaption', { hasText: '2 invocations, 0 errors' }).waitFor();
  } else {
    t.diagnostic(`the CloudWatch Logs API is not served yet (HTTP ${logsApi.status}): live logs not checked`);
  }
  await h.shot('06-monitor');
  // The README's picture (docs/images/console.png is a copy): the viewport only, at 1200×820.
  await page.screenshot({ path: join(ARTIFACTS, 'readme-console.png') });

  // 6. A narrow window keeps everything reachable.
  await page.setViewportSize({ width: 390, height: 800 });
  await page.getByRole('link', { name: 'Test' }).click();
  await page.getByRole('button', { name: 'Test', exact: true }).waitFor();
  const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px at 390px`);
  await h.shot('07-narrow');

  assert.deepEqual(pageErrors, []);
  assert.deepEqual(h.offOrigin, [], 'the console must not reach outside its own origin');
});
