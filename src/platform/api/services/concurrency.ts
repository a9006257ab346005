/**
 * @module platform/api/services/concurrency
 * Reserved concurrency (Put/Get/DeleteFunctionConcurrency) and GetAccountSettings. The account pool is 1,000
 * concurrent executions, of which at least 100 must stay unreserved.
 */
import { apiError } from '../errors.ts';
import { MAX_UNZIPPED_BYTES, MAX_ZIPPED_BYTES, type ServiceContext } from './context.ts';
import type { FunctionService } from './functions.ts';

export const ACCOUNT_CONCURRENCY = 1000;
const MIN_UNRESERVED = 100;

export class ConcurrencyService {
  readonly #c: ServiceContext;
  readonly #functions: FunctionService;

  constructor(context: ServiceContext, functions: FunctionService) {
    this.#c = context;
    this.#functions = functions;
  }

  put(name: string, reserved: number): { ReservedConcurrentExecutions: number } {
    this.#functions.latest(name);
    this.#c.store.transaction(() => {
      const others = this.#c.store.totalReservedConcurrency(name);
      if (ACCOUNT_CONCURRENCY - others - reserved < MIN_UNRESERVED) {
        throw apiError.invalid(
          `Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${MIN_UNRESERVED}].`,
        );
      }
      this.#c.store.setReservedConcurrency(name, reserved);
    });
    return { ReservedConcurrentExecutions: reserved };
  }

  get(name: string): { ReservedConcurrentExecutions?: number } {
    this.#functions.latest(name);
    const value = this.#c.store.getReservedConcurrency(name);
    return value === null ? {} : { ReservedConcurrentExecutions: value };
  }

  delete(name: string): void {
    this.#functions.latest(name);
    this.#c.store.setReservedConcurrency(name, null);
  }

  accountSettings(): Record<string, unknown> {
    const usage = this.#c.store.countFunctions();
    return {
      AccountLimit: {
        TotalCodeSize: 80_530_636_800,
        CodeSizeUnzipped: MAX_UNZIPPED_BYTES,
        CodeSizeZipped: MAX_ZIPPED_BYTES,
        ConcurrentExecutions: ACCOUNT_CONCURRENCY,
        UnreservedConcurrentExecutions: ACCOUNT_CONCURRENCY - this.#c.store.totalReservedConcurrency(),
      },
      AccountUsage: { TotalCodeSize: usage.codeSize, FunctionCount: usage.count },
    };
  }
}
