/**
 * @module platform/api/routes/aliases
 * CreateAlias, GetAlias, UpdateAlias, DeleteAlias, ListAliases.
 */
import { maxItems } from '../pagination.ts';
import { route, type ApiRequest, type Route } from '../router.ts';
import { Checker, parseJsonBody } from '../validate.ts';
import { JSON_BODY, ok, unqualifiedFunction, type RouteDeps } from './common.ts';

const ALIAS = {
  min: 1,
  max: 128,
  pattern: /^(?!^[0-9]+$)([a-zA-Z0-9-_]+)$/,
  patternText: '(?!^[0-9]+$)([a-zA-Z0-9-_]+)',
};
const VERSION = { min: 1, max: 1024, pattern: /^(\$LATEST|[0-9]+)$/, patternText: '(\\$LATEST|[0-9]+)' };

export function aliasRoutes({ service }: RouteDeps): Route[] {
  const aliasName = (req: ApiRequest, check: Checker) =>
    check.string(req.params.Name, 'name', { required: true, ...ALIAS }) ?? '';
  return [
    route('POST', '/2015-03-31/functions/{FunctionName}/aliases', 'CreateAlias', JSON_BODY, (req) => {
      const functionName = unqualifiedFunction(req, service);
      const body = parseJsonBody(req.body);
      const check = new Checker();
      const name = check.string(body.Name, 'name', { required: true, ...ALIAS });
      const functionVersion = check.string(body.FunctionVersion, 'functionVersion', { required: true, ...VERSION });
      const description = check.string(body.Description, 'description', { max: 256 });
      const weights = routingWeights(body.RoutingConfig, check);
      check.done();
      const out = service.aliases.create({
        functionName,
        name: name ?? '',
        functionVersion: functionVersion ?? '',
        ...(description !== undefined ? { description } : {}),
        ...(weights !== undefined ? { additionalVersionWeights: weights } : {}),
      });
      return ok(out, 201);
    }),
    route('GET', '/2015-03-31/functions/{FunctionName}/aliases', 'ListAliases', 0, (req) => {
      const functionName = unqualifiedFunction(req, service);
      const check = new Checker();
      const version = check.string(req.query.get('FunctionVersion'), 'functionVersion', VERSION);
      const limit = maxItems(req.query, check, 10000, 50);
      check.done();
      return ok(service.aliases.list(functionName, version ?? null, req.query.get('Marker'), limit));
    }),
    route('GET', '/2015-03-31/functions/{FunctionName}/aliases/{Name}', 'GetAlias', 0, (req) => {
      const functionName = unqualifiedFunction(req, service);
      const check = new Checker();
      const name = aliasName(req, check);
      check.done();
      return ok(service.aliases.get(functionName, name));
    }),
    route('PUT', '/2015-03-31/functions/{FunctionName}/aliases/{Name}', 'UpdateAlias', JSON_BODY, (req) => {
      const functionName = unqualifiedFunction(req, service);
      const body = parseJsonBody(req.body);
      const check = new Checker();
      const name = aliasName(req, check);
      const functionVersion = check.string(body.FunctionVersion, 'functionVersion', VERSION);
      const description = check.string(body.Description, 'description', { max: 256 });
      const weights = routingWeights(body.RoutingConfig, check);
      const revisionId = check.string(body.RevisionId, 'revisionId');
      check.done();
      return ok(
        service.aliases.update({
          functionName,
          name,
          ...(functionVersion !== undefined ? { functionVersion } : {}),
          ...(description !== undefined ? { description } : {}),
          ...(weights !== undefined ? { additionalVersionWeights: weights } : {}),
          ...(revisionId !== undefined ? { revisionId } : {}),
        }),
      );
    }),
    route('DELETE', '/2015-03-31/functions/{FunctionName}/aliases/{Name}', 'DeleteAlias', 0, (req) => {
      const functionName = unqualifiedFunction(req, service);
      const check = new Checker();
      const name = aliasName(req, check);
      check.done();
      service.aliases.delete(functionName, name);
      return { status: 204 };
    }),
  ];
}

/** `RoutingConfig.AdditionalVersionWeights`: version → weight 0…1. A RoutingConfig without weights clears them. */
function routingWeights(value: unknown, check: Checker): Record<string, number> | undefined {
  const routing = check.object(value, 'routingConfig');
  if (routing === undefined) return undefined;
  const weights = check.object(routing.AdditionalVersionWeights, 'routingConfig.additionalVersionWeights') ?? {};
  const out: Record<string, number> = {};
  for (const [version, weight] of Object.entries(weights)) {
    check.string(version, 'routingConfig.additionalVersionWeights', {
      min: 1,
      max: 1024,
      pattern: /^[0-9]+$/,
      patternText: '[0-9]+',
    });
    const w = check.number(weight, `routingConfig.additionalVersionWeights.${version}`, { min: 0, max: 1 });
    if (w !== undefined) out[version] = w;
  }
  return out;
}
