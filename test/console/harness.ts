/**
 * A live `lambkin serve` (in-process, real HTTP on 127.0.0.1:0, real bwrap) serving a console freshly built into
 * the test's directory, and a headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) kept off
 * the network: only 127.0.0.1 is reachable, and any other request is refused and recorded.
 */
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { buildConsole, type ConsoleManifest } from '../../src/console/build.ts';
import { parseConfig } from '../../src/platform/config.ts';
import { startLambkin, type RunningLambkin } from '../../src/platform/server.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts/console');

/** Flags that keep Chromium from reaching anything but the server under test. */
export const OFFLINE_ARGS = [
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-default-apps',
  '--disable-sync',
  '--disable-translate',
  '--disable-extensions',
  '--disable-domain-reliability',
  '--disable-client-side-phishing-detection',
  '--disable-breakpad',
  '--metrics-recording-only',
  '--no-first-run',
  '--no-default-browser-check',
  '--no-pings',
  '--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication,CertificateTransparencyComponentUpdater,DialMediaRouteProvider',
  // Every name resolves to nothing but 127.0.0.1, and anything proxied goes to a closed port.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
  '--proxy-server=http://127.0.0.1:9',
  '--proxy-bypass-list=127.0.0.1',
];

let built: Promise<{ dir: string; manifest: ConsoleManifest }> | null = null;

/** The console, built once per test process into a temporary directory (what `npm run build` writes). */
export function builtConsole(): Promise<{ dir: string; manifest: ConsoleManifest }> {
  built ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lambkin-console-build-'));
    process.once('exit', () => {
      void rm(dir, { recursive: true, force: true });
    });
    return { dir, manifest: await buildConsole(dir) };
  })();
  return built;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: OFFLINE_ARGS, chromiumSandbox: false });
}

export interface ConsoleHarness {
  lambkin: RunningLambkin;
  url: string;
  dir: string;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Requests the page tried to make anywhere but the server under test. */
  offOrigin: string[];
  /** Writes test-artifacts/console/<name>.png. */
  shot(name: string): Promise<void>;
}

export async function startConsole(
  t: TestContext,
  options: {
    flags?: Record<string, string>;
    env?: NodeJS.ProcessEnv;
    viewport?: { width: number; height: number };
  } = {},
): Promise<ConsoleHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-console-'));
  await chmod(dir, 0o755);
  const { dir: consoleDir } = await builtConsole();
  const config = parseConfig({ port: 0, dataDir: join(dir, 'data'), ...options.flags }, options.env ?? {});
  const lambkin = await startLambkin(config, { consoleDir });
  t.after(async () => {
    await lambkin.close();
    await rm(dir, { recursive: true, force: true });
  });
  const browser = await launchChromium();
  t.after(() => browser.close());
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1200, height: 820 },
    deviceScaleFactor: 1,
    colorScheme: 'light',
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: lambkin.url });
  const offOrigin: string[] = [];
  await context.route(
    (url) => url.origin !== lambkin.url,
    (route) => {
      offOrigin.push(route.request().url());
      return route.abort('blockedbyclient');
    },
  );
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  await mkdir(ARTIFACTS, { recursive: true });
  return {
    lambkin,
    url: lambkin.url,
    dir,
    browser,
    context,
    page,
    offOrigin,
    shot: async (name) => {
      await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
    },
  };
}
