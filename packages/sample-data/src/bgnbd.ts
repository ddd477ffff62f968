/**
 * Closed-form expectations of the models the generator samples, for checks and benchmarks.
 */

/**
 * BG/NBD: expected number of repeat purchases in (0, t] after a customer's first purchase
 * (Fader, Hardie & Lee 2005, eq. 7), with t in the model's time unit (weeks for the CDNOW fit).
 *
 * Given λ and p, E[X(t)] = (1 − e^(−λpt)) / p; integrating λ ~ Gamma(r, α) gives
 * (1 − (α / (α + pt))^r) / p, and p ~ Beta(a, b) is integrated numerically (midpoint rule
 * after p = s^(1/a), which removes the density's singularity at 0 for a < 1). Accurate to
 * about 1e-4 relative for b ≥ 1.
 */
export function expectedRepeatPurchases(model: { r: number; alpha: number; a: number; b: number }, t: number, steps = 20_000): number {
  const { r, alpha, a, b } = model;
  let num = 0;
  let den = 0;
  for (let i = 0; i < steps; i++) {
    const s = (i + 0.5) / steps;
    const p = s ** (1 / a);
    const w = (1 - p) ** (b - 1);
    num += (w * (1 - (alpha / (alpha + p * t)) ** r)) / p;
    den += w;
  }
  return num / den;
}

/** Gamma-gamma: the population mean of per-order spend, p·γ/(q − 1) (needs q > 1). */
export function expectedOrderValue(model: { p: number; q: number; gamma: number }): number {
  return (model.p * model.gamma) / (model.q - 1);
}
