/**
 * @module runtime/errors
 * Errors as the official Node runtime reports them: `{errorType, errorMessage, trace}`. The serializer never
 * throws, whatever was thrown (circular objects, non-Errors, getters that throw, huge messages).
 */

const MAX_MESSAGE = 256 * 1024;

export interface ErrorBody {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

/** An error the runtime itself raises, with a Lambda error type (`Runtime.HandlerNotFound`, …). */
export class RuntimeError extends Error {
  constructor(errorType: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = errorType;
  }
}

export function toErrorBody(value: unknown): ErrorBody {
  try {
    if (value instanceof Error) {
      const stack = typeof value.stack === 'string' ? value.stack.split('\n') : [];
      return {
        errorType: safeString(value.name) || 'Error',
        errorMessage: cap(safeString(value.message)),
        trace: stack,
      };
    }
    return { errorType: typeof value, errorMessage: cap(safeString(value)), trace: [] };
  } catch {
    return { errorType: 'Error', errorMessage: 'An error that could not be described was thrown', trace: [] };
  }
}

function safeString(value: unknown): string {
  try {
    if (typeof value === 'string') return value;
    if (typeof value === 'object' && value !== null) {
      try {
        return JSON.stringify(value);
      } catch {
        return Object.prototype.toString.call(value);
      }
    }
    return String(value);
  } catch {
    return '[unprintable value]';
  }
}

function cap(message: string): string {
  return message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}… (truncated)` : message;
}
