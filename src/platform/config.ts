/**
 * @module platform/config
 * Lambkin's configuration, parsed once from defaults, environment variables and flags (flags win) into one
 * typed object. Only `parseConfig` reads the environment.
 */
import { resolve } from 'node:path';

export type SandboxName = 'bwrap' | 'process';
export type NetworkMode = 'host' | 'isolated';
export type AuthMode = 'loopback' | 'strict';

export interface LambkinConfig {
  host: string;
  port: number;
  dataDir: string;
  region: string;
  accountId: string;
  sandbox: SandboxName;
  network: NetworkMode;
  auth: AuthMode;
  /** Credentials accepted in strict mode. */
  credentials: { accessKeyId: string; secretAccessKey: string }[];
  idleTimeoutMs: number;
  accountConcurrency: number;
  /** bubblewrap binary (env LAMBKIN_BWRAP), when not the one on PATH. */
  bwrap?: string;
}

export interface ConfigFlags {
  host?: string;
  port?: string | number;
  dataDir?: string;
  region?: string;
  accountId?: string;
  sandbox?: string;
  network?: string;
  auth?: string;
  idleTimeout?: string | number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const DEFAULT_PORT = 9777;

export function parseConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env): LambkinConfig {
  const host = flags.host ?? env.LAMBKIN_HOST ?? '127.0.0.1';
  const port = toInt('port', flags.port ?? env.LAMBKIN_PORT ?? DEFAULT_PORT, 0, 65535);
  const dataDir = resolve(flags.dataDir ?? env.LAMBKIN_DATA_DIR ?? '.lambkin');
  const region = flags.region ?? env.LAMBKIN_REGION ?? 'us-east-1';
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region))
    throw new ConfigError(`region "${region}" is not a region name such as us-east-1`);
  const accountId = flags.accountId ?? env.LAMBKIN_ACCOUNT_ID ?? '000000000000';
  if (!/^\d{12}$/.test(accountId)) throw new ConfigError(`account id "${accountId}" must be 12 digits`);
  const sandbox = oneOf('sandbox', flags.sandbox ?? env.LAMBKIN_SANDBOX ?? 'bwrap', ['bwrap', 'process'] as const);
  const network = oneOf('network', flags.network ?? env.LAMBKIN_NETWORK ?? 'host', ['host', 'isolated'] as const);
  let auth = oneOf('auth', flags.auth ?? env.LAMBKIN_AUTH ?? 'loopback', ['loopback', 'strict'] as const);
  // Off loopback, every request must carry a valid signature.
  if (!isLoopback(host)) auth = 'strict';
  const credentials: LambkinConfig['credentials'] = [];
  const key = env.LAMBKIN_ACCESS_KEY_ID;
  const secret = env.LAMBKIN_SECRET_ACCESS_KEY;
  if (key !== undefined && secret !== undefined) credentials.push({ accessKeyId: key, secretAccessKey: secret });
  const idleTimeoutMs = toInt(
    'idle-timeout',
    flags.idleTimeout ?? env.LAMBKIN_IDLE_TIMEOUT_MS ?? 600_000,
    100,
    86_400_000,
  );
  return {
    host,
    port,
    dataDir,
    region,
    accountId,
    sandbox,
    network,
    auth,
    credentials,
    idleTimeoutMs,
    accountConcurrency: 1000,
    ...(env.LAMBKIN_BWRAP !== undefined ? { bwrap: env.LAMBKIN_BWRAP } : {}),
  };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function toInt(name: string, value: string | number, min: number, max: number): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${value}"`);
  return n;
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${value}"`);
}
