/**
 * @module platform/api/validate
 * Request parsing as Lambda's front end does it: a body that is not JSON, or a member of the wrong JSON type, is
 * `InvalidRequestContentException` ("Could not parse request body into json: …"); values that break a modelled
 * constraint (length, range, pattern, enum, required) are collected and reported together as one
 * `ValidationException` ("2 validation errors detected: Value '…' at 'memorySize' failed to satisfy constraint: …;
 * …"). Semantic checks (does the layer exist, is the runtime supported) belong to the services.
 */
import { LambdaApiError } from './errors.ts';

type Json = Record<string, unknown>;

interface StringRule {
  required?: boolean;
  min?: number;
  max?: number;
  pattern?: RegExp;
  /** The pattern as the model writes it (for the message). */
  patternText?: string;
  enum?: readonly string[];
}

interface NumberRule {
  required?: boolean;
  min?: number;
  max?: number;
}

/** Collects constraint violations of one request; `done()` throws them as one ValidationException. */
export class Checker {
  readonly #errors: string[] = [];

  /** Records a constraint violation (message as AWS formats it). */
  fail(field: string, value: unknown, constraint: string): void {
    this.#errors.push(violation(field, value, constraint));
  }

  string(value: unknown, field: string, rule: StringRule = {}): string | undefined {
    if (value === undefined || value === null) {
      if (rule.required === true) this.fail(field, null, 'Member must not be null');
      return undefined;
    }
    if (typeof value !== 'string') throw typeMismatch(field, 'String', value);
    if (rule.min !== undefined && value.length < rule.min)
      this.fail(field, value, `Member must have length greater than or equal to ${rule.min}`);
    else if (rule.max !== undefined && value.length > rule.max)
      this.fail(field, value, `Member must have length less than or equal to ${rule.max}`);
    else if (rule.pattern !== undefined && !rule.pattern.test(value))
      this.fail(
        field,
        value,
        `Member must satisfy regular expression pattern: ${rule.patternText ?? patternSource(rule.pattern)}`,
      );
    else if (rule.enum !== undefined && !rule.enum.includes(value))
      this.fail(field, value, `Member must satisfy enum value set: [${rule.enum.join(', ')}]`);
    return value;
  }

  int(value: unknown, field: string, rule: NumberRule = {}): number | undefined {
    if (value === undefined || value === null) {
      if (rule.required === true) this.fail(field, null, 'Member must not be null');
      return undefined;
    }
    if (typeof value !== 'number' || !Number.isInteger(value)) throw typeMismatch(field, 'Integer', value);
    this.#range(value, field, rule);
    return value;
  }

  number(value: unknown, field: string, rule: NumberRule = {}): number | undefined {
    if (value === undefined || value === null) {
      if (rule.required === true) this.fail(field, null, 'Member must not be null');
      return undefined;
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) throw typeMismatch(field, 'Double', value);
    this.#range(value, field, rule);
    return value;
  }

  bool(value: unknown, field: string): boolean | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') throw typeMismatch(field, 'Boolean', value);
    return value;
  }

  /** A JSON object member (structure). */
  object(value: unknown, field: string, required = false): Json | undefined {
    if (value === undefined || value === null) {
      if (required) this.fail(field, null, 'Member must not be null');
      return undefined;
    }
    if (typeof value !== 'object' || Array.isArray(value)) throw typeMismatch(field, 'Object', value);
    return value as Json;
  }

  /** A list of strings, each checked against `item`. */
  stringList(
    value: unknown,
    field: string,
    rule: { required?: boolean; min?: number; max?: number; item?: StringRule } = {},
  ): string[] | undefined {
    if (value === undefined || value === null) {
      if (rule.required === true) this.fail(field, null, 'Member must not be null');
      return undefined;
    }
    if (!Array.isArray(value)) throw typeMismatch(field, 'List', value);
    const items = value.map((v, i) => {
      if (typeof v !== 'string') throw typeMismatch(`${field}.${i + 1}`, 'String', v);
      return v;
    });
    if (rule.min !== undefined && items.length < rule.min)
      this.fail(field, items, `Member must have length greater than or equal to ${rule.min}`);
    else if (rule.max !== undefined && items.length > rule.max)
      this.fail(field, items, `Member must have length less than or equal to ${rule.max}`);
    else if (rule.item !== undefined) {
      const inner = new Checker();
      for (const item of items) inner.string(item, field, rule.item);
      const constraints = inner.#errors.map((e) => e.replace(/^.*failed to satisfy constraint: /, ''));
      if (constraints.length > 0)
        this.fail(field, items, `Member must satisfy constraint: [${[...new Set(constraints)].join(', ')}]`);
    }
    return items;
  }

  /** A map of strings to strings. */
  stringMap(value: unknown, field: string, required = false): Record<string, string> | undefined {
    const obj = this.object(value, field, required);
    if (obj === undefined) return undefined;
    for (const [k, v] of Object.entries(obj))
      if (typeof v !== 'string') throw typeMismatch(`${field}.${k}`, 'String', v);
    return obj as Record<string, string>;
  }

  /** Throws the collected violations, if any. */
  done(): void {
    if (this.#errors.length > 0) throw validationException(this.#errors);
  }

  #range(value: number, field: string, rule: NumberRule): void {
    if (rule.min !== undefined && value < rule.min)
      this.fail(field, value, `Member must have value greater than or equal to ${rule.min}`);
    else if (rule.max !== undefined && value > rule.max)
      this.fail(field, value, `Member must have value less than or equal to ${rule.max}`);
  }
}

/** One constraint violation, thrown at once (for checks that stand alone). */
export function validationError(field: string, value: unknown, constraint: string): LambdaApiError {
  return validationException([violation(field, value, constraint)]);
}

function violation(field: string, value: unknown, constraint: string): string {
  return `Value ${show(value)} at '${field}' failed to satisfy constraint: ${constraint}`;
}

function validationException(errors: string[]): LambdaApiError {
  const n = errors.length;
  return new LambdaApiError(
    'ValidationException',
    `${n} validation error${n === 1 ? '' : 's'} detected: ${errors.join('; ')}`,
  );
}

/** Parses a control-plane request body: empty is `{}`; anything but a JSON object is refused. */
export function parseJsonBody(body: Buffer): Json {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new LambdaApiError(
      'InvalidRequestContentException',
      `Could not parse request body into json: Could not parse payload into json: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw typeMismatch('', 'Object', parsed);
  }
  return parsed as Json;
}

function typeMismatch(field: string, expected: string, value: unknown): LambdaApiError {
  const kind = Array.isArray(value) ? 'Array' : value === null ? 'null' : typeof value;
  return new LambdaApiError(
    'InvalidRequestContentException',
    `Could not parse request body into json: Cannot deserialize value of type ${expected} from ${kind} value${field === '' ? '' : ` (at '${field}')`}`,
  );
}

function show(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `'[${value.map(String).join(', ')}]'`;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return `'${value}'`;
  return "'[sensitive]'";
}

function patternSource(re: RegExp): string {
  return re.source.replace(/^\^/, '').replace(/\$$/, '');
}
