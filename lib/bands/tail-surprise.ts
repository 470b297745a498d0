/**
 * How surprising a deviation is, learned from the deviations a series has produced so far: a decayed count of
 * how often each of a fixed ladder of sizes was exceeded, smoothed toward a normal tail while few points are
 * known. Surprise is −log10 of the tail probability, so 3 means "one in a thousand" for this series, whatever
 * its units and however heavy its tails.
 */

/** The deviation sizes (in robust standard deviations) whose exceedance is counted: a ×1.5 ladder. */
export const exceedanceLadder = [
  1, 1.5, 2.25, 3.4, 5, 7.6, 11.4, 17, 25.6, 38, 58, 86, 130, 195, 292, 438, 657, 985,
] as const;

/** The smallest tail probability interpolation uses: past it, the ladder gives 12 and power-law extrapolation. */
const smallestProbability = 1e-12;

/**
 * The complementary error function, erfc(x) = 1 − erf(x), with fractional error below 1.2e-7
 * (Numerical Recipes' Chebyshev fit). O(1).
 *
 * @example erfc(0) // 1
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const polynomial =
    -1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t *
                      (0.27886807 +
                        t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const result = t * Math.exp(-z * z + polynomial);
  return x >= 0 ? result : 2 - result;
}

/**
 * P(Z > z) for a standard normal Z. O(1).
 *
 * @example normalUpperTail(1.6449) // ≈ 0.05
 */
export function normalUpperTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

const ladderPrior = exceedanceLadder.map(normalUpperTail);

/** Decayed exceedance counts, one per ladder rung (a plain array, or a Float32Array view for compact storage). */
export interface ExceedanceCounts {
  readonly length: number;
  [rung: number]: number;
}

/** How many rungs the ladder has: the length of every {@link ExceedanceCounts}. */
export const ladderRungs = exceedanceLadder.length;

/** Fresh counts: nothing seen yet. O(ladder). */
export const emptyExceedanceCounts = (): number[] => exceedanceLadder.map(() => 0);

/**
 * Counts one deviation `z` (≥ 0 side only; pass −z for the other side) with weight `increment`. Older counts
 * decay by growing the increment instead of shrinking every count (see {@link rescaleExceedanceCounts}).
 * O(rungs exceeded).
 *
 * @example const counts = emptyExceedanceCounts(); recordExceedance(counts, 2, 1); counts.slice(0, 4) // [1, 1, 0, 0]
 */
export function recordExceedance(counts: ExceedanceCounts, z: number, increment: number): void {
  for (let rung = 0; rung < exceedanceLadder.length && z > (exceedanceLadder[rung] ?? 0); rung++) {
    counts[rung] = (counts[rung] ?? 0) + increment;
  }
}

/**
 * Divides every count by `factor`, to bring a grown increment back to 1. O(ladder).
 *
 * @example const counts = [4, 2]; rescaleExceedanceCounts(counts, 2); counts // [2, 1]
 */
export function rescaleExceedanceCounts(counts: ExceedanceCounts, factor: number): void {
  for (let rung = 0; rung < counts.length; rung++) counts[rung] = (counts[rung] ?? 0) / factor;
}

/**
 * How the tail is read: prior weight (points' worth of normal tail), the power-law exponent past the ladder,
 * and the current increment (the weight of one new point in the counts).
 */
export interface TailReading {
  readonly priorWeight: number;
  readonly tailExponent: number;
  readonly unit: number;
}

function rungProbability(
  counts: ExceedanceCounts,
  total: number,
  rung: number,
  reading: TailReading,
): number {
  const prior = reading.priorWeight * reading.unit;
  const probability = ((counts[rung] ?? 0) + prior * (ladderPrior[rung] ?? 0)) / (total + prior);
  return Math.max(probability, smallestProbability);
}

/** The log of each rung's ratio to the one before (0 for the first): how wide it is on the log scale. */
const rungLogWidths = exceedanceLadder.map((edge, rung) =>
  rung === 0 ? 0 : Math.log(edge / (exceedanceLadder[rung - 1] ?? edge)),
);

/**
 * The probability that this series deviates by more than `z` on this side: the larger of the learned tail
 * (log-linear between rungs, power law past the last) and the normal tail. `total` is the decayed number of
 * points counted. O(ladder) comparisons, and only the two rungs around `z` are read.
 *
 * @example tailProbability(emptyExceedanceCounts(), 0, 3, { priorWeight: 20, tailExponent: 3, unit: 1 }) // ≈ 0.00135
 */
export function tailProbability(
  counts: ExceedanceCounts,
  total: number,
  z: number,
  reading: TailReading,
): number {
  const normal = normalUpperTail(z);
  const first = exceedanceLadder[0];
  if (z <= first) return 1;
  // The first rung at or past z (the ladder's length when z is past the last).
  let rung = 1;
  while (rung < exceedanceLadder.length && z > (exceedanceLadder[rung] ?? first)) rung++;
  const previousZ = exceedanceLadder[rung - 1] ?? first;
  const previousLog = Math.log(rungProbability(counts, total, rung - 1, reading));
  if (rung === exceedanceLadder.length) {
    return Math.max(normal, Math.exp(previousLog) * (previousZ / z) ** reading.tailExponent);
  }
  const log = Math.log(rungProbability(counts, total, rung, reading));
  const fraction = Math.log(z / previousZ) / (rungLogWidths[rung] ?? 1);
  return Math.max(normal, Math.exp(previousLog + fraction * (log - previousLog)));
}

/**
 * The deviation whose tail probability is `probability`: the inverse of {@link tailProbability}, used to draw
 * the band's edge. O(ladder) plus a few normal-tail refinements.
 *
 * @example deviationAtProbability(emptyExceedanceCounts(), 0, 0.00135, { priorWeight: 20, tailExponent: 3, unit: 1 }) // ≈ 3
 */
export function deviationAtProbability(
  counts: ExceedanceCounts,
  total: number,
  probability: number,
  reading: TailReading,
): number {
  const target = Math.log(probability);
  const first = exceedanceLadder[0];
  let previousZ: number = first;
  let previousLog = Math.log(rungProbability(counts, total, 0, reading));
  let learned = Number.NaN;
  if (target >= previousLog) {
    learned = first;
  } else {
    for (let rung = 1; rung < exceedanceLadder.length && Number.isNaN(learned); rung++) {
      const edge = exceedanceLadder[rung] ?? first;
      const log = Math.log(rungProbability(counts, total, rung, reading));
      if (target >= log) {
        const fraction = log === previousLog ? 1 : (target - previousLog) / (log - previousLog);
        learned = previousZ * (edge / previousZ) ** fraction;
      }
      previousZ = edge;
      previousLog = log;
    }
    if (Number.isNaN(learned)) learned = previousZ * Math.exp((previousLog - target) / reading.tailExponent);
  }
  return Math.max(learned, normalDeviationAt(probability));
}

let cachedProbability = Number.NaN;
let cachedDeviation = Number.NaN;

/** The z with P(Z > z) = probability for a standard normal, by a few Newton steps (the last one cached). O(1). */
function normalDeviationAt(probability: number): number {
  if (probability === cachedProbability) return cachedDeviation;
  cachedDeviation = newtonNormalDeviation(probability);
  cachedProbability = probability;
  return cachedDeviation;
}

function newtonNormalDeviation(probability: number): number {
  let z = Math.sqrt(-2 * Math.log(Math.max(probability, 1e-300)));
  for (let step = 0; step < 4; step++) {
    const density = Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
    if (density < 1e-300) break;
    z += (normalUpperTail(z) - probability) / density;
  }
  return z;
}
