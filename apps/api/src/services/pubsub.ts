import type { PubSub } from 'type-graphql';

/**
 * In-process publish/subscribe for GraphQL subscriptions (type-graphql's PubSub interface).
 * Each subscription gets its own queue; `return()` (the client unsubscribing or disconnecting)
 * removes it, so nothing leaks.
 */
export class LocalPubSub implements PubSub {
  private readonly listeners = new Map<string, Set<(payload: unknown) => void>>();

  publish(topic: string, ...args: unknown[]): void {
    for (const listener of this.listeners.get(topic) ?? []) listener(args[0]);
  }

  /** Number of open subscriptions to a topic (for tests and logs). */
  subscriberCount(topic: string): number {
    return this.listeners.get(topic)?.size ?? 0;
  }

  subscribe(topic: string): AsyncIterableIterator<unknown> {
    const queue: unknown[] = [];
    let waiting: ((r: IteratorResult<unknown>) => void) | null = null;
    let done = false;
    let set = this.listeners.get(topic);
    if (!set) this.listeners.set(topic, (set = new Set()));
    const listeners = set;
    const listener = (payload: unknown) => {
      if (waiting) {
        const resolve = waiting;
        waiting = null;
        resolve({ value: payload, done: false });
      } else {
        queue.push(payload);
      }
    };
    listeners.add(listener);
    const finish = (): Promise<IteratorResult<unknown>> => {
      done = true;
      listeners.delete(listener);
      queue.length = 0;
      if (waiting) {
        waiting({ value: undefined, done: true });
        waiting = null;
      }
      return Promise.resolve({ value: undefined, done: true });
    };
    const iterator: AsyncIterableIterator<unknown> = {
      next: () => {
        if (queue.length > 0) return Promise.resolve({ value: queue.shift(), done: false });
        if (done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (waiting = resolve));
      },
      return: finish,
      throw: (error?: unknown) => {
        void finish();
        return Promise.reject(error);
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }
}
