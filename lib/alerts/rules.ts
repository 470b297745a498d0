import type { BandRule, Exclusion, Mute, Rule } from './model.ts';
import { type SeriesIdentity, selects } from './selector.ts';

/** The id of the rule every series has unless a band rule of the user's covers it. */
export const defaultRuleId = 'default';

/**
 * The rule a new user gets without writing one: the engine's own band, both directions, at least 10% away
 * from the expected value; two breaching buckets out of three, or one bucket at least twice the band's
 * half-width away (so a single strong spike still pages); resolved after three buckets back inside.
 */
export const builtInDefaultRule: BandRule = {
  id: defaultRuleId,
  name: 'Default band rule',
  kind: 'band',
  enabled: true,
  selector: {},
  severity: null,
  reminderIntervalMs: null,
  sensitivity: 0.5,
  direction: 'both',
  minDeviation: { absolute: 0, relative: 0.1 },
  debounce: { breaches: 2, outOf: 3 },
  immediateDeviation: 2,
  minDurationMs: 0,
  recoveryBuckets: 3,
};

/** Everything the band job needs to know about alerting, read once per run. */
export interface AlertConfig {
  readonly rules: readonly Rule[];
  readonly mutes: readonly Mute[];
  readonly exclusions: readonly Exclusion[];
  /**
   * Exclusions deleted within `withdrawnExclusionKeptMs` (lib/alerts/model.ts), each with its `deletedAt`:
   * series that learned without their period learn it again.
   */
  readonly withdrawnExclusions?: readonly Exclusion[];
}

/** The configuration as a store holds it: exclusions marked deleted (`deletedAt`) are the withdrawn ones. */
export function storedConfig(rules: Rule[], mutes: Mute[], exclusions: Exclusion[]): AlertConfig {
  return {
    rules,
    mutes,
    exclusions: exclusions.filter((exclusion) => exclusion.deletedAt === undefined),
    withdrawnExclusions: exclusions.filter((exclusion) => exclusion.deletedAt !== undefined),
  };
}

/** The stored rules, with the built-in default rule added when the user has not stored their own version. */
export function effectiveRules(stored: readonly Rule[]): Rule[] {
  const rules = [...stored].sort((a, b) => a.id.localeCompare(b.id));
  return rules.some((rule) => rule.id === defaultRuleId) ? rules : [builtInDefaultRule, ...rules];
}

/**
 * The rules that apply to a series: every enabled rule whose selector matches it, and the default rule only
 * when no band rule of the user's matches (a series gets one band alert per problem, not two).
 */
export function applicableRules(rules: readonly Rule[], series: SeriesIdentity): Rule[] {
  const matching = rules.filter((rule) => rule.enabled && selects(rule.selector, series));
  const userBandRule = matching.some((rule) => rule.kind === 'band' && rule.id !== defaultRuleId);
  return matching.filter((rule) => rule.id !== defaultRuleId || !userBandRule);
}
