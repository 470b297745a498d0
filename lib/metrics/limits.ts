/**
 * Limits every ingest format shares, which the query API (name lengths) and the band job (how far in the
 * future a point may lie) apply too: part of the metric model, so each imports it from below.
 */
export const ingestLimits = {
  /** Largest request body accepted, after decompression (under Lambda's 6 MB synchronous payload). */
  maxBodyBytes: 5 * 1024 * 1024,
  maxNameLength: 255,
  maxDimensions: 30,
  maxDimensionKeyLength: 128,
  maxDimensionValueLength: 256,
  /** How far in the future a timestamp may be (agents' clocks drift); Timestream accepts 15 minutes. */
  maxFutureSkewMs: 10 * 60_000,
  /**
   * How old a timestamp may be: Timestream refuses records older than the magnetic store's retention (400 days
   * by default in the stack); the ingest function reads NORMALCY_MAX_POINT_AGE_DAYS to follow the stack.
   */
  maxAgeMs: 400 * 86_400_000,
} as const;
