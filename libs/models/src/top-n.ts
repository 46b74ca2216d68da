/**
 * Indices of the n largest finite scores, best first; ties go to the smaller index. NaN scores
 * are skipped (used to exclude items). Partial selection with a binary min-heap: O(len · log n).
 */
export function topN(scores: Float64Array, n: number): number[] {
  const k = Math.max(0, Math.min(n, scores.length));
  if (k === 0) return [];
  const heap = new Int32Array(k);
  let size = 0;
  // "a is worse than b": lower score, or equal score and larger index.
  const worse = (a: number, b: number) => scores[a] < scores[b] || (scores[a] === scores[b] && a > b);
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let w = i;
      if (l < size && worse(heap[l], heap[w])) w = l;
      if (r < size && worse(heap[r], heap[w])) w = r;
      if (w === i) return;
      const t = heap[i];
      heap[i] = heap[w];
      heap[w] = t;
      i = w;
    }
  };
  for (let m = 0; m < scores.length; m++) {
    const s = scores[m];
    if (s !== s) continue; // NaN: excluded
    if (size < k) {
      let i = size++;
      heap[i] = m;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!worse(heap[i], heap[p])) break;
        const t = heap[i];
        heap[i] = heap[p];
        heap[p] = t;
        i = p;
      }
    } else if (worse(heap[0], m)) {
      heap[0] = m;
      siftDown(0);
    }
  }
  const out = Array.from(heap.subarray(0, size));
  out.sort((a, b) => scores[b] - scores[a] || a - b);
  return out;
}
