/**
 * API errors appear next to the field that caused them, with the AWS exception and message; with
 * `--auth strict` the console asks for the access key pair and signs its requests (SigV4 in WebCrypto).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ROLE, tinyZip } from '../api/harness.ts';
import { startConsole } from './harness.ts';

test('console: API errors show by their field — bad function name, duplicate name, memory out of range', async (t) => {
  const h = await startConsole(t);
  const { page } = h;
  const created = await fetch(`${h.url}/2015-03-31/functions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      FunctionName: 'taken',
      Role: ROLE,
      Runtime: 'provided.al2023',
      Handler: 'function.handler',
      Code: { ZipFile: tinyZip('taken').toString('base64') },
    }),
  });
  assert.equal(created.status, 201);

  await page.goto(`${h.url}/#/functions/new`);
  const name = page.getByLabel('Function name');
  const nameError = page.locator('#fn-name-error');

  await name.fill('not a valid name!');
  await page.getByRole('button', { name: 'Create function' }).click();
  await nameError.waitFor();
  assert.match((await nameError.textContent()) ?? '', /ValidationException: .*functionName/);
  assert.equal(await name.getAttribute('aria-invalid'), 'true');
  await h.shot('08-error-bad-name');

  await name.fill('taken');
  await page.getByRole('button', { name: 'Create function' }).click();
  await nameError.filter({ hasText: 'ResourceConflictException: Function already exist: taken' }).waitFor();
  await h.shot('09-error-duplicate');

  // An error from UpdateFunctionConfiguration lands by the memory field, not in a banner.
  await page.goto(`${h.url}/#/functions/taken/configuration`);
  await page.getByLabel('Memory (MB)').fill('64');
  await page.getByRole('button', { name: 'Save' }).click();
  const memoryError = page.locator('#cfg-memory-error');
  await memoryError.waitFor();
  assert.match(
    (await memoryError.textContent()) ?? '',
    /ValidationException: .*memorySize.*greater than or equal to 128/,
  );
  assert.deepEqual(h.offOrigin, []);
});

test('console: every form control has a label, and the create form works from the keyboard alone', async (t) => {
  const h = await startConsole(t);
  const { page } = h;
  await page.goto(`${h.url}/#/functions/new`);
  await page.getByLabel('Function name').waitFor();
  await page.getByRole('button', { name: 'Add environment variable' }).click();
  await page.getByRole('button', { name: 'Add a layer' }).click();
  // A string, so the page's DOM types stay out of the Node test's type world.
  const unlabelled = await page.evaluate<string[]>(`[...document.querySelectorAll('input, select, textarea')]
    .filter((el) => el.labels.length === 0 && el.getAttribute('aria-label') === null)
    .map((el) => el.outerHTML.slice(0, 120))`);
  assert.deepEqual(unlabelled, []);

  // Keyboard only: the skip link, then focus moves through the form in order and Enter submits.
  const fresh = await h.context.newPage();
  t.after(() => fresh.close());
  await fresh.goto(`${h.url}/#/functions/new`);
  await fresh.getByLabel('Function name').waitFor();
  await fresh.keyboard.press('Tab');
  assert.equal(await fresh.evaluate<string>('document.activeElement.textContent'), 'Skip to content');
  // Tab on (skip link, brand, nav, …) until the name field has focus.
  for (let i = 0; i < 10 && (await fresh.evaluate<string>('document.activeElement.id')) !== 'fn-name'; i++) {
    await fresh.keyboard.press('Tab');
  }
  assert.equal(await fresh.evaluate<string>('document.activeElement.id'), 'fn-name');
  await fresh.keyboard.type('from-keyboard');
  await fresh.keyboard.press('Enter');
  await fresh.getByRole('heading', { name: 'from-keyboard' }).waitFor();
});

test('console: with --auth strict it asks for the access key pair, then signs every request', async (t) => {
  const h = await startConsole(t, {
    flags: { auth: 'strict' },
    env: { LAMBKIN_ACCESS_KEY_ID: 'AKIDCONSOLE', LAMBKIN_SECRET_ACCESS_KEY: 'console-secret' },
  });
  const { page } = h;
  assert.equal((await fetch(`${h.url}/2015-03-31/functions`)).status, 403);
  await page.goto(`${h.url}/`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();

  await page.getByLabel('Access key ID').fill('AKIDCONSOLE');
  await page.getByLabel('Secret access key').fill('wrong-secret');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText(/InvalidSignatureException: The request signature we calculated does not match/).waitFor();
  await h.shot('10-strict-sign-in');

  await page.getByLabel('Access key ID').fill('AKIDCONSOLE');
  await page.getByLabel('Secret access key').fill('console-secret');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Functions' }).waitFor();
  await page.getByText('No functions yet.').waitFor();
  // Signed Lambda (POST with a body) and Lambkin requests work too.
  await page.getByRole('link', { name: 'Create function' }).first().click();
  await page.getByLabel('Function name').fill('signed');
  await page.getByRole('button', { name: 'Create function' }).click();
  await page.getByRole('heading', { name: 'signed' }).waitFor();
  await page.getByRole('link', { name: 'Monitor' }).click();
  await page.getByText('None alive: the next invoke is a cold start.').waitFor();
  assert.equal(await page.locator('.error').count(), 0, (await page.locator('.error').allTextContents()).join('\n'));
});
