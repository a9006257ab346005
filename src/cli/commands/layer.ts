/**
 * @module cli/commands/layer
 * `lambkin layer build|publish|list|versions|delete`.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { basename, relative, resolve } from 'node:path';
import {
  DeleteLayerVersionCommand,
  paginateListLayers,
  paginateListLayerVersions,
  PublishLayerVersionCommand,
  type LayersListItem,
  type LayerVersionsListItem,
  type Runtime,
} from '@aws-sdk/client-lambda';
import { Command } from 'commander';
import { codeFrom, packDirectory } from '../archive.ts';
import { CliError } from '../errors.ts';
import { humanAgo, humanBytes } from '../output.ts';
import { openSession } from '../session.ts';

export function layerCommand(): Command {
  const layer = new Command('layer').description('build, publish and manage layers');

  layer
    .command('build')
    .description('check a directory against Lambda’s rules and write a deterministic layer zip')
    .argument('<dir>', 'the layer’s files, as they will appear under /opt')
    .option('--out <file>', 'where to write the zip (default: <dir>.zip)')
    .option('--runtime', 'a runtime layer: require an executable bootstrap at the root', false)
    .addHelpText('after', '\nExample:\n  $ lambkin layer build ./php-runtime --runtime --out php-runtime.zip')
    .action(async (dir: string, opts: { out?: string; runtime: boolean }, command: Command) => {
      const { out } = openSession(command);
      const file = resolve(opts.out ?? `${basename(resolve(dir))}.zip`);
      const progress = out.progress('zipping', 0);
      const packed = await packDirectory(dir, {
        runtime: opts.runtime,
        skip: (rel) => resolve(dir, rel) === file,
        onProgress: (done, total) => {
          progress.update(done, total);
        },
      }).finally(() => {
        progress.stop();
      });
      await writeFile(file, packed.zip);
      const sha = createHash('sha256').update(packed.zip).digest('base64');
      out.result(
        {
          file,
          files: packed.files,
          zippedBytes: packed.zip.length,
          unzippedBytes: packed.unzippedBytes,
          codeSha256: sha,
          runtime: packed.hasBootstrap,
        },
        () => {
          out.line(
            `wrote ${out.color.cyan(relative(process.cwd(), file) || file)}: ${packed.files} files, ` +
              `${humanBytes(packed.zip.length)} zipped, ${humanBytes(packed.unzippedBytes)} unzipped` +
              (packed.hasBootstrap ? ', runtime layer (bootstrap)' : ''),
          );
          out.line(`CodeSha256 ${sha}`);
        },
      );
    });

  layer
    .command('publish')
    .description('publish a new version of a layer from a directory or a zip')
    .argument('<name>', 'layer name')
    .argument('<path>', 'a directory (zipped for you) or a .zip file')
    .option('--description <text>', 'version description')
    .option('--compatible-runtimes <runtimes...>', 'runtimes the layer is meant for (optional)')
    .addHelpText('after', '\nExample:\n  $ lambkin layer publish php-runtime ./php-runtime')
    .action(
      async (
        name: string,
        path: string,
        opts: { description?: string; compatibleRuntimes?: string[] },
        command: Command,
      ) => {
        const { lambda, out } = openSession(command);
        const { zip } = await codeFrom(path);
        const progress = out.progress(`uploading ${humanBytes(zip.length)}`, 0);
        const version = await lambda
          .send(
            new PublishLayerVersionCommand({
              LayerName: name,
              Content: { ZipFile: zip },
              ...(opts.description !== undefined ? { Description: opts.description } : {}),
              ...(opts.compatibleRuntimes !== undefined
                ? { CompatibleRuntimes: opts.compatibleRuntimes as Runtime[] }
                : {}),
            }),
          )
          .finally(() => {
            progress.stop();
          });
        const { $metadata: _, ...body } = version;
        out.result(body, () => {
          out.line(`published ${out.color.bold(`${name}:${String(version.Version)}`)} (${humanBytes(zip.length)})`);
          out.line(version.LayerVersionArn ?? '');
        });
      },
    );

  layer
    .command('list')
    .description('list layers with their latest version')
    .addHelpText('after', '\nExample:\n  $ lambkin layer list --json')
    .action(async (_opts: unknown, command: Command) => {
      const { lambda, out } = openSession(command);
      const layers: LayersListItem[] = [];
      for await (const page of paginateListLayers({ client: lambda }, {})) layers.push(...(page.Layers ?? []));
      out.result(layers, () => {
        out.table(
          ['NAME', 'LATEST', 'DESCRIPTION', 'CREATED'],
          layers.map((l) => [
            l.LayerName ?? '',
            l.LatestMatchingVersion?.Version ?? '',
            l.LatestMatchingVersion?.Description ?? '',
            humanAgo(l.LatestMatchingVersion?.CreatedDate),
          ]),
        );
      });
    });

  layer
    .command('versions')
    .description('list the versions of a layer, newest first')
    .argument('<name>', 'layer name')
    .addHelpText('after', '\nExample:\n  $ lambkin layer versions php-runtime')
    .action(async (name: string, _opts: unknown, command: Command) => {
      const { lambda, out } = openSession(command);
      const versions: LayerVersionsListItem[] = [];
      for await (const page of paginateListLayerVersions({ client: lambda }, { LayerName: name }))
        versions.push(...(page.LayerVersions ?? []));
      out.result(versions, () => {
        out.table(
          ['VERSION', 'ARN', 'DESCRIPTION', 'CREATED'],
          versions.map((v) => [v.Version ?? '', v.LayerVersionArn ?? '', v.Description ?? '', humanAgo(v.CreatedDate)]),
        );
      });
    });

  layer
    .command('delete')
    .description('delete one version of a layer (functions that use it keep working)')
    .argument('<name>', 'layer name')
    .argument('<version>', 'version number')
    .addHelpText('after', '\nExample:\n  $ lambkin layer delete php-runtime 3')
    .action(async (name: string, version: string, _opts: unknown, command: Command) => {
      const { lambda, out } = openSession(command);
      const number = versionNumber(version);
      await lambda.send(new DeleteLayerVersionCommand({ LayerName: name, VersionNumber: number }));
      out.result({ LayerName: name, VersionNumber: number, deleted: true }, () => {
        out.line(`deleted ${name}:${version}`);
      });
    });

  return layer;
}

function versionNumber(text: string): number {
  if (!/^[1-9]\d{0,9}$/.test(text))
    throw new CliError('InvalidParameterValueException', `"${text}" is not a layer version number`, {
      hint: 'see them with `lambkin layer versions NAME`',
    });
  return Number(text);
}
