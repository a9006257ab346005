/**
 * @module platform/logs/api
 * The edge of the CloudWatch Logs API (AWS JSON 1.1: `POST /`, `Content-Type: application/x-amz-json-1.1`,
 * `X-Amz-Target: Logs_20140328.<Operation>`), served on the same port as the Lambda API for the log groups the
 * engine writes. It authenticates as the Lambda API does (SigV4, signing name `logs`), parses and validates each
 * operation's input against the service model's constraints, calls the LogsService, and is the one place where
 * errors become responses (`{"__type","message"}`, never a stack trace).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { debuglog } from 'node:util';
import { LambdaApiError } from '../api/errors.ts';
import { sendError } from '../api/http.ts';
import { verifySigV4, type Credentials } from '../api/sigv4.ts';
import { LogsApiError, type LogsErrorCode } from './api-errors.ts';
import { FilterPatternError, parseFilterPattern } from './filter-pattern.ts';
import type { LogStore } from './log-store.ts';
import { LogsService } from './service.ts';

const log = debuglog('lambkin:logs-api');

/** The JSON 1.1 target prefix of CloudWatch Logs; requests carrying it belong to this API. */
export const LOGS_TARGET_PREFIX = 'Logs_20140328.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
/** Requests of these operations are small; anything bigger is refused before it is buffered. */
const MAX_BODY = 1024 * 1024;

export interface LogsApiConfig {
  region: string;
  accountId: string;
  auth: 'loopback' | 'strict';
  credentials?: Credentials[];
}

export interface LogsApi {
  readonly service: LogsService;
  /** True when the request is a CloudWatch Logs call (its `X-Amz-Target`). */
  accepts(req: IncomingMessage): boolean;
  /** Serves one request; never throws, never leaves a request unanswered. */
  handle(req: IncomingMessage, res: ServerResponse): void;
}

type Operation = (input: Input, service: LogsService) => Promise<unknown>;

/** The operations served, by target name. */
const OPERATIONS: Record<string, Operation> = {
  DescribeLogGroups: (input, service) => {
    const cmd = {
      logGroupNamePrefix: input.string('logGroupNamePrefix', GROUP_NAME),
      logGroupNamePattern: input.string('logGroupNamePattern', { min: 0, max: 512, pattern: GROUP_PATTERN }),
      logGroupIdentifiers: input.stringList('logGroupIdentifiers', { min: 1, max: 50 }, GROUP_IDENTIFIER),
      logGroupClass: input.enumeration('logGroupClass', ['STANDARD', 'INFREQUENT_ACCESS', 'DELIVERY']),
      limit: input.integer('limit', 1, 50) ?? 50,
      nextToken: input.string('nextToken', { min: 1 }),
    };
    input.stringList('accountIdentifiers', { min: 0, max: 20 }, { min: 12, max: 12, pattern: /^\d{12}$/ });
    input.boolean('includeLinkedAccounts');
    input.done();
    if (cmd.logGroupNamePrefix !== undefined && cmd.logGroupNamePattern !== undefined) {
      throw new LogsApiError(
        'InvalidParameterException',
        'LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.',
      );
    }
    if (
      cmd.logGroupIdentifiers !== undefined &&
      (cmd.logGroupNamePrefix !== undefined || cmd.logGroupNamePattern !== undefined)
    ) {
      throw new LogsApiError(
        'InvalidParameterException',
        'logGroupIdentifiers cannot be used with logGroupNamePrefix or logGroupNamePattern.',
      );
    }
    return service.describeLogGroups(cmd);
  },

  DescribeLogStreams: (input, service) => {
    const logGroupName = group(input, service);
    const cmd = {
      logGroupName,
      logStreamNamePrefix: input.string('logStreamNamePrefix', STREAM_NAME),
      orderBy: input.enumeration('orderBy', ['LogStreamName', 'LastEventTime'] as const) ?? 'LogStreamName',
      descending: input.boolean('descending') ?? false,
      limit: input.integer('limit', 1, 50) ?? 50,
      nextToken: input.string('nextToken', { min: 1 }),
    };
    input.done();
    if (cmd.orderBy === 'LastEventTime' && cmd.logStreamNamePrefix !== undefined) {
      throw new LogsApiError('InvalidParameterException', 'Cannot order by LastEventTime with a logStreamNamePrefix.');
    }
    return service.describeLogStreams(cmd);
  },

  GetLogEvents: (input, service) => {
    const logGroupName = group(input, service);
    const cmd = {
      logGroupName,
      logStreamName: input.required(input.string('logStreamName', STREAM_NAME), 'logStreamName'),
      startTime: input.timestamp('startTime'),
      endTime: input.timestamp('endTime'),
      limit: input.integer('limit', 1, 10_000) ?? 10_000,
      nextToken: input.string('nextToken', { min: 1 }),
      startFromHead: input.boolean('startFromHead') ?? false,
    };
    input.boolean('unmask');
    input.done();
    return service.getLogEvents(cmd);
  },

  FilterLogEvents: (input, service) => {
    const logGroupName = group(input, service);
    const rawPattern = input.string('filterPattern', { min: 0, max: 1024 });
    const cmd = {
      logGroupName,
      logStreamNames: input.stringList('logStreamNames', { min: 1, max: 100 }, STREAM_NAME),
      logStreamNamePrefix: input.string('logStreamNamePrefix', STREAM_NAME),
      startTime: input.timestamp('startTime'),
      endTime: input.timestamp('endTime'),
      limit: input.integer('limit', 1, 10_000) ?? 10_000,
      nextToken: input.string('nextToken', { min: 1 }),
    };
    // Accepted and ignored: results are always interleaved (AWS deprecated the flag), nothing is masked.
    input.boolean('interleaved');
    input.boolean('startFromHead');
    input.boolean('unmask');
    input.done();
    if (cmd.logStreamNames !== undefined && cmd.logStreamNamePrefix !== undefined) {
      throw new LogsApiError(
        'InvalidParameterException',
        'logStreamNames and logStreamNamePrefix are mutually exclusive parameters.',
      );
    }
    let filterPattern;
    try {
      filterPattern = parseFilterPattern(rawPattern);
    } catch (err) {
      if (err instanceof FilterPatternError) throw new LogsApiError('InvalidParameterException', err.message);
      throw err;
    }
    return service.filterLogEvents({ ...cmd, filterPattern });
  },
};

const GROUP_NAME: StringRule = { min: 1, max: 512, pattern: /^[.\-_/#A-Za-z0-9]+$/ };
const GROUP_PATTERN = /^[.\-_/#A-Za-z0-9]*$/;
const GROUP_IDENTIFIER: StringRule = { min: 1, max: 2048, pattern: /^[\w#+=/:,.@-]*$/ };
const STREAM_NAME: StringRule = { min: 1, max: 512, pattern: /^[^:*]*$/ };

/** `logGroupName` or `logGroupIdentifier` (a name or an ARN), exactly one of them. */
function group(input: Input, service: LogsService): string {
  const name = input.string('logGroupName', GROUP_NAME);
  const identifier = input.string('logGroupIdentifier', GROUP_IDENTIFIER);
  if (name !== undefined && identifier !== undefined) {
    throw new LogsApiError(
      'InvalidParameterException',
      'LogGroup name and LogGroup ARN are mutually exclusive parameters.',
    );
  }
  if (identifier !== undefined) {
    const resolved = service.groupNameOf(identifier);
    if (resolved === null)
      throw new LogsApiError('ResourceNotFoundException', 'The specified log group does not exist.');
    return resolved;
  }
  if (name === undefined) {
    input.done();
    throw new LogsApiError('InvalidParameterException', 'Should provide either logGroupName or logGroupIdentifier.');
  }
  return name;
}

export function createLogsApi(deps: { logs: LogStore; config: LogsApiConfig }): LogsApi {
  const { config } = deps;
  const credentials = config.credentials ?? [];
  const service = new LogsService({ logs: deps.logs, region: config.region, accountId: config.accountId });

  return {
    service,
    accepts(req) {
      const target = req.headers['x-amz-target'];
      return typeof target === 'string' && target.startsWith(LOGS_TARGET_PREFIX);
    },
    handle(req, res) {
      const requestId = randomUUID();
      serve(req, res, requestId).catch((err: unknown) => {
        sendError(res, requestId, toLogsError(err));
      });
    },
  };

  async function serve(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const body = await readBody(req);
    if (config.auth === 'strict') {
      verifySigV4(req, body, credentials, config.region, Date.now(), 'logs');
    } else checkWellFormed(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    const name = target.startsWith(LOGS_TARGET_PREFIX) ? target.slice(LOGS_TARGET_PREFIX.length) : '';
    const operation = Object.hasOwn(OPERATIONS, name) ? OPERATIONS[name] : undefined;
    if ((req.method ?? 'GET') !== 'POST' || operation === undefined)
      throw new LogsApiError('UnknownOperationException');
    const input = new Input(parseJson(body));
    const result = await operation(input, service);
    const out = Buffer.from(JSON.stringify(result));
    res.writeHead(200, { 'content-type': CONTENT_TYPE, 'content-length': out.length, 'x-amzn-requestid': requestId });
    res.end(out);
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  const tooLarge = () =>
    new LogsApiError('RequestEntityTooLargeException', `Request must be smaller than ${MAX_BODY} bytes.`);
  if (Number(req.headers['content-length'] ?? 0) > MAX_BODY) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        req.off('data', onData);
        req.resume();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => {
      resolve(Buffer.concat(chunks, size));
    });
    req.once('error', reject);
  });
}

function parseJson(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new LogsApiError('SerializationException');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new LogsApiError('SerializationException');
  }
  return parsed as Record<string, unknown>;
}

/** Loopback mode accepts any signature, but a present Authorization header must at least look like SigV4. */
function checkWellFormed(req: IncomingMessage): void {
  const auth = req.headers.authorization;
  if (auth === undefined) return;
  if (
    !/^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[^/]+\/[^/]+\/aws4_request, ?SignedHeaders=[^,]+, ?Signature=[0-9a-f]{64}$/.test(
      auth,
    )
  ) {
    throw new LogsApiError(
      'InvalidSignatureException',
      "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.",
    );
  }
}

interface StringRule {
  min?: number;
  max?: number;
  pattern?: RegExp;
}

/**
 * Reads one operation's JSON input. A member of the wrong JSON type is a SerializationException (the AWS JSON
 * front end refuses it before the operation); values that break the model's constraints are collected and
 * reported together as InvalidParameterException "N validation error(s) detected: …". Unknown members are ignored.
 */
class Input {
  readonly #raw: Record<string, unknown>;
  readonly #violations: string[] = [];

  constructor(raw: Record<string, unknown>) {
    this.#raw = raw;
  }

  #get(name: string): unknown {
    const v = Object.hasOwn(this.#raw, name) ? this.#raw[name] : undefined;
    return v === null ? undefined : v;
  }

  #typeError(name: string, expected: string): never {
    throw new LogsApiError('SerializationException', `Value for '${name}' must be ${expected}.`);
  }

  #check(name: string, value: string, rule: StringRule): void {
    if (rule.min !== undefined && value.length < rule.min) {
      this.#violate(name, value, `Member must have length greater than or equal to ${rule.min}`);
    } else if (rule.max !== undefined && value.length > rule.max) {
      this.#violate(name, value, `Member must have length less than or equal to ${rule.max}`);
    } else if (rule.pattern !== undefined && !rule.pattern.test(value)) {
      this.#violate(
        name,
        value,
        `Member must satisfy regular expression pattern: ${rule.pattern.source.replace(/^\^|\$$/g, '')}`,
      );
    }
  }

  #violate(name: string, value: unknown, constraint: string): void {
    this.#violations.push(`Value '${String(value)}' at '${name}' failed to satisfy constraint: ${constraint}`);
  }

  string(name: string, rule: StringRule = {}): string | undefined {
    const v = this.#get(name);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') this.#typeError(name, 'a string');
    this.#check(name, v, rule);
    return v;
  }

  stringList(name: string, size: { min: number; max: number }, rule: StringRule): string[] | undefined {
    const v = this.#get(name);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) this.#typeError(name, 'a list of strings');
    const list = v;
    if (list.length < size.min)
      this.#violate(name, '[]', `Member must have length greater than or equal to ${size.min}`);
    if (list.length > size.max) {
      this.#violate(name, `[${list.join(', ')}]`, `Member must have length less than or equal to ${size.max}`);
    }
    list.forEach((item, i) => {
      this.#check(`${name}.${i + 1}.member`, item, rule);
    });
    return list;
  }

  integer(name: string, min: number, max: number): number | undefined {
    const v = this.#get(name);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) this.#typeError(name, 'an integer');
    if (v < min) this.#violate(name, v, `Member must have value greater than or equal to ${min}`);
    else if (v > max) this.#violate(name, v, `Member must have value less than or equal to ${max}`);
    return v;
  }

  timestamp(name: string): number | undefined {
    const v = this.#get(name);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) this.#typeError(name, 'an integer');
    if (v < 0) this.#violate(name, v, 'Member must have value greater than or equal to 0');
    return v;
  }

  boolean(name: string): boolean | undefined {
    const v = this.#get(name);
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') this.#typeError(name, 'a boolean');
    return v;
  }

  enumeration<T extends string>(name: string, values: readonly T[]): T | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    if (!(values as readonly string[]).includes(v)) {
      this.#violate(name, v, `Member must satisfy enum value set: [${values.join(', ')}]`);
      return undefined;
    }
    return v as T;
  }

  required<T>(value: T | undefined, name: string): T {
    if (value === undefined) {
      this.#violations.push(`Value null at '${name}' failed to satisfy constraint: Member must not be null`);
      this.done();
    }
    return value as T;
  }

  /** Throws the collected constraint violations, if any. */
  done(): void {
    const n = this.#violations.length;
    if (n === 0) return;
    throw new LogsApiError(
      'InvalidParameterException',
      `${n} validation error${n === 1 ? '' : 's'} detected: ${this.#violations.join('; ')}`,
    );
  }
}

/** SigV4 failures keep their AWS names; anything unexpected is logged and becomes ServiceUnavailableException. */
function toLogsError(err: unknown): LogsApiError {
  if (err instanceof LogsApiError) return err;
  if (err instanceof LambdaApiError) {
    if (err.message === 'Missing Authentication Token') {
      return new LogsApiError('MissingAuthenticationTokenException', err.message);
    }
    const code: LogsErrorCode | null =
      err.code === 'UnrecognizedClientException'
        ? 'UnrecognizedClientException'
        : err.code === 'InvalidSignatureException'
          ? 'InvalidSignatureException'
          : null;
    if (code !== null) return new LogsApiError(code, err.message);
  }
  log('internal error: %o', err);
  return new LogsApiError(
    'ServiceUnavailableException',
    'An internal error occurred in Lambkin; see its log (NODE_DEBUG=lambkin:*).',
    { cause: err },
  );
}
