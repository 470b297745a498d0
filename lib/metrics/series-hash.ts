/**
 * The one hash of a series id that spreads series over partitions: the band job's state shards
 * (lib/jobs/state-shards.ts) and the DynamoDB store's log buckets (lib/adapters/dynamodb-packing.ts) both take
 * it modulo their count, so a reader can tell from a shard which log buckets may hold its series.
 */

/**
 * FNV-1a (32 bits) of a series id: spreads ids of any form evenly. O(length).
 *
 * @example seriesHash('') // 2166136261
 */
export function seriesHash(id: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < id.length; index++) {
    hash ^= id.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * Some series, in hash terms: those whose {@link seriesHash} modulo `modulus` is one of `residues` (a fan-out
 * worker's state shards: the shard count and its shards' indexes).
 */
export interface SeriesSelection {
  /** A positive integer. */
  readonly modulus: number;
  /** Each an integer in [0, modulus). */
  readonly residues: readonly number[];
}

/**
 * Whether a series is in a selection, as a predicate (the residues looked up in a set). Throws a RangeError
 * for a modulus that is not a positive integer or a residue outside [0, modulus).
 *
 * @example selectsSeries({ modulus: 1, residues: [0] })('any id') // true
 */
export function selectsSeries(selection: SeriesSelection): (id: string) => boolean {
  const { modulus, residues } = selection;
  if (!Number.isSafeInteger(modulus) || modulus < 1) {
    throw new RangeError(`a series selection's modulus must be a positive integer, not ${modulus}`);
  }
  for (const residue of residues) {
    if (!Number.isInteger(residue) || residue < 0 || residue >= modulus) {
      throw new RangeError(
        `a series selection's residue must be an integer in [0, ${modulus}), not ${residue}`,
      );
    }
  }
  const wanted = new Set(residues);
  return (id) => wanted.has(seriesHash(id) % modulus);
}

/**
 * Of `count` partitions of series by hash (partition p holding the series whose hash modulo `count` is p),
 * those that can hold a series of the selection: p such that p ≡ r (mod gcd(count, modulus)) for a residue r.
 * O(count × residues).
 *
 * @example partitionsOfSelection({ modulus: 64, residues: [3] }, 24) // [3, 11, 19]
 */
export function partitionsOfSelection(selection: SeriesSelection, count: number): number[] {
  const common = greatestCommonDivisor(count, selection.modulus);
  const classes = new Set(selection.residues.map((residue) => residue % common));
  return Array.from({ length: count }, (_, partition) => partition).filter((partition) =>
    classes.has(partition % common),
  );
}

/**
 * The greatest common divisor of two non-negative integers (Euclid). O(log min(a, b)).
 *
 * @example greatestCommonDivisor(64, 24) // 8
 */
export function greatestCommonDivisor(a: number, b: number): number {
  let [x, y] = [a, b];
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}
