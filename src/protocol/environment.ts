/**
 * @module protocol/environment
 * Environment variables of a Lambda execution environment (LAMBDA-FACTS §3).
 */

/** Keys a function's configuration may not set. */
export const RESERVED_ENV_KEYS: readonly string[] = [
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
  'AWS_LAMBDA_RUNTIME_API',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_ACCESS_KEY',
];

export const TASK_ROOT = '/var/task';
export const RUNTIME_DIR = '/var/runtime';
export const OPT_DIR = '/opt';
/** The Runtime API address inside an isolated environment, as on Lambda. */
export const ISOLATED_RUNTIME_API = '127.0.0.1:9001';

export const DEFAULT_PATH = '/usr/local/bin:/usr/bin/:/bin:/opt/bin';
export const DEFAULT_LD_LIBRARY_PATH =
  '/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib';

/** Managed runtimes Lambkin serves itself (no layer needed), mapped to their `AWS_EXECUTION_ENV`. */
export const MANAGED_NODE_RUNTIMES: Readonly<Record<string, string>> = {
  'nodejs20.x': 'AWS_Lambda_nodejs20.x',
  'nodejs22.x': 'AWS_Lambda_nodejs22.x',
  'nodejs24.x': 'AWS_Lambda_nodejs24.x',
};

export const CUSTOM_RUNTIMES: readonly string[] = ['provided', 'provided.al2', 'provided.al2023'];

export function reservedKeysIn(variables: Record<string, string>): string[] {
  return Object.keys(variables).filter((k) => RESERVED_ENV_KEYS.includes(k));
}
