/**
 * @module protocol/typescript-cache
 * The compiled-TypeScript cache both sides agree on. The runtime compiles `.ts` handlers with Node's own
 * `stripTypeScriptTypes` and looks for the result first in `$LAMBKIN_COMPILE_CACHE/<subdir>/<key>.js`; the
 * platform fills that directory when it extracts a function's code (outside the sandbox, once per code hash) and
 * mounts it read-only, so no environment pays for the compiler and none can write what another reads. An entry is
 * the compiled code plus one last comment line saying whether it is ES module syntax ({@link cacheEntry}).
 * Must type-check under the platform's and the runtime's tsconfig (no imports).
 */

/** Environment variable naming the cache directory inside the execution environment. */
export const COMPILE_CACHE_ENV = 'LAMBKIN_COMPILE_CACHE';
/** Where the platform mounts the cache (read-only) inside a sandbox. */
export const COMPILE_CACHE_MOUNT = '/var/lambkin/compile-cache';
/** Bumped when the compiled form changes, so old cache entries are not used. */
const CACHE_VERSION = '3';

/** The cache's subdirectory for one Node version (the compiler ships with Node). */
export function compileCacheSubdir(nodeVersion: string): string {
  return `ts-${nodeVersion}-${CACHE_VERSION}`;
}

/** The entry for a file: `url` as the runtime sees it (file:///var/task/…) and its source. */
export function compileCacheKey(url: string, source: string): string {
  return `${hash(`${url}\0${source}`)}.js`;
}

type Strip = (
  source: string,
  options: { mode: 'strip' | 'transform'; sourceMap?: boolean; sourceUrl?: string },
) => string;

/**
 * JavaScript for TypeScript `source`. Erasable TypeScript is stripped in place (types become spaces: lines and
 * columns stay, no source map needed); anything else (enums, namespaces, parameter properties) is transformed,
 * with an inline source map naming `url`.
 */
export function compileTypeScript(strip: Strip, source: string, url: string): string {
  try {
    return strip(source, { mode: 'strip' });
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX') throw err;
    return strip(source, { mode: 'transform', sourceMap: true, sourceUrl: url });
  }
}

/**
 * The last line of every cache entry: whether the compiled code needs the ES module grammar. For a `.ts` file under
 * no package.json `type`, Node's rule is to look at the syntax, which costs a parse: done once, by whoever compiles.
 */
const MODULE_SYNTAX_MARK = '\n//# lambkinModuleSyntax=';

/** A cache entry for compiled `code`: the code itself, then the module-syntax line (lines and columns unchanged). */
export function cacheEntry(code: string): string {
  return `${code}${MODULE_SYNTAX_MARK}${hasModuleSyntax(code) ? '1' : '0'}\n`;
}

/** What an entry's last line says (undefined when it has none). */
export function entryModuleSyntax(entry: string): boolean | undefined {
  const at = entry.lastIndexOf(MODULE_SYNTAX_MARK);
  if (at === -1 || at !== entry.length - MODULE_SYNTAX_MARK.length - 2) return undefined;
  return entry.charCodeAt(entry.length - 2) === 49; /* '1' */
}

/**
 * Whether compiled JavaScript needs the ES module grammar (import/export declarations, import.meta, top-level
 * await): as Node's own detection, by compiling it as a script (parsed, never run).
 */
export function hasModuleSyntax(code: string): boolean {
  const { Script } = process.getBuiltinModule('node:vm');
  try {
    new Script(code);
    return false;
  } catch (err) {
    return (
      err instanceof SyntaxError &&
      /Cannot use import statement|Unexpected token 'export'|import\.meta|await is only valid|Cannot use 'import\.meta'/.test(
        err.message,
      )
    );
  }
}

/** FNV-1a, 2 × 32 bits: enough to tell file contents apart, and cheaper to load than node:crypto. */
export function hash(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
