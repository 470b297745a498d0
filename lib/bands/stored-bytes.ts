/**
 * Reading the base64 an engine stores its arrays as, with as few allocations as can be: a band job restores a
 * hundred thousand engines a run, and allocating array buffers (and collecting them) is most of what that costs.
 */

/**
 * The bytes standard, padded base64 text decodes to, or undefined when `text` is not such text.
 *
 * @example base64Length('AAAAAA==') // 4
 */
export function base64Length(text: unknown): number | undefined {
  if (typeof text !== 'string' || text.length % 4 !== 0) return undefined;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return (text.length / 4) * 3 - padding;
}

/** Decodes `text` into `length` bytes of `buffer` at `offset`; false when it is not exactly that many bytes. */
export function decodeInto(text: string, buffer: ArrayBufferLike, offset: number, length: number): boolean {
  return length === 0 || Buffer.from(buffer, offset, length).write(text, 'base64') === length;
}

let scratch = new Float64Array(512);

/**
 * Float64s decoded into a scratch array shared by every call (valid until the next one: copy what you keep), or
 * undefined when `text` is not base64 of whole, finite float64s.
 */
export function scratchFloat64s(text: unknown): Float64Array | undefined {
  const length = base64Length(text);
  if (length === undefined || length % 8 !== 0) return undefined;
  if (length > scratch.byteLength) scratch = new Float64Array(2 * (length / 8));
  if (!decodeInto(text as string, scratch.buffer, 0, length)) return undefined;
  const values = scratch.subarray(0, length / 8);
  for (let index = 0; index < values.length; index++) if (!Number.isFinite(values[index])) return undefined;
  return values;
}

/** Whether every value is finite. */
export function allFinite(values: Float32Array | Float64Array): boolean {
  for (let index = 0; index < values.length; index++) if (!Number.isFinite(values[index])) return false;
  return true;
}
