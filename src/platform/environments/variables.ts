/**
 * @module platform/environments/variables
 * Builds the exact environment of a Lambda execution environment for one function version.
 */
import {
  DEFAULT_LD_LIBRARY_PATH,
  DEFAULT_PATH,
  MANAGED_NODE_RUNTIMES,
  reservedKeysIn,
  RUNTIME_DIR,
  TASK_ROOT,
} from '../../protocol/environment.ts';
import { PlatformError } from '../errors.ts';
import type { FunctionSpec } from './function-spec.ts';

export interface VariableContext {
  region: string;
  runtimeApi: string;
  logStreamName: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
}

export function buildEnvironment(spec: FunctionSpec, ctx: VariableContext): Record<string, string> {
  const reserved = reservedKeysIn(spec.environment);
  if (reserved.length > 0) {
    throw new PlatformError('ERR_RESERVED_ENV', `Reserved keys used in this request: ${reserved.join(', ')}`);
  }
  const executionEnv = MANAGED_NODE_RUNTIMES[spec.runtime];
  const managed = executionEnv !== undefined;
  const env: Record<string, string> = {
    // Overridable defaults first; the user's variables replace them.
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
    PATH: managed ? `/var/lang/bin:${DEFAULT_PATH}` : DEFAULT_PATH,
    LD_LIBRARY_PATH: managed ? `/var/lang/lib:${DEFAULT_LD_LIBRARY_PATH}` : DEFAULT_LD_LIBRARY_PATH,
    AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
    AWS_XRAY_DAEMON_ADDRESS: '169.254.79.129:2000',
    _AWS_XRAY_DAEMON_ADDRESS: '169.254.79.129',
    _AWS_XRAY_DAEMON_PORT: '2000',
  };
  if (managed) {
    const major = /nodejs(\d+)/.exec(spec.runtime)?.[1] ?? '';
    env.NODE_PATH = `/opt/nodejs/node${major}/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task`;
  }
  if (spec.logFormat === 'JSON') {
    env.AWS_LAMBDA_LOG_FORMAT = 'JSON';
    env.AWS_LAMBDA_LOG_LEVEL = spec.applicationLogLevel ?? 'INFO';
  }
  Object.assign(env, spec.environment);
  Object.assign(env, {
    _HANDLER: spec.handler,
    LAMBDA_TASK_ROOT: TASK_ROOT,
    LAMBDA_RUNTIME_DIR: RUNTIME_DIR,
    AWS_LAMBDA_RUNTIME_API: ctx.runtimeApi,
    AWS_REGION: ctx.region,
    AWS_DEFAULT_REGION: ctx.region,
    AWS_LAMBDA_FUNCTION_NAME: spec.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: spec.version,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMb),
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: spec.logGroup,
    AWS_LAMBDA_LOG_STREAM_NAME: ctx.logStreamName,
    AWS_ACCESS_KEY_ID: ctx.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: ctx.credentials.secretAccessKey,
    AWS_SESSION_TOKEN: ctx.credentials.sessionToken,
  });
  if (executionEnv !== undefined) env.AWS_EXECUTION_ENV = executionEnv;
  return env;
}
