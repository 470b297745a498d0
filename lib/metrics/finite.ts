/**
 * Keeps a sum, mean or other figure computed from stored values finite. Every stored value is finite, but
 * two of them may add up past the largest double (two counters of 1e308 in one bucket): JavaScript gives
 * Infinity, which JSON writes as null and the band engine cannot learn from. The figure is clamped to
 * ±Number.MAX_VALUE instead, the nearest value a double can hold. NaN (from Infinity - Infinity) stays NaN
 * here; the callers that can meet it say what they do.
 *
 * @example clampToFinite(1e308 + 1e308) // 1.7976931348623157e308
 */
export const clampToFinite = (value: number): number =>
  Math.min(Number.MAX_VALUE, Math.max(-Number.MAX_VALUE, value));
