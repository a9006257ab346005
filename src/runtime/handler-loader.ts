/**
 * @module runtime/handler-loader
 * Finds and loads the handler named by `_HANDLER`, as AWS's Node runtime client does.
 *
 * Grammar: `[dir/…/]<module>.<prop>[.<prop>…]`. The last path segment is split at its first dot: before it the file
 * stem, after it the property path (`index.a.b` → `exports.a.b`). No dot → `Runtime.MalformedHandlerName`
 * ("Bad handler"); `..` anywhere → `Runtime.MalformedHandlerName`.
 *
 * Search order, first existing file wins: `<stem>`, `<stem>.js`, `<stem>.mjs`, `<stem>.cjs` (AWS's order), then —
 * Lambkin's addition, after every JavaScript form so a compiled `.js` beside its `.ts` source always wins, as on
 * AWS — `<stem>.ts`, `<stem>.mts`, `<stem>.cts`; finally `require.resolve(<module>)` from the task root (a handler
 * inside node_modules). ES module or CommonJS is decided by Node, from the extension and the nearest package.json
 * `type`.
 *
 * TypeScript (typescript.ts) is compiled by Node itself with its full syntax, source-mapped; imports between `.ts`
 * files may be extensionless or name `.js`.
 *
 * Errors: `SyntaxError` (and invalid TypeScript) → `Runtime.UserCodeSyntaxError`; a CommonJS `MODULE_NOT_FOUND` →
 * `Runtime.ImportModuleError`; any other throw at load keeps its own name; a missing or non-function export →
 * `Runtime.HandlerNotFound`.
 */
import { RuntimeError, wrapError } from './errors.ts';
import type { ClientVersion } from './console-patch.ts';
import { installTypeScript, isTypeScriptFile } from './typescript.ts';

// CommonJS objects of builtins: they load faster than ES namespaces (see runtime-api-client.ts).
const { statSync } = process.getBuiltinModule('node:fs');
const nodeModule = process.getBuiltinModule('node:module');
const path = process.getBuiltinModule('node:path');
const { pathToFileURL } = process.getBuiltinModule('node:url');

export type Handler = (event: unknown, context: unknown, callback?: unknown) => unknown;

export const STREAMING_SYMBOL = Symbol.for('aws.lambda.runtime.handler.streaming');
export const HIGH_WATER_MARK_SYMBOL = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');

/** File extensions tried after the stem, in order. */
export const EXTENSIONS = ['', '.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'] as const;

export interface ParsedHandler {
  /** The handler string as configured. */
  full: string;
  /** Directory under the task root, without a trailing slash (may be ''). */
  moduleRoot: string;
  /** File stem: the last segment up to its first dot (may be ''). */
  moduleName: string;
  /** Property path inside the module, dot-separated (`a.handler`). */
  handlerPath: string;
}

export interface LoadedHandler {
  handler: Handler;
  streaming: boolean;
  highWaterMark: number | undefined;
  /** The file it came from (undefined when found through require.resolve). */
  file: string | undefined;
}

export function parseHandler(full: string): ParsedHandler {
  if (full.includes('..')) {
    throw new RuntimeError(
      'Runtime.MalformedHandlerName',
      `'${full}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const base = path.basename(full);
  const moduleRoot = full.substring(0, full.indexOf(base)).replace(/\/$/, '');
  const match = /^([^.]*)\.(.*)$/.exec(base);
  if (match === null) throw new RuntimeError('Runtime.MalformedHandlerName', 'Bad handler');
  return { full, moduleRoot, moduleName: match[1] ?? '', handlerPath: match[2] ?? '' };
}

function isFile(file: string): boolean {
  return statSync(file, { throwIfNoEntry: false })?.isFile() === true;
}

/** The first file of the search order that exists, or null. */
export function findModuleFile(
  taskRoot: string,
  parsed: ParsedHandler,
  exists: (file: string) => boolean = isFile,
): string | null {
  if (parsed.moduleName === '') return null;
  const stem = path.resolve(taskRoot, parsed.moduleRoot, parsed.moduleName);
  for (const ext of EXTENSIONS) {
    if (exists(stem + ext)) return stem + ext;
  }
  return null;
}

// As the official client, which resolves from its own file (/var/runtime/index.mjs): a missing module's message then
// reads exactly as on AWS ("Cannot find module 'x'\nRequire stack:\n- /var/runtime/index.mjs").
const requireFromRuntime = (): NodeJS.Require =>
  nodeModule.createRequire(path.join(process.env.LAMBDA_RUNTIME_DIR ?? '/var/runtime', 'index.mjs'));

export async function loadHandler(
  taskRoot: string,
  handlerString: string,
  client: ClientVersion,
): Promise<LoadedHandler> {
  const parsed = parseHandler(handlerString);
  const file = findModuleFile(taskRoot, parsed);
  let exported: unknown;
  try {
    if (file === null) {
      const require = requireFromRuntime();
      const resolved = require.resolve(parsed.moduleName, {
        paths: [taskRoot, path.join(taskRoot, parsed.moduleRoot)],
      });
      if (isTypeScriptFile(resolved)) installTypeScript(process.env);
      exported = require(resolved);
    } else {
      // Only TypeScript needs the resolution hook; JavaScript loads exactly as Node (and AWS's client) loads it.
      if (isTypeScriptFile(file)) installTypeScript(process.env);
      const namespace = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      // Client 3.x require()s CommonJS files: the handler is looked up on module.exports itself, which Node's ES
      // namespace of a CommonJS module exposes as 'module.exports' (named exports are only a static guess).
      exported = client === 3 && 'module.exports' in namespace ? namespace['module.exports'] : namespace;
    }
  } catch (err) {
    throw classifyLoadError(err);
  }
  let found = findIn(exported, parsed.handlerPath, client);
  if (!truthy(found) && client === 4 && typeof exported === 'object' && exported !== null && 'default' in exported) {
    found = findIn(exported.default, parsed.handlerPath, client);
  }
  if (!truthy(found))
    throw new RuntimeError('Runtime.HandlerNotFound', `${handlerString} is undefined or not exported`);
  if (typeof found !== 'function')
    throw new RuntimeError('Runtime.HandlerNotFound', `${handlerString} is not a function`);
  const handler = found as Handler;
  return { handler, ...streamingOf(handler), file: file ?? undefined };
}

/** The property path walk: 4.x descends through objects only, 3.x through anything truthy. */
export function findIn(root: unknown, handlerPath: string, client: ClientVersion): unknown {
  let current = root;
  for (const key of handlerPath.split('.')) {
    if (client === 4 ? typeof current !== 'object' || current === null : !truthy(current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function truthy(value: unknown): boolean {
  return Boolean(value);
}

function streamingOf(handler: Handler): { streaming: boolean; highWaterMark: number | undefined } {
  const tag = (handler as unknown as Record<symbol, unknown>)[STREAMING_SYMBOL];
  if (tag === undefined || tag === null || tag === false) return { streaming: false, highWaterMark: undefined };
  if (tag !== 'response') {
    throw new RuntimeError('Runtime.MalformedStreamingHandler', 'Only response streaming is supported.');
  }
  const hwm = parseInt(String((handler as unknown as Record<symbol, unknown>)[HIGH_WATER_MARK_SYMBOL]), 10);
  return { streaming: true, highWaterMark: Number.isNaN(hwm) || hwm === 0 ? undefined : hwm };
}

export function classifyLoadError(err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (err instanceof SyntaxError || code === 'ERR_INVALID_TYPESCRIPT_SYNTAX') {
    return wrapError('Runtime.UserCodeSyntaxError', err, true);
  }
  if (code === 'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX') return wrapError('Runtime.UserCodeSyntaxError', err, true);
  // As AWS's client: a CommonJS require() that fails is Runtime.ImportModuleError; an ES import that fails
  // (ERR_MODULE_NOT_FOUND) keeps its own name.
  if (err instanceof Error && code === 'MODULE_NOT_FOUND') return wrapError('Runtime.ImportModuleError', err, false);
  return err;
}
