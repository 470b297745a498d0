/** A histogram as explicit buckets: `counts[i]` values fell in (bounds[i-1], bounds[i]]; the last bucket is open. */
export interface BucketedHistogram {
  readonly bounds: readonly number[];
  readonly counts: readonly number[];
  readonly min?: number;
  readonly max?: number;
}

/**
 * Estimates the q-quantile (0 ≤ q ≤ 1) of a bucketed histogram by linear interpolation inside the bucket
 * that holds the rank, using the observed min and max to close the open first and last buckets. Returns
 * undefined when the histogram is empty or the quantile falls in an open bucket with no min/max to close it.
 * O(buckets).
 *
 * @example quantileFromBuckets({ bounds: [10, 20], counts: [0, 10, 0] }, 0.5) // 15
 */
export function quantileFromBuckets(histogram: BucketedHistogram, q: number): number | undefined {
  const { bounds, counts, min, max } = histogram;
  let total = 0;
  for (const count of counts) total += count;
  if (!(total > 0) || !Number.isFinite(total)) return undefined;
  const rank = q * total;
  let seen = 0;
  for (let index = 0; index < counts.length; index++) {
    const count = counts[index] ?? 0;
    if (count <= 0) continue;
    if (seen + count >= rank || index === counts.length - 1) {
      let lower =
        index === 0 ? (min ?? Number.NEGATIVE_INFINITY) : (bounds[index - 1] ?? Number.NEGATIVE_INFINITY);
      let upper =
        index >= bounds.length
          ? (max ?? Number.POSITIVE_INFINITY)
          : (bounds[index] ?? Number.POSITIVE_INFINITY);
      if (min !== undefined && lower < min) lower = min;
      if (max !== undefined && upper > max) upper = max;
      if (!Number.isFinite(lower)) return Number.isFinite(upper) ? upper : undefined;
      if (!Number.isFinite(upper)) return lower;
      const within = Math.min(1, Math.max(0, (rank - seen) / count));
      return lower + (upper - lower) * within;
    }
    seen += count;
  }
  return undefined;
}

/**
 * Turns an OTLP exponential histogram into explicit buckets: bucket `index` at `scale` covers
 * (base^index, base^(index+1)] with base = 2^(2^-scale); negative buckets mirror the positive ones and the
 * zero bucket sits at 0. Returns undefined when the scale makes the bounds overflow. O(buckets).
 */
export function explicitFromExponential(histogram: {
  readonly scale: number;
  readonly zeroCount: number;
  readonly positive: { readonly offset: number; readonly counts: readonly number[] };
  readonly negative: { readonly offset: number; readonly counts: readonly number[] };
  readonly min?: number;
  readonly max?: number;
}): BucketedHistogram | undefined {
  const base = 2 ** (2 ** -histogram.scale);
  const bound = (index: number) => base ** index;
  const bounds: number[] = [];
  const counts: number[] = [];
  const { negative, positive } = histogram;
  // Negative buckets, most negative first: bucket i covers [-base^(i+1), -base^i).
  for (let position = negative.counts.length - 1; position >= 0; position--) {
    bounds.push(-bound(negative.offset + position));
    counts.push(negative.counts[position] ?? 0);
  }
  bounds.push(0);
  counts.push(histogram.zeroCount);
  // An empty bucket from 0 to the first positive bucket's lower bound.
  bounds.push(bound(positive.offset));
  counts.push(0);
  for (let position = 0; position < positive.counts.length; position++) {
    bounds.push(bound(positive.offset + position + 1));
    counts.push(positive.counts[position] ?? 0);
  }
  // The open last bucket holds nothing: the positive buckets end at their upper bound.
  counts.push(0);
  if (bounds.some((value) => !Number.isFinite(value))) return undefined;
  return { bounds, counts, min: histogram.min, max: histogram.max };
}
