import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteStores } from '../../lib/adapters/sqlite-stores.ts';
import { decideDelivery } from '../../lib/alerts/delivery.ts';
import { evaluateSeries } from '../../lib/alerts/evaluate.ts';
import {
  type Alert,
  type AlertTransition,
  emptyMonitor,
  type Mute,
  type MuteSchedule,
} from '../../lib/alerts/model.ts';
import { mutedUntil, windowEnd } from '../../lib/alerts/mutes.ts';
import { builtInDefaultRule } from '../../lib/alerts/rules.ts';
import { deliverTransitions } from '../../lib/jobs/alert-delivery.ts';
import type { Notification } from '../../lib/ports/notifier.ts';
import { hourMs, minuteMs } from '../../lib/time.ts';
import { judgedBucket } from '../helpers/judged-bucket.ts';

// Thursday 2025-11-27.
const thursday = (hours: number, minutes = 0) => Date.UTC(2025, 10, 27, hours, minutes);

const deployWindow: MuteSchedule = {
  kind: 'weekly',
  days: ['thu'],
  start: '03:30',
  end: '05:00',
  timeZone: 'UTC',
};

describe('Mute windows', () => {
  it('a weekly window is active on its days between its times, and says when it ends', () => {
    expect(windowEnd(deployWindow, thursday(3, 29))).toBeUndefined();
    expect(windowEnd(deployWindow, thursday(3, 30))).toBe(thursday(5));
    expect(windowEnd(deployWindow, thursday(4, 59))).toBe(thursday(5));
    expect(windowEnd(deployWindow, thursday(5))).toBeUndefined();
    expect(windowEnd(deployWindow, thursday(4) - 24 * hourMs)).toBeUndefined();
    expect(windowEnd(deployWindow, thursday(4) + 7 * 24 * hourMs)).toBe(thursday(5) + 7 * 24 * hourMs);
  });

  it('reads times in the window time zone (Paris is UTC+1 in November)', () => {
    const paris: MuteSchedule = { ...deployWindow, timeZone: 'Europe/Paris' };
    expect(windowEnd(paris, thursday(3, 0))).toBe(thursday(4));
    expect(windowEnd(paris, thursday(4, 0))).toBeUndefined();
  });

  it('a window whose end comes before its start runs past midnight', () => {
    const nightly: MuteSchedule = {
      kind: 'weekly',
      days: ['wed'],
      start: '22:00',
      end: '02:00',
      timeZone: 'UTC',
    };
    expect(windowEnd(nightly, thursday(0) - hourMs)).toBe(thursday(2));
    expect(windowEnd(nightly, thursday(1))).toBe(thursday(2));
    expect(windowEnd(nightly, thursday(2))).toBeUndefined();
    expect(windowEnd(nightly, thursday(23))).toBeUndefined();
  });

  it('chains windows that touch, and applies only to the rule and series a mute names', () => {
    const mute = (id: string, schedule: MuteSchedule, scope: Partial<Mute> = {}): Mute => ({
      id,
      ruleId: null,
      selector: null,
      schedule,
      reason: '',
      createdAt: 0,
      ...scope,
    });
    const alert = {
      ruleId: 'default',
      seriesId: 'abc',
      name: 'shop.requests',
      dimensions: { host: 'web-1' },
    };
    const mutes = [
      mute('deploy', deployWindow),
      mute('overrun', { kind: 'once', start: thursday(5), end: thursday(6) }, { ruleId: 'default' }),
      mute(
        'other',
        { kind: 'once', start: thursday(0), end: thursday(12) },
        { selector: { metric: 'billing.*' } },
      ),
    ];
    expect(mutedUntil(mutes, alert, thursday(4))).toBe(thursday(6));
    expect(mutedUntil(mutes, { ...alert, ruleId: 'custom' }, thursday(4))).toBe(thursday(5));
    expect(mutedUntil(mutes, { ...alert, name: 'billing.invoices' }, thursday(2))).toBe(thursday(12));
    expect(mutedUntil(mutes, alert, thursday(7))).toBeUndefined();
  });
});

describe('Delivery decisions', () => {
  const mutes: Mute[] = [
    { id: 'deploy', ruleId: null, selector: null, schedule: deployWindow, reason: 'deploys', createdAt: 0 },
  ];
  const alert = (overrides: Partial<Alert> = {}): Alert =>
    ({
      id: 'al_1',
      ruleId: 'default',
      seriesId: 'abc',
      name: 'shop.requests',
      dimensions: {},
      state: 'open',
      startedAt: thursday(4),
      openedAt: thursday(4),
      resolvedAt: null,
      acknowledgedAt: null,
      paged: null,
      ...overrides,
    }) as Alert;
  const transition = (kind: AlertTransition['kind'], at: number, createdAt: number) =>
    ({ kind, at, createdAt }) as AlertTransition;
  /** Decides a transition recorded at `now` (unless `recordedAt` says otherwise). */
  const decide = (
    kind: AlertTransition['kind'],
    at: number,
    now: number,
    alertOverrides: Partial<Alert> = {},
    openPaged?: boolean,
    recordedAt = now,
  ) =>
    decideDelivery(transition(kind, at, recordedAt), {
      alert: alert(alertOverrides),
      openPaged,
      mutes,
      now,
      pageWindowMs: hourMs,
    });

  it('publishes an OPEN outside any mute, and holds one inside a mute until the mute ends', () => {
    expect(decide('OPEN', thursday(6), thursday(6, 1))).toEqual({ action: 'publish' });
    expect(decide('OPEN', thursday(4), thursday(4, 1))).toEqual({
      action: 'hold',
      until: thursday(5),
      reason: 'muted',
    });
    expect(decide('OPEN', thursday(4), thursday(5, 1))).toEqual({ action: 'publish' });
  });

  it('drops an episode that opened and resolved inside the mute, OPEN and RESOLVED alike', () => {
    const resolvedInside = { state: 'resolved' as const, resolvedAt: thursday(4, 30) };
    expect(decide('OPEN', thursday(4), thursday(5, 1), resolvedInside)).toEqual({
      action: 'suppress',
      reason: 'muted',
    });
    expect(decide('RESOLVED', thursday(4, 30), thursday(5, 1), resolvedInside, false)).toEqual({
      action: 'suppress',
      reason: 'not paged when it opened',
    });
  });

  it('sends the RESOLVED of a paged alert, after the mute if it came inside one', () => {
    const resolvedInside = { state: 'resolved' as const, startedAt: thursday(3), resolvedAt: thursday(4) };
    expect(decide('RESOLVED', thursday(4), thursday(4, 1), resolvedInside, true)).toEqual({
      action: 'hold',
      until: thursday(5),
      reason: 'muted',
    });
    expect(decide('RESOLVED', thursday(4), thursday(5), resolvedInside, true)).toEqual({ action: 'publish' });
  });

  it('does not page history: an alert that had ended long before it was recorded (a backfill)', () => {
    const old = { state: 'resolved' as const, startedAt: thursday(0), resolvedAt: thursday(0, 10) };
    expect(decide('OPEN', thursday(0), thursday(2), old)).toEqual({ action: 'suppress', reason: 'history' });
    expect(decide('OPEN', thursday(0), thursday(0, 30), old)).toEqual({ action: 'publish' });
    expect(decide('OPEN', thursday(0), thursday(12), { startedAt: thursday(0) })).toEqual({
      action: 'publish',
    });
    // Recorded live, then held up for hours by a notifier outage: still delivered.
    expect(decide('OPEN', thursday(0), thursday(6), old, undefined, thursday(0, 5))).toEqual({
      action: 'publish',
    });
  });

  it('sends an ESCALATED with its paged alert, even acknowledged or resolved since', () => {
    const at = thursday(8);
    expect(decide('ESCALATED', at, at, {}, true)).toEqual({ action: 'publish' });
    expect(decide('ESCALATED', at, at, {}, undefined)).toEqual({ action: 'publish' });
    // It says the problem got worse: news to whoever acknowledged it, and however late it goes.
    expect(decide('ESCALATED', at, at, { acknowledgedAt: at - minuteMs }, true)).toEqual({
      action: 'publish',
    });
    const resolvedSince = { state: 'resolved' as const, resolvedAt: at + 10 * minuteMs };
    expect(decide('ESCALATED', at, at + 6 * hourMs, resolvedSince, true, at + minuteMs)).toEqual({
      action: 'publish',
    });
    expect(decide('ESCALATED', at, at, {}, false)).toEqual({
      action: 'suppress',
      reason: 'not paged when it opened',
    });
    // History recorded by a backfill is not paged.
    expect(decide('ESCALATED', at, at + 6 * hourMs, resolvedSince)).toEqual({
      action: 'suppress',
      reason: 'history',
    });
  });

  it('holds an ESCALATED inside a mute like its OPEN: sent at the end if still open, dropped if resolved inside', () => {
    const inside = thursday(4, 30);
    expect(decide('ESCALATED', inside, inside, {}, undefined)).toEqual({
      action: 'hold',
      until: thursday(5),
      reason: 'muted',
    });
    expect(decide('ESCALATED', inside, thursday(5, 1), {}, true)).toEqual({ action: 'publish' });
    expect(
      decide('ESCALATED', inside, thursday(6), { state: 'resolved', resolvedAt: thursday(5, 30) }, true),
    ).toEqual({ action: 'publish' });
    expect(
      decide('ESCALATED', inside, thursday(5, 1), { state: 'resolved', resolvedAt: thursday(4, 45) }, true),
    ).toEqual({ action: 'suppress', reason: 'muted' });
    // Recorded before a mute and delivered late, inside it: it waits for the mute's end, then goes.
    expect(decide('ESCALATED', thursday(3), thursday(4), {}, true, thursday(3))).toEqual({
      action: 'hold',
      until: thursday(5),
      reason: 'muted',
    });
    expect(decide('ESCALATED', thursday(3), thursday(5), {}, true, thursday(3))).toEqual({
      action: 'publish',
    });
  });

  it('an alert that opens and turns critical inside a mute is paged after it, OPEN then ESCALATED', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'normalcy-mutes-'));
    const sqlite = openSqliteStores(join(directory, 'normalcy.db'));
    try {
      const store = sqlite.alerts;
      const step = 5 * minuteMs;
      // Out from 03:40: opens as a warning at 03:45, critical at 03:50 (60% above the expected value).
      const values = [100, 100, 125, 125, 160, 160];
      const buckets = values.map((value, index) => judgedBucket(thursday(3, 30) + index * step, value, 0));
      const outcome = evaluateSeries({
        series: { id: 'abc', name: 'shop.requests', dimensions: {} },
        stepMs: step,
        monitor: emptyMonitor('abc'),
        rules: [builtInDefaultRule],
        buckets,
        now: thursday(4),
        link: () => 'http://dash/',
      });
      expect(outcome.transitions.map((t) => [t.kind, t.at, t.notification.severity])).toEqual([
        ['OPEN', thursday(3, 45), 'warning'],
        ['ESCALATED', thursday(3, 50), 'critical'],
      ]);
      expect(await store.commitEvaluation('abc', 0, outcome)).toBe('committed');

      const sent: Notification[] = [];
      let now = thursday(4);
      const deliver = () =>
        deliverTransitions(
          { alerts: store, notifier: { notify: async (n) => void sent.push(n) }, clock: { now: () => now } },
          { mutes, pageWindowMs: hourMs },
        );
      expect(await deliver()).toMatchObject({ sent: 0, held: 1, suppressed: 0 });
      now = thursday(5, 1);
      expect(await deliver()).toMatchObject({ sent: 2, held: 0, suppressed: 0 });
      expect(sent.map((n) => [n.state, n.severity])).toEqual([
        ['OPEN', 'warning'],
        ['ESCALATED', 'critical'],
      ]);
    } finally {
      sqlite.close();
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('drops reminders of acknowledged, resolved, unpaged or muted alerts', () => {
    const at = thursday(8);
    expect(decide('REMINDER', at, at, {}, true)).toEqual({ action: 'publish' });
    expect(decide('REMINDER', at, at, { acknowledgedAt: at - minuteMs }, true)).toMatchObject({
      action: 'suppress',
      reason: 'acknowledged',
    });
    expect(decide('REMINDER', at, at, { state: 'resolved', resolvedAt: at }, true)).toMatchObject({
      reason: 'resolved',
    });
    expect(decide('REMINDER', at, at, {}, false)).toMatchObject({ reason: 'not paged when it opened' });
    expect(decide('REMINDER', thursday(4), thursday(4), {}, true)).toMatchObject({ reason: 'muted' });
  });
});
