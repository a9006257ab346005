/**
 * Runs the `lambkin` command as a user would — a spawned process — against a live in-process server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../..');
export const BIN = resolve(REPO, 'bin/lambkin.js');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export interface LambkinCli {
  /** Runs `lambkin --endpoint <server> ...args` to completion. */
  run(args: string[], options?: { stdin?: string; cwd?: string; env?: NodeJS.ProcessEnv }): Promise<Run>;
  /** Starts a long-running command (dev, logs -f); the caller stops it. */
  start(args: string[], options?: { cwd?: string }): LongRunning;
}

export interface LongRunning {
  child: ChildProcess;
  /** Everything printed so far on stdout and stderr. */
  output(): string;
  /**
   * Resolves with the first match of `pattern` in the output; rejects, showing the output, when the process ends
   * first or nothing matches within `limitMs` (a hang guard, not a timing assertion).
   */
  waitFor(pattern: RegExp, limitMs?: number): Promise<RegExpMatchArray>;
  /** SIGINT, as Ctrl-C; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export function lambkinCli(endpoint: string, cwd: string): LambkinCli {
  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: cwd,
    NO_COLOR: '1',
    ...extra,
  });
  return {
    run(args, options = {}) {
      return new Promise((resolveRun, reject) => {
        const child = spawn(process.execPath, [BIN, '--endpoint', endpoint, ...args], {
          cwd: options.cwd ?? cwd,
          env: env(options.env),
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', reject);
        child.on('close', (code) => {
          resolveRun({ code: code ?? -1, stdout, stderr });
        });
        child.stdin.end(options.stdin ?? '');
      });
    },
    start(args, options = {}) {
      const child = spawn(process.execPath, [BIN, '--endpoint', endpoint, ...args], {
        cwd: options.cwd ?? cwd,
        env: env(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      const listeners = new Set<() => void>();
      const onData = (d: Buffer) => {
        output += d.toString();
        for (const l of listeners) l();
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      const exited = new Promise<number | null>((r) => child.on('close', r));
      return {
        child,
        output: () => output,
        waitFor(pattern, limitMs = 60_000) {
          return new Promise((resolveWait, reject) => {
            const guard = setTimeout(() => {
              listeners.delete(check);
              reject(new Error(`no ${String(pattern)} within ${String(limitMs)} ms; output so far:\n${output}`));
            }, limitMs);
            const check = () => {
              const match = pattern.exec(output);
              if (match !== null) {
                clearTimeout(guard);
                listeners.delete(check);
                resolveWait(match);
              }
            };
            listeners.add(check);
            check();
            void exited.then((code) => {
              if (!listeners.has(check)) return;
              clearTimeout(guard);
              listeners.delete(check);
              reject(new Error(`exited (${String(code)}) before printing ${String(pattern)}:\n${output}`));
            });
          });
        },
        async stop() {
          if (child.exitCode === null) child.kill('SIGINT');
          return exited;
        },
      };
    },
  };
}
