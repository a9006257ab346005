/**
 * @module cli/errors
 * Every failure ends as one line — the AWS error name (or Lambkin's), what went wrong, what to do next — and a
 * documented exit code. Stack traces only with `--debug`.
 */

/** Exit codes (also in docs/cli.md). */
export const EXIT = {
  ok: 0,
  /** The API refused the request, or the input is wrong. */
  error: 1,
  /** Bad command line (unknown option, missing argument). */
  usage: 2,
  /** `invoke`: the function ran and returned an error (X-Amz-Function-Error). */
  functionError: 3,
  /** The endpoint cannot be reached. */
  unreachable: 4,
} as const;

/** An error the CLI itself raises about the user's input. */
export class CliError extends Error {
  override name: string;
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(name: string, message: string, options: { hint?: string; exitCode?: number } = {}) {
    super(message);
    this.name = name;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? EXIT.error;
  }
}

const HINTS: Record<string, string> = {
  ResourceNotFoundException: 'check the name: `lambkin function list` / `lambkin layer list`',
  ResourceConflictException: 'wait for the previous change to finish, or use `update` instead of `create`',
  InvalidParameterValueException: 'fix the value named in the message',
  ValidationException: 'fix the value named in the message',
  RequestEntityTooLargeException: 'make the zip smaller (Lambda takes 50 MB zipped, 250 MB unzipped)',
  TooManyRequestsException: 'retry in a moment, or raise the concurrency limit',
  InvalidSignatureException: 'check the access key pair (strict auth needs the one `lambkin serve` was given)',
  UnrecognizedClientException: 'check the access key id (strict auth needs the one `lambkin serve` was given)',
  ServiceException: "the server failed: look at its log (the terminal running 'lambkin serve')",
};

export interface FormattedError {
  line: string;
  exitCode: number;
}

/** One line for any error (what went wrong, then what to do next), and the exit code to leave with. */
export function formatError(err: unknown, endpoint: string): FormattedError {
  if (err instanceof CliError) {
    return { line: withHint(`${err.name}: ${err.message}`, err.hint), exitCode: err.exitCode };
  }
  if (!(err instanceof Error)) return { line: `Error: ${String(err)}`, exitCode: EXIT.error };
  const code = (err as NodeJS.ErrnoException).code ?? causeCode(err);
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ECONNRESET') {
    const where = endpoint === 'aws' ? 'AWS' : endpoint;
    return {
      line: withHint(
        `EndpointUnreachable: cannot reach ${where} (${code})`,
        endpoint === 'aws'
          ? 'check your network'
          : 'start Lambkin with `npx lambkin serve`, or pass --endpoint URL (or --endpoint aws)',
      ),
      exitCode: EXIT.unreachable,
    };
  }
  if (err.name === 'CredentialsProviderError')
    return {
      line: withHint(
        `CredentialsProviderError: ${err.message}`,
        'configure credentials (`aws configure`) or pass --profile',
      ),
      exitCode: EXIT.error,
    };
  const hint = HINTS[err.name];
  return { line: withHint(`${err.name}: ${err.message}`, hint), exitCode: EXIT.error };
}

function withHint(line: string, hint: string | undefined): string {
  return hint === undefined ? line : `${line} — next: ${hint}`;
}

function causeCode(err: Error): string | undefined {
  const cause = err.cause;
  if (cause instanceof Error) return (cause as NodeJS.ErrnoException).code;
  // AggregateError from a dual-stack connect.
  if (err instanceof AggregateError) {
    for (const e of err.errors) if (e instanceof Error) return (e as NodeJS.ErrnoException).code;
  }
  return undefined;
}
