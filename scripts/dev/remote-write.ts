/**
 * Prometheus remote write bodies as Prometheus sends them (a `prometheus.WriteRequest` in protobuf, compressed
 * as a snappy block), written field by field with prompb's numbers: for the tests and the ingest benchmark.
 */
import protobuf from 'protobufjs/minimal.js';
import snappy from 'snappyjs';

/** One series to write: its labels (with `__name__`) and samples. `value` may be any double, NaN included. */
export interface SeriesToWrite {
  readonly labels: Readonly<Record<string, string>>;
  readonly samples: readonly { readonly value: number; readonly timestamp: number }[];
}

/** The bits of Prometheus's stale marker, for a sample written with `staleMarker` as its value. */
export const staleMarker = Symbol('stale marker');

/** A WriteRequest in protobuf (not compressed). */
export function encodeWriteRequest(
  series: readonly (
    | SeriesToWrite
    | {
        labels: SeriesToWrite['labels'];
        samples: readonly { value: number | typeof staleMarker; timestamp: number }[];
      }
  )[],
): Uint8Array {
  const writer = protobuf.Writer.create();
  for (const one of series) {
    writer.uint32((1 << 3) | 2).fork();
    for (const [name, value] of Object.entries(one.labels)) {
      writer
        .uint32((1 << 3) | 2)
        .fork()
        .uint32((1 << 3) | 2)
        .string(name)
        .uint32((2 << 3) | 2)
        .string(value)
        .ldelim();
    }
    for (const sample of one.samples) {
      writer.uint32((2 << 3) | 2).fork();
      if (sample.value === staleMarker)
        writer
          .uint32((1 << 3) | 1)
          .fixed32(2)
          .fixed32(0x7ff00000);
      else writer.uint32((1 << 3) | 1).double(sample.value);
      writer
        .uint32((2 << 3) | 0)
        .int64(sample.timestamp)
        .ldelim();
    }
    writer.ldelim();
  }
  return writer.finish();
}

/** A WriteRequest as the body Prometheus posts: protobuf in a snappy block. */
export const remoteWriteBody = (series: Parameters<typeof encodeWriteRequest>[0]): Buffer =>
  Buffer.from(snappy.compress(encodeWriteRequest(series)));

/** The headers remote write 1.0 requires. */
export const remoteWriteHeaders = {
  'content-type': 'application/x-protobuf',
  'content-encoding': 'snappy',
  'x-prometheus-remote-write-version': '0.1.0',
} as const;
