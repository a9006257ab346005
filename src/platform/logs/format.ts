/**
 * @module platform/logs/format
 * The platform's own log lines, exactly as Lambda prints them (LAMBDA-FACTS §3 "Log lines").
 */
import { createHash } from 'node:crypto';
import type { InvokeReport } from '../invoke/types.ts';

/** `12.3456` → `12.35` (Lambda prints durations with two decimals). */
export function ms2(value: number): string {
  return value.toFixed(2);
}

/**
 * `INIT_START Runtime Version: nodejs:24.v1\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:<64 hex>`, in
 * Lambda's form (`<family>:<major>.v<N>`, `provided:al2023.v<N>`). N is the version of Lambkin's runtime build (1);
 * the ARN's id is a hash of the runtime's name and that version, stable across restarts as AWS's are.
 */
export function initStartLine(runtime: string, region: string): string {
  const version = `${runtimeFamily(runtime)}.v${String(RUNTIME_BUILD)}`;
  const id = createHash('sha256')
    .update(`lambkin:${runtime}:${String(RUNTIME_BUILD)}`)
    .digest('hex');
  return `INIT_START Runtime Version: ${version}\tRuntime Version ARN: arn:aws:lambda:${region}::runtime:${id}`;
}

/** Version of the runtimes Lambkin provides, as the `vN` of INIT_START. */
const RUNTIME_BUILD = 1;

/** `nodejs24.x` → `nodejs:24`; `provided.al2023` → `provided:al2023`; `provided` → `provided:al1`. */
function runtimeFamily(runtime: string): string {
  const managed = /^([a-z]+)(\d+)\.x$/.exec(runtime);
  if (managed !== null) return `${managed[1] ?? ''}:${managed[2] ?? ''}`;
  if (runtime === 'provided') return 'provided:al1';
  return runtime.replace('.', ':');
}

export function startLine(requestId: string, version: string): string {
  return `START RequestId: ${requestId} Version: ${version}`;
}

export function endLine(requestId: string): string {
  return `END RequestId: ${requestId}`;
}

export function reportLine(requestId: string, r: InvokeReport): string {
  let line =
    `REPORT RequestId: ${requestId}\tDuration: ${ms2(r.durationMs)} ms\tBilled Duration: ${r.billedDurationMs} ms\t` +
    `Memory Size: ${r.memorySizeMb} MB\tMax Memory Used: ${r.maxMemoryUsedMb} MB\t`;
  if (r.initDurationMs !== undefined) line += `Init Duration: ${ms2(r.initDurationMs)} ms\t`;
  if (r.status !== undefined) {
    line += `Status: ${r.status}`;
    if (r.errorType !== undefined) line += `\tError Type: ${r.errorType}`;
  }
  return line;
}

export function initReportLine(
  initDurationMs: number,
  phase: 'init' | 'invoke',
  status: string,
  errorType?: string,
): string {
  let line = `INIT_REPORT Init Duration: ${ms2(initDurationMs)} ms\tPhase: ${phase}\tStatus: ${status}`;
  if (errorType !== undefined) line += `\tError Type: ${errorType}`;
  return line;
}

export function timeoutLine(requestId: string, timeoutSec: number, now = new Date()): string {
  return `${now.toISOString()} ${requestId} Task timed out after ${ms2(timeoutSec)} seconds`;
}

/** Billed duration: Duration rounded up to the next millisecond (plus Init Duration on a cold custom-runtime invoke). */
export function billedDuration(durationMs: number, initDurationMs: number | undefined): number {
  return Math.max(1, Math.ceil(durationMs + (initDurationMs ?? 0)));
}

/** `2024/01/15/[$LATEST]9f…` */
export function logStreamName(version: string, id32hex: string, now = new Date()): string {
  const y = now.getUTCFullYear();
  const m = String(now.getUTCMonth() + 1).padStart(2, '0');
  const d = String(now.getUTCDate()).padStart(2, '0');
  return `${y}/${m}/${d}/[${version}]${id32hex}`;
}
