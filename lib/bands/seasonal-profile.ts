/**
 * A seasonal profile: the typical departure from the series' level at each position of a period (a day or a
 * week), kept as a ring of slots read and learned with linear interpolation between the two nearest slots, so
 * that a profile of 96 slots serves 1-minute and 15-minute data alike. Slots are plain arrays or Float32Arrays
 * (the engine keeps them as Float32Array, which it stores compactly).
 */

/** A ring of profile slots. */
export interface ProfileSlots {
  readonly length: number;
  [slot: number]: number;
}

/**
 * The position of `timestamp` in a period of `periodMs` split into `slotCount` slots, as a fractional slot
 * index in [0, slotCount). O(1).
 *
 * @example slotPosition(6 * 3_600_000, 86_400_000, 24) // 6
 */
export function slotPosition(timestamp: number, periodMs: number, slotCount: number): number {
  // floor rather than %: the same phase without a floating-point remainder (about twice as fast).
  const phase = timestamp - Math.floor(timestamp / periodMs) * periodMs;
  return (phase / periodMs) * slotCount;
}

/**
 * The profile's value at a fractional slot position, interpolated between the two nearest slots
 * (0 for an empty profile). O(1).
 *
 * @example readProfile([0, 10, 20, 30], 1.5) // 15
 */
export function readProfile(profile: Readonly<ProfileSlots>, position: number): number {
  const size = profile.length;
  if (size === 0) return 0;
  const left = Math.floor(position) % size;
  const fraction = position - Math.floor(position);
  return (profile[left] ?? 0) * (1 - fraction) + (profile[(left + 1) % size] ?? 0) * fraction;
}

/**
 * Moves the two slots around `position` toward `target`, each at `rate` times its interpolation weight. O(1).
 *
 * @example const p = [0, 0, 0, 0]; learnProfile(p, 1, 10, 0.5); p // [0, 5, 0, 0]
 */
export function learnProfile(profile: ProfileSlots, position: number, target: number, rate: number): void {
  const size = profile.length;
  if (size === 0) return;
  const left = Math.floor(position) % size;
  const right = (left + 1) % size;
  const fraction = position - Math.floor(position);
  const leftValue = profile[left] ?? 0;
  profile[left] = leftValue + rate * (1 - fraction) * (target - leftValue);
  if (fraction > 0) {
    const rightValue = profile[right] ?? 0;
    profile[right] = rightValue + rate * fraction * (target - rightValue);
  }
}
