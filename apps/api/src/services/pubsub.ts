import { getEventListeners } from 'node:events';
import { createPubSub, PubSub } from '@graphql-yoga/subscription';
import type { TRAINING_RUN_TOPIC, TrainingRunState } from './training-service';

/** The API's topics and what each publishes (type-graphql's `@Subscription({ topics })` reads them). */
export type ApiTopics = Record<typeof TRAINING_RUN_TOPIC, [TrainingRunState]>;

/** The server's publish/subscribe, with the number of open subscriptions per topic (for tests and logs). */
export interface ApiPubSub extends PubSub<ApiTopics> {
  subscriberCount(topic: keyof ApiTopics): number;
}

type Listener = Parameters<EventTarget['addEventListener']>[1];
type ListenerFunction = (event: Event) => void;

/**
 * Node's EventTarget, except that a subscriber more than 1024 events behind misses the event
 * instead of stopping the server: graphql-yoga's repeater throws a RepeaterOverflowError from
 * the listener, which EventTarget reports as an uncaught exception. (A training run's payload is
 * its live state, so a subscriber that catches up still reads the latest.)
 */
class TopicEventTarget extends EventTarget {
  private readonly guarded = new WeakMap<ListenerFunction, ListenerFunction>();

  override addEventListener(type: string, listener: Listener, options?: Parameters<EventTarget['addEventListener']>[2]): void {
    if (typeof listener !== 'function') return super.addEventListener(type, listener, options);
    let guarded = this.guarded.get(listener);
    if (!guarded) {
      guarded = (event: Event) => {
        try {
          listener(event);
        } catch (error) {
          if (!(error instanceof Error && error.name === 'RepeaterOverflowError')) throw error;
        }
      };
      this.guarded.set(listener, guarded);
    }
    super.addEventListener(type, guarded, options);
  }

  override removeEventListener(type: string, listener: Listener, options?: Parameters<EventTarget['removeEventListener']>[2]): void {
    const guarded = typeof listener === 'function' ? this.guarded.get(listener) : undefined;
    super.removeEventListener(type, guarded ?? listener, options);
  }
}

/**
 * In-process publish/subscribe (graphql-yoga's `createPubSub`, as type-graphql 2 uses it), one per
 * server. A subscription's listener is removed when the client unsubscribes or disconnects.
 */
export function createApiPubSub(): ApiPubSub {
  const eventTarget = new TopicEventTarget();
  const pubsub = createPubSub<ApiTopics>({ eventTarget });
  return {
    publish: pubsub.publish,
    subscribe: pubsub.subscribe,
    subscriberCount: (topic) => getEventListeners(eventTarget, topic).length,
  };
}
