/**
 * Conformance: the same JavaScript handler fixtures through the Lambkin runtime and through AWS's official Node
 * runtime client (aws-lambda-ric@4.0.2, used unchanged as the nodejs24.x runtime), both on Lambkin. Responses,
 * error bodies and log lines are compared; intended differences are listed in docs/specification.md.
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ricRuntimeDir } from './ric-runtime.ts';
import { buildRuntimeDir } from '../../src/cli/commands/runtime-build.ts';
import type { InvokeResult } from '../../src/platform/invoke/types.ts';
import { startEngine, type Harness } from '../engine/harness.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const FUNCTIONS = join(ROOT, 'test/fixtures/functions');
const INTENDED_MESSAGE_DIFFERENCES = new Set(['missing-handler nofile.handler', 'callback-on-24 index.handler']);

/** Runtime directories: Lambkin's bundle, and aws-lambda-ric with its runtime dependency. */
async function runtimes(t: TestContext): Promise<{ lambkin: string; ric: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-conformance-'));
  await chmod(dir, 0o755);
  t.after(() => rm(dir, { recursive: true, force: true }));
  const lambkin = join(dir, 'lambkin');
  await buildRuntimeDir(lambkin);
  const ric = await ricRuntimeDir(dir);
  return { lambkin, ric };
}

async function engines(t: TestContext): Promise<{ ours: Harness; theirs: Harness }> {
  const dirs = await runtimes(t);
  const langDir = dirname(dirname(process.execPath));
  return {
    ours: await startEngine(t, { managedRuntimeDir: dirs.lambkin, langDir }),
    theirs: await startEngine(t, { managedRuntimeDir: dirs.ric, langDir }),
  };
}

function invoke(h: Harness, fixture: string, handler: string, payload: unknown): Promise<InvokeResult> {
  const spec = h.spec({
    name: `${fixture}-${handler.replace(/\W/g, '-')}`.slice(0, 64),
    code: join(FUNCTIONS, fixture),
    layers: [],
    handler,
    runtime: 'nodejs24.x',
  });
  return h.invoke(spec, payload, true);
}

/** Log lines of the function itself (platform lines dropped), with times and request ids normalised. */
function functionLines(r: InvokeResult): string[] {
  return (
    (r.logTail ?? '')
      .split('\n')
      .filter((l) => l !== '' && !/^(INIT_START|START|END|REPORT|INIT_REPORT)\b/.test(l))
      .map((l) => l.replaceAll(r.requestId, '<id>').replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/, '<time>'))
      // Frames below the handler are the runtime's own: their number differs by design.
      .map((l) => l.replace(/(\r {4}at [^\r]*)+/g, '\r<frames>'))
  );
}

function parse(r: InvokeResult): Record<string, unknown> {
  return JSON.parse(r.payload.toString()) as Record<string, unknown>;
}

test('conformance: successful responses are byte-identical', async (t) => {
  const { ours, theirs } = await engines(t);
  for (const [fixture, handler, payload] of [
    ['esm-async', 'index.handler', { a: [1, 2, { b: null }] }],
    ['nested', 'dir/sub/plain.deep.handler', {}],
  ] as const) {
    const [a, b] = [await invoke(ours, fixture, handler, payload), await invoke(theirs, fixture, handler, payload)];
    assert.equal(a.functionError, b.functionError, `${fixture}.${handler}`);
    assert.equal(a.payload.toString(), b.payload.toString(), `${fixture}.${handler}`);
  }
});

test('conformance: function errors have the same errorType, errorMessage and trace shape', async (t) => {
  const { ours, theirs } = await engines(t);
  for (const handler of ['index.error', 'index.string']) {
    const [a, b] = [await invoke(ours, 'throws', handler, {}), await invoke(theirs, 'throws', handler, {})];
    assert.equal(a.functionError, 'Unhandled');
    assert.equal(b.functionError, 'Unhandled');
    const [pa, pb] = [parse(a), parse(b)];
    assert.equal(pa.errorType, pb.errorType, handler);
    assert.equal(pa.errorMessage, pb.errorMessage, handler);
    assert.equal(Array.isArray(pa.trace), Array.isArray(pb.trace), handler);
    assert.deepEqual(Object.keys(pa).sort(), Object.keys(pb).sort(), handler);
  }
});

test('conformance: init errors have the same errorType', async (t) => {
  const { ours, theirs } = await engines(t);
  const messages: string[] = [];
  for (const [fixture, handler] of [
    ['missing-handler', 'index.handler'],
    ['missing-handler', 'nohandler'],
    ['syntax-error', 'index.handler'],
    ['import-error', 'index.handler'],
    ['import-error', 'cjs.handler'],
    ['missing-handler', 'nofile.handler'],
    ['missing-handler', 'index.other.deeper'],
    ['callback-on-24', 'index.handler'],
  ] as const) {
    const [a, b] = [await invoke(ours, fixture, handler, {}), await invoke(theirs, fixture, handler, {})];
    assert.equal(a.functionError, b.functionError, `${fixture} ${handler}`);
    assert.equal(
      parse(a).errorType,
      parse(b).errorType,
      `${fixture} ${handler}: ${a.payload.toString()} vs ${b.payload.toString()}`,
    );
    messages.push(
      `${fixture} ${handler}\n  lambkin: ${String(parse(a).errorMessage)}\n  ric:     ${String(parse(b).errorMessage)}`,
    );
    // Intended differences (docs/specification.md): the runtime's own require stack, and our own wording.
    if (!INTENDED_MESSAGE_DIFFERENCES.has(`${fixture} ${handler}`)) {
      assert.equal(parse(a).errorMessage, parse(b).errorMessage, `${fixture} ${handler}`);
    }
  }
  t.diagnostic(messages.join('\n'));
});

test('conformance: console lines have the same text format', async (t) => {
  const { ours, theirs } = await engines(t);
  const [a, b] = [
    await invoke(ours, 'logging', 'index.handler', {}),
    await invoke(theirs, 'logging', 'index.handler', {}),
  ];
  assert.equal(a.payload.toString(), b.payload.toString());
  assert.deepEqual(functionLines(a), functionLines(b));
});

test('conformance: the context object has the same values', async (t) => {
  const { ours, theirs } = await engines(t);
  const [a, b] = [
    await invoke(ours, 'context-dump', 'index.handler', {}),
    await invoke(theirs, 'context-dump', 'index.handler', {}),
  ];
  const strip = (r: InvokeResult) => {
    const { awsRequestId, remaining, logStreamName, trace, ...rest } = parse(r);
    assert.equal(awsRequestId, r.requestId);
    assert.equal(typeof remaining, 'number');
    assert.match(String(logStreamName), /\[\$LATEST\]/);
    assert.match(String(trace), /^Root=/);
    return rest;
  };
  assert.deepEqual(strip(a), strip(b));
});

test('conformance: streamed responses assemble to the same body', async (t) => {
  const { ours, theirs } = await engines(t);
  for (const handler of ['index.handler', 'index.http']) {
    const [a, b] = [await invoke(ours, 'streaming', handler, {}), await invoke(theirs, 'streaming', handler, {})];
    assert.equal(a.functionError, b.functionError, handler);
    assert.deepEqual(a.payload, b.payload, handler);
    assert.equal(a.contentType, b.contentType, handler);
  }
});
