import { randomBytes } from 'node:crypto';
import { alertStates } from '../lib/alerts/model.ts';
import { builtInDefaultRule, defaultRuleId, effectiveRules } from '../lib/alerts/rules.ts';
import { jsonObject, parseExclusion, parseMute, parseRule } from '../lib/alerts/schema.ts';
import type { AlertStore } from '../lib/alerts/store.ts';
import { describeValue, HttpError, NotFoundError, ValidationError } from '../lib/errors.ts';
import { readTimestamp } from '../lib/ingest/validate.ts';
import type { Clock, KeyStore } from '../lib/ports.ts';
import { cloudAlertsDependencies } from './shared/cloud-alerts.ts';
import { bodyText, type HttpEvent, httpHandler, json, type RouteDefinition } from './shared/http.ts';

export interface AlertsDependencies {
  readonly alerts: AlertStore;
  readonly keys: KeyStore;
  readonly clock: Clock;
}

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
 * and the alerts themselves (listed and acknowledged with a read key: acknowledging changes no configuration,
 * it only stops reminders and tells the team someone is on it).
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
    method: 'GET',
    path: '/v1/mutes',
    scope: 'read',
    handle: async (_event, { dependencies }) =>
      json(200, { mutes: (await dependencies.alerts.loadConfig()).mutes }),
  },
  {
    method: 'POST',
    path: '/v1/mutes',
    scope: 'admin',
    async handle(event, { dependencies }) {
      const mute = parseMute(jsonObject(bodyText(event), 'mute'), newId('mute'), dependencies.clock.now());
      const config = await dependencies.alerts.loadConfig();
      if (mute.ruleId !== null && !effectiveRules(config.rules).some((rule) => rule.id === mute.ruleId)) {
        throw new ValidationError(`invalid mute: no rule with id "${mute.ruleId}"`, [
          { field: 'ruleId', message: `names no rule (${describeValue(mute.ruleId)})` },
        ]);
      }
      if (config.mutes.some((existing) => existing.id === mute.id)) {
        throw new ConflictError(`a mute with id "${mute.id}" exists: delete it first`);
      }
      await dependencies.alerts.putMute(mute);
      return json(201, { mute });
    },
  },
  {
    method: 'DELETE',
    path: '/v1/mutes/{id}',
    scope: 'admin',
    async handle(event, { dependencies }) {
      const id = pathId(event);
      if (!(await dependencies.alerts.deleteMute(id))) throw new NotFoundError(`no mute with id "${id}"`);
      return noContent;
    },
  },
  {
    method: 'GET',
    path: '/v1/exclusions',
    scope: 'read',
    handle: async (_event, { dependencies }) =>
      json(200, { exclusions: (await dependencies.alerts.loadConfig()).exclusions }),
  },
  {
    method: 'POST',
    path: '/v1/exclusions',
    scope: 'admin',
    async handle(event, { dependencies }) {
      const exclusion = parseExclusion(
        jsonObject(bodyText(event), 'exclusion'),
        newId('excl'),
        dependencies.clock.now(),
      );
      const config = await dependencies.alerts.loadConfig();
      if (config.exclusions.some((existing) => existing.id === exclusion.id)) {
        throw new ConflictError(`an exclusion with id "${exclusion.id}" exists: delete it first`);
      }
      await dependencies.alerts.putExclusion(exclusion);
      return json(201, { exclusion });
    },
  },
  {
    method: 'DELETE',
    path: '/v1/exclusions/{id}',
    scope: 'admin',
    async handle(event, { dependencies }) {
      const id = pathId(event);
      if (!(await dependencies.alerts.deleteExclusion(id)))
        throw new NotFoundError(`no exclusion with id "${id}"`);
      return noContent;
    },
  },
  {
    method: 'GET',
    path: '/v1/alerts',
    scope: 'read',
    async handle(event, { dependencies }) {
      const query = alertQuery(event.queryStringParameters ?? {});
      return json(200, { ...query, alerts: await dependencies.alerts.listAlerts(query) });
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
      return json(200, { alert, transitions: await dependencies.alerts.transitionsOf(id) });
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
      return json(200, { alert });
    },
  },
];

/** `state`, `from`, `to` (epoch ms or ISO-8601) and `limit` of `GET /v1/alerts`, each checked by name. */
function alertQuery(parameters: Readonly<Record<string, string | undefined>>) {
  const problem = (field: string, message: string): never => {
    throw new ValidationError(`query parameter "${field}" ${message}`, [{ field, message }]);
  };
  const time = (field: 'from' | 'to'): number | undefined => {
    const raw = parameters[field];
    if (raw === undefined || raw === '') return undefined;
    const parsed = readTimestamp(/^\d+$/.test(raw) ? Number(raw) : raw, Number.POSITIVE_INFINITY);
    return typeof parsed === 'string' ? problem(field, parsed) : parsed;
  };
  const state = parameters.state || undefined;
  if (state !== undefined && !(alertStates as readonly string[]).includes(state)) {
    problem('state', `must be one of ${alertStates.join(', ')}, got ${describeValue(state)}`);
  }
  const from = time('from');
  const to = time('to');
  if (from !== undefined && to !== undefined && from >= to) problem('from', 'must be before "to"');
  const rawLimit = parameters.limit;
  const limit = rawLimit === undefined || rawLimit === '' ? 100 : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > maxAlerts) {
    problem('limit', `must be a whole number from 1 to ${maxAlerts}`);
  }
  return { state: state as (typeof alertStates)[number] | undefined, from, to, limit };
}

export const createAlertsHandler = (dependencies: () => AlertsDependencies) =>
  httpHandler(alertsRoutes, dependencies);

export const handler = createAlertsHandler(cloudAlertsDependencies);
