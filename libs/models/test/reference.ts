// Reference computations for the models specs, independent of the code under test.

/** Solves M·x = c (n×n, nested arrays) by Gaussian elimination with partial pivoting (not Cholesky). */
export function gaussSolve(M: number[][], c: number[]): number[] {
  const n = c.length;
  const a = M.map((row, i) => [...row, c[i]]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) pivot = r;
    [a[col], a[pivot]] = [a[pivot], a[col]];
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const factor = a[r][col] / a[col][col];
      for (let j = col; j <= n; j++) a[r][j] -= factor * a[col][j];
    }
  }
  return a.map((row, i) => row[n] / row[i]);
}
