/**
 * Signed code download URLs: valid for 10 minutes, bound to their blob, refused when altered or expired.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CodeUrls } from './code-urls.ts';

const SHA = 'ab'.repeat(32);

function parts(url: string): { path: string; query: URLSearchParams } {
  const u = new URL(url);
  return { path: u.pathname, query: u.searchParams };
}

test('code urls: a signed URL names its blob for 10 minutes, then expires', () => {
  let now = 1_700_000_000_000;
  const urls = new CodeUrls({ publicUrl: 'http://127.0.0.1:9777/', now: () => now });
  const url = urls.sign('function:f:$LATEST', SHA);
  assert.match(
    url,
    /^http:\/\/127\.0\.0\.1:9777\/_lambkin\/code\/function%3Af%3A%24LATEST\/(ab){32}\?Expires=\d+&Signature=[0-9a-f]{64}$/,
  );
  const { path, query } = parts(url);
  assert.equal(urls.verify(path, query), SHA);
  now += 9 * 60_000;
  assert.equal(urls.verify(path, query), SHA);
  now += 2 * 60_000;
  assert.equal(urls.verify(path, query), null, 'expired after 10 minutes');
});

test('code urls: another blob, resource, expiry or key does not verify', () => {
  const urls = new CodeUrls({ publicUrl: 'http://h' });
  const { path, query } = parts(urls.sign('layer:l:1', SHA));
  assert.equal(urls.verify(path.replace(/ab$/, 'ac'), query), null);
  assert.equal(urls.verify(path.replace('layer%3Al%3A1', 'layer%3Al%3A2'), query), null);
  const later = new URLSearchParams(query);
  later.set('Expires', String(Number(query.get('Expires')) + 3600));
  assert.equal(urls.verify(path, later), null);
  assert.equal(new CodeUrls({ publicUrl: 'http://h' }).verify(path, query), null, 'a restart makes a new key');
  assert.equal(urls.verify('/_lambkin/code/%E0%A4%A/x', query), null);
  assert.equal(urls.verify(path, new URLSearchParams()), null);
});
