#!/usr/bin/env node
// Entry point of the `lambkin` command. Plain JavaScript on purpose: it must run on any Node to be able to say
// clearly that Lambkin needs a newer Node, before any TypeScript is loaded.
const major = Number(process.versions.node.split('.')[0]);
if (major < 22 || !process.features.typescript) {
  process.stderr.write(
    `lambkin: Node ${process.versions.node} is too old: Lambkin needs Node 22.18 or newer (npx lambkin uses the Node 24 pinned in package.json).\n`,
  );
  process.exit(1);
}
await import('../src/cli/main.ts');
