/**
 * The median of a list of numbers. O(n log n) (sorts a copy). Returns NaN for an empty list.
 *
 * @example median([3, 1, 2, 10]) // 2.5
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? Number.NaN) + (sorted[middle] ?? Number.NaN)) / 2;
}

/**
 * The median absolute deviation from `center` (the median when not given), scaled by 1.4826 so that it
 * estimates the standard deviation of normally distributed data. O(n log n). NaN for an empty list.
 *
 * @example scaledMad([1, 2, 3, 4, 100]) // 1.4826
 */
export function scaledMad(values: readonly number[], center = median(values)): number {
  return 1.4826 * median(values.map((value) => Math.abs(value - center)));
}
