/**
 * @module platform/api/services/context
 * What every control-plane service works with: the stores, the ARN context, download URLs, and the engine hooks.
 */
import type { FunctionSpec } from '../../environments/function-spec.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import type { MetadataStore } from '../../storage/metadata.ts';
import type { ArnContext } from '../arns.ts';
import type { CodeUrls } from '../code-urls.ts';

export interface ServiceContext {
  store: MetadataStore;
  blobs: BlobStore;
  arn: ArnContext;
  codeUrls: CodeUrls;
  /** Prepares environments for a new configuration (extraction); resolves when the function may run. */
  prepare?: (spec: FunctionSpec) => Promise<void>;
  /** Called after $LATEST changed or the function went away: warm environments of other configurations retire. */
  retire?: (functionName: string, keepKey: string) => void;
}

/** Lambda's timestamp format: `2024-05-01T12:34:56.789+0000`. */
export function lambdaDate(date = new Date()): string {
  return date.toISOString().replace('Z', '+0000');
}

export const MAX_ZIPPED_BYTES = 52_428_800;
export const MAX_UNZIPPED_BYTES = 262_144_000;
