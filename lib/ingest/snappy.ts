/**
 * Snappy's block format (not the framed one), as Prometheus remote write compresses its bodies
 * (`Content-Encoding: snappy`). Decompression is snappyjs's (pure JavaScript, so the Lambda bundle carries it);
 * this module adds the checks a server needs: the length the header announces is read and held to the limit
 * before any memory is taken, so a small body cannot claim gigabytes (a "snappy bomb").
 */
import snappy from 'snappyjs';
import { PayloadTooLargeError } from '../errors.ts';

/** Why a body is not a snappy block. */
export class SnappyError extends Error {
  override readonly name = 'SnappyError';
}

/**
 * The length a snappy block announces in its header (a little-endian base-128 varint of at most 32 bits),
 * or undefined when the header is missing or malformed. O(1): at most 5 bytes are read.
 */
export function snappyUncompressedLength(block: Uint8Array): number | undefined {
  let length = 0;
  for (let index = 0; index < 5 && index < block.length; index++) {
    const byte = block[index] as number;
    length += (byte & 0x7f) * 2 ** (7 * index);
    if (byte < 0x80) return length <= 0xffffffff ? length : undefined;
  }
  return undefined;
}

/**
 * Decompresses a snappy block of at most `maxBytes` once decompressed. Throws PayloadTooLargeError (413) when its
 * header announces more than `maxBytes`, before anything is allocated, and SnappyError when it is not a snappy
 * block. O(output).
 *
 * @example decompressSnappy(Uint8Array.of(2, 4, 104, 105), 10) // the bytes of "hi"
 */
export function decompressSnappy(block: Uint8Array, maxBytes: number): Buffer {
  const length = snappyUncompressedLength(block);
  if (length === undefined) {
    throw new SnappyError('the body is not a snappy block: its length header is missing or malformed');
  }
  if (length > maxBytes) throw new PayloadTooLargeError(maxBytes);
  try {
    return snappy.uncompress(Buffer.from(block.buffer, block.byteOffset, block.byteLength), maxBytes);
  } catch (error) {
    throw new SnappyError(`the body is not a valid snappy block: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
