/**
 * @module cli/project
 * `lambkin.json`, the small project file `lambkin init` writes and `lambkin dev` reads: which function a directory
 * is, and which of its subdirectories are layers. Every field is optional; a bare directory with an `index.*`
 * handler works too.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { CliError } from './errors.ts';

export const PROJECT_FILE = 'lambkin.json';

export interface Project {
  /** The project directory (absolute). */
  dir: string;
  name: string;
  runtime: string;
  handler: string;
  /** Code directory (absolute). */
  code: string;
  /** Layers in order: local directories (absolute, published by `dev`) or references (ARN, name[:version]). */
  layers: LayerRef[];
  memory?: number;
  timeout?: number;
  environment: Record<string, string>;
}

export type LayerRef = { kind: 'dir'; dir: string; name: string } | { kind: 'ref'; ref: string };

interface ProjectFile {
  name?: unknown;
  runtime?: unknown;
  handler?: unknown;
  code?: unknown;
  layers?: unknown;
  memory?: unknown;
  timeout?: unknown;
  environment?: unknown;
}

export async function loadProject(dirArg: string): Promise<Project> {
  const dir = resolve(dirArg);
  if (!existsSync(dir)) throw new CliError('InvalidPath', `${dirArg} does not exist`, { hint: 'lambkin init DIR' });
  const file = join(dir, PROJECT_FILE);
  let raw: ProjectFile = {};
  if (existsSync(file)) {
    try {
      raw = JSON.parse(await readFile(file, 'utf8')) as ProjectFile;
    } catch (err) {
      throw new CliError('InvalidProjectFile', `${file} is not valid JSON: ${(err as Error).message}`);
    }
    if (typeof raw !== 'object' || Array.isArray(raw))
      throw new CliError('InvalidProjectFile', `${file} must hold a JSON object`);
  }
  const str = (key: keyof ProjectFile, fallback: string): string => {
    const value = raw[key];
    if (value === undefined) return fallback;
    if (typeof value !== 'string' || value === '')
      throw new CliError('InvalidProjectFile', `${PROJECT_FILE}: "${key}" must be a non-empty string`);
    return value;
  };
  const num = (key: keyof ProjectFile): number | undefined => {
    const value = raw[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value))
      throw new CliError('InvalidProjectFile', `${PROJECT_FILE}: "${key}" must be a whole number`);
    return value;
  };
  const name = str('name', basename(dir).replace(/[^a-zA-Z0-9-_]/g, '-'));
  const runtime = str('runtime', 'nodejs24.x');
  const code = resolve(dir, str('code', '.'));
  const handler = str('handler', runtime.startsWith('provided') ? 'function.handler' : 'index.handler');
  const layersRaw = raw.layers ?? [];
  if (!Array.isArray(layersRaw) || !layersRaw.every((l) => typeof l === 'string'))
    throw new CliError('InvalidProjectFile', `${PROJECT_FILE}: "layers" must be a list of strings`);
  const layers: LayerRef[] = layersRaw.map((l) =>
    l.startsWith('.') || l.startsWith('/')
      ? { kind: 'dir', dir: resolve(dir, l), name: `${name}-${basename(resolve(dir, l))}`.slice(0, 140) }
      : { kind: 'ref', ref: l },
  );
  const envRaw = raw.environment ?? {};
  if (typeof envRaw !== 'object' || Array.isArray(envRaw))
    throw new CliError('InvalidProjectFile', `${PROJECT_FILE}: "environment" must be an object of strings`);
  const environment: Record<string, string> = {};
  for (const [k, v] of Object.entries(envRaw)) {
    if (typeof v !== 'string')
      throw new CliError('InvalidProjectFile', `${PROJECT_FILE}: environment.${k} must be a string`);
    environment[k] = v;
  }
  const memory = num('memory');
  const timeout = num('timeout');
  return {
    dir,
    name,
    runtime,
    handler,
    code,
    layers,
    ...(memory !== undefined ? { memory } : {}),
    ...(timeout !== undefined ? { timeout } : {}),
    environment,
  };
}
