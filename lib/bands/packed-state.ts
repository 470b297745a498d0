/**
 * A compact binary form for an engine's state, written and read in one pass: the band job saves and restores a
 * hundred thousand states a run, and their bytes (parsed, gzip'd, uploaded) cost more than the updates do.
 *
 * Three encodings, each for what a part of the state is:
 *
 * - **numbers** (scalars, episodes), lossless: two bits say whether each is 0 (no bytes), a float32 that holds
 *   it exactly (4 bytes: counts, slots, sides), a whole number of milliseconds within 24 days of an anchor
 *   time (4 bytes: timestamps) or a float64 (8 bytes: levels, running means).
 * - **counts** (tails, small arrays), float32 as kept in memory, lossless: a bitmap says which are nonzero, and
 *   only those are written (a tail's far rungs are mostly zero).
 * - **profiles**, 16-bit fixed point on a power-of-two scale just above the profile's largest magnitude: a slot
 *   is kept to 1/32,768 of the profile's range, far below the noise the band measures against. The scale
 *   changes only when the range doubles or halves, so a slot no update moves reads back exactly, run after run.
 *
 * O(values) each way, no allocation but the output.
 */

import { base64Length, decodeInto } from './stored-bytes.ts';

/** Milliseconds of an int32 offset: ±24.8 days. */
const int32Max = 2 ** 31 - 1;
const float32 = new Float32Array(1);
const fitsFloat32 = (value: number): boolean => {
  float32[0] = value;
  return float32[0] === value;
};

/**
 * `value` rounded to float32, or as it is when float32 cannot hold it (past 3.4e38, which an engine at its
 * value limit can reach in a variance). O(1).
 *
 * @example toFloat32(0.1) // 0.10000000149011612
 */
export function toFloat32(value: number): number {
  const rounded = Math.fround(value);
  return Number.isFinite(rounded) ? rounded : value;
}

/**
 * The bytes every writer writes into and every reader reads from: a state is written (or read) whole before
 * the next one is (each `toState` and `restore` is synchronous), so one buffer serves them all, and a band job
 * allocates none per series.
 */
let scratch = new Uint8Array(8192);
let scratchView = new DataView(scratch.buffer);

function growScratch(length: number, keep: number): void {
  const grown = new Uint8Array(Math.max(2 * scratch.length, length));
  grown.set(scratch.subarray(0, keep));
  scratch = grown;
  scratchView = new DataView(grown.buffer);
}

/** Writes values into the shared buffer; `toBase64()` at the end (before any other state is written). */
export class StateWriter {
  private bytes = scratch;
  private view = scratchView;
  private at = 0;

  private room(length: number): void {
    if (this.at + length <= this.bytes.length) return;
    growScratch(this.at + length, this.at);
    this.bytes = scratch;
    this.view = scratchView;
  }

  byte(value: number): void {
    this.room(1);
    this.bytes[this.at++] = value;
  }

  float64(value: number): void {
    this.room(8);
    this.view.setFloat64(this.at, value, true);
    this.at += 8;
  }

  /** Numbers, losslessly: zero, an exact float32, a whole offset from `anchor` (ms), or a float64. */
  numbers(values: ArrayLike<number>, anchor: number): void {
    const count = values.length;
    this.room(Math.ceil(count / 4) + 8 * count);
    const tagsAt = this.at;
    this.at += Math.ceil(count / 4);
    this.bytes.fill(0, tagsAt, this.at);
    for (let index = 0; index < count; index++) {
      const value = values[index] ?? 0;
      let tag: number;
      const offset = value - anchor;
      if (value === 0 && !Object.is(value, -0)) tag = 0;
      else if (fitsFloat32(value)) {
        tag = 1;
        this.view.setFloat32(this.at, value, true);
        this.at += 4;
      } else if (Number.isInteger(offset) && Math.abs(offset) <= int32Max) {
        tag = 2;
        this.view.setInt32(this.at, offset, true);
        this.at += 4;
      } else {
        tag = 3;
        this.view.setFloat64(this.at, value, true);
        this.at += 8;
      }
      this.bytes[tagsAt + (index >> 2)] =
        (this.bytes[tagsAt + (index >> 2)] ?? 0) | (tag << (2 * (index & 3)));
    }
  }

  /** Float32 counts, losslessly: a bitmap of the nonzero ones, then those. */
  counts(values: Float32Array): void {
    const count = values.length;
    this.room(Math.ceil(count / 8) + 4 * count);
    const mapAt = this.at;
    this.at += Math.ceil(count / 8);
    this.bytes.fill(0, mapAt, this.at);
    for (let index = 0; index < count; index++) {
      const value = values[index] ?? 0;
      if (value === 0 && !Object.is(value, -0)) continue;
      this.bytes[mapAt + (index >> 3)] = (this.bytes[mapAt + (index >> 3)] ?? 0) | (1 << (index & 7));
      this.view.setFloat32(this.at, value, true);
      this.at += 4;
    }
  }

  /** Bytes, losslessly: a bitmap of the nonzero ones, then those. */
  sparseBytes(values: Uint8Array): void {
    const count = values.length;
    this.room(Math.ceil(count / 8) + count);
    const mapAt = this.at;
    this.at += Math.ceil(count / 8);
    this.bytes.fill(0, mapAt, this.at);
    for (let index = 0; index < count; index++) {
      const value = values[index] ?? 0;
      if (value === 0) continue;
      this.bytes[mapAt + (index >> 3)] = (this.bytes[mapAt + (index >> 3)] ?? 0) | (1 << (index & 7));
      this.bytes[this.at++] = value;
    }
  }

  /**
   * A profile in 16-bit fixed point: the exponent of its scale (a power of two above its largest magnitude),
   * then each slot in 1/32,768ths of it.
   */
  profile(values: Float32Array): void {
    const count = values.length;
    this.room(1 + 2 * count);
    const exponent = profileExponent(values);
    this.bytes[this.at++] = exponent + 128;
    const perUnit = exponent === noScale ? 0 : 2 ** (15 - exponent);
    const bytes = this.bytes;
    let at = this.at;
    for (let index = 0; index < count; index++) {
      const level = Math.max(-32767, Math.min(32767, Math.round((values[index] ?? 0) * perUnit)));
      // Little-endian two's complement, byte by byte (faster than a DataView call per slot).
      bytes[at] = level & 255;
      bytes[at + 1] = (level >> 8) & 255;
      at += 2;
    }
    this.at = at;
  }

  /** What was written, as base64. */
  toBase64(): string {
    return Buffer.from(this.bytes.buffer, 0, this.at).toString('base64');
  }
}

/** The exponent of a profile that is all zeros. */
const noScale = -128;

/** The smallest e with every |value| < 2^e (within the 8 bits stored), or {@link noScale} for all zeros. */
function profileExponent(values: Float32Array): number {
  let largest = 0;
  for (let index = 0; index < values.length; index++)
    largest = Math.max(largest, Math.abs(values[index] ?? 0));
  if (largest === 0 || !Number.isFinite(largest)) return noScale;
  return Math.max(-127, Math.min(127, Math.floor(Math.log2(largest)) + 1));
}

/** Thrown inside the reader when the bytes end early; `read` turns it into undefined. */
class TruncatedStateError extends Error {
  override name = 'TruncatedStateError';
}

/** Reads what a {@link StateWriter} wrote, in the same order. */
export class StateReader {
  private readonly view: DataView;
  private at = 0;

  private constructor(
    private readonly bytes: Uint8Array,
    private readonly length: number,
  ) {
    this.view = scratchView;
  }

  /**
   * Runs `read` over the bytes of `text` (in the shared buffer); undefined when `text` is not base64, when it
   * ends before `read` is done or has bytes left after it, or when `read` returns undefined.
   */
  static read<T>(text: unknown, read: (reader: StateReader) => T | undefined): T | undefined {
    const length = base64Length(text);
    if (length === undefined) return undefined;
    if (length > scratch.length) growScratch(length, 0);
    if (!decodeInto(text as string, scratch.buffer, 0, length)) return undefined;
    const reader = new StateReader(scratch, length);
    try {
      const value = read(reader);
      return reader.at === length ? value : undefined;
    } catch (error) {
      if (error instanceof TruncatedStateError || error instanceof RangeError) return undefined;
      throw error;
    }
  }

  private need(length: number): void {
    if (this.at + length > this.length) throw new TruncatedStateError('the state ends early');
  }

  byte(): number {
    this.need(1);
    return this.bytes[this.at++] ?? 0;
  }

  float64(): number {
    this.need(8);
    const value = this.view.getFloat64(this.at, true);
    this.at += 8;
    return value;
  }

  /** Numbers written by {@link StateWriter.numbers} into `into`; false when one is not finite. */
  numbers(into: { length: number; [index: number]: number }, anchor: number): boolean {
    const count = into.length;
    const tagsAt = this.at;
    this.need(Math.ceil(count / 4));
    this.at += Math.ceil(count / 4);
    for (let index = 0; index < count; index++) {
      const tag = ((this.bytes[tagsAt + (index >> 2)] ?? 0) >> (2 * (index & 3))) & 3;
      let value = 0;
      if (tag === 1) {
        this.need(4);
        value = this.view.getFloat32(this.at, true);
        this.at += 4;
      } else if (tag === 2) {
        this.need(4);
        value = anchor + this.view.getInt32(this.at, true);
        this.at += 4;
      } else if (tag === 3) {
        value = this.float64();
      }
      if (!Number.isFinite(value)) return false;
      into[index] = value;
    }
    return true;
  }

  /** Counts written by {@link StateWriter.counts} into `into`; false when one is not finite. */
  counts(into: Float32Array): boolean {
    const count = into.length;
    const mapAt = this.at;
    this.need(Math.ceil(count / 8));
    this.at += Math.ceil(count / 8);
    for (let index = 0; index < count; index++) {
      if ((((this.bytes[mapAt + (index >> 3)] ?? 0) >> (index & 7)) & 1) === 0) {
        into[index] = 0;
        continue;
      }
      this.need(4);
      const value = this.view.getFloat32(this.at, true);
      this.at += 4;
      if (!Number.isFinite(value)) return false;
      into[index] = value;
    }
    return true;
  }

  /** Bytes written by {@link StateWriter.sparseBytes} into `into`. */
  sparseBytes(into: Uint8Array): void {
    const count = into.length;
    const mapAt = this.at;
    this.need(Math.ceil(count / 8));
    this.at += Math.ceil(count / 8);
    for (let index = 0; index < count; index++) {
      into[index] = (((this.bytes[mapAt + (index >> 3)] ?? 0) >> (index & 7)) & 1) === 0 ? 0 : this.byte();
    }
  }

  /** A profile written by {@link StateWriter.profile} into `into`. */
  profile(into: Float32Array): void {
    const exponent = this.byte() - 128;
    const count = into.length;
    this.need(2 * count);
    const unit = exponent === noScale ? 0 : 2 ** (exponent - 15);
    const bytes = this.bytes;
    let at = this.at;
    for (let index = 0; index < count; index++) {
      // Two bytes, little-endian, sign-extended from 16 bits.
      into[index] = ((((bytes[at] ?? 0) | ((bytes[at + 1] ?? 0) << 8)) << 16) >> 16) * unit;
      at += 2;
    }
    this.at = at;
  }
}
