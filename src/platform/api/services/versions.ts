/**
 * @module platform/api/services/versions
 * PublishVersion and ListVersionsByFunction. A version is an immutable snapshot of $LATEST's code and
 * configuration, numbered 1, 2, … per function; numbers are never reused, even after a version is deleted.
 */
import { LambdaApiError } from '../errors.ts';
import { paginate } from '../pagination.ts';
import type { FunctionService } from './functions.ts';

export interface PublishVersionCommand {
  name: string;
  description?: string;
  codeSha256?: string;
  revisionId?: string;
}

export class VersionService {
  readonly #functions: FunctionService;

  constructor(functions: FunctionService) {
    this.#functions = functions;
  }

  publish(cmd: PublishVersionCommand): Record<string, unknown> {
    const record = this.#functions.latest(cmd.name);
    this.#functions.checkRevision(record, cmd.revisionId);
    if (cmd.codeSha256 !== undefined && cmd.codeSha256 !== record.codeSha256) {
      throw new LambdaApiError(
        'PreconditionFailedException',
        `CodeSHA256 (${cmd.codeSha256}) is different from current CodeSHA256 in $LATEST (${record.codeSha256}). Please try again with the CodeSHA256 in $LATEST.`,
      );
    }
    this.#functions.checkNotUpdating(record);
    return this.#functions.configurationOut(this.#functions.publishSnapshot(record, cmd.description));
  }

  list(
    name: string,
    marker: string | null,
    limit: number,
  ): { Versions: Record<string, unknown>[]; NextMarker?: string } {
    const versions = this.#functions.versionsOut(this.#functions.latest(name));
    const page = paginate(versions, marker, Math.min(50, limit), (v) => String(v.Version));
    return { Versions: page.items, ...page.next };
  }
}
