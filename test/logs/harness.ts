/**
 * A live Lambkin with one real function (the sh-runtime layer + the echo fixture) whose log group the CloudWatch
 * Logs API serves, and a CloudWatch Logs SDK client pointed at it.
 */
import { readFile } from 'node:fs/promises';
import type { TestContext } from 'node:test';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateFunctionCommand,
  InvokeCommand,
  PublishLayerVersionCommand,
  waitUntilFunctionActiveV2,
} from '@aws-sdk/client-lambda';
import { ROLE, startApi, type ApiHarness } from '../api/harness.ts';

/** The real aws CLI v2 (v1 on PATH has no `logs tail`). */
export const AWS_V2 = '/usr/bin/aws';

export interface LogsHarness extends ApiHarness {
  logsClient: CloudWatchLogsClient;
  /** Creates a function running the echo fixture on the shell runtime layer. */
  createEcho(name: string): Promise<void>;
  /** Invokes synchronously; returns the request id. */
  invoke(name: string, payload: unknown): Promise<string>;
}

export async function startLogsApi(
  t: TestContext,
  flags: Record<string, string> = {},
  env: NodeJS.ProcessEnv = {},
): Promise<LogsHarness> {
  const h = await startApi(t, flags, env);
  const logsClient = new CloudWatchLogsClient({
    endpoint: h.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  t.after(() => {
    logsClient.destroy();
  });
  let layerArn: string | undefined;
  return {
    ...h,
    logsClient,
    async createEcho(name) {
      if (layerArn === undefined) {
        const layer = await h.sdk.send(
          new PublishLayerVersionCommand({
            LayerName: 'sh-runtime',
            Content: { ZipFile: await readFile(await h.zip('sh-runtime')) },
          }),
        );
        layerArn = String(layer.LayerVersionArn);
      }
      await h.sdk.send(
        new CreateFunctionCommand({
          FunctionName: name,
          Runtime: 'provided.al2023',
          Role: ROLE,
          Handler: 'function.handler',
          Code: { ZipFile: await readFile(await h.zip('functions/echo')) },
          Layers: [layerArn],
        }),
      );
      await waitUntilFunctionActiveV2({ client: h.sdk, maxWaitTime: 30, minDelay: 1 }, { FunctionName: name });
    },
    async invoke(name, payload) {
      const out = await h.sdk.send(
        new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(payload)) }),
      );
      if (out.FunctionError !== undefined) throw new Error(`invoke failed: ${out.FunctionError}`);
      const id = String(out.$metadata.requestId);
      // The caller has its answer before the invocation ends (REPORT comes when the runtime asks for the next event):
      // wait until the REPORT line is in the log files, so that what a test reads next is complete.
      const group = `/aws/lambda/${name}`;
      for (let i = 0; ; i++) {
        for (const stream of await h.lambkin.logs.listStreams(group)) {
          const events = await h.lambkin.logs.readEvents(group, stream.logStreamName);
          if (events.some((e) => e.message.startsWith(`REPORT RequestId: ${id}`))) return id;
        }
        if (i > 500) throw new Error(`no REPORT line for ${id} in ${group}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}
