/**
 * The console as `lambkin serve` serves it (size, caching, headers, routing beside the Lambda API), and the
 * browser-side pieces that also run in Node: the zip writer/reader, the SigV4 signer (checked against the
 * server's verifier), the REPORT parser.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import yauzl from 'yauzl';
import yazl from 'yazl';
import { bucketize, errorRequestIds, parseReport } from '../../src/console/app/report.ts';
import { signV4 } from '../../src/console/app/sigv4.ts';
import { crc32, readZip, storedZip } from '../../src/console/app/zip.ts';
import { parseConfig } from '../../src/platform/config.ts';
import { startLambkin } from '../../src/platform/server.ts';
import { builtConsole } from './harness.ts';

const JS_GZIP_LIMIT = 150 * 1024;

async function serve(t: TestContext, flags: Record<string, string> = {}, env: NodeJS.ProcessEnv = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-console-assets-'));
  const { dir: consoleDir } = await builtConsole();
  const lambkin = await startLambkin(parseConfig({ port: 0, dataDir: join(dir, 'data'), ...flags }, env), {
    consoleDir,
  });
  t.after(async () => {
    await lambkin.close();
    await rm(dir, { recursive: true, force: true });
  });
  return lambkin.url;
}

test('console build: the JavaScript is under 150 KB gzipped', async () => {
  const { dir, manifest } = await builtConsole();
  const js = await readFile(join(dir, 'assets', manifest.js));
  assert.equal(gzipSync(js, { level: 9 }).length, manifest.jsGzipBytes);
  assert.ok(manifest.jsGzipBytes < JS_GZIP_LIMIT, `console JS is ${manifest.jsGzipBytes} bytes gzipped`);
});

test('console serving: GET / is the page, assets are hashed, gzipped and immutable; the Lambda API is untouched', async (t) => {
  const url = await serve(t);
  const { manifest } = await builtConsole();
  const page = await fetch(`${url}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'self'/);
  const html = await page.text();
  assert.match(html, /<meta name="lambkin-config" content="\{&quot;region&quot;:&quot;us-east-1&quot;/);
  assert.ok(html.includes(`/console/assets/${manifest.js}`));

  const js = await fetch(`${url}/console/assets/${manifest.js}`, { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(js.status, 200);
  assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.ok((await js.arrayBuffer()).byteLength > 0);
  const raw = await new Promise<{ encoding: string | undefined; length: number }>((resolve, reject) => {
    void import('node:http').then(({ get }) =>
      get(`${url}/console/assets/${manifest.js}`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({ encoding: res.headers['content-encoding'], length: gunzipSync(Buffer.concat(chunks)).length });
        });
      }).on('error', reject),
    );
  });
  assert.deepEqual(raw, { encoding: 'gzip', length: manifest.jsBytes });

  assert.equal((await fetch(`${url}/console/assets/..%2Fmanifest.json`)).status, 404);
  assert.equal((await fetch(`${url}/console/assets/nope.js`)).status, 404);

  const list = await fetch(`${url}/2015-03-31/functions`);
  assert.equal(list.status, 200);
  assert.deepEqual(await list.json(), { Functions: [] });
  const layers = await fetch(`${url}/2018-10-31/layers`);
  assert.deepEqual(await layers.json(), { Layers: [] });
  const unknown = await fetch(`${url}/nope`);
  assert.equal(unknown.headers.get('x-amzn-errortype'), 'UnknownOperationException');
  const post = await fetch(`${url}/`, { method: 'POST', body: '{}' });
  assert.notEqual(post.headers.get('content-type'), 'text/html; charset=utf-8');

  const envs = await fetch(`${url}/_lambkin/environments?FunctionName=none`);
  assert.deepEqual(await envs.json(), { Environments: [] });
});

test('console SigV4 (WebCrypto) is accepted by the server under --auth strict; unsigned is refused', async (t) => {
  const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret/with+chars' };
  const url = await serve(
    t,
    { auth: 'strict' },
    { LAMBKIN_ACCESS_KEY_ID: credentials.accessKeyId, LAMBKIN_SECRET_ACCESS_KEY: credentials.secretAccessKey },
  );
  const signed = async (method: string, path: string, body = '', headers: Record<string, string> = {}) => {
    const target = new URL(path, url);
    const auth = await signV4(
      { method, url: target, headers, body, region: 'us-east-1', service: 'lambda' },
      credentials,
    );
    return fetch(target, { method, headers: { ...headers, ...auth }, ...(body !== '' ? { body } : {}) });
  };
  assert.equal((await signed('GET', '/2015-03-31/functions?MaxItems=5&FunctionVersion=ALL')).status, 200);
  assert.equal((await signed('GET', '/_lambkin/environments?FunctionName=a%3Ab')).status, 200);
  const publish = await signed(
    'POST',
    '/2018-10-31/layers/signed/versions',
    JSON.stringify({ Content: { ZipFile: Buffer.from(storedZip([{ name: 'x', data: 'y' }])).toString('base64') } }),
    { 'content-type': 'application/json' },
  );
  assert.equal(publish.status, 201, await publish.clone().text());
  const unsigned = await fetch(`${url}/_lambkin/environments`);
  assert.equal(unsigned.status, 403);
  assert.equal(unsigned.headers.get('x-amzn-errortype'), 'InvalidSignatureException');
});

test('zip: storedZip writes what zip readers read (names, modes, CRC); readZip reads deflated archives', async () => {
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  const zip = storedZip([
    { name: 'index.ts', data: 'export const handler = () => "héllo";\n' },
    { name: 'bin/tool', data: new Uint8Array([0, 1, 2, 255]), mode: 0o100755 },
  ]);
  const entries = await new Promise<{ name: string; mode: number; data: Buffer }[]>((resolve, reject) => {
    yauzl.fromBuffer(Buffer.from(zip), { lazyEntries: true, validateEntrySizes: true }, (err, file) => {
      if (err !== null) {
        reject(err);
        return;
      }
      const out: { name: string; mode: number; data: Buffer }[] = [];
      file.on('entry', (entry: yauzl.Entry) => {
        file.openReadStream(entry, (e, stream) => {
          if (e !== null) {
            reject(e);
            return;
          }
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            out.push({ name: entry.fileName, mode: entry.externalFileAttributes >>> 16, data: Buffer.concat(chunks) });
            file.readEntry();
          });
        });
      });
      file.on('end', () => {
        resolve(out);
      });
      file.readEntry();
    });
  });
  assert.deepEqual(
    entries.map((e) => [e.name, e.mode.toString(8), e.data.toString('hex')]),
    [
      ['index.ts', '100644', Buffer.from('export const handler = () => "héllo";\n').toString('hex')],
      ['bin/tool', '100755', '000102ff'],
    ],
  );
  // Same input, same bytes (so the same CodeSha256).
  assert.deepEqual(storedZip([{ name: 'a', data: 'b' }]), storedZip([{ name: 'a', data: 'b' }]));

  const deflated = new yazl.ZipFile();
  deflated.addBuffer(Buffer.from('a'.repeat(10_000)), 'big.txt', { compress: true, mode: 0o100600 });
  deflated.end();
  const chunks: Buffer[] = [];
  for await (const c of deflated.outputStream) chunks.push(c as Buffer);
  const [big] = readZip(new Uint8Array(Buffer.concat(chunks)));
  assert.equal(big?.name, 'big.txt');
  assert.equal(big.mode, 0o100600);
  assert.equal(new TextDecoder().decode(await big.read()), 'a'.repeat(10_000));
  assert.throws(() => readZip(new Uint8Array(100)), /not a zip file/);
});

test('report: REPORT lines give the figures; the chart buckets invocations, errors and durations', () => {
  const id = '4b790a12-b81f-489b-a0c8-4e419b1ef0bb';
  const cold = `REPORT RequestId: ${id}\tDuration: 16.80 ms\tBilled Duration: 37 ms\tMemory Size: 256 MB\tMax Memory Used: 4 MB\tInit Duration: 19.47 ms\t`;
  assert.deepEqual(parseReport(`START RequestId: ${id} Version: $LATEST\n${cold}\n`), {
    requestId: id,
    durationMs: 16.8,
    billedDurationMs: 37,
    memorySizeMb: 256,
    maxMemoryUsedMb: 4,
    initDurationMs: 19.47,
  });
  const timeout = `REPORT RequestId: ${id}\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 9 MB\tStatus: timeout`;
  assert.equal(parseReport(timeout)?.status, 'timeout');
  assert.equal(parseReport('no report here'), null);

  const end = 3_600_000;
  const other = '11111111-2222-3333-4444-555555555555';
  const events = [
    { timestamp: end - 10, message: cold },
    { timestamp: end - 20, message: timeout },
    { timestamp: end - 30, message: `2024-01-01T00:00:00.000Z\t${other}\tERROR\tInvoke Error` },
    { timestamp: end - 40, message: cold.replace(id, other).replace('16.80', '3.20') },
    { timestamp: 5, message: cold },
    { timestamp: end + 5, message: cold }, // outside the window
  ];
  const buckets = bucketize(events, end, 3_600_000, 30, errorRequestIds(events));
  assert.equal(buckets.length, 30);
  const last = buckets.at(-1);
  assert.equal(last?.invocations, 3);
  assert.equal(last.errors, 2);
  assert.equal(last.maxDurationMs, 3000);
  assert.equal(last.avgDurationMs.toFixed(2), ((16.8 + 3000 + 3.2) / 3).toFixed(2));
  assert.equal(buckets[0]?.invocations, 1);
  assert.equal(
    buckets.reduce((n, b) => n + b.invocations, 0),
    4,
  );
});
