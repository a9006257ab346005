/**
 * @module platform/api/routes/account
 * GetAccountSettings.
 */
import { route, type Route } from '../router.ts';
import { ok, type RouteDeps } from './common.ts';

export function accountRoutes({ service }: RouteDeps): Route[] {
  return [
    route('GET', '/2016-08-19/account-settings', 'GetAccountSettings', 0, () =>
      ok(service.concurrency.accountSettings()),
    ),
  ];
}
