import { higherIsBetter, isRankingObjective, MAX_OBJECTIVE_K, objectiveLabel, objectiveName, parseObjective, rankingFigure } from './objective';
import { RankingMetrics } from './ranking-metrics';

describe('parseObjective', () => {
  it('reads rmse, mae and every ranking figure at a cutoff, case-insensitively', () => {
    expect(parseObjective('rmse')).toEqual({ metric: 'rmse' });
    expect(parseObjective(' MAE ')).toEqual({ metric: 'mae' });
    expect(parseObjective('ndcg@10')).toEqual({ metric: 'ndcg', k: 10 });
    expect(parseObjective('Precision@5')).toEqual({ metric: 'precision', k: 5 });
    for (const m of ['recall', 'map', 'mrr', 'hit']) expect(parseObjective(`${m}@3`)).toEqual({ metric: m, k: 3 });
    expect(parseObjective(`hit@${MAX_OBJECTIVE_K}`)).toEqual({ metric: 'hit', k: MAX_OBJECTIVE_K });
  });

  it('names, labels and orders objectives', () => {
    expect(objectiveName(parseObjective('NDCG@10'))).toBe('ndcg@10');
    expect(objectiveLabel(parseObjective('ndcg@10'))).toBe('NDCG@10');
    expect(objectiveLabel(parseObjective('hit@5'))).toBe('HR@5');
    expect(objectiveLabel(parseObjective('rmse'))).toBe('RMSE');
    expect(higherIsBetter(parseObjective('map@10'))).toBe(true);
    expect(higherIsBetter(parseObjective('rmse'))).toBe(false);
    expect(isRankingObjective(parseObjective('mae'))).toBe(false);
  });

  it('refuses an unknown objective naming the known ones, and a cutoff out of range', () => {
    const known = 'rmse, mae, precision@K, recall@K, ndcg@K, map@K, mrr@K, hit@K';
    for (const bad of ['auc', 'ndcg', 'ndcg@', 'ndcg@-1', 'ndcg@1.5', 'ndgc@10', '@10', '']) {
      expect(() => parseObjective(bad)).toThrow(`unknown objective "${bad}": use one of ${known}`);
    }
    expect(() => parseObjective('ndcg@0')).toThrow('objective "ndcg@0": the cutoff K must be an integer in 1..10000, got 0');
    expect(() => parseObjective('mrr@10001')).toThrow('the cutoff K must be an integer in 1..10000, got 10001');
    expect(() => parseObjective('map@99999999999999999999')).toThrow('the cutoff K must be an integer in 1..10000');
  });

  it('reads the named figure of a metrics record (hit is the hit rate)', () => {
    const m = { precision: 0.1, recall: 0.2, ndcg: 0.3, map: 0.4, mrr: 0.5, hitRate: 0.6 } as RankingMetrics;
    expect(['precision', 'recall', 'ndcg', 'map', 'mrr', 'hit'].map((x) => rankingFigure(m, x as never))).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
  });
});
