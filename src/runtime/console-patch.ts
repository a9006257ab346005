/**
 * @module runtime/console-patch
 * `console.*` as AWS's Node runtime prints it. Text: `<ISO time>\t<request id>\t<LEVEL>\t<message>` with every
 * newline turned into `\r` so one call stays one log event. JSON (`AWS_LAMBDA_LOG_FORMAT=JSON`): one object per
 * call, lower levels than `AWS_LAMBDA_LOG_LEVEL` dropped. Writes are synchronous, so nothing is lost at exit.
 */

// CommonJS objects of builtins: they load faster than ES namespaces (see runtime-api-client.ts).
const { writeSync } = process.getBuiltinModule('node:fs');
const { format } = process.getBuiltinModule('node:util');

const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
type Level = (typeof LEVELS)[number];

export interface LogState {
  requestId: string | undefined;
}

export function patchConsole(state: LogState, env: NodeJS.ProcessEnv): (level: Level, message: string) => void {
  const json = env.AWS_LAMBDA_LOG_FORMAT === 'JSON';
  const minimum = LEVELS.indexOf((env.AWS_LAMBDA_LOG_LEVEL ?? 'TRACE').toUpperCase() as Level);
  const write = (level: Level, args: unknown[]): void => {
    if (json && LEVELS.indexOf(level) < minimum) return;
    let line: string;
    if (json) {
      const record: Record<string, unknown> = {
        timestamp: new Date().toISOString(),
        level,
        requestId: state.requestId,
        message:
          args.length === 1 && typeof args[0] === 'object' && args[0] !== null && !(args[0] instanceof Error)
            ? args[0]
            : format(...args),
      };
      const err = args.find((a) => a instanceof Error);
      if (err instanceof Error) {
        record.errorType = err.name;
        record.errorMessage = err.message;
        record.stackTrace = err.stack?.split('\n') ?? [];
      }
      line = safeJson(record);
    } else {
      line = `${new Date().toISOString()}\t${String(state.requestId)}\t${level}\t${format(...args).replaceAll('\n', '\r')}`;
    }
    try {
      writeSync(1, `${line}\n`);
    } catch {
      // A closed stdout must not take the runtime down.
    }
  };
  const map: [keyof Console, Level][] = [
    ['log', 'INFO'],
    ['info', 'INFO'],
    ['warn', 'WARN'],
    ['error', 'ERROR'],
    ['debug', 'DEBUG'],
    ['trace', 'TRACE'],
  ];
  for (const [method, level] of map) {
    (console as unknown as Record<string, (...args: unknown[]) => void>)[method] = (...args: unknown[]) => {
      write(level, args);
    };
  }
  (console as unknown as Record<string, (...args: unknown[]) => void>).fatal = (...args: unknown[]) => {
    write('FATAL', args);
  };
  return (level, message) => {
    write(level, [message]);
  };
}

function safeJson(value: unknown): string {
  const seen = new WeakSet();
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'object' && v !== null) {
      if (seen.has(v)) return '[Circular]';
      seen.add(v);
    }
    return v;
  });
}
