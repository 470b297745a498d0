import { createHash } from 'node:crypto';
import type { TransitionKind } from './model.ts';

/**
 * The id of the alert a rule raises on a series for an episode that started at `startedAt`: the same inputs
 * give the same id, so two runs that see the same data record one alert, not two.
 *
 * @example alertId('default', '0123456789abcdef', 1764028800000) // 'al_' followed by 20 hex digits
 */
export function alertId(ruleId: string, seriesId: string, startedAt: number): string {
  const digest = createHash('sha256').update(`${ruleId}\n${seriesId}\n${startedAt}`).digest('hex');
  return `al_${digest.slice(0, 20)}`;
}

/**
 * The id of a transition: `<alertId>.open`, `<alertId>.escalated` (an alert escalates once at most, so a
 * second record of it is the same transition), `<alertId>.reminder.<n>` (n from 1), `<alertId>.resolved`.
 */
export function transitionId(alert: string, kind: TransitionKind, reminder = 0): string {
  switch (kind) {
    case 'OPEN':
      return `${alert}.open`;
    case 'ESCALATED':
      return `${alert}.escalated`;
    case 'RESOLVED':
      return `${alert}.resolved`;
    case 'REMINDER':
      return `${alert}.reminder.${reminder}`;
  }
}
