import { afterEach, describe, expect, it, vi } from 'vitest';
import { cloudBandDependencies, cloudBandOptions } from '../../functions/shared/cloud-bands.ts';
import { cloudIngestDependencies } from '../../functions/shared/cloud-ingest.ts';
import { dataStore } from '../../functions/shared/data-store.ts';
import {
  alertmanagerUrlEnv,
  portEnv,
  positiveNumberEnv,
  timeZoneEnv,
} from '../../functions/shared/environment.ts';

/** The functions' numeric settings: a malformed one fails at start, naming the variable (Number() took NaN). */
describe('numbers from the environment', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('reads a positive number, and nothing when unset or empty', () => {
    vi.stubEnv('NORMALCY_TEST_NUMBER', '64');
    expect(positiveNumberEnv('NORMALCY_TEST_NUMBER', { integer: true })).toBe(64);
    vi.stubEnv('NORMALCY_TEST_NUMBER', '1.5');
    expect(positiveNumberEnv('NORMALCY_TEST_NUMBER')).toBe(1.5);
    vi.stubEnv('NORMALCY_TEST_NUMBER', '');
    expect(positiveNumberEnv('NORMALCY_TEST_NUMBER')).toBeUndefined();
  });

  it.each([
    ['NORMALCY_STATE_SHARDS', 'sixty-four', () => cloudBandOptions(), 'a positive whole number'],
    ['NORMALCY_STATE_SHARDS', '2.5', () => cloudBandOptions(), 'a positive whole number'],
    ['NORMALCY_MAX_POINT_AGE_DAYS', '-3', () => cloudIngestDependencies(), 'a positive number'],
  ])('refuses %s=%s, naming it', (name, value, start, what) => {
    vi.stubEnv('STATE_TABLE', 'state');
    vi.stubEnv('KEY_SECRET_ARN', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:keys');
    vi.stubEnv('NORMALCY_STORE', 'dynamodb');
    vi.stubEnv('DATA_TABLE', 'data');
    vi.stubEnv('DATA_RETENTION_DAYS', '400');
    vi.stubEnv(name, value);
    expect(start).toThrow(`environment variable ${name} must be ${what}, not ${JSON.stringify(value)}`);
  });

  it('refuses a retention that is not a number, and one that is not set', () => {
    vi.stubEnv('NORMALCY_STORE', 'dynamodb');
    vi.stubEnv('DATA_TABLE', 'data');
    vi.stubEnv('DATA_RETENTION_DAYS', '400 days');
    expect(() => dataStore()).toThrow('environment variable DATA_RETENTION_DAYS must be a positive number');
    vi.stubEnv('DATA_RETENTION_DAYS', '');
    expect(() => dataStore()).toThrow('environment variable DATA_RETENTION_DAYS is not set');
  });

  it('reads a port from 0 to 65535, nothing when unset, and names a variable that holds anything else', () => {
    vi.stubEnv('NORMALCY_TEST_PORT', '0');
    expect(portEnv('NORMALCY_TEST_PORT')).toBe(0);
    vi.stubEnv('NORMALCY_TEST_PORT', '65535');
    expect(portEnv('NORMALCY_TEST_PORT')).toBe(65_535);
    vi.stubEnv('NORMALCY_TEST_PORT', ' ');
    expect(portEnv('NORMALCY_TEST_PORT')).toBeUndefined();
    for (const bad of ['http', '80.5', '-1', '65536']) {
      vi.stubEnv('NORMALCY_TEST_PORT', bad);
      expect(() => portEnv('NORMALCY_TEST_PORT')).toThrow(
        `environment variable NORMALCY_TEST_PORT must be a port number (0 to 65535), not ${JSON.stringify(bad)}`,
      );
    }
  });

  it('takes the band job its shard count', () => {
    vi.stubEnv('NORMALCY_STATE_SHARDS', '16');
    expect(cloudBandOptions().stateShards).toBe(16);
  });

  it('takes the band job the time zone alerts are explained in, and names a zone it does not know', () => {
    vi.stubEnv('NORMALCY_TIME_ZONE', 'Europe/Paris');
    expect(cloudBandOptions().timeZone).toBe('Europe/Paris');
    vi.stubEnv('NORMALCY_TIME_ZONE', '');
    expect(cloudBandOptions().timeZone).toBeUndefined();
    vi.stubEnv('NORMALCY_TIME_ZONE', 'CEST+2');
    expect(() => timeZoneEnv('NORMALCY_TIME_ZONE')).toThrow(
      'environment variable NORMALCY_TIME_ZONE must be an IANA time zone such as Europe/Paris or UTC, not "CEST+2"',
    );
    expect(() => cloudBandOptions()).toThrow(/NORMALCY_TIME_ZONE/);
  });
});

describe('the Alertmanager URL from the environment', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('reads an http(s) URL, nothing when unset, and refuses anything else without repeating it', () => {
    vi.stubEnv('NORMALCY_ALERTMANAGER_URL', 'https://ops:secret@am.example.com:9093');
    expect(alertmanagerUrlEnv()).toBe('https://ops:secret@am.example.com:9093');
    vi.stubEnv('NORMALCY_ALERTMANAGER_URL', '');
    expect(alertmanagerUrlEnv()).toBeUndefined();
    vi.stubEnv('NORMALCY_ALERTMANAGER_URL', 'ops:secret@am.example.com');
    expect(() => alertmanagerUrlEnv()).toThrow(
      'environment variable NORMALCY_ALERTMANAGER_URL must be an http(s) URL such as http://alertmanager:9093',
    );
  });

  it('adds Alertmanager after the alert topic in the cloud band job when set', () => {
    vi.stubEnv('NORMALCY_STORE', 'dynamodb');
    vi.stubEnv('DATA_TABLE', 'data');
    vi.stubEnv('DATA_RETENTION_DAYS', '400');
    vi.stubEnv('STATE_TABLE', 'state');
    vi.stubEnv('STATE_BUCKET', 'bucket');
    vi.stubEnv('ALERT_TABLE', 'alerts');
    vi.stubEnv('ALERT_TOPIC_ARN', 'arn:aws:sns:eu-west-1:123456789012:alerts');
    expect(cloudBandDependencies().notifier.notifyStillOpen).toBeUndefined();
    vi.stubEnv('NORMALCY_ALERTMANAGER_URL', 'http://alertmanager:9093');
    const { notifier } = cloudBandDependencies();
    expect(notifier.notifyStillOpen).toBeTypeOf('function');
    expect(notifier.notifyIncident).toBeTypeOf('function');
  });
});
