/**
 * @module protocol/platform-errors
 * errorType values the platform reports in an Invoke payload when the runtime could not (LAMBDA-FACTS §3).
 */
export const PLATFORM_ERROR = {
  Timedout: 'Sandbox.Timedout',
  ExitError: 'Runtime.ExitError',
  OutOfMemory: 'Runtime.OutOfMemory',
  InvalidEntrypoint: 'Runtime.InvalidEntrypoint',
  InvalidWorkingDir: 'Runtime.InvalidWorkingDir',
  Unknown: 'Runtime.Unknown',
  InvalidResponseModeHeader: 'Runtime.InvalidResponseModeHeader',
  TruncatedResponse: 'Runtime.TruncatedResponse',
  ResponseSizeTooLarge: 'Function.ResponseSizeTooLarge',
  SandboxFailure: 'Sandbox.Failure',
} as const;

export type PlatformErrorType = (typeof PLATFORM_ERROR)[keyof typeof PLATFORM_ERROR];
