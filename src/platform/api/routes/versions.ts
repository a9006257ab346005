/**
 * @module platform/api/routes/versions
 * PublishVersion, ListVersionsByFunction.
 */
import { maxItems } from '../pagination.ts';
import { route, type Route } from '../router.ts';
import { Checker, parseJsonBody } from '../validate.ts';
import { JSON_BODY, ok, unqualifiedFunction, type RouteDeps } from './common.ts';

export function versionRoutes({ service }: RouteDeps): Route[] {
  return [
    route('POST', '/2015-03-31/functions/{FunctionName}/versions', 'PublishVersion', JSON_BODY, (req) => {
      const name = unqualifiedFunction(req, service);
      const body = parseJsonBody(req.body);
      const check = new Checker();
      const description = check.string(body.Description, 'description', { max: 256 });
      const codeSha256 = check.string(body.CodeSha256, 'codeSha256');
      const revisionId = check.string(body.RevisionId, 'revisionId');
      check.done();
      const out = service.versions.publish({
        name,
        ...(description !== undefined ? { description } : {}),
        ...(codeSha256 !== undefined ? { codeSha256 } : {}),
        ...(revisionId !== undefined ? { revisionId } : {}),
      });
      return ok(out, 201);
    }),
    route('GET', '/2015-03-31/functions/{FunctionName}/versions', 'ListVersionsByFunction', 0, (req) => {
      const name = unqualifiedFunction(req, service);
      const check = new Checker();
      const limit = maxItems(req.query, check, 10000, 50);
      check.done();
      return ok(service.versions.list(name, req.query.get('Marker'), limit));
    }),
  ];
}
