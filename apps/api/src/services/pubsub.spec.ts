import 'reflect-metadata';
import { ExecutionResult, parse, subscribe } from 'graphql';
import { buildApiSchema } from '../schema/build-schema';
import { createApiPubSub } from './pubsub';
import { TRAINING_RUN_TOPIC, TrainingRunState } from './training-service';

function run(id: string, status: TrainingRunState['status']): TrainingRunState {
  return {
    id,
    status,
    trigger: 'API',
    kind: 'svd',
    params: {},
    totalEpochs: 2,
    epochs: [],
    apiRatings: 0,
    ratingsThroughId: 0,
    error: null,
    modelId: null,
    queuedAt: new Date(0),
    startedAt: null,
    finishedAt: null,
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('createApiPubSub', () => {
  it('delivers in order to each subscriber and counts open subscriptions until they close', async () => {
    const pubsub = createApiPubSub();
    const a = pubsub.subscribe(TRAINING_RUN_TOPIC);
    const b = pubsub.subscribe(TRAINING_RUN_TOPIC);
    const firstA = a.next();
    const firstB = b.next();
    expect(pubsub.subscriberCount(TRAINING_RUN_TOPIC)).toBe(2);
    pubsub.publish(TRAINING_RUN_TOPIC, run('r1', 'QUEUED'));
    pubsub.publish(TRAINING_RUN_TOPIC, run('r1', 'RUNNING'));
    expect((await firstA).value!.status).toBe('QUEUED');
    expect((await a.next()).value!.status).toBe('RUNNING');
    expect((await firstB).value!.status).toBe('QUEUED');
    await a.return();
    expect(pubsub.subscriberCount(TRAINING_RUN_TOPIC)).toBe(1);
    await b.return();
    expect(pubsub.subscriberCount(TRAINING_RUN_TOPIC)).toBe(0);
  });

  it('a subscriber more than 1024 events behind misses events instead of raising an uncaught RepeaterOverflowError', async () => {
    const pubsub = createApiPubSub();
    const slow = pubsub.subscribe(TRAINING_RUN_TOPIC);
    const first = slow.next();
    const state = run('r2', 'RUNNING');
    expect(() => {
      for (let i = 0; i < 1100; i++) pubsub.publish(TRAINING_RUN_TOPIC, state);
    }).not.toThrow();
    await tick();
    expect((await first).value).toBe(state);
    let received = 1;
    for (let i = 0; i < 1024; i++) if (!(await slow.next()).done) received++;
    expect(received).toBeGreaterThanOrEqual(1024);
    expect(received).toBeLessThan(1100);
    // Once caught up it gets new events again.
    const next = slow.next();
    pubsub.publish(TRAINING_RUN_TOPIC, run('r3', 'SUCCEEDED'));
    expect((await next).value!.id).toBe('r3');
    await slow.return();
  });
});

describe('trainingRunUpdated over createApiPubSub', () => {
  it('streams every run, or only the run with the given id (type-graphql topics and filter)', async () => {
    const pubsub = createApiPubSub();
    const schema = await buildApiSchema(pubsub);
    const open = async (query: string) => (await subscribe({ schema, document: parse(query), contextValue: {} })) as AsyncGenerator<ExecutionResult<{ trainingRunUpdated: { id: string; status: string } }>>;
    const all = await open('subscription { trainingRunUpdated { id status } }');
    const one = await open('subscription { trainingRunUpdated(id: "b") { id status } }');
    const nextAll = [all.next(), all.next(), all.next()];
    const nextOne = one.next();
    await tick();
    expect(pubsub.subscriberCount(TRAINING_RUN_TOPIC)).toBe(2);
    pubsub.publish(TRAINING_RUN_TOPIC, run('a', 'RUNNING'));
    pubsub.publish(TRAINING_RUN_TOPIC, run('b', 'RUNNING'));
    pubsub.publish(TRAINING_RUN_TOPIC, run('a', 'SUCCEEDED'));
    const seen = await Promise.all(nextAll);
    expect(seen.map((r) => r.value!.data!.trainingRunUpdated)).toEqual([
      { id: 'a', status: 'RUNNING' },
      { id: 'b', status: 'RUNNING' },
      { id: 'a', status: 'SUCCEEDED' },
    ]);
    expect((await nextOne).value!.data!.trainingRunUpdated).toEqual({ id: 'b', status: 'RUNNING' });
    await all.return(undefined);
    await one.return(undefined);
    await tick();
    expect(pubsub.subscriberCount(TRAINING_RUN_TOPIC)).toBe(0);
  });
});
