/**
 * Learned tails: how often a series' standardized deviations pass each size of a fixed ladder, counted with a
 * fading memory, and read far past what the counts can show.
 *
 * The counts are trusted where they are dense: the tail's 0.1 and 0.01 quantiles. Their ratio says how heavy
 * the tail is (1.82 for a normal, 2.77 for a Student-t of 3 degrees of freedom, 10.3 for a Cauchy), so the
 * rest of the tail is the Student-t of that ratio, scaled to the 0.01 quantile: a heavy tail stays heavy, a
 * normal one falls like a normal, and a few freak buckets in the far tail do not move it. Where the counts
 * reach further than that Student-t (a mostly-zero count whose ones are far out), the tail goes on from the
 * last rung they pass often enough.
 *
 * The tail of two deviations in three buckets (what the default rule pages on) is read through the single
 * tail and how much more often the series deviates twice than independent buckets would:
 * P(twice) = 3^δ · P^(1 + δ), δ = 1 for independent buckets and 0 for buckets that always move together.
 *
 * Counts may be in any unit, with `total` in the same: a fading memory weighs each new bucket `unit`, growing,
 * instead of shrinking every count (see SeasonalBand).
 */
import { normalUpperTail } from './tail-surprise.ts';

/** The deviation sizes whose exceedance is counted (standardized units). */
export const tailLadder = [
  0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 5, 6, 8, 11, 15, 22, 32, 45, 64, 90, 128, 180, 256,
] as const;

/** How many rungs a tail has. */
export const tailRungs = tailLadder.length;

/** A tail's counts, one per rung (a plain array or a Float32Array). */
export interface TailCounts {
  readonly length: number;
  [rung: number]: number;
}

/** Buckets' worth of a normal tail mixed into the counts, so that a young series has a tail. */
const priorWeight = 50;
/** Rungs passed by fewer buckets than this are not read past the 0.01 quantile. */
const readableCount = 5;

/**
 * Adds one deviation `z` ≥ 0 with weight `weight`. O(rungs passed).
 *
 * @example const counts = [0, 0, 0]; countDeviation(counts, 0.8); counts // [1, 1, 0]
 */
export function countDeviation(counts: TailCounts, z: number, weight = 1): void {
  for (let rung = 0; rung < counts.length && z > (tailLadder[rung] ?? Number.POSITIVE_INFINITY); rung++) {
    counts[rung] = (counts[rung] ?? 0) + weight;
  }
}

/** The priors at each rung, computed once: a normal tail, and two of three independent normal deviations. */
const singlePrior = tailLadder.map((z) => normalUpperTail(z));
const pairPrior = tailLadder.map((z) => Math.min(1, 3 * normalUpperTail(z) ** 2));

/** A tail's counts with what they are counted over. */
export interface CountedTail {
  readonly counts: Readonly<TailCounts>;
  /** Buckets counted, in the counts' unit. */
  readonly total: number;
  /** The weight of one bucket now, in the counts' unit (1 without a fading memory). */
  readonly unit: number;
}

/** A rung's probability: its count over the buckets counted, with the prior mixed in. */
function rungProbability(tail: CountedTail, rung: number, prior: readonly number[]): number {
  const weight = priorWeight * tail.unit;
  return ((tail.counts[rung] ?? 0) + weight * (prior[rung] ?? 0)) / (tail.total + weight);
}

/** P(deviation > z) from the counts, log-linear between rungs. */
function countedProbability(tail: CountedTail, z: number, prior: readonly number[]): number {
  if (z <= (tailLadder[0] ?? 0)) return 1;
  let rung = 1;
  while (rung < tailLadder.length - 1 && (tailLadder[rung] ?? 0) < z) rung++;
  const z0 = tailLadder[rung - 1] ?? 1;
  const z1 = tailLadder[rung] ?? 1;
  const fraction = Math.min(1, Math.log(z / z0) / Math.log(z1 / z0));
  const p0 = rungProbability(tail, rung - 1, prior);
  const p1 = rungProbability(tail, rung, prior);
  return Math.exp(Math.log(p0) * (1 - fraction) + Math.log(p1) * fraction);
}

/** The z the counts pass with probability p (p well inside what they show), log-linear between rungs. */
function countedQuantile(tail: CountedTail, p: number): number {
  let previousZ: number = tailLadder[0] ?? 0.5;
  let previous = Math.log(rungProbability(tail, 0, singlePrior));
  const target = Math.log(p);
  if (target >= previous) return previousZ;
  for (let rung = 1; rung < tailLadder.length; rung++) {
    const z = tailLadder[rung] ?? previousZ;
    const log = Math.log(rungProbability(tail, rung, singlePrior));
    if (target >= log) {
      const fraction = log === previous ? 1 : (target - previous) / (log - previous);
      return previousZ * (z / previousZ) ** fraction;
    }
    previousZ = z;
    previous = log;
  }
  return previousZ;
}

/** What a tail is, read once and used for every deviation: its 0.01 quantile, its row, and where data ends. */
export interface TailShape {
  /** The deviation passed with probability 0.01. */
  readonly z01: number;
  /** Where the tail's Student-t lies in the table: a fractional row index. */
  readonly row: number;
  /** The last rung passed by enough buckets to be read, and its probability. */
  readonly lastZ: number;
  readonly lastProbability: number;
}

/** The shape of a normal tail (what a band reads before it has counted anything). */
export const normalShape: TailShape = { z01: 2.326, row: 9, lastZ: 0, lastProbability: 1 };

/**
 * The shape of a tail from its counts. O(rungs).
 *
 * @example tailShape({ counts: [], total: 0, unit: 1 }).z01 // ≈ 2.33 (a normal tail while nothing is counted)
 */
export function tailShape(tail: CountedTail): TailShape {
  const z1 = countedQuantile(tail, 0.1);
  const z01 = countedQuantile(tail, 0.01);
  const spread = Math.max(z01 / Math.max(z1, 1e-9), tableSpreads[tableSpreads.length - 1] ?? 1);
  // Spreads fall with the degrees of freedom: find the rows around this one.
  let row = 0;
  while (row < tableSpreads.length - 1 && (tableSpreads[row + 1] ?? 0) >= spread) row++;
  const above = tableSpreads[row] ?? spread;
  const below = tableSpreads[row + 1] ?? above;
  const fraction = row >= tableSpreads.length - 1 || above === below ? 0 : (above - spread) / (above - below);
  let last = -1;
  while (last + 1 < tail.counts.length && (tail.counts[last + 1] ?? 0) >= readableCount * tail.unit) last++;
  return {
    z01,
    row: Math.min(tableSpreads.length - 1, row + Math.max(0, Math.min(1, fraction))),
    lastZ: last < 0 ? 0 : (tailLadder[last] ?? 0),
    lastProbability: last < 0 ? 1 : rungProbability(tail, last, singlePrior),
  };
}

/** The table's ratio at a fractional row and a probability column (log-linear in both). */
function ratioAt(row: number, column: number): number {
  const r0 = Math.floor(row);
  const r1 = Math.min(tableRatios.length - 1, r0 + 1);
  const rowFraction = row - r0;
  const c0 = Math.min(tableProbabilities.length - 1, Math.floor(column));
  const c1 = Math.min(tableProbabilities.length - 1, c0 + 1);
  const columnFraction = column - c0;
  const read = (r: number, c: number) => Math.log(tableRatios[r]?.[c] ?? 1);
  const left = read(r0, c0) * (1 - rowFraction) + read(r1, c0) * rowFraction;
  const right = read(r0, c1) * (1 - rowFraction) + read(r1, c1) * rowFraction;
  return Math.exp(left * (1 - columnFraction) + right * columnFraction);
}

/** A probability's fractional column in the table (log-linear). */
function columnOf(probability: number): number {
  const log = Math.log(Math.max(probability, 1e-300));
  let column = 0;
  while (column < tableProbabilities.length - 2 && Math.log(tableProbabilities[column + 1] ?? 1) > log)
    column++;
  const p0 = Math.log(tableProbabilities[column] ?? 1);
  const p1 = Math.log(tableProbabilities[column + 1] ?? 1);
  return column + (log - p0) / (p1 - p0);
}

/**
 * The deviation a tail passes with probability `probability` (< 0.01). O(table columns).
 *
 * @example deviationAt(normalShape, 0.001) // ≈ 3.09
 */
export function deviationAt(shape: TailShape, probability: number): number {
  const column = columnOf(probability);
  const fromBulk = shape.z01 * ratioAt(shape.row, column);
  // Where the counts reach further than the bulk's tail says, the tail goes on from the last rung they reach.
  if (shape.lastZ <= fromBulk || shape.lastProbability <= probability) return fromBulk;
  return Math.max(
    fromBulk,
    (shape.lastZ * ratioAt(shape.row, column)) /
      ratioAt(shape.row, columnOf(Math.min(0.01, shape.lastProbability))),
  );
}

/**
 * How independent a series' buckets are past its 0.01 quantile: δ in [0, 1] from how often it deviates that far
 * twice in three buckets (1: like independent buckets, 0: as often as once). O(rungs).
 */
export function independence(pairs: CountedTail, shape: TailShape): number {
  const twice = countedProbability(pairs, shape.z01, pairPrior);
  return Math.min(1, Math.max(0, Math.log(twice / 0.01) / Math.log(3 * 0.01)));
}

/**
 * The deviation passed twice in three buckets with probability `probability`: the single tail's deviation at
 * the P with 3^δ · P^(1 + δ) = probability. O(table columns).
 *
 * @example pairDeviationAt(normalShape, 1, 3e-6) // ≈ 3.09 (independent buckets: 3 · 0.001²)
 */
export function pairDeviationAt(shape: TailShape, independenceOf: number, probability: number): number {
  const single = (probability / 3 ** independenceOf) ** (1 / (1 + independenceOf));
  return deviationAt(shape, Math.min(single, 0.01));
}

const tableProbabilities = [
  0.1, 0.03, 0.01, 0.003, 0.001, 0.0003, 0.0001, 3e-5, 1e-5, 3e-6, 1e-6, 3e-7, 1e-7, 3e-8, 1e-8, 1e-9, 1e-10,
  1e-12,
];
/**
 * Each row, a Student-t of 1, 1.5, 2, 3, 4, 6, 10, 20 and 50 degrees of freedom, then the normal: its quantiles at
 * tableProbabilities divided by its 0.01 quantile (computed with scipy.stats).
 */
const tableRatios = [
  [
    0.0967201, 0.332455, 1, 3.33433, 10.0033, 33.3443, 100.033, 333.443, 1000.33, 3334.43, 10003.3, 33344.3,
    100033, 333443, 1.00033e6, 1.00033e7, 1.00033e8, 1.00033e10,
  ],
  [
    0.196154, 0.473907, 1, 2.23904, 4.66044, 10.4011, 21.6359, 48.2797, 100.426, 224.095, 466.136, 1040.16,
    2163.61, 4827.97, 10042.6, 46613.6, 216361, 4.66136e6,
  ],
  [
    0.270745, 0.559465, 1, 1.84531, 3.20582, 5.85916, 10.1514, 18.5358, 32.1059, 58.6177, 101.529, 185.366,
    321.064, 586.18, 1015.29, 3210.64, 10152.9, 101529,
  ],
  [
    0.360681, 0.649792, 1, 1.54038, 2.24955, 3.38158, 4.88994, 7.31439, 10.5551, 15.7718, 22.7497, 33.9856,
    49.017, 73.2226, 105.606, 227.522, 490.182, 2275.22,
  ],
  [
    0.409188, 0.694102, 1, 1.42019, 1.91441, 2.6241, 3.47848, 4.72088, 6.22698, 8.42554, 11.0965, 15.0001,
    19.7456, 26.6839, 35.1205, 62.4582, 111.07, 351.239,
  ],
  [
    0.458132, 0.736083, 1, 1.32106, 1.65707, 2.08801, 2.5535, 3.16237, 3.82848, 4.70709, 5.67362, 6.95324,
    8.36445, 10.236, 12.3023, 18.0743, 26.541, 57.1977,
  ],
  [
    0.49649, 0.767153, 1, 1.25629, 1.49929, 1.78214, 2.06016, 2.39178, 2.72344, 3.12405, 3.52851, 4.02054,
    4.51999, 5.13011, 5.75145, 7.28885, 9.21423, 14.6655,
  ],
  [
    0.524269, 0.788659, 1, 1.21562, 1.405, 1.60922, 1.79532, 2.00127, 2.1926, 2.40747, 2.60941, 2.83831,
    3.05505, 3.30226, 3.53757, 4.06463, 4.64405, 5.99339,
  ],
  [
    0.540394, 0.800757, 1, 1.19424, 1.35707, 1.52461, 1.67024, 1.82399, 1.96025, 2.10626, 2.23723, 2.37895,
    2.50709, 2.6467, 2.77368, 3.03972, 3.30726, 3.85314,
  ],
  [
    0.550886, 0.808475, 1, 1.18116, 1.32836, 1.47511, 1.59865, 1.72494, 1.8333, 1.94571, 2.0433, 2.14552,
    2.23498, 2.32932, 2.41237, 2.57821, 2.73448, 3.02383,
  ],
];
/** Each row's 0.01 quantile over its 0.1 quantile: how the tail's shape shows in its bulk. */
const tableSpreads = [
  10.3391, 5.09804, 3.69351, 2.77253, 2.44386, 2.18278, 2.01414, 1.90742, 1.8505, 1.81526,
];
