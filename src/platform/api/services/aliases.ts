/**
 * @module platform/api/services/aliases
 * Create/Get/Update/Delete/ListAliases. An alias points at a version (or $LATEST) and may send a share of
 * invocations to one additional version (`RoutingConfig.AdditionalVersionWeights`).
 */
import { randomUUID } from 'node:crypto';
import type { AliasRecord } from '../../storage/metadata.ts';
import { functionArn } from '../arns.ts';
import { apiError, LambdaApiError } from '../errors.ts';
import { paginate } from '../pagination.ts';
import type { ServiceContext } from './context.ts';
import type { FunctionService } from './functions.ts';

export interface AliasChanges {
  functionVersion?: string;
  description?: string;
  /** `null` removes the routing configuration. */
  additionalVersionWeights?: Record<string, number>;
}

export interface CreateAliasCommand extends AliasChanges {
  functionName: string;
  name: string;
  functionVersion: string;
}

export interface UpdateAliasCommand extends AliasChanges {
  functionName: string;
  name: string;
  revisionId?: string;
}

export class AliasService {
  readonly #c: ServiceContext;
  readonly #functions: FunctionService;

  constructor(context: ServiceContext, functions: FunctionService) {
    this.#c = context;
    this.#functions = functions;
  }

  create(cmd: CreateAliasCommand): Record<string, unknown> {
    this.#functions.latest(cmd.functionName);
    const record: AliasRecord = {
      functionName: cmd.functionName,
      name: cmd.name,
      functionVersion: this.#checkVersion(cmd.functionName, cmd.functionVersion),
      description: cmd.description ?? '',
      additionalVersionWeights: this.#weights(cmd.functionName, cmd.functionVersion, cmd.additionalVersionWeights),
      revisionId: randomUUID(),
    };
    if (!this.#c.store.putAlias(record, true)) {
      throw apiError.conflict(`Alias already exists: ${functionArn(this.#c.arn, cmd.functionName, cmd.name)}`);
    }
    return this.out(record);
  }

  update(cmd: UpdateAliasCommand): Record<string, unknown> {
    const record = this.#get(cmd.functionName, cmd.name);
    if (cmd.revisionId !== undefined && cmd.revisionId !== record.revisionId) {
      throw new LambdaApiError(
        'PreconditionFailedException',
        'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
      );
    }
    if (cmd.functionVersion !== undefined)
      record.functionVersion = this.#checkVersion(cmd.functionName, cmd.functionVersion);
    if (cmd.description !== undefined) record.description = cmd.description;
    if (cmd.additionalVersionWeights !== undefined || cmd.functionVersion !== undefined) {
      record.additionalVersionWeights = this.#weights(
        cmd.functionName,
        record.functionVersion,
        cmd.additionalVersionWeights ?? record.additionalVersionWeights,
      );
    }
    record.revisionId = randomUUID();
    this.#c.store.putAlias(record, false);
    return this.out(record);
  }

  get(functionName: string, name: string): Record<string, unknown> {
    return this.out(this.#get(functionName, name));
  }

  delete(functionName: string, name: string): void {
    this.#functions.latest(functionName);
    this.#c.store.deleteAlias(functionName, name);
  }

  list(
    functionName: string,
    functionVersion: string | null,
    marker: string | null,
    limit: number,
  ): { Aliases: Record<string, unknown>[]; NextMarker?: string } {
    this.#functions.latest(functionName);
    const aliases = this.#c.store
      .listAliases(functionName)
      .filter((a) => functionVersion === null || a.functionVersion === functionVersion);
    const page = paginate(aliases, marker, Math.min(50, limit), (a) => a.name);
    return { Aliases: page.items.map((a) => this.out(a)), ...page.next };
  }

  out(a: AliasRecord): Record<string, unknown> {
    return {
      AliasArn: functionArn(this.#c.arn, a.functionName, a.name),
      Name: a.name,
      FunctionVersion: a.functionVersion,
      Description: a.description,
      ...(Object.keys(a.additionalVersionWeights).length > 0
        ? { RoutingConfig: { AdditionalVersionWeights: a.additionalVersionWeights } }
        : {}),
      RevisionId: a.revisionId,
    };
  }

  #get(functionName: string, name: string): AliasRecord {
    this.#functions.latest(functionName);
    const record = this.#c.store.getAlias(functionName, name);
    if (record === null)
      throw apiError.notFound(`Cannot find alias arn: ${functionArn(this.#c.arn, functionName, name)}`);
    return record;
  }

  #checkVersion(functionName: string, version: string): string {
    if (version !== '$LATEST' && this.#c.store.getVersion(functionName, version) === null) {
      throw apiError.notFound(`Function not found: ${functionArn(this.#c.arn, functionName, version)}`);
    }
    return version;
  }

  #weights(functionName: string, primary: string, weights: Record<string, number> | undefined): Record<string, number> {
    if (weights === undefined) return {};
    const entries = Object.entries(weights);
    if (entries.length > 1) {
      throw apiError.invalid('Number of items in AdditionalVersionWeights cannot be greater than 1');
    }
    for (const [version] of entries) {
      if (version === primary) {
        throw apiError.invalid(
          `Invalid function version ${version}. Function version ${version} is already included in routing configuration.`,
        );
      }
      if (primary === '$LATEST') {
        throw apiError.invalid('$LATEST is not supported for an alias pointing to more than 1 version');
      }
      this.#checkVersion(functionName, version);
    }
    return { ...weights };
  }
}
