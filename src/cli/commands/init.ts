/**
 * @module cli/commands/init
 * `lambkin init [--template ts|js|php-runtime|bash-runtime] DIR`: a project `lambkin dev` runs at once.
 * The ts/js templates live in src/cli/templates; the runtime templates are the examples/ runtimes themselves
 * (files named `function.*` become the function, the rest the runtime layer), so they cannot drift apart.
 */
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { CliError } from '../errors.ts';
import { PROJECT_FILE } from '../project.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const TEMPLATES = {
  ts: join(ROOT, 'src/cli/templates/ts'),
  js: join(ROOT, 'src/cli/templates/js'),
  'php-runtime': join(ROOT, 'examples/php-runtime'),
  'bash-runtime': join(ROOT, 'examples/bash-runtime'),
} as const;
type TemplateName = keyof typeof TEMPLATES;

export function initCommand(): Command {
  return new Command('init')
    .description('create a ready-to-run function project')
    .argument('<dir>', 'the new project’s directory (its name is the function’s name)')
    .addOption(new Option('--template <name>', 'what to start from').choices(Object.keys(TEMPLATES)).default('ts'))
    .option('--force', 'write into a directory that is not empty', false)
    .addHelpText(
      'after',
      '\nExamples:\n  $ lambkin init hello && lambkin dev hello\n  $ lambkin init --template php-runtime php-hello',
    )
    .action(async (dir: string, opts: { template: TemplateName; force: boolean }, command: Command) => {
      const target = resolve(dir);
      const name = basename(target).replace(/[^a-zA-Z0-9-_]/g, '-');
      if (existsSync(target) && (await readdir(target)).length > 0 && !opts.force)
        throw new CliError('DirectoryNotEmpty', `${dir} is not empty`, { hint: 'choose a new directory, or --force' });
      const files =
        opts.template === 'ts' || opts.template === 'js'
          ? await copyTemplate(TEMPLATES[opts.template], target, name)
          : await copyRuntimeExample(TEMPLATES[opts.template], target, name);
      const json = command.optsWithGlobals<{ json?: boolean }>().json === true;
      if (json) {
        process.stdout.write(`${JSON.stringify({ dir: target, name, template: opts.template, files }, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        `created ${dir} (${opts.template}): ${files.join(', ')}\n\nnext:\n  lambkin dev ${dir}\n` +
          `  curl 'http://127.0.0.1:3000/?name=Ada'\n`,
      );
    });
}

/** Copies a template directory, filling in the project name. Returns the files written (relative). */
async function copyTemplate(from: string, to: string, name: string): Promise<string[]> {
  const written: string[] = [];
  const visit = async (dir: string): Promise<void> => {
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const src = join(dir, entry.name);
      const rel = relative(from, src);
      if (entry.isDirectory()) {
        await mkdir(join(to, rel), { recursive: true });
        await visit(src);
        continue;
      }
      await mkdir(join(to, relative(from, dir)), { recursive: true });
      await writeFile(join(to, rel), (await readFile(src, 'utf8')).replaceAll('__NAME__', name));
      written.push(rel);
    }
  };
  await visit(from);
  return written;
}

/**
 * A runtime example becomes a project: `runtime/` (the layer: bootstrap and its files), `function/` (the
 * `function.*` files), an event and a `lambkin.json` that publishes `runtime/` as a layer.
 */
async function copyRuntimeExample(from: string, to: string, name: string): Promise<string[]> {
  if (!existsSync(from))
    throw new CliError('TemplateMissing', `${relative(process.cwd(), from)} is missing from this Lambkin install`);
  const written: string[] = [];
  await mkdir(join(to, 'runtime'), { recursive: true });
  await mkdir(join(to, 'function'), { recursive: true });
  await mkdir(join(to, 'events'), { recursive: true });
  for (const entry of (await readdir(from, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isFile() || entry.name.endsWith('.md') || entry.name.endsWith('.zip')) continue;
    const part = entry.name.startsWith('function.') ? 'function' : 'runtime';
    const src = join(from, entry.name);
    const dest = join(to, part, entry.name);
    await copyFile(src, dest);
    await chmod(dest, (await stat(src)).mode & 0o777);
    written.push(`${part}/${entry.name}`);
  }
  const handlerFile = written.find((f) => f.startsWith('function/'));
  if (handlerFile === undefined) throw new CliError('TemplateMissing', `${from} has no function.* file`);
  const project = {
    name,
    runtime: 'provided.al2023',
    handler: 'function.handler',
    code: 'function',
    layers: ['./runtime'],
    timeout: 3,
  };
  await writeFile(join(to, PROJECT_FILE), `${JSON.stringify(project, null, 2)}\n`);
  await writeFile(join(to, 'events', 'sample.json'), '{ "name": "Ada" }\n');
  await writeFile(
    join(to, 'README.md'),
    `# ${name}\n\nA function on a custom runtime layer (\`runtime/\`, with its \`bootstrap\`), made with \`lambkin init\`.\n\n` +
      '```sh\nlambkin dev .          # publishes runtime/ as a layer, deploys function/, watches both\n' +
      `lambkin invoke ${name} --payload @events/sample.json --tail\n\`\`\`\n\n` +
      'See docs/tutorial-custom-runtime.md in Lambkin for how the runtime works.\n',
  );
  written.push(PROJECT_FILE, 'events/sample.json', 'README.md');
  return written;
}
