/**
 * A differentiable objective: writes ∇f(x) into `grad` (same length as `x`, overwritten
 * entirely) and returns f(x). It must not keep references to `x` or `grad`: the optimisers
 * reuse both buffers between calls.
 */
export type Objective = (x: Float64Array, grad: Float64Array) => number;
