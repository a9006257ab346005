/**
 * @module runtime/handler-loader
 * Finds and loads the handler named by `_HANDLER`, with AWS's grammar (`dir/file.prop.fn`: the first dot of the
 * last path segment splits file from property path; `..` refused) and search order: the file as named, then
 * `.js`, `.mjs`, `.cjs` — and, Lambkin's addition, `.ts`, `.mts`, `.cts` — then `require.resolve` from the task
 * root (a handler inside node_modules). ESM and CommonJS load the same way Node decides (extension and the nearest
 * package.json `type`); TypeScript is compiled by Node itself (type stripping with transforms, so enums,
 * namespaces and parameter properties work), with source maps so stack traces show `.ts` lines.
 */
import { RuntimeError } from './errors.ts';

// CommonJS objects of builtins: they load faster than ES namespaces (see runtime-api-client.ts).
const { existsSync, statSync } = process.getBuiltinModule('node:fs');
const nodeModule = process.getBuiltinModule('node:module');
const path = process.getBuiltinModule('node:path');
const { fileURLToPath, pathToFileURL } = process.getBuiltinModule('node:url');

export type Handler = (event: unknown, context: unknown, callback?: unknown) => unknown;

export const EXTENSIONS = ['', '.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'];

export interface ParsedHandler {
  /** Directory under the task root (may be ''). */
  moduleRoot: string;
  /** File stem (first dot splits). */
  module: string;
  /** Property path inside the module, e.g. ['a', 'handler']. */
  path: string[];
}

export function parseHandler(handler: string): ParsedHandler {
  if (handler.includes('..'))
    throw new RuntimeError('Runtime.MalformedHandlerName', "'..' is not allowed in handler name.");
  const slash = handler.lastIndexOf('/');
  const moduleRoot = slash === -1 ? '' : handler.slice(0, slash);
  const base = handler.slice(slash + 1);
  const dot = base.indexOf('.');
  if (dot <= 0 || dot === base.length - 1) throw new RuntimeError('Runtime.MalformedHandlerName', 'Bad handler');
  return { moduleRoot, module: base.slice(0, dot), path: base.slice(dot + 1).split('.') };
}

/** The file to load, or null. */
export function findModule(taskRoot: string, parsed: ParsedHandler): string | null {
  const stem = path.join(taskRoot, parsed.moduleRoot, parsed.module);
  for (const ext of EXTENSIONS) {
    const candidate = stem + ext;
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  try {
    return nodeModule
      .createRequire(path.join(taskRoot, 'noop.js'))
      .resolve(path.join(parsed.moduleRoot, parsed.module) || parsed.module, {
        paths: [taskRoot],
      });
  } catch {
    return null;
  }
}

let hooksInstalled = false;

/**
 * Lets TypeScript files import each other the ways real projects write it: `./b` (extensionless), `./b.js`
 * (meaning `./b.ts`) and `./b.ts`. Only relative specifiers that Node cannot resolve are retried.
 */
export function installTypeScriptResolution(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  nodeModule.registerHooks({
    resolve(specifier, context, nextResolve) {
      try {
        return nextResolve(specifier, context);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        const relative = specifier.startsWith('./') || specifier.startsWith('../');
        if (
          (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') ||
          !relative ||
          context.parentURL === undefined
        )
          throw err;
        const base = new URL(specifier, context.parentURL).href;
        const candidates = /\.[cm]?js$/.test(base)
          ? [
              base
                .replace(/\.js$/, '.ts')
                .replace(/\.mjs$/, '.mts')
                .replace(/\.cjs$/, '.cts'),
            ]
          : ['.ts', '.mts', '.cts', '/index.ts'].map((ext) => base + ext);
        for (const candidate of candidates) {
          if (existsSync(fileURLToPath(candidate))) return nextResolve(candidate, context);
        }
        throw err;
      }
    },
  });
}

export async function loadHandler(taskRoot: string, handlerName: string): Promise<Handler> {
  const parsed = parseHandler(handlerName);
  const file = findModule(taskRoot, parsed);
  if (file === null) {
    throw new RuntimeError('Runtime.ImportModuleError', `Error: Cannot find module '${parsed.module}'`);
  }
  // Only TypeScript needs the resolution hook; JavaScript loads exactly as Node (and AWS's client) loads it.
  if (/\.[cm]?ts$/.test(file)) installTypeScriptResolution();
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    throw classifyLoadError(err);
  }
  const found = walk(namespace, parsed.path) ?? walk(namespace.default, parsed.path);
  if (found === undefined) {
    throw new RuntimeError(
      'Runtime.HandlerNotFound',
      `${parsed.module}.${parsed.path.join('.')} is undefined or not exported`,
    );
  }
  if (typeof found !== 'function') {
    throw new RuntimeError('Runtime.HandlerNotFound', `${parsed.module}.${parsed.path.join('.')} is not a function`);
  }
  return found as Handler;
}

function walk(root: unknown, path: string[]): unknown {
  let current = root;
  for (const key of path) {
    if ((typeof current !== 'object' && typeof current !== 'function') || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function classifyLoadError(err: unknown): Error {
  if (err instanceof SyntaxError)
    return new RuntimeError('Runtime.UserCodeSyntaxError', `${err.name}: ${err.message}`, { cause: err });
  const code = (err as { code?: unknown } | null)?.code;
  // As AWS's client 4.x: a CommonJS require() that fails is Runtime.ImportModuleError; an ES import that fails
  // (ERR_MODULE_NOT_FOUND) keeps its own name.
  if (code === 'MODULE_NOT_FOUND') {
    const message = err instanceof Error ? err.message : String(err);
    return new RuntimeError('Runtime.ImportModuleError', `Error: ${message}`, { cause: err });
  }
  if (code === 'ERR_INVALID_TYPESCRIPT_SYNTAX' || code === 'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX') {
    const message = err instanceof Error ? err.message : String(err);
    return new RuntimeError('Runtime.UserCodeSyntaxError', `SyntaxError: ${message}`, { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}
