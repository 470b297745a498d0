import { explanationHeadline } from '../alerts/explain.ts';
import type { Notification } from '../ports/notifier.ts';

const maxSubjectLength = 99;

/** A series as people write it: `shop.login.time{host=web-1}`. */
export function seriesLabel(notification: Pick<Notification, 'name' | 'dimensions'>): string {
  const dimensions = Object.entries(notification.dimensions)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
  return dimensions ? `${notification.name}{${dimensions}}` : notification.name;
}

/** The value and what was expected, or the reason when there is no value (no data). */
function measurement(notification: Notification): string {
  const { value, expected, threshold } = notification;
  if (value === null) return notification.reason;
  if (threshold !== null) return `${round(value)} (threshold ${round(threshold)})`;
  return expected === null ? round(value) : `${round(value)} (expected ${round(expected)})`;
}

/** What a subject and the text form start with, per kind of transition. */
function heading(notification: Notification): { readonly subject: string; readonly text: string } {
  switch (notification.state) {
    case 'OPEN':
      return { subject: `OPEN ${notification.severity}`, text: 'Alert' };
    case 'ESCALATED':
      return { subject: 'CRITICAL', text: 'Now critical' };
    case 'REMINDER':
      return { subject: `REMINDER ${notification.severity}`, text: 'Still open' };
    case 'RESOLVED':
      return { subject: 'RESOLVED', text: 'Resolved' };
  }
}

/**
 * A one-line subject such as `[Normalcy] OPEN critical shop.login.time{host=web-1}: 950 (expected 70)`, or
 * `[Normalcy] CRITICAL ...` for an alert that escalated: printable ASCII only and at most 99 characters, as
 * SNS and mail clients require. After the series comes the alert's explanation when it fits, else its
 * headline (`... usually 1,250, now 360, 71% below, for 35 min`) when that fits, else the value measured.
 */
export function notificationSubject(notification: Notification): string {
  const start = `[Normalcy] ${heading(notification).subject} ${seriesLabel(notification)}: `;
  const { explanation } = notification;
  const endings = explanation ? [explanation, explanationHeadline(explanation)] : [];
  const ending =
    endings.find((candidate) => ascii(start + candidate).length <= maxSubjectLength) ??
    measurement(notification);
  const subject = ascii(start + ending);
  return subject.length > maxSubjectLength ? `${subject.slice(0, maxSubjectLength - 1)}~` : subject;
}

const ascii = (text: string): string => text.replace(/[^\x20-\x7e]/g, '?');

/** The JSON document subscribers receive (SQS, Lambda, HTTPS, email-json, the webhook). Version 1. */
export function notificationDocument(notification: Notification) {
  const { lower, upper } = notification;
  return {
    version: 1,
    state: notification.state,
    severity: notification.severity,
    alertId: notification.alertId,
    transitionId: notification.transitionId,
    rule: notification.rule,
    seriesId: notification.seriesId,
    name: notification.name,
    dimensions: notification.dimensions,
    startedAt: new Date(notification.startedAt).toISOString(),
    time: new Date(notification.at).toISOString(),
    value: notification.value,
    expected: notification.expected,
    band: lower === null || upper === null ? null : { lower, upper },
    score: notification.score,
    threshold: notification.threshold,
    reason: notification.reason,
    explanation: notification.explanation ?? null,
    link: notification.link,
  };
}

/** The plain-text form for email subscribers: the alert's explanation first, when it has one. */
export function notificationText(notification: Notification): string {
  const { value, expected, lower, upper, score, threshold } = notification;
  const lines = [
    ...(notification.explanation ? [notification.explanation] : []),
    `${heading(notification).text}: ${seriesLabel(notification)} ${notification.reason}.`,
    '',
    `Severity:  ${notification.severity}`,
    `Rule:      ${notification.rule.name} (${notification.rule.id}, ${notification.rule.kind})`,
    `Started:   ${new Date(notification.startedAt).toISOString()}`,
    `At:        ${new Date(notification.at).toISOString()}`,
  ];
  if (value !== null) lines.push(`Value:     ${round(value)}`);
  if (expected !== null) lines.push(`Expected:  ${round(expected)}`);
  if (lower !== null && upper !== null) lines.push(`Band:      ${round(lower)} to ${round(upper)}`);
  if (score !== null) lines.push(`Score:     ${score.toFixed(2)}`);
  if (threshold !== null) lines.push(`Threshold: ${round(threshold)}`);
  lines.push(
    '',
    `Dashboard: ${notification.link}`,
    '',
    `Alert ${notification.alertId}, notification ${notification.transitionId}`,
  );
  return `${lines.join('\n')}\n`;
}

export const round = (value: number): string => String(Number(value.toPrecision(4)));
