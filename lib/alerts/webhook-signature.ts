import { createHmac, timingSafeEqual } from 'node:crypto';

export const signatureHeader = 'x-normalcy-signature';
export const timestampHeader = 'x-normalcy-timestamp';
export const deliveryHeader = 'x-normalcy-delivery';

/**
 * The signature of a webhook body: `sha256=` and the hex HMAC-SHA256, keyed with the shared secret, of
 * `<timestamp>.<raw body>` (timestamp in epoch seconds, as sent in `x-normalcy-timestamp`). Signing the
 * timestamp with the body lets a receiver refuse replays of old deliveries.
 */
export function signWebhook(secret: string, timestampSeconds: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex')}`;
}

/**
 * What a receiver checks: the signature matches (compared in constant time) and the timestamp is within
 * `toleranceMs` of `now`.
 */
export function verifyWebhook(options: {
  readonly secret: string;
  readonly body: string;
  readonly timestamp: string | undefined;
  readonly signature: string | undefined;
  readonly now: number;
  readonly toleranceMs?: number;
}): boolean {
  const seconds = Number(options.timestamp);
  if (!options.signature || !Number.isInteger(seconds)) return false;
  if (Math.abs(options.now - seconds * 1000) > (options.toleranceMs ?? 300_000)) return false;
  const expected = Buffer.from(signWebhook(options.secret, seconds, options.body));
  const given = Buffer.from(options.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
