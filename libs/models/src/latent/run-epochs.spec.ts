import type { FactorState, FactorTrainer } from './factor-trainer';
import { runEpochs } from './run-epochs';

/** A state tagged with the epoch that produced it. */
interface TaggedState extends FactorState {
  epoch: number;
}

function taggedState(epoch: number): TaggedState {
  return { globalMean: 3, userBias: new Float64Array(0), movieBias: new Float64Array(0), userFactors: new Float32Array(0), movieFactors: new Float32Array(0), k: 0, epoch };
}

/** A trainer whose t-th step (from 0) produces state t; converges after `convergeAfter` steps. */
function fakeTrainer(convergeAfter = Infinity): FactorTrainer<TaggedState> & { current: number; disposed: boolean } {
  return {
    current: -1,
    disposed: false,
    get converged() {
      return this.current + 1 >= convergeAfter;
    },
    async step() {
      this.current++;
      return 1;
    },
    state() {
      return taggedState(this.current);
    },
    async dispose() {
      this.disposed = true;
    },
  };
}

const validation = { length: 1, users: new Int32Array(1), movies: new Int32Array(1), ratings: new Uint8Array(1), days: null };

describe('runEpochs', () => {
  it('stops after `patience` epochs without improvement and restores the best', async () => {
    const rmse = [1.0, 0.9, 0.95, 0.96, 0.97, 0.5];
    let adopted = -1;
    const progress: number[] = [];
    const trainer = fakeTrainer();
    const run = await runEpochs(
      { kind: 'test', adopt: (s: TaggedState) => (adopted = s.epoch), validationRmse: () => rmse[adopted] },
      trainer,
      6,
      { validation, earlyStopping: { patience: 2 }, onProgress: (p) => progress.push(p.epoch) },
    );
    expect(run.history.map((h) => h.validationRmse)).toEqual([1.0, 0.9, 0.95, 0.96]);
    expect(progress).toEqual([1, 2, 3, 4]);
    expect(run.restoredBest).toBe(true);
    // The model ends with the best epoch's state.
    expect(adopted).toBe(1);
    expect(trainer.disposed).toBe(true);
  });

  it('without validation adopts only the final state, once', async () => {
    const adopted: number[] = [];
    const run = await runEpochs({ kind: 'test', adopt: (s: TaggedState) => adopted.push(s.epoch), validationRmse: () => NaN }, fakeTrainer(), 3, {});
    expect(run.history.map((h) => [h.epoch, h.epochs, h.trainRmse, h.validationRmse])).toEqual([
      [1, 3, 1, undefined],
      [2, 3, 1, undefined],
      [3, 3, 1, undefined],
    ]);
    expect(adopted).toEqual([2]);
    expect(run.restoredBest).toBe(false);
  });

  it('ends early when the trainer has converged', async () => {
    const run = await runEpochs({ kind: 'test', adopt: () => {}, validationRmse: () => NaN }, fakeTrainer(2), 10, {});
    expect(run.history).toHaveLength(2);
  });

  it('refuses early stopping without a validation set or with a bad patience, and still disposes the trainer', async () => {
    const model = { kind: 'test', adopt: () => {}, validationRmse: () => NaN };
    const trainer = fakeTrainer();
    await expect(runEpochs(model, trainer, 3, { earlyStopping: { patience: 2 } })).rejects.toThrow('test: earlyStopping needs a validation set');
    expect(trainer.disposed).toBe(true);
    await expect(runEpochs(model, fakeTrainer(), 3, { validation, earlyStopping: { patience: 0 } })).rejects.toThrow('patience must be an integer ≥ 1, got 0');
  });
});
