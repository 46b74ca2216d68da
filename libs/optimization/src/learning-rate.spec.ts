import { LearningRateSchedule } from './learning-rate';

describe('LearningRateSchedule', () => {
  it('constant gives the same rate every epoch', () => {
    const s = LearningRateSchedule.constant(0.005);
    expect([0, 1, 7, 100].map((t) => s.rate(t))).toEqual([0.005, 0.005, 0.005, 0.005]);
    expect(s.kind).toBe('constant');
  });

  it('inverse-time: η₀/(1 + decay·t)', () => {
    const s = LearningRateSchedule.inverseTime(0.1, 0.5);
    expect(s.rate(0)).toBe(0.1);
    expect(s.rate(1)).toBeCloseTo(0.1 / 1.5, 15); // 0.0666…
    expect(s.rate(2)).toBeCloseTo(0.05, 15);
    expect(s.rate(8)).toBeCloseTo(0.02, 15);
  });

  it('exponential: η₀·factorᵗ', () => {
    const s = LearningRateSchedule.exponential(0.2, 0.5);
    expect(s.rate(0)).toBe(0.2);
    expect(s.rate(1)).toBe(0.1);
    expect(s.rate(2)).toBe(0.05);
    expect(s.rate(3)).toBe(0.025);
  });

  it('bold driver: ×1.05 after a better epoch, ×0.5 after a worse one', () => {
    const s = LearningRateSchedule.boldDriver(0.1);
    expect(s.rate(0)).toBe(0.1);
    s.reportLoss(10); // first report only records
    expect(s.rate(1)).toBe(0.1);
    s.reportLoss(8); // better
    expect(s.rate(2)).toBeCloseTo(0.105, 15);
    s.reportLoss(9); // worse
    expect(s.rate(3)).toBeCloseTo(0.0525, 15);
    s.reportLoss(9); // not better counts as worse
    expect(s.rate(4)).toBeCloseTo(0.02625, 15);
  });

  it('ignores reported losses for non-adaptive kinds', () => {
    const s = LearningRateSchedule.inverseTime(0.1, 1);
    s.reportLoss(5);
    s.reportLoss(1);
    expect(s.rate(1)).toBe(0.05);
  });

  it('rejects invalid parameters', () => {
    expect(() => LearningRateSchedule.constant(0)).toThrow(/initial rate/);
    expect(() => LearningRateSchedule.inverseTime(0.1, -1)).toThrow(/decay/);
    expect(() => LearningRateSchedule.exponential(0.1, 0)).toThrow(/factor/);
    expect(() => LearningRateSchedule.boldDriver(0.1, 0.9)).toThrow(/increase/);
    expect(() => LearningRateSchedule.boldDriver(0.1, 1.1, 1.5)).toThrow(/decrease/);
  });
});
