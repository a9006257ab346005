/**
 * @module runtime/node-version
 * Refuses, in one line, a node too old for the runtime (imported first, so it runs before anything needs Node
 * 22.18: `process.getBuiltinModule`, `module.registerHooks`, `module.stripTypeScriptTypes`).
 */
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `lambkin runtime: node ${process.version} is too old: it needs Node 22.18 or newer (or build the layer with 'lambkin runtime build --with-node')\n`,
  );
  process.exit(127);
}
