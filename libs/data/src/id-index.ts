/**
 * A bijection between external ids (non-negative integers as they appear in the files) and dense
 * internal indices 0..n-1. Internal index i is the i-th smallest external id, so the mapping does
 * not depend on file order.
 *
 * Lookup is O(1) through a dense table when the ids are not too sparse, otherwise binary search.
 */
export class IdIndex {
  /** Sorted ascending, distinct. `ids[i]` is the external id of internal index i. */
  readonly ids: Int32Array;
  private readonly dense: Int32Array | null;

  private constructor(sortedIds: Int32Array) {
    this.ids = sortedIds;
    const n = sortedIds.length;
    const maxId = n > 0 ? sortedIds[n - 1] : -1;
    // A dense table costs 4 bytes per possible id; allow it when that is at most ~8× the ids
    // themselves or below 16 M entries (64 MB), which covers Netflix (max user id 2,649,429).
    if (n > 0 && (maxId < 16_777_216 || maxId < 8 * n)) {
      const table = new Int32Array(maxId + 1).fill(-1);
      for (let i = 0; i < n; i++) table[sortedIds[i]] = i;
      this.dense = table;
    } else {
      this.dense = null;
    }
  }

  /** From ids already sorted ascending and distinct (checked). */
  static fromSorted(ids: Int32Array): IdIndex {
    for (let i = 1; i < ids.length; i++) {
      if (ids[i] <= ids[i - 1]) throw new Error(`IdIndex.fromSorted: ids not strictly ascending at ${i}`);
    }
    if (ids.length > 0 && ids[0] < 0) throw new Error('IdIndex.fromSorted: negative id');
    return new IdIndex(ids);
  }

  /** From any list of non-negative ids, with repetitions; takes the distinct ones. */
  static fromValues(values: Int32Array, count = values.length): IdIndex {
    let maxId = -1;
    for (let k = 0; k < count; k++) if (values[k] > maxId) maxId = values[k];
    if (maxId < 0) return new IdIndex(new Int32Array(0));
    if (maxId < 268_435_456) {
      // Bitmap of seen ids: O(count + maxId/8) time, maxId/8 bytes.
      const seen = new Uint8Array((maxId >>> 3) + 1);
      let distinct = 0;
      for (let k = 0; k < count; k++) {
        const v = values[k];
        const bit = 1 << (v & 7);
        if ((seen[v >>> 3] & bit) === 0) {
          seen[v >>> 3] |= bit;
          distinct++;
        }
      }
      const ids = new Int32Array(distinct);
      let j = 0;
      for (let byte = 0; byte < seen.length; byte++) {
        const b = seen[byte];
        if (b === 0) continue;
        for (let bit = 0; bit < 8; bit++) if (b & (1 << bit)) ids[j++] = (byte << 3) | bit;
      }
      return new IdIndex(ids);
    }
    const copy = values.slice(0, count).sort();
    let distinct = 0;
    for (let k = 0; k < copy.length; k++) if (k === 0 || copy[k] !== copy[k - 1]) copy[distinct++] = copy[k];
    return new IdIndex(copy.slice(0, distinct));
  }

  get size(): number {
    return this.ids.length;
  }

  /** Internal index of an external id, or -1 when the id is unknown. */
  indexOf(externalId: number): number {
    const dense = this.dense;
    if (dense !== null) {
      return externalId >= 0 && externalId < dense.length && Number.isInteger(externalId) ? dense[externalId] : -1;
    }
    const ids = this.ids;
    let lo = 0;
    let hi = ids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = ids[mid];
      if (v < externalId) lo = mid + 1;
      else if (v > externalId) hi = mid - 1;
      else return mid;
    }
    return -1;
  }

  /** Internal indices of `count` external ids (each must be present), as one typed array. */
  mapAll(externalIds: Int32Array, count = externalIds.length): Int32Array {
    const out = new Int32Array(count);
    const dense = this.dense;
    if (dense !== null) {
      for (let k = 0; k < count; k++) out[k] = dense[externalIds[k]];
    } else {
      for (let k = 0; k < count; k++) out[k] = this.indexOf(externalIds[k]);
    }
    return out;
  }

  has(externalId: number): boolean {
    return this.indexOf(externalId) >= 0;
  }

  /** Bytes held by this index (ids plus the dense table). */
  get byteLength(): number {
    return this.ids.byteLength + (this.dense ? this.dense.byteLength : 0);
  }
}
