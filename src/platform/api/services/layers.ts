/**
 * @module platform/api/services/layers
 * Layers: PublishLayerVersion, GetLayerVersion(ByArn), ListLayers, ListLayerVersions, DeleteLayerVersion.
 * Version numbers start at 1 per layer name and are never reused, even after deletion (the store keeps a counter).
 */
import type { LayerVersionRecord } from '../../storage/metadata.ts';
import { layerArn, layerVersionArn } from '../arns.ts';
import { apiError } from '../errors.ts';
import { paginate, type Page } from '../pagination.ts';
import { lambdaDate, MAX_UNZIPPED_BYTES, type ServiceContext } from './context.ts';
import { storeZip } from './zip-upload.ts';

export interface PublishLayerVersionCommand {
  layerName: string;
  zipFile: Buffer;
  description: string;
  licenseInfo: string | null;
  compatibleRuntimes: string[];
  compatibleArchitectures: string[];
}

export interface LayerFilter {
  compatibleRuntime: string | null;
  compatibleArchitecture: string | null;
}

export class LayerService {
  readonly #c: ServiceContext;

  constructor(context: ServiceContext) {
    this.#c = context;
  }

  async publish(cmd: PublishLayerVersionCommand): Promise<Record<string, unknown>> {
    const zip = await storeZip(this.#c.blobs, cmd.zipFile, MAX_UNZIPPED_BYTES);
    const record = this.#c.store.addLayerVersion({
      layerName: cmd.layerName,
      description: cmd.description,
      licenseInfo: cmd.licenseInfo,
      compatibleRuntimes: cmd.compatibleRuntimes,
      compatibleArchitectures: cmd.compatibleArchitectures,
      codeSha256Hex: zip.sha256Hex,
      codeSha256: zip.sha256Base64,
      codeSize: zip.size,
      unzippedSize: zip.unzippedBytes,
      createdDate: lambdaDate(),
    });
    return this.#out(record);
  }

  get(layerName: string, version: number): Record<string, unknown> {
    const record = this.#c.store.getLayerVersion(layerName, version);
    if (record === null) throw apiError.notFound('The resource you requested does not exist.');
    return this.#out(record);
  }

  /** Deleting a version that does not exist is not an error (as on Lambda). */
  delete(layerName: string, version: number): void {
    this.#c.store.deleteLayerVersion(layerName, version);
  }

  listVersions(
    layerName: string,
    filter: LayerFilter,
    marker: string | null,
    limit: number,
  ): { LayerVersions: Record<string, unknown>[]; NextMarker?: string } {
    const versions = this.#c.store.listLayerVersions(layerName).filter((v) => matches(v, filter));
    const page = paginate(versions, marker, limit, (v) => String(v.version));
    return { LayerVersions: page.items.map((v) => this.#listItem(v)), ...page.next };
  }

  listLayers(
    filter: LayerFilter,
    marker: string | null,
    limit: number,
  ): { Layers: Record<string, unknown>[]; NextMarker?: string } {
    const layers: { name: string; latest: LayerVersionRecord }[] = [];
    for (const name of this.#c.store.listLayerNames()) {
      const latest = this.#c.store.listLayerVersions(name).find((v) => matches(v, filter));
      if (latest !== undefined) layers.push({ name, latest });
    }
    const page: Page<(typeof layers)[number]> = paginate(layers, marker, limit, (l) => l.name);
    return {
      Layers: page.items.map((l) => ({
        LayerName: l.name,
        LayerArn: layerArn(this.#c.arn, l.name),
        LatestMatchingVersion: this.#listItem(l.latest),
      })),
      ...page.next,
    };
  }

  #out(r: LayerVersionRecord): Record<string, unknown> {
    return {
      Content: {
        Location: this.#c.codeUrls.sign(`layer:${r.layerName}:${r.version}`, r.codeSha256Hex),
        CodeSha256: r.codeSha256,
        CodeSize: r.codeSize,
      },
      LayerArn: layerArn(this.#c.arn, r.layerName),
      ...this.#listItem(r),
    };
  }

  #listItem(r: LayerVersionRecord): Record<string, unknown> {
    return {
      LayerVersionArn: layerVersionArn(this.#c.arn, r.layerName, r.version),
      Version: r.version,
      Description: r.description,
      CreatedDate: r.createdDate,
      CompatibleRuntimes: r.compatibleRuntimes,
      ...(r.licenseInfo !== null ? { LicenseInfo: r.licenseInfo } : {}),
      CompatibleArchitectures: r.compatibleArchitectures,
    };
  }
}

function matches(v: LayerVersionRecord, filter: LayerFilter): boolean {
  return (
    (filter.compatibleRuntime === null || v.compatibleRuntimes.includes(filter.compatibleRuntime)) &&
    (filter.compatibleArchitecture === null || v.compatibleArchitectures.includes(filter.compatibleArchitecture))
  );
}
