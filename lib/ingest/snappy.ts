/**
 * Snappy's block format (not the framed one), as Prometheus remote write compresses its bodies
 * (`Content-Encoding: snappy`), decoded here with every length and offset checked before it is used.
 *
 * Why not snappyjs's uncompress: a literal whose 4-byte length has its top bit set becomes a negative length
 * there and moves its read position backwards, so an 8-byte body (`64 fc fa ff ff ff 00 00`) loops forever,
 * which in a Lambda is a request that holds its invocation until the function times out. The format is small
 * (a length header, then literals and back-references), and this decoder holds each element to the input left
 * and the output announced. The length the header announces is also held to the limit before any memory is
 * taken, so a small body cannot claim gigabytes (a "snappy bomb").
 */
import { PayloadTooLargeError } from '../errors.ts';

/** Why a body is not a snappy block. */
export class SnappyError extends Error {
  override readonly name = 'SnappyError';
}

/**
 * The length a snappy block announces in its header (a little-endian base-128 varint of at most 32 bits) and
 * the header's size, or undefined when the header is missing or malformed. O(1): at most 5 bytes are read.
 */
function readHeader(block: Uint8Array): { length: number; size: number } | undefined {
  let length = 0;
  for (let index = 0; index < 5 && index < block.length; index++) {
    const byte = block[index] as number;
    length += (byte & 0x7f) * 2 ** (7 * index);
    if (byte < 0x80) return length <= 0xffffffff ? { length, size: index + 1 } : undefined;
  }
  return undefined;
}

/** A little-endian unsigned integer of `bytes` bytes at `at` (as a number, never negative). */
function littleEndian(block: Uint8Array, at: number, bytes: number): number {
  let value = 0;
  for (let index = bytes - 1; index >= 0; index--) value = value * 256 + (block[at + index] as number);
  return value;
}

/**
 * Decompresses a snappy block of at most `maxBytes` once decompressed. Throws PayloadTooLargeError (413) when its
 * header announces more than `maxBytes`, before anything is allocated, and SnappyError, naming the byte, when it
 * is not a snappy block. O(input + output): every element moves the read position forward.
 *
 * @example decompressSnappy(Uint8Array.of(2, 4, 104, 105), 10) // the bytes of "hi"
 */
export function decompressSnappy(block: Uint8Array, maxBytes: number): Buffer {
  const header = readHeader(block);
  if (header === undefined) {
    throw new SnappyError('the body is not a snappy block: its length header is missing or malformed');
  }
  if (header.length > maxBytes) throw new PayloadTooLargeError(maxBytes);
  const output = Buffer.alloc(header.length);
  const broken = (at: number, what: string) =>
    new SnappyError(`the body is not a valid snappy block: ${what} at byte ${at}`);
  let read = header.size;
  let written = 0;
  while (read < block.length) {
    const at = read;
    const tag = block[read++] as number;
    let length: number;
    if ((tag & 3) === 0) {
      // A literal: its length - 1 in the tag's upper 6 bits, or in the 1 to 4 bytes that follow (60 to 63).
      length = tag >>> 2;
      if (length >= 60) {
        const bytes = length - 59;
        if (read + bytes > block.length) throw broken(at, 'a literal length runs past the end');
        length = littleEndian(block, read, bytes);
        read += bytes;
      }
      length += 1;
      if (read + length > block.length) throw broken(at, 'a literal runs past the end');
      if (written + length > output.length) throw broken(at, 'a literal runs past the length announced');
      if (length > 32) output.set(block.subarray(read, read + length), written);
      else
        for (let index = 0; index < length; index++) output[written + index] = block[read + index] as number;
      read += length;
      written += length;
      continue;
    }
    // A copy of `length` bytes from `offset` bytes back in the output, its offset in 1, 2 or 4 bytes.
    let offset: number;
    if ((tag & 3) === 1) {
      if (read + 1 > block.length) throw broken(at, 'a copy runs past the end');
      length = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | (block[read] as number);
      read += 1;
    } else {
      const bytes = (tag & 3) === 2 ? 2 : 4;
      if (read + bytes > block.length) throw broken(at, 'a copy runs past the end');
      length = (tag >>> 2) + 1;
      offset = littleEndian(block, read, bytes);
      read += bytes;
    }
    if (offset === 0 || offset > written)
      throw broken(at, `a copy reaches ${offset} bytes back of ${written}`);
    if (written + length > output.length) throw broken(at, 'a copy runs past the length announced');
    const from = written - offset;
    // Byte by byte when the copy overlaps what it writes (an offset shorter than its length repeats a pattern)
    // or is short (a call costs more than a few bytes).
    if (offset >= length && length > 32) output.copyWithin(written, from, from + length);
    else
      for (let index = 0; index < length; index++) output[written + index] = output[from + index] as number;
    written += length;
  }
  if (written !== output.length) {
    throw new SnappyError(
      `the body is not a valid snappy block: it holds ${written} bytes where its header announces ${output.length}`,
    );
  }
  return output;
}
