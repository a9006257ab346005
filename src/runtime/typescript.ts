/**
 * @module runtime/typescript
 * TypeScript handlers with no build step, compiled by Node itself: `module.stripTypeScriptTypes(source, {mode:
 * 'transform', sourceMap: true})`, so the full syntax works (enums, namespaces, parameter properties, not only
 * erasable types) and no compiler is shipped. Two module hooks (`module.registerHooks`, synchronous, in-thread):
 *
 * - load: `.ts`, `.mts`, `.cts` files are read and compiled here (Node's own path would reject enums in its
 *   strip-only mode). The module format follows Node's rules: `.mts` ES module, `.cts` CommonJS, `.ts` the nearest
 *   package.json `type`, else whatever its syntax says (import/export → ES module). Stack traces point at `.ts`
 *   lines: erasable files keep their positions, transformed ones carry an inline source map.
 * - resolve: imports between TypeScript files written the ways real projects write them — `./b` (extensionless, or
 *   a directory's `index.ts`), `./b.js` meaning `./b.ts` when no `b.js` exists, and `./b.ts`. Only relative
 *   specifiers that Node cannot resolve are retried, so everything else resolves exactly as before. tsconfig
 *   `paths` are not read: such an import fails as an ordinary missing module.
 *
 * Compiling costs: Node's TypeScript compiler (swc in WebAssembly) takes tens of milliseconds to load, more than all
 * the rest of a cold start. Its output is therefore looked up by path and content in `LAMBKIN_COMPILE_CACHE` first:
 * Lambkin fills that directory when it extracts the code and mounts it read-only (protocol/typescript-cache.ts),
 * so a cold start on Lambkin needs no compiler at all. Elsewhere (AWS) files compiled here are kept in /tmp, which
 * helps only a restart inside the same environment.
 */

import {
  cacheEntry,
  COMPILE_CACHE_ENV,
  compileCacheKey,
  compileCacheSubdir,
  compileTypeScript,
  entryModuleSyntax,
  hasModuleSyntax,
} from '../protocol/typescript-cache.ts';

export { hash, hasModuleSyntax } from '../protocol/typescript-cache.ts';

const fs = process.getBuiltinModule('node:fs');
const nodeModule = process.getBuiltinModule('node:module');
const path = process.getBuiltinModule('node:path');
const { fileURLToPath } = process.getBuiltinModule('node:url');

const TS_FILE = /\.[cm]?ts$/;

let installed = false;
let cacheDir: string | undefined;

export function isTypeScriptFile(file: string): boolean {
  return TS_FILE.test(file);
}

/** Installs the hooks once (the first TypeScript handler or dependency needs them). */
export function installTypeScript(env: NodeJS.ProcessEnv): void {
  if (installed) return;
  installed = true;
  cacheDir = path.join(env[COMPILE_CACHE_ENV] || '/tmp/.lambkin-cache', compileCacheSubdir(process.version));
  nodeModule.registerHooks({
    resolve(specifier, context, nextResolve) {
      // The usual case first, without the cost of Node's "not found" error: a relative import from a TypeScript
      // file that names no existing file, and a TypeScript file that it means.
      const parent = context.parentURL;
      if (parent !== undefined && TS_FILE.test(parent) && (specifier.startsWith('./') || specifier.startsWith('../'))) {
        const meant = typeScriptFileMeant(new URL(specifier, parent).href);
        if (meant !== undefined) return nextResolve(meant, context);
      }
      try {
        return nextResolve(specifier, context);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        const relative = specifier.startsWith('./') || specifier.startsWith('../');
        if (
          (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND' && code !== 'ERR_UNSUPPORTED_DIR_IMPORT') ||
          !relative ||
          context.parentURL === undefined ||
          !TS_FILE.test(context.parentURL)
        )
          throw err;
        const base = new URL(specifier, context.parentURL).href;
        for (const candidate of typeScriptCandidates(base)) {
          if (isFile(fileURLToPath(candidate))) return nextResolve(candidate, context);
        }
        throw err;
      }
    },
    load(url, context, nextLoad) {
      if (!url.startsWith('file:') || !TS_FILE.test(url)) return nextLoad(url, context);
      const file = fileURLToPath(url);
      // Node refuses TypeScript inside node_modules; its own error says so.
      if (file.includes(`${path.sep}node_modules${path.sep}`)) return nextLoad(url, context);
      const source = fs.readFileSync(file, 'utf8');
      const code = compile(source, url);
      return { format: formatOf(file, code), source: code, shortCircuit: true };
    },
  });
}

/** JavaScript forms Node itself may find for an extensionless specifier (CommonJS resolution). */
const NODE_EXTENSIONS = ['.js', '.json', '.node', '.cjs', '.mjs'];

/**
 * The TypeScript file an import of `base` means when Node can find nothing there itself (no such file or directory,
 * and for an extensionless name none of the JavaScript forms); undefined otherwise, or when no candidate exists.
 */
function typeScriptFileMeant(base: string): string | undefined {
  if (base.includes('?') || base.includes('#')) return undefined;
  const file = fileURLToPath(base);
  if (fs.statSync(file, { throwIfNoEntry: false }) !== undefined) return undefined;
  if (path.extname(file) === '' && NODE_EXTENSIONS.some((ext) => isFile(file + ext))) return undefined;
  return typeScriptCandidates(base).find((candidate) => isFile(fileURLToPath(candidate)));
}

/** Relative specifiers to retry, in order, when Node cannot resolve `base` from a TypeScript file. */
export function typeScriptCandidates(base: string): string[] {
  const ext = /\.[cm]?js$/.exec(base)?.[0];
  if (ext !== undefined) return [base.slice(0, -ext.length) + ext.replace('js', 'ts')];
  if (TS_FILE.test(base)) return [];
  return [`${base}.ts`, `${base}.mts`, `${base}.cts`, `${base}/index.ts`, `${base}/index.mts`, `${base}/index.cts`];
}

/**
 * JavaScript for `source`, from the cache or from Node's compiler. Erasable TypeScript is stripped in place (types
 * become spaces: lines and columns stay, no source map needed); anything else (enums, namespaces, parameter
 * properties) is transformed, with an inline source map naming `url`.
 */
export function compile(source: string, url: string): string {
  const key = compileCacheKey(url, source);
  const cached = cacheDir === undefined ? undefined : readCached(path.join(cacheDir, key));
  const code = cached ?? cacheEntry(withoutExperimentalWarning(() => transform(source, url)));
  if (cached === undefined && cacheDir !== undefined) writeCached(cacheDir, key, code);
  // Source maps cost time at every module load: on only once a module needs one.
  if (!process.sourceMapsEnabled && code.includes('//# sourceMappingURL=data:')) process.setSourceMapsEnabled(true);
  return code;
}

function transform(source: string, url: string): string {
  return compileTypeScript(nodeModule.stripTypeScriptTypes, source, url);
}

/** `module` or `commonjs`, by Node's rules for TypeScript files. */
export function formatOf(file: string, code: string): 'module' | 'commonjs' {
  if (file.endsWith('.mts')) return 'module';
  if (file.endsWith('.cts')) return 'commonjs';
  const type = packageType(path.dirname(file));
  if (type === 'module' || type === 'commonjs') return type;
  return (entryModuleSyntax(code) ?? hasModuleSyntax(code)) ? 'module' : 'commonjs';
}

const packageTypes = new Map<string, string | undefined>();

/** The `type` of the nearest package.json above `dir` (undefined when none says). */
export function packageType(dir: string): string | undefined {
  if (packageTypes.has(dir)) return packageTypes.get(dir);
  let type: string | undefined;
  const pj = path.join(dir, 'package.json');
  let text: string | undefined;
  // Looked up first: most directories have none, and a failed read costs an exception.
  if (isFile(pj)) {
    try {
      text = fs.readFileSync(pj, 'utf8');
    } catch {
      text = undefined;
    }
  }
  if (text !== undefined) {
    try {
      const parsed = JSON.parse(text) as { type?: unknown };
      type = typeof parsed.type === 'string' ? parsed.type : undefined;
    } catch {
      type = undefined;
    }
  } else if (path.basename(dir) !== 'node_modules' && path.dirname(dir) !== dir) {
    type = packageType(path.dirname(dir));
  }
  packageTypes.set(dir, type);
  return type;
}

function isFile(file: string): boolean {
  return fs.statSync(file, { throwIfNoEntry: false })?.isFile() === true;
}

function readCached(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function writeCached(dir: string, key: string, code: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
    const partial = path.join(dir, `${key}.${String(process.pid)}.tmp`);
    fs.writeFileSync(partial, code);
    fs.renameSync(partial, path.join(dir, key));
  } catch {
    // A read-only or full cache only costs speed.
  }
}

/** Runs `fn` without Node printing "stripTypeScriptTypes is an experimental feature" into the function's logs. */
function withoutExperimentalWarning<T>(fn: () => T): T {
  const emit = process.emitWarning.bind(process);
  const silenced = (warning: string | Error, ...rest: unknown[]): void => {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: unknown } | undefined)?.type;
    if (type === 'ExperimentalWarning') return;
    (emit as (w: string | Error, ...r: unknown[]) => void)(warning, ...rest);
  };
  const original = Object.getOwnPropertyDescriptor(process, 'emitWarning');
  process.emitWarning = silenced;
  try {
    return fn();
  } finally {
    if (original === undefined) Reflect.deleteProperty(process, 'emitWarning');
    else Object.defineProperty(process, 'emitWarning', original);
  }
}
