/**
 * @module platform/invoke/async-queue
 * `Event` invocations: accepted (202) only after they are persisted, then run in the background by a small worker
 * with bounded concurrency and Lambda's retry behaviour: up to 2 retries after a function error (3 attempts,
 * ~1 min then ~2 min apart), throttles retried without counting as attempts (backing off up to 5 min), events
 * older than 6 hours dropped. Pending events resume after a restart; an event whose attempt was cut short by a
 * crash runs again (delivery is at least once, as on Lambda).
 */
import { randomUUID } from 'node:crypto';
import { debuglog } from 'node:util';
import { PlatformError } from '../errors.ts';
import type { MetadataStore, QueuedEvent } from '../storage/metadata.ts';

const log = debuglog('lambkin:async');

/** Result of one attempt: `gone` = the function or qualifier no longer exists (the event is dropped). */
export type EventOutcome = 'ok' | 'error' | 'throttled' | 'gone';

export interface AsyncQueueOptions {
  store: MetadataStore;
  /** Runs one attempt. Never rejects. */
  run: (event: QueuedEvent) => Promise<EventOutcome>;
  /** Delay before the 2nd and 3rd attempts (Lambda: about 1 and 2 minutes); its length + 1 = attempts. */
  retryDelaysMs?: number[];
  /** First delay after a throttle; doubles per consecutive throttle up to `maxThrottleDelayMs`. */
  throttleDelayMs?: number;
  maxThrottleDelayMs?: number;
  /** Maximum event age (Lambda: 6 hours). */
  maxAgeMs?: number;
  /** How often the worker looks for due events (besides being woken by enqueue and finished attempts). */
  pollMs?: number;
  /** Attempts running at once. */
  concurrency?: number;
  /** Clock (tests). */
  now?: () => number;
}

type Settings = Required<Omit<AsyncQueueOptions, 'store' | 'run'>>;

export class AsyncQueue {
  readonly #store: MetadataStore;
  readonly #run: AsyncQueueOptions['run'];
  readonly #s: Settings;
  readonly #running = new Map<string, Promise<void>>();
  /** Consecutive throttles per event (in memory: after a restart the back-off starts over). */
  readonly #throttles = new Map<string, number>();
  #timer: NodeJS.Timeout | null = null;
  #disposed = false;

  constructor(options: AsyncQueueOptions) {
    this.#store = options.store;
    this.#run = options.run;
    this.#s = {
      retryDelaysMs: options.retryDelaysMs ?? [60_000, 120_000],
      throttleDelayMs: options.throttleDelayMs ?? 1_000,
      maxThrottleDelayMs: options.maxThrottleDelayMs ?? 5 * 60_000,
      maxAgeMs: options.maxAgeMs ?? 6 * 3600_000,
      pollMs: options.pollMs ?? 250,
      concurrency: options.concurrency ?? 8,
      now: options.now ?? Date.now,
    };
  }

  /** Persists the event (synchronously, durably); when this returns, the event survives a crash. */
  enqueue(
    functionName: string,
    qualifier: string,
    payload: Buffer,
    id: string = randomUUID(),
    tenantId?: string,
  ): string {
    if (this.#disposed) throw new PlatformError('ERR_DISPOSED', 'the event queue is shut down');
    const now = this.#s.now();
    this.#store.enqueueEvent({
      id,
      functionName,
      qualifier,
      payload,
      attempts: 0,
      notBefore: now,
      enqueuedAt: now,
      ...(tenantId !== undefined ? { tenantId } : {}),
    });
    setImmediate(() => {
      this.#pump();
    });
    return id;
  }

  /** Starts the worker; events left from an earlier run are picked up. */
  start(): void {
    if (this.#timer !== null || this.#disposed) return;
    this.#timer = setInterval(() => {
      this.#pump();
    }, this.#s.pollMs);
    this.#timer.unref();
    this.#pump();
  }

  /** Events not yet finished (queued, waiting for a retry, or running). */
  get pending(): number {
    return this.#store.pendingEvents();
  }

  /** Attempts running now. */
  get running(): number {
    return this.#running.size;
  }

  #pump(): void {
    if (this.#disposed) return;
    const free = this.#s.concurrency - this.#running.size;
    if (free <= 0) return;
    let due: QueuedEvent[];
    try {
      // Running events are still in the table (deleted only when done): ask for enough rows to skip them.
      due = this.#store.dueEvents(this.#s.now(), free + this.#running.size);
    } catch (err) {
      log('cannot read the event queue: %o', err); // e.g. the store closed during shutdown; the rows stay
      return;
    }
    for (const event of due) {
      if (this.#running.size >= this.#s.concurrency) break;
      if (this.#running.has(event.id)) continue;
      const p = this.#attempt(event)
        .catch((err: unknown) => {
          log('event %s: %o', event.id, err);
        })
        .finally(() => {
          this.#running.delete(event.id);
          this.#pump();
        });
      this.#running.set(event.id, p);
    }
  }

  async #attempt(event: QueuedEvent): Promise<void> {
    if (this.#s.now() - event.enqueuedAt > this.#s.maxAgeMs) {
      log('dropping event %s: older than the maximum event age', event.id);
      this.#finish(event.id);
      return;
    }
    const outcome = await this.#run(event);
    const attempts = event.attempts + 1;
    switch (outcome) {
      case 'ok':
      case 'gone':
        this.#finish(event.id);
        return;
      case 'throttled': {
        const n = (this.#throttles.get(event.id) ?? 0) + 1;
        this.#throttles.set(event.id, n);
        const delay = Math.min(this.#s.maxThrottleDelayMs, this.#s.throttleDelayMs * 2 ** (n - 1));
        this.#store.rescheduleEvent(event.id, event.attempts, this.#s.now() + delay);
        return;
      }
      case 'error': {
        this.#throttles.delete(event.id);
        const delay = this.#s.retryDelaysMs[attempts - 1];
        if (delay === undefined) {
          log('event %s failed %d times; discarded', event.id, attempts);
          this.#finish(event.id);
        } else {
          this.#store.rescheduleEvent(event.id, attempts, this.#s.now() + delay);
        }
      }
    }
  }

  #finish(id: string): void {
    this.#throttles.delete(id);
    this.#store.deleteEvent(id);
  }

  /** Stops the worker and waits for running attempts; unfinished events stay persisted. Idempotent. */
  async dispose(): Promise<void> {
    this.#disposed = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await Promise.allSettled([...this.#running.values()]);
  }
}
