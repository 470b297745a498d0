/**
 * The checks at the end of the soak, through the API a user has: every acknowledged point is readable
 * (`GET /v1/series/{id}/points` at the series' own step: each bucket's raw point count and its value, the sum
 * or the mean), nothing nobody acknowledged is stored, no series is kept aside by the band job, and every
 * transition `GET /v1/alerts/{id}` says was sent reached the webhook exactly once.
 */

import { mapConcurrently } from '../../lib/concurrency.ts';
import type { Findings, SoakClient } from './client.ts';
import { type Ledger, type SeriesRecord, seriesKey } from './ledger.ts';
import type { Delivery } from './webhook-receiver.ts';

interface SeriesView {
  readonly id: string;
  readonly name: string;
  readonly dimensions: Record<string, string>;
  readonly stepMs: number | null;
  readonly fault: unknown;
}

interface PointView {
  readonly timestamp: number;
  readonly value: number;
  readonly count: number;
}

export interface Transition {
  readonly id: string;
  readonly alertId: string;
  readonly kind: 'OPEN' | 'REMINDER' | 'RESOLVED';
  readonly status: 'pending' | 'sent' | 'suppressed';
  readonly reason: string | null;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly deliverAfter: number;
}

export interface AlertView {
  readonly id: string;
  readonly ruleId: string;
  readonly ruleKind: string;
  readonly name: string;
  readonly state: 'open' | 'resolved';
  readonly paged: boolean | null;
}

/** GETs a JSON document with the reader's key; throws on anything but 200 (the soak's checks need it). */
async function getJson<T>(client: SoakClient, key: string, path: string): Promise<T> {
  const answer = await client.send(
    'verify',
    { method: 'GET', path, key },
    {
      giveUpAt: () => Date.now() + 30_000,
    },
  );
  if (answer?.status !== 200) {
    throw new Error(`GET ${path}: ${answer ? `${answer.status} ${answer.text.slice(0, 300)}` : 'no answer'}`);
  }
  return answer.json as T;
}

/** Every series under a prefix, following `nextCursor`. */
export async function listSeries(client: SoakClient, key: string, prefix: string): Promise<SeriesView[]> {
  const series: SeriesView[] = [];
  let cursor: string | null = null;
  do {
    const page: { series: SeriesView[]; nextCursor: string | null } = await getJson(
      client,
      key,
      `/v1/series?prefix=${encodeURIComponent(prefix)}&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    series.push(...page.series);
    cursor = page.nextCursor;
  } while (cursor);
  return series;
}

/** Every alert (following `nextCursor`), each with its transitions. */
export async function readAlerts(
  client: SoakClient,
  key: string,
): Promise<{ alert: AlertView; transitions: Transition[] }[]> {
  const alerts: AlertView[] = [];
  let cursor: string | null = null;
  do {
    const page: { alerts: AlertView[]; nextCursor: string | null } = await getJson(
      client,
      key,
      `/v1/alerts?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    alerts.push(...page.alerts);
    cursor = page.nextCursor;
  } while (cursor);
  return mapConcurrently(alerts, 8, async (alert) => {
    const detail = await getJson<{ transitions: Transition[] }>(
      client,
      key,
      `/v1/alerts/${encodeURIComponent(alert.id)}`,
    );
    return { alert, transitions: detail.transitions };
  });
}

export interface PointCheck {
  readonly series: number;
  readonly acknowledged: number;
  /** Acknowledged points found, in buckets whose count and value matched. */
  readonly verified: number;
  /** Buckets holding points whose request never got a final answer: checked by count range only. */
  readonly bucketsInDoubt: number;
  /** Series the band job keeps aside (`fault`), by name. */
  readonly seriesKeptAside: readonly string[];
}

/** Compares every series' stored buckets with the points the clients were told were stored. */
export async function checkPoints(
  client: SoakClient,
  key: string,
  ledger: Ledger,
  findings: Findings,
): Promise<PointCheck> {
  const listed = new Map<string, SeriesView>();
  for (const series of await listSeries(client, key, 'soak')) {
    listed.set(seriesKey(series.name, series.dimensions), series);
  }
  const seriesKeptAside = [...listed.values()]
    .filter((series) => series.fault !== null && series.fault !== undefined)
    .map((series) => `${series.name}${JSON.stringify(series.dimensions)}: ${JSON.stringify(series.fault)}`);
  for (const aside of seriesKeptAside) findings.breach('series kept aside by the band job', aside);
  // A series no good item made: a bad item (all named `soak.bad.*`) or a bad Influx line was stored.
  for (const [listedKey, series] of listed) {
    if (!ledger.series.has(listedKey)) {
      findings.breach(
        'series nobody sent a good point of',
        `${JSON.stringify(series.name)} ${JSON.stringify(series.dimensions)}`,
      );
    }
  }
  let acknowledged = 0;
  let verified = 0;
  let bucketsInDoubt = 0;
  const records = [...ledger.series.entries()].filter(
    ([, record]) => record.acknowledged.size > 0 || record.inDoubt.size > 0,
  );
  const results = await mapConcurrently(records, 8, async ([key_, record]) => {
    const series = listed.get(key_);
    if (!series) {
      if (record.acknowledged.size > 0) {
        findings.breach(
          'acknowledged series missing from GET /v1/series',
          `${record.series.name} ${JSON.stringify(record.series.dimensions)}: ${record.acknowledged.size} points`,
        );
      }
      return { acknowledged: record.acknowledged.size, verified: 0, inDoubt: 0 };
    }
    return compareSeries(client, key, series, record, findings);
  });
  for (const result of results) {
    acknowledged += result.acknowledged;
    verified += result.verified;
    bucketsInDoubt += result.inDoubt;
  }
  return { series: records.length, acknowledged, verified, bucketsInDoubt, seriesKeptAside };
}

async function compareSeries(
  client: SoakClient,
  key: string,
  series: SeriesView,
  record: SeriesRecord,
  findings: Findings,
): Promise<{ acknowledged: number; verified: number; inDoubt: number }> {
  const stepMs = series.stepMs ?? 60_000;
  const bucket = (timestamp: number) => Math.floor(timestamp / stepMs) * stepMs;
  const expected = new Map<number, { values: number[]; inDoubt: number }>();
  const entry = (start: number) => {
    let value = expected.get(start);
    if (!value) {
      value = { values: [], inDoubt: 0 };
      expected.set(start, value);
    }
    return value;
  };
  for (const [timestamp, value] of record.acknowledged) entry(bucket(timestamp)).values.push(value);
  for (const timestamp of record.inDoubt.keys()) entry(bucket(timestamp)).inDoubt += 1;
  const starts = [...expected.keys()].sort((a, b) => a - b);
  const first = starts[0] ?? 0;
  const last = starts[starts.length - 1] ?? 0;
  const stored = new Map<number, PointView>();
  // At most 10,000 buckets a request.
  for (let from = first; from <= last; from += 10_000 * stepMs) {
    const to = Math.min(last + stepMs, from + 10_000 * stepMs);
    const page = await getJson<{ points: PointView[]; seriesStepMs: number }>(
      client,
      key,
      `/v1/series/${series.id}/points?from=${from}&to=${to}&step=${stepMs}`,
    );
    for (const view of page.points) stored.set(view.timestamp, view);
  }
  const label = `${series.name}${JSON.stringify(series.dimensions)} (${series.id}, step ${stepMs / 1000} s)`;
  let verified = 0;
  let inDoubt = 0;
  for (const start of new Set([...starts, ...stored.keys()])) {
    const want = expected.get(start) ?? { values: [], inDoubt: 0 };
    const got = stored.get(start);
    const count = got?.count ?? 0;
    const at = `${label} at ${new Date(start).toISOString()}`;
    if (want.inDoubt > 0) {
      inDoubt += 1;
      if (count < want.values.length) {
        findings.breach(
          'acknowledged points missing',
          `${at}: ${count} stored, ${want.values.length} acknowledged`,
        );
      } else if (count > want.values.length + want.inDoubt) {
        findings.breach(
          'points stored that nobody sent',
          `${at}: ${count} stored, at most ${want.values.length + want.inDoubt} sent`,
        );
      } else {
        verified += want.values.length;
      }
      continue;
    }
    if (count < want.values.length) {
      findings.breach(
        'acknowledged points missing',
        `${at}: ${count} stored, ${want.values.length} acknowledged`,
      );
      continue;
    }
    if (count > want.values.length) {
      findings.breach(
        'points stored that nobody acknowledged',
        `${at}: ${count} stored, ${want.values.length} acknowledged`,
      );
      continue;
    }
    const value = seriesStepValue(record.series.type, want.values);
    if (!got || !sameNumber(got.value, value)) {
      findings.breach('acknowledged value read back wrong', `${at}: read ${got?.value}, expected ${value}`);
      continue;
    }
    verified += want.values.length;
  }
  return { acknowledged: record.acknowledged.size, verified, inDoubt };
}

/** A bucket's value as the API documents it: the sum for counters, the mean otherwise, kept finite. */
function seriesStepValue(type: string, values: readonly number[]): number {
  const sum = values.reduce((total, value) => total + value, 0);
  if (type === 'counter') return clamp(sum);
  if (Number.isFinite(sum)) return sum / values.length;
  return clamp(values.reduce((total, value) => total + value / values.length, 0));
}

const clamp = (value: number): number => Math.min(Number.MAX_VALUE, Math.max(-Number.MAX_VALUE, value));

/** Equal up to the rounding of a different order of summation. */
const sameNumber = (a: number, b: number): boolean =>
  a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b)) || Math.abs(a - b) < 1e-300;

export interface DeliveryCheck {
  readonly alerts: number;
  readonly alertsByRuleKind: Readonly<Record<string, number>>;
  readonly transitions: Readonly<Record<string, number>>;
  readonly sent: number;
  readonly suppressed: number;
  readonly pending: number;
  readonly deliveries: number;
  /** Transitions delivered more than once, with a kill between two of the deliveries (the documented window). */
  readonly duplicatesAfterKill: number;
  /** Transitions delivered more than once with no kill between: a broken promise. */
  readonly duplicatesUnexplained: number;
  readonly missing: number;
  /** Transitions still pending under the lease of a run killed while delivering them, or waiting behind one. */
  readonly heldByLease: number;
  /** Alert transitions paged through their incidents (not sent on their own). */
  readonly routed: number;
}

/**
 * Each transition marked sent was received once; none suppressed (history, muted) was received; nothing was
 * received that the API does not know; a transition received twice is a duplicate, explained only when a kill
 * fell between the two deliveries (docs/alerts.md's at-least-once window: a run died between the send and the mark).
 * An alert transition paged through its incident (marked sent, reason `incident <id>`) needs that incident to
 * have been paged, and each of the incident's own notifications is held to the same once-only rule.
 */
export function checkDeliveries(
  alerts: readonly { alert: AlertView; transitions: Transition[] }[],
  deliveries: readonly Delivery[],
  kills: readonly number[],
  /** Whether the end saw no transition pending before the server stopped. */
  drained: boolean,
  findings: Findings,
): DeliveryCheck {
  const received = new Map<string, Delivery[]>();
  for (const delivery of deliveries) {
    received.set(delivery.transitionId, [...(received.get(delivery.transitionId) ?? []), delivery]);
  }
  const known = new Set<string>();
  const routed = new Set<string>();
  const byKind: Record<string, number> = {};
  const byRuleKind: Record<string, number> = {};
  let sent = 0;
  let routedCount = 0;
  let suppressed = 0;
  let pending = 0;
  let duplicatesAfterKill = 0;
  let duplicatesUnexplained = 0;
  let missing = 0;
  let heldByLease = 0;
  for (const { alert, transitions } of alerts) {
    byRuleKind[alert.ruleKind] = (byRuleKind[alert.ruleKind] ?? 0) + 1;
    // A transition a killed run left claimed holds back the later ones of its alert (they go in order).
    let heldBehind = false;
    for (const transition of transitions) {
      known.add(transition.id);
      const status = `${transition.kind} ${transition.status}`;
      byKind[status] = (byKind[status] ?? 0) + 1;
      const got = received.get(transition.id) ?? [];
      const label = `${transition.id} (${alert.name}, rule ${alert.ruleId})`;
      const incidentId = routedTo(transition);
      if (incidentId !== undefined) {
        // Paged through its incident (docs/alerts.md, Incidents): that incident's notifications are checked below.
        routed.add(incidentId);
        routedCount += 1;
        if (![...received.keys()].some((id) => id.startsWith(`${incidentId}.`))) {
          missing += 1;
          findings.breach('alert routed to an incident that was never paged', `${label} → ${incidentId}`);
        }
      } else if (transition.status === 'sent') {
        sent += 1;
        if (got.length === 0) {
          missing += 1;
          findings.breach('transition marked sent but never received', label);
        }
      } else if (transition.status === 'suppressed') {
        suppressed += 1;
        if (got.length > 0)
          findings.breach('suppressed transition delivered', `${label}: ${transition.reason}`);
      } else {
        pending += 1;
        if (got.length > 0) {
          // Received, then the run was killed before it marked it: sent again after the lease (documented).
          heldBehind = true;
          findings.note('transition received but not marked sent (a kill between send and mark)', label);
        } else if (transition.attempts > 0 && transition.lastError === null) {
          // Claimed by a run that was killed before it could publish it: published after the lease.
          heldBehind = true;
          heldByLease += 1;
          findings.note('transition still pending under the lease of a killed run', label);
        } else if (heldBehind) {
          heldByLease += 1;
          findings.note('transition waiting behind one under the lease of a killed run', label);
        } else if (drained) {
          // Recorded by a run after the end saw nothing pending: it goes out at the next start.
          findings.note('transition recorded after the drain, due at the next start', label);
        } else {
          missing += 1;
          findings.breach(
            'transition due but never delivered',
            `${label}: ${transition.attempts} attempts, ${transition.lastError}`,
          );
        }
      }
      if (got.length > 1) {
        const counted = countRepeats(got, kills, label, findings);
        duplicatesAfterKill += counted.afterKill;
        duplicatesUnexplained += counted.unexplained;
      }
    }
  }
  for (const [id, got] of received) {
    const incidentId = id.split('.', 1)[0] ?? id;
    if (!known.has(id) && routed.has(incidentId)) {
      // An incident's own notification (OPEN, UPDATE, RESOLVED): each received once, as an alert's.
      const counted = countRepeats(got, kills, id, findings);
      duplicatesAfterKill += counted.afterKill;
      duplicatesUnexplained += counted.unexplained;
    } else if (!known.has(id)) {
      findings.breach('delivery of a transition the API does not know', `${id}: ${got.length} times`);
    }
  }
  return {
    alerts: alerts.length,
    alertsByRuleKind: byRuleKind,
    transitions: byKind,
    sent,
    routed: routedCount,
    suppressed,
    pending,
    deliveries: deliveries.length,
    duplicatesAfterKill,
    duplicatesUnexplained,
    missing,
    heldByLease,
  };
}

/** The incident an alert transition was paged through (marked with the reason `incident <id>`), if any. */
function routedTo(transition: Transition): string | undefined {
  if (transition.status !== 'sent' || transition.reason === null) return undefined;
  return /^incident (\S+)$/.exec(transition.reason)?.[1];
}

/**
 * Repeats of one notification: explained when a kill fell between each two deliveries (the documented
 * at-least-once window), a broken promise otherwise.
 */
function countRepeats(
  got: readonly Delivery[],
  kills: readonly number[],
  label: string,
  findings: Findings,
): { afterKill: number; unexplained: number } {
  const times = got.map((delivery) => delivery.receivedAt).sort((a, b) => a - b);
  const explained = times.slice(1).every((time, index) => {
    const before = times[index] ?? 0;
    return kills.some((kill) => kill >= before && kill <= time);
  });
  if (explained) {
    const apart = times.slice(1).map((time, index) => `${Math.round((time - (times[index] ?? 0)) / 1000)} s`);
    findings.note(
      'delivered again after a kill (the documented at-least-once window)',
      `${label}: again ${apart.join(', ')} after`,
    );
    return { afterKill: got.length - 1, unexplained: 0 };
  }
  findings.breach(
    'transition delivered more than once without a kill between',
    `${label}: ${got.length} times`,
  );
  return { afterKill: 0, unexplained: got.length - 1 };
}

/** Runs `work` over `items`, `concurrency` at a time, keeping their order. */
