/**
 * @module platform/api/services/zip-upload
 * An uploaded zip (function code or layer content) is checked completely before anything is kept: real unzipped
 * size against the remaining budget, and every hostile construction `inspectZip` knows. Only then is it stored,
 * atomically, in the blob store. A refused upload leaves nothing behind.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPlatformError } from '../../errors.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import { inspectZip } from '../../storage/zip.ts';
import { apiError } from '../errors.ts';

export interface StoredZip {
  sha256Hex: string;
  /** Lambda's `CodeSha256` (base64). */
  sha256Base64: string;
  size: number;
  unzippedBytes: number;
}

export async function storeZip(blobs: BlobStore, bytes: Buffer, maxUnzippedBytes: number): Promise<StoredZip> {
  if (bytes.length === 0) throw apiError.invalid('Uploaded file must be a non-empty zip');
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-upload-'));
  try {
    const file = join(dir, 'upload.zip');
    await writeFile(file, bytes);
    let unzippedBytes: number;
    try {
      ({ unzippedBytes } = await inspectZip(file, { maxUnzippedBytes: Math.max(0, maxUnzippedBytes) }));
    } catch (err) {
      if (isPlatformError(err, 'ERR_ZIP_TOO_LARGE') && /Unzipped size/.test(err.message)) {
        throw apiError.invalid(`Unzipped size must be smaller than ${Math.max(0, maxUnzippedBytes)} bytes`);
      }
      if (isPlatformError(err)) throw apiError.invalid(unzipMessage(err.message));
      throw err;
    }
    const blob = await blobs.putFile(file);
    return { sha256Hex: blob.sha256Hex, sha256Base64: blob.sha256Base64, size: blob.size, unzippedBytes };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Lambda's wording: "Could not unzip uploaded file. Please check your file, then try to upload again." + why. */
function unzipMessage(detail: string): string {
  if (detail.startsWith('Uploaded file')) return detail;
  const reason = detail.startsWith('Could not unzip') ? detail : `Could not unzip uploaded file: ${detail}`;
  return `${reason.replace(/\.$/, '')}. Please check your file, then try to upload again.`;
}
