/**
 * @module platform/api/arns
 * ARNs and the name forms the Lambda API accepts (LAMBDA-FACTS §4–5).
 */
import { apiError } from './errors.ts';

export interface ArnContext {
  region: string;
  accountId: string;
}

export const FUNCTION_NAME = /^[a-zA-Z0-9-_]+$/;
export const LAYER_NAME = /^[a-zA-Z0-9-_]+$/;
export const ALIAS_NAME = /^(?!^[0-9]+$)[a-zA-Z0-9-_]+$/;
const QUALIFIER = /^(\$LATEST|[a-zA-Z0-9-_]+)$/;

export function functionArn(ctx: ArnContext, name: string, qualifier?: string): string {
  const base = `arn:aws:lambda:${ctx.region}:${ctx.accountId}:function:${name}`;
  return qualifier === undefined ? base : `${base}:${qualifier}`;
}

export function layerArn(ctx: ArnContext, name: string): string {
  return `arn:aws:lambda:${ctx.region}:${ctx.accountId}:layer:${name}`;
}

export function layerVersionArn(ctx: ArnContext, name: string, version: number): string {
  return `${layerArn(ctx, name)}:${version}`;
}

/**
 * Parses a `FunctionName` as the API accepts it: `name`, `name:qualifier`, `123456789012:function:name[:q]`, or a
 * full ARN. A qualifier in the name must agree with a separate `Qualifier` parameter.
 */
export function parseFunctionName(
  ctx: ArnContext,
  raw: string,
  qualifierParam?: string,
): { name: string; qualifier: string | undefined } {
  if (raw.length === 0 || raw.length > 256) {
    throw apiError.validation('functionName', raw, 'Member must have length less than or equal to 256');
  }
  let name: string;
  let qualifier: string | undefined;
  const parts = raw.split(':');
  if (raw.startsWith('arn:')) {
    // arn:aws:lambda:region:account:function:name[:qualifier]
    if (parts.length < 7 || parts.length > 8 || parts[2] !== 'lambda' || parts[5] !== 'function') throw badName(raw);
    if (parts[3] !== ctx.region || parts[4] !== ctx.accountId) throw badName(raw);
    name = parts[6] ?? '';
    qualifier = parts[7];
  } else if (parts.length >= 3 && parts[1] === 'function') {
    if (parts.length > 4 || parts[0] !== ctx.accountId) throw badName(raw);
    name = parts[2] ?? '';
    qualifier = parts[3];
  } else if (parts.length <= 2) {
    name = parts[0] ?? '';
    qualifier = parts[1];
  } else {
    throw badName(raw);
  }
  if (!FUNCTION_NAME.test(name) || name.length > 64) throw badName(raw);
  if (qualifier !== undefined && !QUALIFIER.test(qualifier)) throw badName(raw);
  if (qualifierParam !== undefined && qualifierParam !== '') {
    if (!QUALIFIER.test(qualifierParam) || qualifierParam.length > 128) {
      throw apiError.validation(
        'qualifier',
        qualifierParam,
        'Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)',
      );
    }
    if (qualifier !== undefined && qualifier !== qualifierParam) {
      throw apiError.invalid('The derived qualifier from the function name does not match the specified qualifier.');
    }
    qualifier = qualifierParam;
  }
  return { name, qualifier };
}

function badName(raw: string) {
  return apiError.validation(
    'functionName',
    raw,
    'Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?',
  );
}

/** Parses `arn:aws:lambda:<region>:<account>:layer:<name>:<version>`. */
export function parseLayerVersionArn(ctx: ArnContext, arn: string): { name: string; version: number } | null {
  const m = /^arn:aws:lambda:([a-z0-9-]+):(\d{12}):layer:([a-zA-Z0-9-_]+):(\d+)$/.exec(arn);
  if (m === null || arn.length > 140) return null;
  const [, region, account, name, version] = m;
  if (region !== ctx.region || account !== ctx.accountId || name === undefined || version === undefined) return null;
  return { name, version: Number(version) };
}

/** `LayerName` may be a name or a layer ARN. */
export function parseLayerName(ctx: ArnContext, raw: string): string {
  const m = /^arn:aws:lambda:([a-z0-9-]+):(\d{12}):layer:([a-zA-Z0-9-_]+)$/.exec(raw);
  if (m !== null && m[1] === ctx.region && m[2] === ctx.accountId && m[3] !== undefined) return m[3];
  if (!LAYER_NAME.test(raw) || raw.length > 140) {
    throw apiError.validation(
      'layerName',
      raw,
      'Member must satisfy regular expression pattern: (arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+',
    );
  }
  return raw;
}
