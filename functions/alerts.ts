import { randomBytes } from 'node:crypto';
import type { EvaluatedBucket } from '../lib/alerts/evaluate.ts';
import { unitOf } from '../lib/alerts/explain.ts';
import { alertStates, type Exclusion, type Mute, type Rule } from '../lib/alerts/model.ts';
import { applicability, parseReplayRequest, replayRule, replayWindow } from '../lib/alerts/replay.ts';
import { type AlertConfig, builtInDefaultRule, defaultRuleId, effectiveRules } from '../lib/alerts/rules.ts';
import { jsonObject, parseExclusion, parseMute, parseRule } from '../lib/alerts/schema.ts';
import {
  describeValue,
  HttpError,
  NotFoundError,
  PayloadTooLargeError,
  ValidationError,
} from '../lib/errors.ts';
import { bucketStart, defaultStepMs } from '../lib/metrics/step.ts';
import type { AlertPosition, AlertStore } from '../lib/ports/alert-store.ts';
import { encodeCursor } from '../lib/query/cursor.ts';
import { seriesParameter } from '../lib/query/parameters.ts';
import { type PointView, readSeriesPoints, requireSeries } from '../lib/query/read.ts';
import { incidentRoutes } from './incident-routes.ts';
import { cloudAlertsDependencies } from './shared/cloud-alerts.ts';
import { gzipResponses } from './shared/compression.ts';
import type { AlertsDependencies } from './shared/dependencies.ts';
import { timeZoneEnv } from './shared/environment.ts';
import { feedbackRoutes, withFeedback } from './shared/feedback-routes.ts';
import {
  bodyText,
  type HttpEvent,
  httpHandler,
  json,
  type RouteContext,
  type RouteDefinition,
} from './shared/http.ts';
import { listingQuery } from './shared/listing-query.ts';
import { catalogOf, withinBudget } from './shared/read-budget.ts';

const maxAlerts = 1000;

const newId = (prefix: string) => () => `${prefix}_${randomBytes(8).toString('hex')}`;

/** The `{id}` of the path. Ids are letters, digits, '.', '_' and '-' only, so they never need decoding. */
const pathId = (event: HttpEvent): string => event.pathParameters?.id ?? '';

const noContent = { statusCode: 204, headers: {}, body: '' };

class ConflictError extends HttpError {
  override readonly name = 'ConflictError';
  constructor(message: string) {
    super(409, 'conflict', message);
  }
}

/**
 * Alerting through the API: rules, mutes and exclusions (read with a read key, changed with an admin key),
 * the alerts themselves (listed and acknowledged with a read key: acknowledging changes no configuration,
 * it only stops reminders and tells the team someone is on it), and replays of a rule over a series' history
 * (a read key too: nothing is stored or sent).
 */
export const alertsRoutes: readonly RouteDefinition<AlertsDependencies>[] = [
  {
    method: 'GET',
    path: '/v1/rules',
    scope: 'read',
    handle: async (_event, { dependencies }) =>
      json(200, { rules: effectiveRules((await dependencies.alerts.loadConfig()).rules) }),
  },
  {
    method: 'POST',
    path: '/v1/rules',
    scope: 'admin',
    async handle(event, { dependencies }) {
      const rule = parseRule(jsonObject(bodyText(event), 'rule'), undefined, newId('rule'));
      const existing = effectiveRules((await dependencies.alerts.loadConfig()).rules);
      if (existing.some((candidate) => candidate.id === rule.id)) {
        throw new ConflictError(`a rule with id "${rule.id}" exists: PUT /v1/rules/${rule.id} replaces it`);
      }
      await dependencies.alerts.putRule(rule);
      return json(201, { rule });
    },
  },
  {
    method: 'GET',
    path: '/v1/rules/{id}',
    scope: 'read',
    async handle(event, { dependencies }) {
      const id = pathId(event);
      const rule = effectiveRules((await dependencies.alerts.loadConfig()).rules).find((r) => r.id === id);
      if (!rule) throw new NotFoundError(`no rule with id "${id}"`);
      return json(200, { rule });
    },
  },
  {
    method: 'PUT',
    path: '/v1/rules/{id}',
    scope: 'admin',
    async handle(event, { dependencies }) {
      const rule = parseRule(jsonObject(bodyText(event), 'rule'), pathId(event), newId('rule'));
      await dependencies.alerts.putRule(rule);
      return json(200, { rule });
    },
  },
  {
    method: 'DELETE',
    path: '/v1/rules/{id}',
    scope: 'admin',
    async handle(event, { dependencies }) {
      const id = pathId(event);
      const deleted = await dependencies.alerts.deleteRule(id);
      // The default rule cannot go away: deleting it restores the built-in one (disable it with PUT instead).
      if (id === defaultRuleId) return json(200, { rule: builtInDefaultRule });
      if (!deleted) throw new NotFoundError(`no rule with id "${id}"`);
      return noContent;
    },
  },
  {
    method: 'POST',
    path: '/v1/series/{id}/replay',
    scope: 'read',
    handle: replay,
  },
  ...configRoutes<Mute>({
    collection: 'mutes',
    what: 'mute',
    parse: (body, now) => parseMute(body, newId('mute'), now),
    list: (config) => config.mutes,
    put: (alerts, mute) => alerts.putMute(mute),
    remove: (alerts, id) => alerts.deleteMute(id),
    check: (mute, config) => {
      if (mute.ruleId !== null && !effectiveRules(config.rules).some((rule) => rule.id === mute.ruleId)) {
        throw new ValidationError(`invalid mute: no rule with id "${mute.ruleId}"`, [
          { field: 'ruleId', message: `names no rule (${describeValue(mute.ruleId)})` },
        ]);
      }
    },
  }),
  ...configRoutes<Exclusion>({
    collection: 'exclusions',
    what: 'exclusion',
    parse: (body, now) => parseExclusion(body, newId('excl'), now),
    list: (config) => config.exclusions,
    put: (alerts, exclusion) => alerts.putExclusion(exclusion),
    remove: (alerts, id, now) => alerts.deleteExclusion(id, now),
  }),
  {
    method: 'GET',
    path: '/v1/alerts',
    scope: 'read',
    async handle(event, { dependencies }) {
      const { after, ...query } = alertQuery(event.queryStringParameters ?? {});
      const alerts = await withFeedback(
        dependencies,
        await dependencies.alerts.listAlerts({ ...query, after }),
      );
      const last = alerts.at(-1);
      const nextCursor =
        alerts.length === query.limit && last
          ? encodeCursor({ startedAt: last.startedAt, id: last.id } satisfies AlertPosition)
          : null;
      return json(200, { ...query, alerts, nextCursor });
    },
  },
  {
    method: 'GET',
    path: '/v1/alerts/{id}',
    scope: 'read',
    async handle(event, { dependencies }) {
      const id = pathId(event);
      const alert = await dependencies.alerts.getAlert(id);
      if (!alert) throw new NotFoundError(`no alert with id "${id}"`);
      const [marked] = await withFeedback(dependencies, [alert]);
      return json(200, { alert: marked, transitions: await dependencies.alerts.transitionsOf(id) });
    },
  },
  {
    method: 'POST',
    path: '/v1/alerts/{id}/acknowledge',
    scope: 'read',
    async handle(event, { dependencies, key }) {
      const id = pathId(event);
      const alert = await dependencies.alerts.acknowledgeAlert(
        id,
        key?.name ?? 'unknown',
        dependencies.clock.now(),
      );
      if (!alert) throw new NotFoundError(`no alert with id "${id}"`);
      const [marked] = await withFeedback(dependencies, [alert]);
      return json(200, { alert: marked });
    },
  },
  // Incidents: functions/incident-routes.ts.
  ...incidentRoutes,
  ...feedbackRoutes,
];

/** A replay's body is a rule and a range: anything near this size is a mistake, and the answer repeats the rule. */
const maxReplayBodyBytes = 64 * 1024;

/**
 * `POST /v1/series/{id}/replay`: what a rule (saved, or a draft in the body) would have paged on a series over
 * its stored buckets and bands. It reads and computes only (no alert, transition or monitor is written, no
 * notifier is called), so a read key may ask, drafts included.
 */
async function replay(event: HttpEvent, context: RouteContext<AlertsDependencies>) {
  const text = bodyText(event);
  if (Buffer.byteLength(text, 'utf8') > maxReplayBodyBytes)
    throw new PayloadTooLargeError(maxReplayBodyBytes);
  const request = parseReplayRequest(text);
  const { dependencies } = context;
  const now = dependencies.clock.now();
  const series = await requireSeries(catalogOf(dependencies), event.pathParameters?.id);
  const config = await dependencies.alerts.loadConfig();
  const rule = request.rule ?? savedRule(config.rules, request.ruleId ?? '');
  const stepMs = series.stepMs ?? defaultStepMs;
  const window = replayWindow(request, stepMs, now);
  const [points, earliest] = await withinBudget(context, (options) =>
    Promise.all([
      readSeriesPoints(dependencies.queries, series, { ...window, stepMs, automatic: false }, options),
      dependencies.metrics.earliestTimestamp(series.id),
    ]),
  );
  // The band job judges a bucket once it is closed: the one still filling is left for later.
  const buckets = points.points.filter((point) => point.timestamp + stepMs <= now).map(evaluatedBucket);
  const result = replayRule({
    series,
    stepMs,
    rule,
    buckets,
    firstBucketAt: earliest === undefined ? null : bucketStart(earliest, stepMs),
    window,
    mutes: config.mutes,
    now,
    explain: { timeZone: timeZoneEnv('NORMALCY_TIME_ZONE') ?? 'UTC', unit: unitOf(series.type, stepMs) },
  });
  return json(200, {
    series: { id: series.id, name: series.name, type: series.type, dimensions: series.dimensions, stepMs },
    rule,
    draft: request.rule !== undefined,
    ...applicability(rule, config.rules, series),
    from: window.from,
    to: window.to,
    buckets: buckets.length,
    bandedBuckets: buckets.filter((bucket) => bucket.band !== undefined).length,
    alertCount: result.alertCount,
    pagedCount: result.pagedCount,
    // A replayed alert is what would have been: nobody has said anything of it (`feedback`, as on real alerts).
    alerts: result.alerts.map((replayed) => ({ ...replayed, alert: { ...replayed.alert, feedback: null } })),
  });
}

/** A saved rule by id (the built-in default included), or a 400 naming `ruleId`. */
function savedRule(stored: readonly Rule[], id: string): Rule {
  const rule = effectiveRules(stored).find((candidate) => candidate.id === id);
  if (rule) return rule;
  throw new ValidationError(`invalid replay request: no rule with id "${id}"`, [
    { field: 'ruleId', message: `names no rule (${describeValue(id)}): GET /v1/rules lists them` },
  ]);
}

/** A bucket of the points read as the evaluator takes it: with its band when the band job stored one. */
function evaluatedBucket(point: PointView): EvaluatedBucket {
  const { timestamp, value, expected, lower, upper, score, anomaly } = point;
  const banded = expected !== null && lower !== null && upper !== null && score !== null;
  return {
    timestamp,
    value,
    band: banded ? { timestamp, value, expected, lower, upper, score, anomaly } : undefined,
  };
}

/** What differs between the configuration collections that are listed, created and deleted (mutes, exclusions). */
interface ConfigCollection<Item extends { readonly id: string }> {
  readonly collection: 'mutes' | 'exclusions';
  readonly what: string;
  parse(body: Record<string, unknown>, now: number): Item;
  list(config: AlertConfig): readonly Item[];
  put(alerts: AlertStore, item: Item): Promise<void>;
  remove(alerts: AlertStore, id: string, now: number): Promise<boolean>;
  /** Checks an item against the rest of the configuration (throws a ValidationError). */
  check?(item: Item, config: AlertConfig): void;
}

/** GET (read key), POST and DELETE (admin key) routes of a configuration collection. */
function configRoutes<Item extends { readonly id: string }>(
  collection: ConfigCollection<Item>,
): RouteDefinition<AlertsDependencies>[] {
  const path = `/v1/${collection.collection}`;
  return [
    {
      method: 'GET',
      path,
      scope: 'read',
      handle: async (_event, { dependencies }) =>
        json(200, { [collection.collection]: collection.list(await dependencies.alerts.loadConfig()) }),
    },
    {
      method: 'POST',
      path,
      scope: 'admin',
      async handle(event, { dependencies }) {
        const item = collection.parse(jsonObject(bodyText(event), collection.what), dependencies.clock.now());
        const config = await dependencies.alerts.loadConfig();
        collection.check?.(item, config);
        if (collection.list(config).some((existing) => existing.id === item.id)) {
          throw new ConflictError(`a ${collection.what} with id "${item.id}" exists: delete it first`);
        }
        await collection.put(dependencies.alerts, item);
        return json(201, { [collection.what]: item });
      },
    },
    {
      method: 'DELETE',
      path: `${path}/{id}`,
      scope: 'admin',
      async handle(event, { dependencies }) {
        const id = pathId(event);
        if (!(await collection.remove(dependencies.alerts, id, dependencies.clock.now()))) {
          throw new NotFoundError(`no ${collection.what} with id "${id}"`);
        }
        return noContent;
      },
    },
  ];
}

/**
 * `state`, `from`, `to` (epoch ms or ISO-8601), `series` (a series id), `limit` and `cursor` (the `nextCursor`
 * of the previous page) of `GET /v1/alerts`, each checked by name.
 */
function alertQuery(parameters: Readonly<Record<string, string | undefined>>) {
  const seriesId = seriesParameter(parameters);
  return { ...listingQuery(parameters, alertStates, maxAlerts), seriesId };
}

export const createAlertsHandler = (dependencies: () => AlertsDependencies) =>
  httpHandler(alertsRoutes, dependencies).use(gzipResponses());

export const handler = createAlertsHandler(cloudAlertsDependencies);
