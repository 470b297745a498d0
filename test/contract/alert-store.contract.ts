import { PublishCommand, type PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { SnsNotifier } from '../../lib/adapters/sns-notifier.ts';
import { type EvaluatedBucket, evaluateSeries } from '../../lib/alerts/evaluate.ts';
import {
  type Alert,
  type EvaluationOutcome,
  emptyMonitor,
  type Mute,
  type Rule,
  withdrawnExclusionKeptMs,
} from '../../lib/alerts/model.ts';
import { builtInDefaultRule } from '../../lib/alerts/rules.ts';
import { deliverTransitions } from '../../lib/jobs/alert-delivery.ts';
import type { AlertStore } from '../../lib/ports/alert-store.ts';
import { judgedBucket } from '../helpers/judged-bucket.ts';

const step = 300_000;
const t0 = Date.UTC(2025, 10, 24, 14, 0);

const bucket = (index: number, value: number): EvaluatedBucket => judgedBucket(t0 + index * step, value);

/** An evaluation of `values` (from bucket `from`) for a series, continuing `previous`. */
function evaluation(
  seriesId: string,
  values: readonly number[],
  previous?: EvaluationOutcome,
  from = 0,
  rule: Rule = builtInDefaultRule,
) {
  return evaluateSeries({
    series: { id: seriesId, name: 'shop.requests', dimensions: {} },
    stepMs: step,
    monitor: previous?.monitor ?? emptyMonitor(seriesId),
    rules: [rule],
    buckets: values.map((value, index) => bucket(from + index, value)),
    now: t0 + (from + values.length) * step,
    link: (series, alert) => `http://dash/#/series/${series}?alert=${alert}`,
  });
}

/**
 * What every AlertStore adapter must do, whatever it stores in: run against each one so that local mode
 * behaves like the cloud.
 */
export function describeAlertStoreContract(
  name: string,
  open: () => Promise<{ store: AlertStore; close(): Promise<void> }>,
) {
  const withStore = (test: (store: AlertStore) => Promise<void>) => async () => {
    const { store, close } = await open();
    try {
      await test(store);
    } finally {
      await close();
    }
  };

  describe(`AlertStore contract: ${name}`, () => {
    it(
      'keeps rules, mutes and exclusions, replaces by id and deletes',
      withStore(async (store) => {
        expect(await store.loadConfig()).toEqual({
          rules: [],
          mutes: [],
          exclusions: [],
          withdrawnExclusions: [],
        });
        const mute: Mute = {
          id: 'm1',
          ruleId: null,
          selector: { metric: 'shop.*' },
          schedule: { kind: 'weekly', days: ['thu'], start: '03:30', end: '05:00', timeZone: 'UTC' },
          reason: 'deploys',
          createdAt: 1,
        };
        await store.putRule({ ...builtInDefaultRule, id: 'r1' });
        await store.putRule({ ...builtInDefaultRule, id: 'r1', name: 'renamed' });
        await store.putMute(mute);
        await store.putExclusion({ id: 'x1', selector: null, start: 1, end: 2, reason: '', createdAt: 1 });
        expect(await store.loadConfig()).toEqual({
          rules: [{ ...builtInDefaultRule, id: 'r1', name: 'renamed' }],
          mutes: [mute],
          exclusions: [{ id: 'x1', selector: null, start: 1, end: 2, reason: '', createdAt: 1 }],
          withdrawnExclusions: [],
        });
        expect(await store.deleteRule('r1')).toBe(true);
        expect(await store.deleteRule('r1')).toBe(false);
        expect(await store.deleteMute('m1')).toBe(true);
        expect(await store.deleteExclusion('x1', 10)).toBe(true);
        expect(await store.deleteExclusion('x1', 11)).toBe(false);
        expect(await store.loadConfig()).toEqual({
          rules: [],
          mutes: [],
          exclusions: [],
          withdrawnExclusions: [
            { id: 'x1', selector: null, start: 1, end: 2, reason: '', createdAt: 1, deletedAt: 10 },
          ],
        });
      }),
    );

    it(
      'keeps a withdrawn exclusion for thirty days, and takes a new one with its id',
      withStore(async (store) => {
        const exclusion = { selector: null, start: 1, end: 2, reason: '', createdAt: 1 };
        await store.putExclusion({ ...exclusion, id: 'x1' });
        await store.putExclusion({ ...exclusion, id: 'x2' });
        await store.deleteExclusion('x1', 10);
        // Made again with the same id: it applies again.
        await store.putExclusion({ ...exclusion, id: 'x1', createdAt: 20 });
        expect((await store.loadConfig()).exclusions.map((x) => [x.id, x.createdAt])).toEqual([
          ['x1', 20],
          ['x2', 1],
        ]);
        await store.deleteExclusion('x1', 30);
        const later = 30 + withdrawnExclusionKeptMs + 1;
        await store.deleteExclusion('x2', later);
        // Deleting x2 forgets x1, withdrawn more than thirty days before.
        expect((await store.loadConfig()).withdrawnExclusions?.map((x) => [x.id, x.deletedAt])).toEqual([
          ['x2', later],
        ]);
      }),
    );

    it(
      'saves a monitor only at the version it was read at',
      withStore(async (store) => {
        expect(await store.loadMonitor('s1')).toEqual({ monitor: undefined, version: 0 });
        const first = evaluation('s1', [100, 400]);
        expect(await store.commitEvaluation('s1', 0, first)).toBe('committed');
        expect(await store.loadMonitor('s1')).toEqual({ monitor: first.monitor, version: 1 });
        expect(await store.commitEvaluation('s1', 0, first)).toBe('conflict');
        const second = evaluation('s1', [100, 100, 100], first, 2);
        expect(await store.commitEvaluation('s1', 1, second)).toBe('committed');
        expect((await store.loadMonitor('s1')).version).toBe(2);
      }),
    );

    it(
      'records a transition once: a second record of the same id leaves the first',
      withStore(async (store) => {
        const outcome = evaluation('s1', [100, 400]);
        await store.commitEvaluation('s1', 0, outcome);
        const [open] = await store.pendingTransitions(10);
        expect(open?.kind).toBe('OPEN');
        if (!open) throw new Error('no transition');
        await store.finishTransition(open, {
          status: 'sent',
          at: 5,
          reason: null,
        });
        // A run that read the monitor before the first saved it records the same transition again.
        expect(await store.commitEvaluation('s1', 1, { ...outcome, monitor: outcome.monitor })).toBe(
          'committed',
        );
        expect(await store.pendingTransitions(10)).toEqual([]);
        expect((await store.transitionsOf(outcome.alerts[0]?.id ?? '')).map((t) => t.status)).toEqual([
          'sent',
        ]);
      }),
    );

    it(
      'lists pending transitions in the order they happened, OPEN before RESOLVED',
      withStore(async (store) => {
        const a = evaluation('s1', [100, 400, 100, 100, 100]);
        const b = evaluation('s2', [100, 100, 400, 100, 100, 100]);
        await store.commitEvaluation('s2', 0, b);
        await store.commitEvaluation('s1', 0, a);
        const pending = await store.pendingTransitions(10);
        expect(pending.map((t) => [t.kind, (t.at - t0) / step])).toEqual([
          ['OPEN', 1],
          ['OPEN', 2],
          ['RESOLVED', 2],
          ['RESOLVED', 3],
        ]);
        expect(pending[0]?.notification).toEqual(a.transitions[0]?.notification);
        expect(await store.pendingTransitions(1)).toHaveLength(1);
      }),
    );

    it(
      "orders an alert's transitions at one instant: OPEN, ESCALATED, REMINDER, RESOLVED",
      withStore(async (store) => {
        // Out from bucket 1 at 1.25 half-widths: opens at 2, critical after 30 minutes (bucket 6), when the
        // 20-minute reminder is due too.
        const nagging = { ...builtInDefaultRule, reminderIntervalMs: 20 * 60_000 };
        const outcome = evaluation('s1', [100, 125, 125, 125, 125, 125, 125], undefined, 0, nagging);
        await store.commitEvaluation('s1', 0, outcome);
        const expected = [
          ['OPEN', 2],
          ['ESCALATED', 6],
          ['REMINDER', 6],
        ];
        const pending = await store.pendingTransitions(10);
        expect(pending.map((t) => [t.kind, (t.at - t0) / step])).toEqual(expected);
        const alertId = outcome.alerts[0]?.id ?? '';
        expect((await store.transitionsOf(alertId)).map((t) => [t.kind, (t.at - t0) / step])).toEqual(
          expected,
        );
        expect(pending[1]).toEqual(outcome.transitions[1]);
      }),
    );

    it(
      'records an escalation once, and delivers it once, in order, through an SNS that throttles then recovers',
      withStore(async (store) => {
        const client = new SNSClient({ region: 'eu-west-1' });
        const sns = mockClient(client);
        try {
          const published: PublishCommandInput[] = [];
          let throttled = true;
          sns.on(PublishCommand).callsFake((input: PublishCommandInput) => {
            if (throttled) throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
            published.push(input);
            return { MessageId: String(published.length) };
          });
          const notifier = new SnsNotifier({ topicArn: 'arn:aws:sns:eu-west-1:123456789012:alerts', client });
          let now = t0 + 7 * step;
          const deliver = () =>
            deliverTransitions(
              { alerts: store, notifier, clock: { now: () => now } },
              { mutes: [], pageWindowMs: 3_600_000 },
            );

          // Out from bucket 1: opens as a warning at bucket 2, critical after 30 minutes (bucket 6).
          const escalated = evaluation('s1', [100, 125, 125, 125, 125, 125, 125]);
          expect(escalated.transitions.map((t) => [t.kind, (t.at - t0) / step])).toEqual([
            ['OPEN', 2],
            ['ESCALATED', 6],
          ]);
          const alertId = escalated.alerts[0]?.id ?? '';
          expect(await store.commitEvaluation('s1', 0, escalated)).toBe('committed');
          // An overlapping run that saw the same buckets records nothing twice.
          expect(await store.commitEvaluation('s1', 0, escalated)).toBe('conflict');
          expect((await store.pendingTransitions(10)).map((t) => t.id)).toEqual([
            `${alertId}.open`,
            `${alertId}.escalated`,
          ]);

          expect(await deliver()).toMatchObject({ sent: 0, failed: 1 });
          // The ESCALATED is not tried before its OPEN went out.
          expect((await store.transitionsOf(alertId)).map((t) => [t.kind, t.status, t.attempts])).toEqual([
            ['OPEN', 'pending', 1],
            ['ESCALATED', 'pending', 0],
          ]);
          throttled = false;
          now += 10 * 60_000;
          expect(await deliver()).toMatchObject({ sent: 2, failed: 0 });
          // Recorded again after it was sent (a late run): still sent, not pending again.
          await store.recordEvaluation(escalated);
          expect(await store.pendingTransitions(10)).toEqual([]);

          const resolved = evaluation('s1', [125, 125, 100, 100, 100], escalated, 7);
          expect(resolved.transitions.map((t) => t.kind)).toEqual(['RESOLVED']);
          await store.commitEvaluation('s1', 1, resolved);
          now += 10 * 60_000;
          expect(await deliver()).toMatchObject({ sent: 1 });
          expect(await deliver()).toMatchObject({ sent: 0, suppressed: 0, failed: 0 });

          expect(published.map((input) => input.MessageAttributes?.transitionId?.StringValue)).toEqual([
            `${alertId}.open`,
            `${alertId}.escalated`,
            `${alertId}.resolved`,
          ]);
          expect(published.map((input) => input.Subject)).toEqual([
            // The explanation's headline where it fits beside the series, else the value.
            '[Normalcy] OPEN warning shop.requests: Monday 14:10 usually 100, now 125, 25% above, for 10 min',
            '[Normalcy] CRITICAL shop.requests: Monday 14:30 usually 100, now 125, 25% above, for 30 min',
            '[Normalcy] RESOLVED shop.requests: 100 (expected 100)',
          ]);
          expect(published[1]?.MessageAttributes).toMatchObject({
            state: { StringValue: 'ESCALATED' },
            severity: { StringValue: 'critical' },
          });
          expect((await store.transitionsOf(alertId)).map((t) => [t.kind, t.status])).toEqual([
            ['OPEN', 'sent'],
            ['ESCALATED', 'sent'],
            ['RESOLVED', 'sent'],
          ]);
          expect(await store.getAlert(alertId)).toMatchObject({ severity: 'critical', paged: true });
        } finally {
          sns.restore();
        }
      }),
    );

    it(
      'lets one run at a time claim a transition, until its lease runs out or it is finished',
      withStore(async (store) => {
        await store.commitEvaluation('s1', 0, evaluation('s1', [100, 400]));
        const [open] = await store.pendingTransitions(10);
        const id = open?.id ?? '';
        expect(await store.claimTransition(id, 1_000, 0)).toBe(true);
        expect(await store.claimTransition(id, 1_500, 500)).toBe(false);
        expect(await store.claimTransition(id, 3_000, 2_000)).toBe(true);
        await store.deferTransition(id, 9_000, 'Throttling: Rate exceeded');
        const [deferred] = await store.pendingTransitions(10);
        expect(deferred).toMatchObject({
          id,
          status: 'pending',
          deliverAfter: 9_000,
          attempts: 2,
          lastError: 'Throttling: Rate exceeded',
        });
        expect(await store.claimTransition(id, 10_000, 9_000)).toBe(true);
        if (!deferred) throw new Error('no transition');
        await store.finishTransition(deferred, { status: 'sent', at: 9_001, reason: null });
        expect(await store.claimTransition(id, 20_000, 19_000)).toBe(false);
        expect(await store.getAlert(deferred.alertId)).toMatchObject({ paged: true });
        expect((await store.transitionsOf(deferred.alertId))[0]).toMatchObject({
          status: 'sent',
          decidedAt: 9_001,
        });
      }),
    );

    it(
      'keeps acknowledgement and paging when the evaluator updates an alert',
      withStore(async (store) => {
        const opened = evaluation('s1', [100, 400]);
        await store.commitEvaluation('s1', 0, opened);
        const alertId = opened.alerts[0]?.id ?? '';
        const [open] = await store.pendingTransitions(10);
        if (!open) throw new Error('no transition');
        await store.finishTransition(open, { status: 'suppressed', at: 1, reason: 'muted' });
        expect(await store.acknowledgeAlert(alertId, 'oncall', 10)).toMatchObject({
          acknowledgedBy: 'oncall',
          acknowledgedAt: 10,
        });
        expect(await store.acknowledgeAlert(alertId, 'someone-else', 20)).toMatchObject({
          acknowledgedBy: 'oncall',
          acknowledgedAt: 10,
        });
        const resolved = evaluation('s1', [100, 100, 100], opened, 2);
        await store.commitEvaluation('s1', 1, resolved);
        expect(await store.getAlert(alertId)).toMatchObject<Partial<Alert>>({
          state: 'resolved',
          acknowledgedBy: 'oncall',
          acknowledgedAt: 10,
          paged: false,
        });
        expect(await store.acknowledgeAlert('al_missing', 'oncall', 10)).toBeUndefined();
        expect(await store.getAlert('al_missing')).toBeUndefined();
      }),
    );

    it(
      'never sets an alert back: an evaluation older than the one that wrote it leaves it as it is',
      withStore(async (store) => {
        const opened = evaluation('s1', [100, 400]);
        const resolved = evaluation('s1', [100, 100, 100], opened, 2);
        const alertId = opened.alerts[0]?.id ?? '';
        // A run that saw more buckets saved first; a slower run with an older view writes after it.
        await store.commitEvaluation('s1', 0, resolved);
        await store.commitEvaluation('s1', 1, opened);
        expect(await store.getAlert(alertId)).toMatchObject({ state: 'resolved', resolvedAt: t0 + 2 * step });
        expect(await store.listAlerts({ state: 'open', limit: 10 })).toEqual([]);
      }),
    );

    it(
      'lists alerts active in a range, by state, newest first',
      withStore(async (store) => {
        // s1: open from bucket 1 to 2; s2: open from bucket 6, still open.
        await store.commitEvaluation('s1', 0, evaluation('s1', [100, 400, 100, 100, 100]));
        await store.commitEvaluation('s2', 0, evaluation('s2', [100, 100, 100, 100, 100, 100, 400]));
        const at = (index: number) => t0 + index * step;
        const ids = async (query: Parameters<AlertStore['listAlerts']>[0]) =>
          (await store.listAlerts(query)).map((alert) => [alert.seriesId, alert.state]);
        expect(await ids({ limit: 10 })).toEqual([
          ['s2', 'open'],
          ['s1', 'resolved'],
        ]);
        expect(await ids({ state: 'open', limit: 10 })).toEqual([['s2', 'open']]);
        expect(await ids({ state: 'resolved', limit: 10 })).toEqual([['s1', 'resolved']]);
        expect(await ids({ from: at(3), to: at(10), limit: 10 })).toEqual([['s2', 'open']]);
        expect(await ids({ from: at(2), to: at(10), limit: 10 })).toEqual([
          ['s2', 'open'],
          ['s1', 'resolved'],
        ]);
        expect(await ids({ from: at(0), to: at(5), limit: 10 })).toEqual([['s1', 'resolved']]);
        expect(await ids({ limit: 1 })).toEqual([['s2', 'open']]);
        expect(await ids({ seriesId: 's1', limit: 10 })).toEqual([['s1', 'resolved']]);
        expect(await ids({ seriesId: 's2', state: 'resolved', limit: 10 })).toEqual([]);
        expect(await ids({ seriesId: 's2', from: at(3), limit: 10 })).toEqual([['s2', 'open']]);
        expect(await ids({ seriesId: 's3', limit: 10 })).toEqual([]);
      }),
    );

    it(
      'pages through alerts after a position, newest first then by id, each once, ties at page edges too',
      withStore(async (store) => {
        // Seven series open an alert at the same bucket (same start), three more a bucket later; s0 resolves.
        const spike = (late: boolean) => (late ? [100, 100, 100, 400] : [100, 100, 400]);
        const names = Array.from({ length: 10 }, (_, index) => `s${index}`);
        for (const [index, name] of names.entries()) {
          await store.commitEvaluation(name, 0, evaluation(name, spike(index >= 7)));
        }
        const all = await store.listAlerts({ limit: 100 });
        expect(all).toHaveLength(10);
        const order = [...all].sort(
          (a, b) => b.startedAt - a.startedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
        );
        expect(all.map((alert) => alert.id)).toEqual(order.map((alert) => alert.id));
        for (const limit of [1, 2, 3, 4, 6]) {
          const seen: string[] = [];
          let after: { startedAt: number; id: string } | undefined;
          for (let page = 0; page < 20; page += 1) {
            const alerts = await store.listAlerts({ limit, ...(after && { after }) });
            expect(alerts.length).toBeLessThanOrEqual(limit);
            seen.push(...alerts.map((alert) => alert.id));
            const last = alerts.at(-1);
            if (alerts.length < limit || !last) break;
            after = { startedAt: last.startedAt, id: last.id };
          }
          expect(seen).toEqual(all.map((alert) => alert.id));
        }
        // Filters apply after the position too.
        const [first, second] = all;
        const later = await store.listAlerts({
          state: 'open',
          limit: 100,
          after: { startedAt: first?.startedAt ?? 0, id: first?.id ?? '' },
        });
        expect(later[0]?.id).toBe(second?.id);
        expect(later).toHaveLength(9);
        expect(
          await store.listAlerts({
            seriesId: 's8',
            limit: 10,
            after: { startedAt: first?.startedAt ?? 0, id: first?.id ?? '' },
          }),
        ).toEqual(all.filter((alert) => alert.seriesId === 's8' && alert.id !== first?.id));
      }),
    );
  });
}
