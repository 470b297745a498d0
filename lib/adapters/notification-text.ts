import type { Notification } from '../ports.ts';

const maxSubjectLength = 99;

/**
 * A one-line subject such as `[Normalcy] ANOMALOUS shop.login.time{host=web-1}: 950 (expected 70)`: ASCII
 * only and at most 99 characters, as SNS and mail clients require.
 */
export function notificationSubject(notification: Notification): string {
  const dimensions = Object.entries(notification.dimensions)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
  const series = dimensions ? `${notification.name}{${dimensions}}` : notification.name;
  const { value, expected } = notification.band;
  const subject = `[Normalcy] ${notification.state} ${series}: ${round(value)} (expected ${round(expected)})`;
  const ascii = subject.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length > maxSubjectLength ? `${ascii.slice(0, maxSubjectLength - 1)}~` : ascii;
}

/** The JSON document subscribers receive. */
export function notificationMessage(notification: Notification) {
  return {
    state: notification.state,
    severity: notification.severity,
    seriesId: notification.seriesId,
    name: notification.name,
    dimensions: notification.dimensions,
    time: new Date(notification.band.timestamp).toISOString(),
    value: notification.band.value,
    expected: notification.band.expected,
    lower: notification.band.lower,
    upper: notification.band.upper,
    score: notification.band.score,
  };
}

export const round = (value: number): string => String(Number(value.toPrecision(4)));
