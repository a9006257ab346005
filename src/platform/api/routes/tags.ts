/**
 * @module platform/api/routes/tags
 * TagResource, UntagResource, ListTags (`/2017-03-31/tags/{ARN}`).
 */
import { route, type ApiRequest, type Route } from '../router.ts';
import { Checker, parseJsonBody } from '../validate.ts';
import { JSON_BODY, ok, type RouteDeps } from './common.ts';

const TAGGABLE = {
  min: 1,
  max: 256,
  pattern:
    /^arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?$/,
  patternText:
    'arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:(function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9-_]+)',
};

export function tagRoutes({ service }: RouteDeps): Route[] {
  const resource = (req: ApiRequest, check: Checker) =>
    check.string(req.params.ARN, 'resource', { required: true, ...TAGGABLE }) ?? '';
  return [
    route('GET', '/2017-03-31/tags/{ARN}', 'ListTags', 0, (req) => {
      const check = new Checker();
      const arn = resource(req, check);
      check.done();
      return ok(service.tags.list(arn));
    }),
    route('POST', '/2017-03-31/tags/{ARN}', 'TagResource', JSON_BODY, (req) => {
      const body = parseJsonBody(req.body);
      const check = new Checker();
      const arn = resource(req, check);
      const tags = check.stringMap(body.Tags, 'tags', true);
      check.done();
      service.tags.tag(arn, tags ?? {});
      return { status: 204 };
    }),
    route('DELETE', '/2017-03-31/tags/{ARN}', 'UntagResource', 0, (req) => {
      const check = new Checker();
      const arn = resource(req, check);
      if (!req.query.has('tagKeys')) check.fail('tagKeys', null, 'Member must not be null');
      check.done();
      service.tags.untag(arn, req.query.getAll('tagKeys'));
      return { status: 204 };
    }),
  ];
}
