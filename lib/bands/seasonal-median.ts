import { dayMs, hourMs, weekMs } from '../time.ts';
import {
  type BandEngine,
  type BandEngineFactory,
  type BandResult,
  type BandSettings,
  defaultBandSettings,
  type EngineState,
} from './engine.ts';
import { beyondEngineLimit, withinEngineLimit, withRealValue } from './finite.ts';
import { median, scaledMad } from './robust-statistics.ts';

const weeklySlotCapacity = 36;
const dailySlotCapacity = 48;
const recentCapacity = 60;
const engineName = 'seasonal-median/1';

/** The values one hour-of-day or hour-of-week slot has seen, and from how many periods (days or weeks). */
interface SlotHistory {
  values: number[];
  periods: number;
  lastPeriod: number;
}

interface SeasonalMedianState extends EngineState {
  settings: BandSettings;
  firstTimestamp: number | null;
  /** The smallest value seen (0 for kinds that cannot go negative); null before the first. */
  minimumSeen: number | null;
  weekly: Record<string, SlotHistory>;
  daily: Record<string, SlotHistory>;
  recent: number[];
}

/**
 * The walking skeleton's band engine: the median of the same hour of the week (or, with less than two weeks
 * of history, the same hour of the day, or the recent values) ± k scaled MADs, k set by the sensitivity.
 * Values found anomalous are learned clipped to the band's edge so that an outage does not widen the band.
 */
class SeasonalMedianEngine implements BandEngine {
  constructor(private readonly state: SeasonalMedianState) {}

  update(timestamp: number, value: number): BandResult {
    if (beyondEngineLimit(value))
      return withRealValue(this.update(timestamp, withinEngineLimit(value)), value);
    const { state } = this;
    const { settings } = state;
    state.firstTimestamp ??= timestamp;
    const weekSlot = slotOf(state.weekly, Math.floor((timestamp % weekMs) / hourMs));
    const daySlot = slotOf(state.daily, Math.floor((timestamp % dayMs) / hourMs));
    const reference =
      weekSlot.periods >= 2 ? weekSlot.values : daySlot.periods >= 1 ? daySlot.values : state.recent;

    const result =
      reference.length < 3 ? learning(timestamp, value) : this.judge(timestamp, value, reference);
    const learned = result.anomaly ? Math.min(Math.max(value, result.lower), result.upper) : value;
    remember(weekSlot, learned, Math.floor(timestamp / weekMs), weeklySlotCapacity);
    remember(daySlot, learned, Math.floor(timestamp / dayMs), dailySlotCapacity);
    state.recent.push(learned);
    if (state.recent.length > recentCapacity) state.recent.shift();
    const nonNegativeKind =
      settings.kind === 'count' || settings.kind === 'ratio' || settings.kind === 'percent';
    state.minimumSeen = Math.min(state.minimumSeen ?? value, value, nonNegativeKind ? 0 : value);
    return result;
  }

  toState(): EngineState {
    return structuredClone(this.state);
  }

  private judge(timestamp: number, value: number, reference: readonly number[]): BandResult {
    const { settings, firstTimestamp } = this.state;
    const expected = median(reference);
    const spreadFloor = Math.max(0.02 * Math.abs(expected), 0.5 * scaledMad(this.state.recent), 1e-6);
    const spread = Math.max(scaledMad(reference, expected), spreadFloor);
    const widthInSpreads = 6 - 4 * settings.sensitivity;
    const floor = (this.state.minimumSeen ?? -1) >= 0 ? 0 : Number.NEGATIVE_INFINITY;
    const lower = Math.max(expected - widthInSpreads * spread, floor);
    const upper = expected + widthInSpreads * spread;
    const distance = Math.abs(value - expected) / spread;
    const score =
      distance <= widthInSpreads
        ? (0.5 * distance) / widthInSpreads
        : 1 - 0.5 * Math.exp(-(distance - widthInSpreads) / widthInSpreads);
    const outside =
      (value > upper && settings.direction !== 'below') || (value < lower && settings.direction !== 'above');
    const experienced = timestamp - (firstTimestamp ?? timestamp) >= settings.minHistoryMs;
    return { timestamp, value, expected, lower, upper, score, anomaly: outside && experienced };
  }
}

const learning = (timestamp: number, value: number): BandResult => ({
  timestamp,
  value,
  expected: value,
  lower: value,
  upper: value,
  score: 0,
  anomaly: false,
});

function slotOf(slots: Record<string, SlotHistory>, slot: number): SlotHistory {
  const key = String(slot);
  let history = slots[key];
  if (!history) {
    history = { values: [], periods: 0, lastPeriod: -1 };
    slots[key] = history;
  }
  return history;
}

function remember(history: SlotHistory, value: number, period: number, capacity: number): void {
  if (history.lastPeriod !== period) {
    history.periods += 1;
    history.lastPeriod = period;
  }
  history.values.push(value);
  if (history.values.length > capacity) history.values.shift();
}

function freshState(settings: Partial<BandSettings> | undefined): SeasonalMedianState {
  return {
    engine: engineName,
    settings: { ...defaultBandSettings, ...settings },
    firstTimestamp: null,
    minimumSeen: null,
    weekly: {},
    daily: {},
    recent: [],
  };
}

export const seasonalMedianEngine: BandEngineFactory = {
  name: engineName,
  create: (settings) => new SeasonalMedianEngine(freshState(settings)),
  restore: (state, settings) =>
    new SeasonalMedianEngine(
      state?.engine === engineName ? (structuredClone(state) as SeasonalMedianState) : freshState(settings),
    ),
};
