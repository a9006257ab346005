/**
 * @module platform/api/services/tags
 * TagResource, UntagResource, ListTags on function ARNs (unqualified, as Lambda requires).
 */
import { parseFunctionName } from '../arns.ts';
import { apiError } from '../errors.ts';
import type { ServiceContext } from './context.ts';
import type { FunctionService } from './functions.ts';

export const MAX_TAGS = 50;

export class TagService {
  readonly #c: ServiceContext;
  readonly #functions: FunctionService;

  constructor(context: ServiceContext, functions: FunctionService) {
    this.#c = context;
    this.#functions = functions;
  }

  list(arn: string): { Tags: Record<string, string> } {
    return { Tags: this.#c.store.getTags(this.#function(arn)) };
  }

  tag(arn: string, tags: Record<string, string>): void {
    const name = this.#function(arn);
    this.#c.store.transaction(() => {
      const merged = { ...this.#c.store.getTags(name), ...tags };
      if (Object.keys(merged).length > MAX_TAGS) {
        throw apiError.invalid(`Number of tags exceeds resource tag limit of ${MAX_TAGS}.`);
      }
      this.#c.store.setTags(name, merged);
    });
  }

  untag(arn: string, keys: readonly string[]): void {
    this.#c.store.updateTags(this.#function(arn), {}, keys);
  }

  /** The function a taggable ARN names; qualified ARNs are refused as Lambda does. */
  #function(arn: string): string {
    const { name, qualifier } = parseFunctionName(this.#c.arn, arn);
    if (qualifier !== undefined) {
      throw apiError.invalid(
        'Tags are not supported on function versions or aliases; tag the unqualified function ARN.',
      );
    }
    this.#functions.latest(name);
    return name;
  }
}
