/**
 * @module platform/api/routes/common
 * What the route files share: body limits, function-name parsing from the path, base64 zip decoding, headers.
 */
import { parseFunctionName } from '../arns.ts';
import { apiError, LambdaApiError } from '../errors.ts';
import type { ApiRequest, ApiResponse } from '../router.ts';
import type { LambdaService } from '../service.ts';
import { MAX_ZIPPED_BYTES } from '../services/context.ts';
import type { Checker } from '../validate.ts';

export interface RouteDeps {
  service: LambdaService;
}

/** Request body limit of the operations that take only JSON settings. */
export const JSON_BODY = 1024 * 1024;
/** Request size limit of uploads: 50 MB of zip as base64 (Lambda's figure), plus room for the JSON around it. */
export const UPLOAD_LIMIT = 69_905_067;
export const UPLOAD_BODY = UPLOAD_LIMIT + 64 * 1024;

export function ok(body: unknown, status = 200): ApiResponse {
  return { status, body };
}

export function header(req: ApiRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `{FunctionName}` of the path, with an optional `Qualifier` (query) that must agree with one in the name. */
export function qualifiedFunction(
  req: ApiRequest,
  service: LambdaService,
): { name: string; qualifier: string | undefined } {
  const qualifier = req.query.get('Qualifier');
  return parseFunctionName(service.arn, req.params.FunctionName ?? '', qualifier ?? undefined);
}

/** `{FunctionName}` of the path for operations on the function itself (no version or alias). */
export function unqualifiedFunction(req: ApiRequest, service: LambdaService): string {
  const { name, qualifier } = parseFunctionName(service.arn, req.params.FunctionName ?? '');
  if (qualifier !== undefined) throw apiError.invalid('This operation does not accept a qualified function name.');
  return name;
}

/**
 * Decodes a base64 `ZipFile` member. Over 50 MB of zip is refused as Lambda refuses the request
 * (RequestEntityTooLargeException, 413) before anything is unpacked.
 */
export function zipFile(value: unknown, field: string, check: Checker, operation: string): Buffer | undefined {
  const text = check.string(value, field);
  if (text === undefined) return undefined;
  if (!/^[A-Za-z0-9+/\r\n]*={0,2}\s*$/.test(text)) {
    throw new LambdaApiError(
      'InvalidRequestContentException',
      `Could not parse request body into json: ${field} is not valid base64`,
    );
  }
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length > MAX_ZIPPED_BYTES) {
    throw new LambdaApiError(
      'RequestEntityTooLargeException',
      `Request must be smaller than ${UPLOAD_LIMIT} bytes for the ${operation} operation`,
    );
  }
  return bytes;
}

/** Code from S3 or a container image is refused: Lambkin takes zips uploaded in the request. */
export function refuseRemoteCode(code: Record<string, unknown>): void {
  if (code.S3Bucket !== undefined || code.S3Key !== undefined || code.ImageUri !== undefined) {
    throw apiError.invalid('Lambkin does not read code from S3 or container images; upload it as ZipFile.');
  }
}
