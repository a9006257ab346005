/**
 * @module platform/api/service
 * The Lambda control plane's logic, one service per resource (services/*.ts): typed commands in, AWS-shaped
 * records out, `LambdaApiError` for what Lambda refuses. HTTP parsing lives in routes/*.ts.
 */
import type { FunctionSpec } from '../environments/function-spec.ts';
import type { Invoker } from '../invoke/types.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { MetadataStore } from '../storage/metadata.ts';
import type { ArnContext } from './arns.ts';
import type { CodeUrls } from './code-urls.ts';
import { AliasService } from './services/aliases.ts';
import { ConcurrencyService } from './services/concurrency.ts';
import type { ServiceContext } from './services/context.ts';
import { FunctionService } from './services/functions.ts';
import { InvokeService } from './services/invoke.ts';
import { LayerService } from './services/layers.ts';
import { TagService } from './services/tags.ts';
import { VersionService } from './services/versions.ts';

export interface LambdaServiceOptions {
  store: MetadataStore;
  blobs: BlobStore;
  arn: ArnContext;
  codeUrls: CodeUrls;
  invoker: Invoker;
  prepare?: (spec: FunctionSpec) => Promise<void>;
}

export class LambdaService {
  readonly arn: ArnContext;
  readonly store: MetadataStore;
  readonly layers: LayerService;
  readonly functions: FunctionService;
  readonly versions: VersionService;
  readonly aliases: AliasService;
  readonly concurrency: ConcurrencyService;
  readonly tags: TagService;
  readonly invoke: InvokeService;

  constructor(options: LambdaServiceOptions) {
    const { invoker } = options;
    const context: ServiceContext = {
      store: options.store,
      blobs: options.blobs,
      arn: options.arn,
      codeUrls: options.codeUrls,
      ...(options.prepare !== undefined ? { prepare: options.prepare } : {}),
      retire: (name, key) => {
        invoker.retire(name, key);
      },
    };
    this.arn = options.arn;
    this.store = options.store;
    this.layers = new LayerService(context);
    this.functions = new FunctionService(context);
    this.versions = new VersionService(this.functions);
    this.aliases = new AliasService(context, this.functions);
    this.concurrency = new ConcurrencyService(context, this.functions);
    this.tags = new TagService(context, this.functions);
    this.invoke = new InvokeService(context, this.functions, invoker);
  }
}
