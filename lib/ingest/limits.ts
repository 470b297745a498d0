/** Limits every ingest format shares. */
export const ingestLimits = {
  /** Largest request body accepted, after decompression (under Lambda's 6 MB synchronous payload). */
  maxBodyBytes: 5 * 1024 * 1024,
  maxNameLength: 255,
  maxDimensions: 30,
  maxDimensionKeyLength: 128,
  maxDimensionValueLength: 256,
  /** How far in the future a timestamp may be (agents' clocks drift); Timestream accepts 15 minutes. */
  maxFutureSkewMs: 10 * 60_000,
} as const;
