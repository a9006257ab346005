/**
 * @module platform/api/routes
 * Every Lambda operation Lambkin serves, one file per resource. To add an operation: add its route to the
 * resource's file (parse + check against the model, then call the service with a typed command).
 */
import type { Route } from '../router.ts';
import { accountRoutes } from './account.ts';
import { aliasRoutes } from './aliases.ts';
import type { RouteDeps } from './common.ts';
import { concurrencyRoutes } from './concurrency.ts';
import { functionRoutes } from './functions.ts';
import { invokeRoutes } from './invoke.ts';
import { layerRoutes } from './layers.ts';
import { tagRoutes } from './tags.ts';
import { versionRoutes } from './versions.ts';

export type { RouteDeps };

/** The route table, by resource. */
export const ROUTES_BY_RESOURCE = {
  layers: layerRoutes,
  functions: functionRoutes,
  versions: versionRoutes,
  aliases: aliasRoutes,
  concurrency: concurrencyRoutes,
  account: accountRoutes,
  tags: tagRoutes,
  invoke: invokeRoutes,
} satisfies Record<string, (deps: RouteDeps) => Route[]>;

export function lambdaRoutes(deps: RouteDeps): Route[] {
  return Object.values(ROUTES_BY_RESOURCE).flatMap((make) => make(deps));
}
