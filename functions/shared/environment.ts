/** The settings the stack passes to the functions in their environment. */
import { isTimeZone } from '../../lib/alerts/mutes.ts';

/** Reads a required environment variable; a missing one is a deployment error, reported by name. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

/**
 * Reads an optional positive number from the environment: undefined when unset or empty, and a deployment error
 * naming the variable when it is set to anything but a positive number (`Number()` would take NaN silently).
 *
 * @example positiveNumberEnv('NORMALCY_STATE_SHARDS', { integer: true }) // 64, or undefined when unset
 */
export function positiveNumberEnv(name: string, options: { integer?: boolean } = {}): number | undefined {
  const text = process.env[name];
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text);
  const valid = Number.isFinite(value) && value > 0 && (!options.integer || Number.isInteger(value));
  if (!valid) {
    const what = options.integer ? 'a positive whole number' : 'a positive number';
    throw new Error(`environment variable ${name} must be ${what}, not ${JSON.stringify(text)}`);
  }
  return value;
}

/**
 * The incident settings of the band job from the environment: `NORMALCY_INCIDENT_WINDOW_MINUTES` (how close
 * an alert must open to an incident's latest member to join it, default 10) and
 * `NORMALCY_INCIDENT_UPDATE_MINUTES` (the shortest time between two UPDATEs of an incident, default 5).
 */
export function incidentSettingsEnv(): { windowMs?: number; updateIntervalMs?: number } {
  const window = positiveNumberEnv('NORMALCY_INCIDENT_WINDOW_MINUTES');
  const update = positiveNumberEnv('NORMALCY_INCIDENT_UPDATE_MINUTES');
  return {
    ...(window !== undefined && { windowMs: window * 60_000 }),
    ...(update !== undefined && { updateIntervalMs: update * 60_000 }),
  };
}

/** A required positive number from the environment: a missing or malformed one is reported by name. */
export function requiredPositiveNumberEnv(name: string, options: { integer?: boolean } = {}): number {
  const value = positiveNumberEnv(name, options);
  if (value === undefined) throw new Error(`environment variable ${name} is not set`);
  return value;
}

/**
 * Reads an optional TCP port from the environment: undefined when unset or empty, a whole number from 0 (any
 * free port) to 65535 otherwise, and an error naming the variable for anything else.
 *
 * @example portEnv('PORT') ?? 8080
 */
export function portEnv(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 65_535) {
    throw new Error(
      `environment variable ${name} must be a port number (0 to 65535), not ${JSON.stringify(text)}`,
    );
  }
  return value;
}

/**
 * Reads an optional IANA time zone from the environment (`Europe/Paris`): undefined when unset or empty, and
 * an error naming the variable for a zone this runtime does not know.
 *
 * @example timeZoneEnv('NORMALCY_TIME_ZONE') ?? 'UTC'
 */
export function timeZoneEnv(name: string): string | undefined {
  const text = process.env[name]?.trim();
  if (text === undefined || text === '') return undefined;
  if (!isTimeZone(text)) {
    throw new Error(
      `environment variable ${name} must be an IANA time zone such as Europe/Paris or UTC, not ${JSON.stringify(text)}`,
    );
  }
  return text;
}

/**
 * Reads the optional Alertmanager URL (`NORMALCY_ALERTMANAGER_URL`): undefined when unset or empty, an error
 * for anything but an http(s) URL. The error never repeats the value: it may carry credentials.
 *
 * @example alertmanagerUrlEnv() // 'http://alertmanager:9093', or undefined
 */
export function alertmanagerUrlEnv(name = 'NORMALCY_ALERTMANAGER_URL'): string | undefined {
  const text = process.env[name]?.trim();
  if (text === undefined || text === '') return undefined;
  let protocol: string | undefined;
  try {
    protocol = new URL(text).protocol;
  } catch {}
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new Error(`environment variable ${name} must be an http(s) URL such as http://alertmanager:9093`);
  }
  return text;
}

/** The DynamoDB table of the series catalog, key hashes and pending marks. */
export const stateTable = (): string => requiredEnv('STATE_TABLE');

/** The bucket of the band job's state shards and the listing summaries. */
export const stateBucket = (): string => requiredEnv('STATE_BUCKET');

/** The DynamoDB table of alert rules and alert state. */
export const alertTable = (): string => requiredEnv('ALERT_TABLE');

/** The Secrets Manager secret API keys are filed under (HMAC-SHA256); read by the functions that check keys. */
export const keySecretArn = (): string => requiredEnv('KEY_SECRET_ARN');
