import { Shuffler } from './shuffler';

function isPermutation(a: Uint32Array, n: number): boolean {
  if (a.length !== n) return false;
  const seen = new Uint8Array(n);
  for (const v of a) {
    if (v >= n || seen[v]) return false;
    seen[v] = 1;
  }
  return true;
}

describe('Shuffler', () => {
  it('starts as the identity and each shuffle is a permutation, in the same array', () => {
    const s = new Shuffler(1000, 5);
    expect(Array.from(s.order.subarray(0, 5))).toEqual([0, 1, 2, 3, 4]);
    const array = s.order;
    let previous = Array.from(s.order);
    for (let epoch = 0; epoch < 5; epoch++) {
      const result = s.shuffle();
      expect(result).toBe(array); // no new allocation
      expect(isPermutation(result, 1000)).toBe(true);
      expect(Array.from(result)).not.toEqual(previous);
      previous = Array.from(result);
    }
  });

  it('is deterministic for a seed across epochs, and reseed replays', () => {
    const a = new Shuffler(50, 11);
    const b = new Shuffler(50, 11);
    const c = new Shuffler(50, 12);
    const epochsA: number[][] = [];
    for (let e = 0; e < 3; e++) {
      epochsA.push(Array.from(a.shuffle()));
      expect(Array.from(b.shuffle())).toEqual(epochsA[e]);
    }
    expect(Array.from(c.shuffle())).not.toEqual(epochsA[0]);
    a.reseed(11);
    expect(Array.from(a.shuffle())).toEqual(epochsA[0]);
  });

  it('draws all 6 orders of 3 elements about equally often', () => {
    const s = new Shuffler(3, 99);
    const counts = new Map<string, number>();
    const rounds = 60_000;
    for (let i = 0; i < rounds; i++) {
      const key = Array.from(s.shuffle()).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    const expected = rounds / 6;
    let chi2 = 0;
    for (const c of counts.values()) chi2 += (c - expected) ** 2 / expected;
    expect(chi2).toBeLessThan(20.5); // 99.9% quantile of χ² with 5 degrees of freedom
  });

  it('handles sizes 0 and 1', () => {
    expect(new Shuffler(0).shuffle().length).toBe(0);
    expect(Array.from(new Shuffler(1).shuffle())).toEqual([0]);
    expect(() => new Shuffler(-1)).toThrow(/size/);
  });

  describe('shuffleGroups', () => {
    // 5 groups (one empty) over 10 items: [0,1,2] [] [3,4] [5,6,7,8] [9]
    const offsets = Uint32Array.of(0, 3, 3, 5, 9, 10);

    function segments(out: Uint32Array, order: Uint32Array): number[][] {
      const result: number[][] = [];
      let position = 0;
      for (const group of order) {
        const size = offsets[group + 1] - offsets[group];
        result.push(Array.from(out.subarray(position, position + size)));
        position += size;
      }
      return result;
    }

    it('keeps each group contiguous and in stored order, groups in the shuffled order', () => {
      const s = new Shuffler(5, 3);
      const out = new Uint32Array(10);
      for (let epoch = 0; epoch < 4; epoch++) {
        expect(s.shuffleGroups(offsets, out)).toBe(out);
        expect(isPermutation(s.order, 5)).toBe(true);
        expect(isPermutation(out, 10)).toBe(true);
        const parts = segments(out, s.order);
        s.order.forEach((group, k) => {
          const expected: number[] = [];
          for (let i = offsets[group]; i < offsets[group + 1]; i++) expected.push(i);
          expect(parts[k]).toEqual(expected);
        });
      }
    });

    it('changes the group order between epochs and is deterministic', () => {
      const a = new Shuffler(5, 8);
      const b = new Shuffler(5, 8);
      const outA = new Uint32Array(10);
      const outB = new Uint32Array(10);
      const seen = new Set<string>();
      for (let e = 0; e < 10; e++) {
        a.shuffleGroups(offsets, outA);
        b.shuffleGroups(offsets, outB);
        expect(Array.from(outA)).toEqual(Array.from(outB));
        seen.add(Array.from(a.order).join(','));
      }
      expect(seen.size).toBeGreaterThan(1);
    });

    it('optionally shuffles within groups while keeping them contiguous', () => {
      const s = new Shuffler(5, 21);
      const out = new Uint32Array(10);
      let reordered = false;
      for (let e = 0; e < 20; e++) {
        s.shuffleGroups(offsets, out, true);
        expect(isPermutation(out, 10)).toBe(true);
        const parts = segments(out, s.order);
        s.order.forEach((group, k) => {
          const members = [...parts[k]].sort((x, y) => x - y);
          const expected: number[] = [];
          for (let i = offsets[group]; i < offsets[group + 1]; i++) expected.push(i);
          expect(members).toEqual(expected);
          if (parts[k].some((v, i) => v !== expected[i])) reordered = true;
        });
      }
      expect(reordered).toBe(true);
    });

    it('rejects mismatched offsets and output lengths', () => {
      const s = new Shuffler(5);
      expect(() => s.shuffleGroups(Uint32Array.of(0, 1, 2), new Uint32Array(2))).toThrow(/size \+ 1 = 6/);
      expect(() => s.shuffleGroups(offsets, new Uint32Array(9))).toThrow(/offsets\[5\] = 10/);
      expect(() => s.shuffleGroups(Uint32Array.of(1, 3, 3, 5, 9, 10), new Uint32Array(10))).toThrow(/offsets\[0\]/);
      expect(() => s.shuffleGroups(Uint32Array.of(0, 6, 3, 5, 9, 10), new Uint32Array(10))).toThrow(/non-decreasing/);
    });
  });
});
