/**
 * @module platform/invoke/async-queue
 * `Event` invocations: accepted (202) only after they are persisted, then run in the background with Lambda's
 * retry behaviour: up to 2 retries after a function error (3 attempts, ~1 min then ~2 min apart), throttles
 * retried without counting, events older than 6 hours dropped. Pending events resume after a restart.
 */
import { randomUUID } from 'node:crypto';
import { debuglog } from 'node:util';
import type { MetadataStore, QueuedEvent } from '../storage/metadata.ts';

const log = debuglog('lambkin:async');

export type EventOutcome = 'ok' | 'error' | 'throttled' | 'gone';

export interface AsyncQueueOptions {
  store: MetadataStore;
  /** Runs one attempt. Never rejects. */
  run: (event: QueuedEvent) => Promise<EventOutcome>;
  /** Delay before the 2nd and 3rd attempts (Lambda: about 1 and 2 minutes). */
  retryDelaysMs?: number[];
  throttleDelayMs?: number;
  maxAgeMs?: number;
  pollMs?: number;
  concurrency?: number;
}

export class AsyncQueue {
  readonly #o: Required<Omit<AsyncQueueOptions, 'store' | 'run'>> & Pick<AsyncQueueOptions, 'store' | 'run'>;
  readonly #running = new Map<string, Promise<void>>();
  #timer: NodeJS.Timeout | null = null;
  #disposed = false;

  constructor(options: AsyncQueueOptions) {
    this.#o = {
      retryDelaysMs: [60_000, 120_000],
      throttleDelayMs: 1_000,
      maxAgeMs: 6 * 3600_000,
      pollMs: 250,
      concurrency: 8,
      ...options,
    };
  }

  /** Persists the event; when this returns, the event survives a crash. */
  enqueue(functionName: string, qualifier: string, payload: Buffer): string {
    const id = randomUUID();
    const now = Date.now();
    this.#o.store.enqueueEvent({ id, functionName, qualifier, payload, attempts: 0, notBefore: now, enqueuedAt: now });
    setImmediate(() => {
      this.#pump();
    });
    return id;
  }

  start(): void {
    if (this.#timer !== null || this.#disposed) return;
    this.#timer = setInterval(() => {
      this.#pump();
    }, this.#o.pollMs);
    this.#timer.unref();
    this.#pump();
  }

  get pending(): number {
    return this.#o.store.pendingEvents();
  }

  #pump(): void {
    if (this.#disposed) return;
    const free = this.#o.concurrency - this.#running.size;
    if (free <= 0) return;
    const now = Date.now();
    for (const event of this.#o.store.dueEvents(now, free + this.#running.size)) {
      if (this.#running.has(event.id) || this.#running.size >= this.#o.concurrency) continue;
      const p = this.#attempt(event).finally(() => {
        this.#running.delete(event.id);
        this.#pump();
      });
      this.#running.set(event.id, p);
    }
  }

  async #attempt(event: QueuedEvent): Promise<void> {
    const store = this.#o.store;
    if (Date.now() - event.enqueuedAt > this.#o.maxAgeMs) {
      log('dropping event %s: older than the maximum event age', event.id);
      store.deleteEvent(event.id);
      return;
    }
    const outcome = await this.#o.run(event);
    if (this.#disposed) return;
    const attempts = event.attempts + 1;
    switch (outcome) {
      case 'ok':
      case 'gone':
        store.deleteEvent(event.id);
        return;
      case 'throttled':
        store.rescheduleEvent(event.id, event.attempts, Date.now() + this.#o.throttleDelayMs);
        return;
      case 'error': {
        const delay = this.#o.retryDelaysMs[attempts - 1];
        if (delay === undefined) {
          log('event %s failed %d times; discarded', event.id, attempts);
          store.deleteEvent(event.id);
        } else {
          store.rescheduleEvent(event.id, attempts, Date.now() + delay);
        }
      }
    }
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    await Promise.allSettled([...this.#running.values()]);
  }
}
