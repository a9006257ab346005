/**
 * @module cli/layers
 * Layer references as users write them — a version ARN, `name:version`, or `name` (its latest version) — turned
 * into version ARNs through the public API.
 */
import { GetLayerVersionCommand, ListLayerVersionsCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { CliError } from './errors.ts';

export async function resolveLayer(lambda: LambdaClient, ref: string): Promise<string> {
  if (ref.startsWith('arn:')) return ref;
  const match = /^([a-zA-Z0-9-_]+)(?::(\d+))?$/.exec(ref);
  if (match === null)
    throw new CliError(
      'InvalidParameterValueException',
      `"${ref}" is not a layer: give a version ARN, name:version or name`,
    );
  const [, name = '', version] = match;
  if (version !== undefined) {
    const out = await lambda.send(new GetLayerVersionCommand({ LayerName: name, VersionNumber: Number(version) }));
    return out.LayerVersionArn ?? ref;
  }
  const out = await lambda.send(new ListLayerVersionsCommand({ LayerName: name, MaxItems: 1 }));
  const latest = out.LayerVersions?.[0]?.LayerVersionArn;
  if (latest === undefined)
    throw new CliError('ResourceNotFoundException', `layer ${name} has no versions`, {
      hint: `publish one: lambkin layer publish ${name} DIR`,
    });
  return latest;
}

export function resolveLayers(lambda: LambdaClient, refs: readonly string[]): Promise<string[]> {
  return Promise.all(refs.map((ref) => resolveLayer(lambda, ref)));
}
