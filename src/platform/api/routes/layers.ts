/**
 * @module platform/api/routes/layers
 * PublishLayerVersion, GetLayerVersion, GetLayerVersionByArn, ListLayers, ListLayerVersions, DeleteLayerVersion.
 */
import { parseLayerName, parseLayerVersionArn } from '../arns.ts';
import { apiError } from '../errors.ts';
import { MODEL_RUNTIMES } from '../model-enums.generated.ts';
import { maxItems } from '../pagination.ts';
import { route, type ApiRequest, type Route } from '../router.ts';
import type { LayerFilter } from '../services/layers.ts';
import { Checker, parseJsonBody, validationError } from '../validate.ts';
import { ok, refuseRemoteCode, UPLOAD_BODY, zipFile, type RouteDeps } from './common.ts';

const LAYER_VERSION_ARN = /^arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+$/;
const ARCHITECTURES = ['x86_64', 'arm64'] as const;

export function layerRoutes({ service }: RouteDeps): Route[] {
  const layerName = (req: ApiRequest) => parseLayerName(service.arn, req.params.LayerName ?? '');
  return [
    route('POST', '/2018-10-31/layers/{LayerName}/versions', 'PublishLayerVersion', UPLOAD_BODY, async (req) => {
      const name = layerName(req);
      const body = parseJsonBody(req.body);
      const check = new Checker();
      const content = check.object(body.Content, 'content', true);
      const description = check.string(body.Description, 'description', { max: 256 });
      const licenseInfo = check.string(body.LicenseInfo, 'licenseInfo', { max: 512 });
      const compatibleRuntimes = check.stringList(body.CompatibleRuntimes, 'compatibleRuntimes', {
        max: 15,
        item: { enum: MODEL_RUNTIMES },
      });
      const compatibleArchitectures = check.stringList(body.CompatibleArchitectures, 'compatibleArchitectures', {
        max: 2,
        item: { enum: ARCHITECTURES },
      });
      const zip =
        content === undefined ? undefined : zipFile(content.ZipFile, 'content.zipFile', check, 'PublishLayerVersion');
      check.done();
      if (content !== undefined) refuseRemoteCode(content);
      if (zip === undefined) throw apiError.invalid('Uploaded file must be a non-empty zip');
      const out = await service.layers.publish({
        layerName: name,
        zipFile: zip,
        description: description ?? '',
        licenseInfo: licenseInfo ?? null,
        compatibleRuntimes: compatibleRuntimes ?? [],
        compatibleArchitectures: compatibleArchitectures ?? [],
      });
      return ok(out, 201);
    }),
    route('GET', '/2018-10-31/layers/{LayerName}/versions', 'ListLayerVersions', 0, (req) => {
      const name = layerName(req);
      const check = new Checker();
      const filter = layerFilter(req, check);
      const limit = maxItems(req.query, check, 50);
      check.done();
      return ok(service.layers.listVersions(name, filter, req.query.get('Marker'), limit));
    }),
    route('GET', '/2018-10-31/layers/{LayerName}/versions/{VersionNumber}', 'GetLayerVersion', 0, (req) =>
      ok(service.layers.get(layerName(req), versionNumber(req.params.VersionNumber))),
    ),
    route('DELETE', '/2018-10-31/layers/{LayerName}/versions/{VersionNumber}', 'DeleteLayerVersion', 0, (req) => {
      service.layers.delete(layerName(req), versionNumber(req.params.VersionNumber));
      return { status: 204 };
    }),
    // ListLayers, and GetLayerVersionByArn (`?find=LayerVersion&Arn=…`) on the same path.
    route('GET', '/2018-10-31/layers', 'ListLayers', 0, (req) => {
      const check = new Checker();
      if (req.query.get('find') === 'LayerVersion') {
        const arn = check.string(req.query.get('Arn'), 'arn', {
          required: true,
          max: 140,
          pattern: LAYER_VERSION_ARN,
        });
        check.done();
        const parsed = parseLayerVersionArn(service.arn, arn ?? '');
        if (parsed === null) throw apiError.notFound('The resource you requested does not exist.');
        return ok(service.layers.get(parsed.name, parsed.version));
      }
      const filter = layerFilter(req, check);
      const limit = maxItems(req.query, check, 50);
      check.done();
      return ok(service.layers.listLayers(filter, req.query.get('Marker'), limit));
    }),
  ];
}

function layerFilter(req: ApiRequest, check: Checker): LayerFilter {
  return {
    compatibleRuntime:
      check.string(req.query.get('CompatibleRuntime'), 'compatibleRuntime', { enum: MODEL_RUNTIMES }) ?? null,
    compatibleArchitecture:
      check.string(req.query.get('CompatibleArchitecture'), 'compatibleArchitecture', { enum: ARCHITECTURES }) ?? null,
  };
}

function versionNumber(raw: string | undefined): number {
  const n = Number(raw);
  if (raw === undefined || !/^\d+$/.test(raw) || !Number.isSafeInteger(n)) {
    throw validationError('versionNumber', raw ?? null, 'Member must be a number');
  }
  return n;
}
