// The planted model's scores and the expected rating of a score under the rating noise.
/** Planted score s = μ + b_u + b_i + p_u·q_i of user index u for movie index m. */
export function plantedScore(
  mu: number,
  userBias: Float32Array,
  movieBias: Float32Array,
  userFactors: Float32Array,
  movieFactors: Float32Array,
  factors: number,
  u: number,
  m: number,
): number {
  let dot = 0;
  for (let f = 0; f < factors; f++) dot += userFactors[u * factors + f] * movieFactors[m * factors + f];
  return mu + userBias[u] + movieBias[m] + dot;
}

/** Standard normal CDF via erfc (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - 0.5 * r : 0.5 * r;
}

/**
 * E[clamp(round(s + ε), 1, 5)] for ε ~ N(0, noise²) = 1 + Σ_{t ∈ {1.5, 2.5, 3.5, 4.5}} Φ((s − t)/noise),
 * tabulated every 1/1024 on s ∈ [−4, 10] and interpolated linearly (error < 1e-6). With `step` 0.5
 * (half stars), E[clamp(round(2(s + ε))/2, 0.5, 5)] = 0.5 + 0.5 Σ_{t ∈ {0.75, 1.25, …, 4.75}} Φ((s − t)/noise).
 */
export function expectedRatingTable(noise: number, step: 1 | 0.5 = 1): (s: number) => number {
  const exact = (s: number): number => {
    if (step === 0.5) {
      if (noise === 0) {
        const c = Math.round(2 * s);
        return (c < 1 ? 1 : c > 10 ? 10 : c) / 2;
      }
      let e = 0.5;
      for (let t = 0.75; t < 5; t += 0.5) e += 0.5 * normalCdf((s - t) / noise);
      return e;
    }
    if (noise === 0) {
      const r = Math.round(s);
      return r < 1 ? 1 : r > 5 ? 5 : r;
    }
    return 1 + normalCdf((s - 1.5) / noise) + normalCdf((s - 2.5) / noise) + normalCdf((s - 3.5) / noise) + normalCdf((s - 4.5) / noise);
  };
  if (noise === 0) return exact;
  const lo = -4;
  const steps = 14 * 1024;
  const table = new Float64Array(steps + 2);
  for (let i = 0; i <= steps + 1; i++) table[i] = exact(lo + i / 1024);
  return (s: number): number => {
    if (s <= lo) return table[0];
    const x = (s - lo) * 1024;
    const i = Math.floor(x);
    if (i >= steps) return table[steps];
    const f = x - i;
    return table[i] + f * (table[i + 1] - table[i]);
  };
}
