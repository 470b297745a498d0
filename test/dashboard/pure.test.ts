import { describe, expect, it } from 'vitest';
import { alertHref, alertWindow, byUrgency, isMarkedAlert } from '../../dashboard/src/alert-history.ts';
import type { IncidentView } from '../../dashboard/src/api.ts';
import { chartColumns, hasNonPositive, linearBelow } from '../../dashboard/src/chart-data.ts';
import {
  formatDuration,
  formatValue,
  localInputValue,
  readLocalInput,
  seriesLabel,
} from '../../dashboard/src/format.ts';
import { eventDetail, incidentRange, incidentsByUrgency } from '../../dashboard/src/incident-list.ts';
import { endingByNow, parseRoute, seriesViewRange } from '../../dashboard/src/route.ts';
import type { Alert } from '../../lib/alerts/model.ts';
import {
  alertViewUrl,
  seriesViewFragment,
  seriesViewPath,
  seriesViewUrl,
  windowAround,
} from '../../lib/dashboard-links.ts';

const minute = 60_000;
const hour = 60 * minute;
const alert = (id: string, startedAt: number, resolvedAt: number | null): Alert => ({
  id,
  ruleId: 'default',
  ruleName: 'Default band rule',
  ruleKind: 'band',
  seriesId: '0123456789abcdef',
  name: 'shop.requests',
  dimensions: { host: 'web-1' },
  state: resolvedAt === null ? 'open' : 'resolved',
  severity: 'critical',
  startedAt,
  openedAt: startedAt,
  resolvedAt,
  peakDeviation: 12,
  value: 0,
  expected: 100,
  lower: 95,
  upper: 105,
  score: 0.9,
  threshold: null,
  reason: 'below its band for 5 min',
  acknowledgedAt: null,
  acknowledgedBy: null,
  paged: true,
});

describe('dashboard links (lib/dashboard-links.ts), as the dashboard routes them', () => {
  it("opens an anomaly's link on the series around the bucket, marking it", () => {
    const at = 1_764_028_800_000;
    const path = seriesViewPath('0123456789abcdef', at);
    expect(path).toBe(`/#/series/0123456789abcdef?from=${at - 6 * hour}&to=${at + 6 * hour}&at=${at}`);
    expect(parseRoute(path.slice(1))).toEqual({
      view: 'series',
      id: '0123456789abcdef',
      range: undefined,
      from: at - 6 * hour,
      to: at + 6 * hour,
      at,
      alert: undefined,
    });
    expect(seriesViewUrl('https://api.example.com/', '0123456789abcdef', at)).toBe(
      `https://api.example.com${path}`,
    );
  });

  it("reads a notification's link as the alert to show, whatever the dashboard's base URL", () => {
    const link = alertViewUrl(
      'https://dashboard.example.com/',
      '0123456789abcdef',
      'al_3f9c2a71d0b4e8a65c21',
    );
    expect(link).toBe(
      'https://dashboard.example.com/#/series/0123456789abcdef?alert=al_3f9c2a71d0b4e8a65c21',
    );
    expect(parseRoute(new URL(link).hash)).toMatchObject({
      view: 'series',
      id: '0123456789abcdef',
      alert: 'al_3f9c2a71d0b4e8a65c21',
      from: undefined,
      at: undefined,
    });
  });

  it('centres an alert in its view with at least 6 hours either side, marking its start', () => {
    const start = 100 * hour;
    expect(windowAround(start, start + 15 * minute)).toEqual({
      from: start - 6 * hour,
      to: start + 15 * minute + 6 * hour,
      at: start,
    });
    const long = alert('al_1', start, start + 10 * hour);
    expect(alertWindow(long, 0)).toEqual({ from: start - 10 * hour, to: start + 20 * hour, at: start });
    // An open alert runs to now, and so does its view: no empty future.
    expect(alertWindow(alert('al_2', start, null), start + hour)).toEqual({
      from: start - 6 * hour,
      to: start + hour,
      at: start,
    });
    // A recent one: the hours before it, and up to now.
    expect(alertWindow(alert('al_3', start, start + hour), start + 2 * hour)).toEqual({
      from: start - 6 * hour,
      to: start + 2 * hour,
      at: start,
    });
    expect(alertHref(long, 0)).toBe(
      seriesViewFragment('0123456789abcdef', { from: start - 10 * hour, to: start + 20 * hour, at: start }),
    );
  });

  it('keeps the parameters it is given, in one order', () => {
    expect(seriesViewFragment('a b', { range: '30d' })).toBe('#/series/a%20b?range=30d');
    expect(seriesViewFragment('abc', { at: 3, from: 1, to: 5 })).toBe('#/series/abc?from=1&to=5&at=3');
    expect(seriesViewFragment('abc')).toBe('#/series/abc');
  });
});

describe('alert lists', () => {
  it('puts open alerts first, then the newest', () => {
    const alerts = [
      alert('al_a', 1 * hour, 2 * hour),
      alert('al_b', 3 * hour, 4 * hour),
      alert('al_c', 0, null),
    ];
    expect(byUrgency(alerts).map((a) => a.id)).toEqual(['al_c', 'al_b', 'al_a']);
  });

  it('marks the alert a view was opened for, by its start or its id', () => {
    const opened = alert('al_a', 5 * hour, null);
    expect(isMarkedAlert(opened, { at: 5 * hour })).toBe(true);
    expect(isMarkedAlert(opened, { alert: 'al_a' })).toBe(true);
    expect(isMarkedAlert(opened, { at: 6 * hour })).toBe(false);
    expect(isMarkedAlert(opened, {})).toBe(false);
  });
});

describe('chartColumns', () => {
  it('turns points into uPlot columns in seconds, with a row of nulls at each gap', () => {
    const point = (timestamp: number, anomalous = false) => ({
      timestamp,
      value: 5,
      min: 4,
      max: 6,
      count: 1,
      expected: 5,
      lower: 3,
      upper: 7,
      score: 0.1,
      anomaly: anomalous,
    });
    const columns = chartColumns({
      stepMs: minute,
      points: [point(0), point(minute, true), point(5 * minute)],
    });
    expect(columns.time).toEqual([0, 60, 120, 300]);
    expect(columns.value).toEqual([5, 5, null, 5]);
    expect(columns.lower).toEqual([3, 3, null, 3]);
    expect(columns.anomaly).toEqual([null, 5, null, null]);
  });
});

describe('a log scale of chart columns', () => {
  const columns = (value: (number | null)[], lower: (number | null)[]) => ({
    ...chartColumns({ stepMs: minute, points: [] }),
    value,
    lower,
  });

  it('turns linear below the power of ten under the smallest positive value, and knows when 0 or less is drawn', () => {
    expect(linearBelow(columns([0, 130, 5000], [null, 110, 120]))).toBe(100);
    expect(linearBelow(columns([0.38, 0.97], [0, 0.35]))).toBe(0.1);
    expect(linearBelow(columns([0, -3], [null, null]))).toBe(1);
    expect(hasNonPositive(columns([130, 5000], [110, 120]))).toBe(false);
    expect(hasNonPositive(columns([0.38, 0.97], [0, 0.35]))).toBe(true);
  });
});

describe('parseRoute', () => {
  it('reads the series view with an absolute range and a mark, or a preset', () => {
    expect(parseRoute('#/series/abc?from=1&to=2&at=1')).toEqual({
      view: 'series',
      id: 'abc',
      range: undefined,
      from: 1,
      to: 2,
      at: 1,
      alert: undefined,
    });
    expect(parseRoute('#/series/abc?range=30d')).toMatchObject({ range: '30d', from: undefined });
    expect(parseRoute('#/series/abc?range=1y')).toMatchObject({ range: '7d' });
  });

  it('shows a range ending at now at the latest: a preset, or an absolute range cut at now', () => {
    const now = 1_000 * hour;
    const absolute = (from: number, to: number) => ({ from, to, range: undefined });
    expect(seriesViewRange({ range: '1d', from: undefined, to: undefined }, now)).toEqual({
      from: now - 24 * hour,
      to: now,
    });
    // Around a recent alert: the hours before it, and up to now.
    expect(seriesViewRange(absolute(now - 7 * hour, now + 5 * hour), now)).toEqual({
      from: now - 7 * hour,
      to: now,
    });
    expect(seriesViewRange(absolute(now - 9 * hour, now - 3 * hour), now)).toEqual({
      from: now - 9 * hour,
      to: now - 3 * hour,
    });
    // Wholly ahead of now (a clock set wrong): kept as asked rather than made empty.
    expect(endingByNow({ from: now + hour, to: now + 2 * hour }, now)).toEqual({
      from: now + hour,
      to: now + 2 * hour,
    });
  });

  it('falls back to the list for anything else', () => {
    expect(parseRoute('')).toEqual({ view: 'list', pattern: undefined });
    expect(parseRoute('#/?pattern=shop.*')).toEqual({ view: 'list', pattern: 'shop.*' });
    expect(parseRoute('#/nowhere')).toEqual({ view: 'list', pattern: undefined });
  });
});

describe('format', () => {
  it.each([
    [0.6523, '0.652'],
    [1742, '1.74k'],
    [2_500_000, '2.5M'],
    [-1200, '-1.2k'],
    [null, '–'],
  ])('shows %s as %s', (value, text) => {
    expect(formatValue(value)).toBe(text);
  });

  it('shows durations and identities as people write them', () => {
    expect(formatDuration(45 * minute)).toBe('45 min');
    expect(formatDuration(3 * 3_600_000)).toBe('3 h');
    expect(seriesLabel('shop.requests', { service: 'web' })).toBe('shop.requests{service=web}');
    expect(seriesLabel(null, null)).toBe('(deleted series)');
  });
});

describe('incidents', () => {
  const incident = (id: string, state: 'open' | 'resolved', startedAt: number) =>
    ({ id, state, startedAt, resolvedAt: state === 'open' ? null : startedAt + hour }) as IncidentView;

  it('lists open incidents first, then the newest', () => {
    const listed = incidentsByUrgency([
      incident('in_old', 'resolved', 1 * hour),
      incident('in_open', 'open', 2 * hour),
      incident('in_new', 'resolved', 5 * hour),
    ]);
    expect(listed.map((entry) => entry.id)).toEqual(['in_open', 'in_new', 'in_old']);
  });

  it('shows an incident with two hours (or its length) either side, up to now, or the range zoomed to', () => {
    expect(incidentRange({ startedAt: 10 * hour, resolvedAt: 11 * hour }, {}, 20 * hour)).toEqual({
      from: 8 * hour,
      to: 13 * hour,
    });
    // Open: up to now, not two hours of future.
    expect(incidentRange({ startedAt: 10 * hour, resolvedAt: null }, {}, 10 * hour + 46 * minute)).toEqual({
      from: 8 * hour,
      to: 10 * hour + 46 * minute,
    });
    expect(incidentRange({ startedAt: 10 * hour, resolvedAt: 15 * hour }, {}, 30 * hour)).toEqual({
      from: 5 * hour,
      to: 20 * hour,
    });
    expect(
      incidentRange(
        { startedAt: 10 * hour, resolvedAt: 11 * hour },
        { from: 9 * hour, to: 12 * hour },
        20 * hour,
      ),
    ).toEqual({
      from: 9 * hour,
      to: 12 * hour,
    });
  });

  it('says what a timeline event adds to the name of its member, once', () => {
    const labels = new Map([['al_1', 'shop.login.time{service=web}']]);
    expect(eventDetail({ alertId: 'al_1', detail: 'opened by shop.login.time{service=web}' }, labels)).toBe(
      '',
    );
    expect(
      eventDetail({ alertId: 'al_1', detail: 'shop.login.time{service=web} (service=web)' }, labels),
    ).toBe('(service=web)');
    expect(eventDetail({ alertId: null, detail: 'by on-call' }, labels)).toBe('by on-call');
  });

  it('reads #/incidents/<id>, zoomed or not', () => {
    expect(parseRoute('#/incidents/in_0123456789abcdef0123')).toEqual({
      view: 'incident',
      id: 'in_0123456789abcdef0123',
      from: undefined,
      to: undefined,
    });
    expect(parseRoute('#/incidents/in_1?from=5&to=9')).toMatchObject({ view: 'incident', from: 5, to: 9 });
    expect(parseRoute('#/incidents/in_1?from=9&to=5')).toMatchObject({ from: undefined, to: undefined });
  });

  it("writes and reads a datetime-local input's value, to the minute, in the zone it runs in", () => {
    const at = new Date(2025, 10, 24, 9, 5, 42).getTime();
    expect(localInputValue(at)).toBe('2025-11-24T09:05');
    expect(readLocalInput('2025-11-24T09:05')).toBe(new Date(2025, 10, 24, 9, 5).getTime());
    expect(readLocalInput('')).toBeUndefined();
    expect(readLocalInput('24/11/2025 09:05')).toBeUndefined();
  });
});
