/**
 * A TypeScript function on the Lambkin runtime: `Runtime: nodejs24.x`, handler `index.handler`, no layer and no
 * build step (the runtime strips the types, and handles enums too). For AWS, compile it to index.mjs first.
 */

enum Mood {
  Happy = 'happy',
  Curious = 'curious',
}

interface HelloEvent {
  name?: string;
}

interface Context {
  awsRequestId: string;
  functionName: string;
  getRemainingTimeInMillis(): number;
}

export const handler = async (event: HelloEvent, context: Context) => {
  const name = event.name ?? 'world';
  console.log(`saying hello to ${name}`);
  return {
    message: `Hello, ${name}!`,
    mood: name === 'world' ? Mood.Curious : Mood.Happy,
    functionName: context.functionName,
  };
};
