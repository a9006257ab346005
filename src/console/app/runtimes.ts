/**
 * @module console/app/runtimes
 * The runtimes Lambkin runs, with the starter code the editor offers for each.
 */

export interface RuntimeChoice {
  id: string;
  label: string;
  custom: boolean;
}

export const RUNTIMES: readonly RuntimeChoice[] = [
  { id: 'provided.al2023', label: 'Amazon Linux 2023 (custom runtime)', custom: true },
  { id: 'provided.al2', label: 'Amazon Linux 2 (custom runtime)', custom: true },
  { id: 'provided', label: 'Amazon Linux (custom runtime)', custom: true },
  { id: 'nodejs24.x', label: 'Node.js 24.x', custom: false },
  { id: 'nodejs22.x', label: 'Node.js 22.x', custom: false },
  { id: 'nodejs20.x', label: 'Node.js 20.x', custom: false },
];

export interface Starter {
  file: string;
  handler: string;
  code: string;
}

export function starterFor(runtime: string, language: 'js' | 'ts' | 'sh'): Starter {
  if (language === 'sh' || (RUNTIMES.find((r) => r.id === runtime)?.custom ?? false)) {
    return {
      file: 'function.sh',
      handler: 'function.handler',
      code: `# Sourced by a shell custom runtime (a layer with a bootstrap): $1 is the event.\nhandler() {\n  echo "got: $1" >&2\n  printf '{"hello":%s}' "$1"\n}\n`,
    };
  }
  if (language === 'ts') {
    return {
      file: 'index.ts',
      handler: 'index.handler',
      code: `interface Event {\n  name?: string;\n}\n\nexport const handler = async (event: Event) => {\n  console.log('event', event);\n  return { hello: event.name ?? 'world' };\n};\n`,
    };
  }
  return {
    file: 'index.mjs',
    handler: 'index.handler',
    code: `export const handler = async (event) => {\n  console.log('event', event);\n  return { hello: event.name ?? 'world' };\n};\n`,
  };
}
