/**
 * First load of the web console in headless Chromium on loopback (target: under 300 ms), cold cache (a new
 * browser context per sample) and warm (a reload), from navigation start to the Functions list rendered from the
 * API; and the size of its JavaScript, gzipped (target: under 150 KB).
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConsole } from '../src/console/build.ts';
import { parseConfig } from '../src/platform/config.ts';
import { startLambkin } from '../src/platform/server.ts';
import { launchChromium } from '../test/console/harness.ts';
import { line, summarize } from './stats.ts';

const SAMPLES = Number(process.env.SAMPLES ?? 20);

export async function benchConsole(out: (s: string) => void): Promise<Record<string, number>> {
  out('## Web console (headless Chromium, loopback)');
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-bench-console-'));
  await chmod(dir, 0o755);
  const manifest = await buildConsole(join(dir, 'console'));
  const lambkin = await startLambkin(parseConfig({ port: 0, dataDir: join(dir, 'data') }, {}), {
    consoleDir: join(dir, 'console'),
  });
  const browser = await launchChromium();
  try {
    const cold: number[] = [];
    const warm: number[] = [];
    const fcp: number[] = [];
    for (let i = 0; i < SAMPLES + 2; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      let t0 = performance.now();
      await page.goto(`${lambkin.url}/`);
      await page.getByText('No functions yet.').waitFor();
      const coldMs = performance.now() - t0;
      const paint = await page.evaluate(
        () => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN,
      );
      t0 = performance.now();
      await page.reload();
      await page.getByText('No functions yet.').waitFor();
      const warmMs = performance.now() - t0;
      await context.close();
      if (i < 2) continue; // browser warm-up
      cold.push(coldMs);
      warm.push(warmMs);
      fcp.push(paint);
    }
    const c = summarize(cold);
    const w = summarize(warm);
    const f = summarize(fcp);
    out(line('first load, cold cache → list rendered', c, 'target < 300 ms'));
    out(line('reload, warm cache → list rendered', w));
    out(line('first contentful paint (cold)', f));
    out(
      `${'JavaScript'.padEnd(44)} ${(manifest.jsGzipBytes / 1024).toFixed(1)} KB gzipped (${(manifest.jsBytes / 1024).toFixed(1)} KB minified)   target < 150 KB; CSS ${(manifest.cssGzipBytes / 1024).toFixed(1)} KB gzipped`,
    );
    return {
      firstLoadP50Ms: c.p50,
      firstLoadP99Ms: c.p99,
      reloadP50Ms: w.p50,
      fcpP50Ms: f.p50,
      jsGzipBytes: manifest.jsGzipBytes,
    };
  } finally {
    // The server first: closing it drops the browser's keep-alive sockets (the other order can leave its close
    // waiting on sockets the browser already dropped).
    await lambkin.close();
    await browser.close();
    await rm(dir, { recursive: true, force: true });
  }
}
