/**
 * @module platform/environments/states
 * The life of one execution environment.
 *
 * ```mermaid
 * stateDiagram-v2
 *   [*] --> Starting: pool creates it for an invoke
 *   Starting --> Initializing: sandbox process started
 *   Starting --> Failed: bootstrap missing / sandbox cannot start
 *   Initializing --> Invoking: runtime's first GET /next
 *   Initializing --> Failed: /init/error, exit, init timeout
 *   Invoking --> Ready: runtime's next GET /next after its result
 *   Invoking --> Failed: timeout, exit, out of memory
 *   Ready --> Invoking: the pool hands it the next event
 *   Ready --> Disposed: idle reaping, retirement, shutdown
 *   Ready --> Failed: runtime exits while idle
 *   Failed --> Disposed: process tree killed, resources released
 *   Disposed --> [*]
 * ```
 */

export type EnvironmentState = 'Starting' | 'Initializing' | 'Ready' | 'Invoking' | 'Failed' | 'Disposed';

const TRANSITIONS: Readonly<Record<EnvironmentState, readonly EnvironmentState[]>> = {
  Starting: ['Initializing', 'Failed', 'Disposed'],
  Initializing: ['Invoking', 'Failed', 'Disposed'],
  Invoking: ['Ready', 'Failed', 'Disposed'],
  Ready: ['Invoking', 'Failed', 'Disposed'],
  Failed: ['Disposed'],
  Disposed: [],
};

export function canTransition(from: EnvironmentState, to: EnvironmentState): boolean {
  return TRANSITIONS[from].includes(to);
}
