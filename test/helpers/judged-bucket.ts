import type { EvaluatedBucket } from '../../lib/alerts/evaluate.ts';

/**
 * A bucket as the alert tests judge it: against a band of 100 ± 20 (80 to 120), anomalous outside it, with the
 * score given (0.5 unless said).
 *
 * @example judgedBucket(0, 400).band?.anomaly // true
 */
export function judgedBucket(timestamp: number, value: number, score = 0.5): EvaluatedBucket {
  return {
    timestamp,
    value,
    band: {
      timestamp,
      value,
      expected: 100,
      lower: 80,
      upper: 120,
      score,
      anomaly: value > 120 || value < 80,
    },
  };
}
