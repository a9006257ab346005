/** Answers `lambkin dev`'s local HTTP endpoint (and API Gateway's HTTP API on AWS). */
export const handler = async (event, context) => {
  const name = event.queryStringParameters?.name ?? 'world';
  console.log(`hello ${name} from ${context.functionName}`);
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message: `Hello, ${name}!`, path: event.rawPath }),
  };
};
