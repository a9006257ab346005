/**
 * `lambkin dev`'s inner loop (target: a save is live within ~100 ms): a spawned `lambkin dev` against a live server;
 * each sample edits the handler and measures from the write until an HTTP request to dev's endpoint answers with
 * the new code.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseConfig } from '../src/platform/config.ts';
import { startLambkin } from '../src/platform/server.ts';
import { line, summarize } from './stats.ts';

const BIN = resolve(import.meta.dirname, '../bin/lambkin.js');
const SAMPLES = 15;

export async function benchDev(out: (s: string) => void): Promise<Record<string, number>> {
  out('## lambkin dev (save → new code answering on the local HTTP endpoint)');
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-bench-dev-'));
  await chmod(dir, 0o755);
  const lambkin = await startLambkin(parseConfig({ port: 0, dataDir: join(dir, 'data') }, {}));
  const run = (args: string[]) =>
    spawn(process.execPath, [BIN, '--endpoint', lambkin.url, ...args], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1' },
    });
  try {
    await new Promise((r) => run(['init', 'hello']).on('close', r));
    const dev = run(['dev', 'hello', '--port', '0', '--no-logs']);
    let output = '';
    dev.stdout.on('data', (d: Buffer) => (output += d.toString()));
    const url = await new Promise<string>((r) => {
      const check = () => {
        const m = /serving\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (m?.[1] !== undefined) r(m[1]);
        else setTimeout(check, 20);
      };
      check();
    });
    const file = join(dir, 'hello', 'index.ts');
    const original = await readFile(file, 'utf8');
    const samples: number[] = [];
    for (let i = 0; i < SAMPLES + 1; i++) {
      const word = `Hello${String(i)}, `;
      const t0 = performance.now();
      await writeFile(file, original.replace('Hello, ', word));
      for (;;) {
        const body = await (await fetch(`${url}/?name=x`)).text();
        if (body.includes(word)) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      if (i > 0) samples.push(performance.now() - t0);
    }
    dev.kill('SIGINT');
    await new Promise((r) => dev.on('close', r));
    const s = summarize(samples);
    out(line('save → new code answering', s, '(target ~100 ms)'));
    return { devPushP50: s.p50 };
  } finally {
    await lambkin.close();
    await rm(dir, { recursive: true, force: true });
  }
}
