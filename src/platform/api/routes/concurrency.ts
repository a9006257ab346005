/**
 * @module platform/api/routes/concurrency
 * PutFunctionConcurrency, GetFunctionConcurrency, DeleteFunctionConcurrency.
 */
import { route, type Route } from '../router.ts';
import { Checker, parseJsonBody } from '../validate.ts';
import { JSON_BODY, ok, unqualifiedFunction, type RouteDeps } from './common.ts';

export function concurrencyRoutes({ service }: RouteDeps): Route[] {
  return [
    route('PUT', '/2017-10-31/functions/{FunctionName}/concurrency', 'PutFunctionConcurrency', JSON_BODY, (req) => {
      const name = unqualifiedFunction(req, service);
      const body = parseJsonBody(req.body);
      const check = new Checker();
      const reserved = check.int(body.ReservedConcurrentExecutions, 'reservedConcurrentExecutions', {
        required: true,
        min: 0,
      });
      check.done();
      return ok(service.concurrency.put(name, reserved ?? 0));
    }),
    route('GET', '/2019-09-30/functions/{FunctionName}/concurrency', 'GetFunctionConcurrency', 0, (req) =>
      ok(service.concurrency.get(unqualifiedFunction(req, service))),
    ),
    route('DELETE', '/2017-10-31/functions/{FunctionName}/concurrency', 'DeleteFunctionConcurrency', 0, (req) => {
      service.concurrency.delete(unqualifiedFunction(req, service));
      return { status: 204 };
    }),
  ];
}
