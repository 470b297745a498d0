import {
  type BandEngine,
  type BandEngineFactory,
  type BandResult,
  type BandSettings,
  defaultBandSettings,
  type EngineState,
} from './engine.ts';

// PROTOTYPE v1 — to be split into one-concept files once the algorithm settles.

export interface NormalcyTuning {
  levelAlpha: number;
  scaleAlpha: number;
  huber: number;
  shortAlpha: number;
  histogramAlpha: number;
  priorWeight: number;
  tailExponent: number;
  suppressHalfLife: number;
  suppressTrigger: number;
  surpriseAtEdge: number;
  dailySlots: number;
  profileDayAlpha: number;
  slowAlpha: number;
  seasonErrorAlpha: number;
  dailyStrength: number;
  weeklyGain: number;
  longAlpha: number;
  scaleFloor: number;
  transform: boolean;
  transformScale: number;
  useLong: boolean;
  longDevAlpha: number;
  longClip: number;
}

export const defaultTuning: NormalcyTuning = {
  levelAlpha: 0.2,
  scaleAlpha: 0.02,
  huber: 3,
  shortAlpha: 0.25,
  histogramAlpha: 1 / 3000,
  priorWeight: 20,
  tailExponent: 3,
  suppressHalfLife: 50,
  suppressTrigger: 3,
  surpriseAtEdge: 4,
  dailySlots: 48,
  profileDayAlpha: 0.25,
  slowAlpha: 0.01,
  seasonErrorAlpha: 0.003,
  dailyStrength: 0.25,
  weeklyGain: 0.85,
  longAlpha: 0.001,
  scaleFloor: 0.05,
  transform: false,
  transformScale: 0.5,
  useLong: true,
  longDevAlpha: 0.003,
  longClip: 5,
};

const dayMs = 86_400_000;
const weekMs = 7 * dayMs;
const weeklySlots = 168;

/** Reads a circular profile at fractional position `position` (in slots), linearly interpolated. */
function readProfile(profile: readonly number[], position: number): number {
  const size = profile.length;
  const left = Math.floor(position) % size;
  const right = (left + 1) % size;
  const f = position - Math.floor(position);
  return (profile[left] ?? 0) * (1 - f) + (profile[right] ?? 0) * f;
}

/** Moves the two slots around `position` toward `target`, each by its interpolation weight. */
function learnProfile(
  profile: number[],
  visits: number[],
  position: number,
  target: number,
  alpha: number,
): void {
  const size = profile.length;
  const left = Math.floor(position) % size;
  const right = (left + 1) % size;
  const f = position - Math.floor(position);
  for (const [slot, weight] of [
    [left, 1 - f],
    [right, f],
  ] as const) {
    if (weight <= 0) continue;
    const seen = (visits[slot] ?? 0) + weight;
    visits[slot] = Math.min(seen, 1000);
    const rate = Math.max(alpha, weight / seen) * weight;
    profile[slot] = (profile[slot] ?? 0) + Math.min(1, rate) * (target - (profile[slot] ?? 0));
  }
}

const binEdges = [1, 1.5, 2.25, 3.4, 5, 7.6, 11.4, 17, 25.6, 38, 58, 86, 130, 195, 292, 438, 657, 985];
const priorTail = binEdges.map((z) => 0.5 * erfc(z / Math.SQRT2));

function erfc(x: number): number {
  // Numerical Recipes erfc, fractional error < 1.2e-7.
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

interface State extends EngineState {
  settings: BandSettings;
  n: number;
  firstTimestamp: number;
  lastTimestamp: number;
  level: number;
  scale: number;
  shortZ: number;
  total: number;
  upPoint: number[];
  downPoint: number[];
  upShort: number[];
  downShort: number[];
  incident: number;
  gapMs: number;
  slow: number;
  longLevel: number;
  longScale: number;
  daily: number[];
  dailyVisits: number[];
  weekly: number[];
  weeklyVisits: number[];
  errorNone: number;
  errorDaily: number;
  errorWeekly: number;
  season: number;
  minNonZero: number;
  typical: number;
  longDeviation: number;
  upLong: number[];
  downLong: number[];
}

/** Tail probability of `z` (≥ 0) from decayed exceedance counts, with a Gaussian prior. */
function tailProbability(
  counts: readonly number[],
  total: number,
  z: number,
  tuning: NormalcyTuning,
): number {
  return Math.max(empiricalTail(counts, total, z, tuning), 0.5 * erfc(z / Math.SQRT2));
}

function empiricalTail(counts: readonly number[], total: number, z: number, tuning: NormalcyTuning): number {
  if (z <= (binEdges[0] ?? 1)) return 1;
  const w = tuning.priorWeight;
  let previousZ = binEdges[0] ?? 1;
  let previousP = ((counts[0] ?? 0) + w * (priorTail[0] ?? 0)) / (total + w);
  for (let k = 1; k < binEdges.length; k++) {
    const edge = binEdges[k] ?? 1;
    const p = ((counts[k] ?? 0) + w * (priorTail[k] ?? 0)) / (total + w);
    const minP = 1e-12;
    if (z <= edge) {
      const f = Math.log(z / previousZ) / Math.log(edge / previousZ);
      return Math.exp(Math.log(Math.max(previousP, minP)) * (1 - f) + Math.log(Math.max(p, minP)) * f);
    }
    previousZ = edge;
    previousP = p;
  }
  return previousP * (previousZ / z) ** tuning.tailExponent;
}

function count(counts: number[], z: number, decay: number): void {
  for (let k = 0; k < binEdges.length; k++) {
    counts[k] = (counts[k] ?? 0) * decay + (z > (binEdges[k] ?? 0) ? 1 : 0);
  }
}

const engineName = 'normalcy/0';

class NormalcyEngine implements BandEngine {
  constructor(
    private readonly state: State,
    private readonly tuning: NormalcyTuning,
  ) {}

  update(timestamp: number, rawValue: number): BandResult {
    const s = this.state;
    const t = this.tuning;
    const magnitude = Math.abs(rawValue);
    if (magnitude > 0) s.minNonZero = s.minNonZero === 0 ? magnitude : Math.min(s.minNonZero, magnitude);
    s.typical =
      s.n === 0
        ? magnitude
        : s.typical + 0.01 * (Math.min(magnitude, 3 * s.typical + s.minNonZero) - s.typical);
    const c = Math.max(t.transformScale * s.typical, s.minNonZero, 1e-12);
    const value = t.transform ? Math.asinh(rawValue / c) : rawValue;
    if (s.n === 0) {
      s.firstTimestamp = timestamp;
      s.lastTimestamp = timestamp;
      s.level = value;
      s.slow = value;
      s.longLevel = value;
      s.scale = Math.abs(value) * 0.01 + 1e-9;
    }
    const gap = timestamp - s.lastTimestamp;
    if (gap > 0) s.gapMs = s.gapMs === 0 ? gap : s.gapMs + 0.05 * (Math.min(gap, 4 * s.gapMs) - s.gapMs);
    s.n += 1;
    s.lastTimestamp = Math.max(s.lastTimestamp, timestamp);
    const history = s.lastTimestamp - s.firstTimestamp;
    const dayPosition = ((timestamp % dayMs) / dayMs) * t.dailySlots;
    const weekPosition = ((timestamp % weekMs) / weekMs) * weeklySlots;
    const dailyPart = readProfile(s.daily, dayPosition);
    const weeklyPart = readProfile(s.weekly, weekPosition);
    // Which seasonality explains the series: compared on one-step errors around the slow level.
    const slowError = value - s.slow;
    s.errorNone += t.seasonErrorAlpha * (Math.abs(slowError) - s.errorNone);
    s.errorDaily += t.seasonErrorAlpha * (Math.abs(slowError - dailyPart) - s.errorDaily);
    s.errorWeekly += t.seasonErrorAlpha * (Math.abs(slowError - dailyPart - weeklyPart) - s.errorWeekly);
    const seasonal = s.season === 2 ? dailyPart + weeklyPart : s.season === 1 ? dailyPart : 0;

    const expected = s.level + seasonal;
    const scale = Math.max(s.scale, 1e-9 + Math.abs(expected) * 1e-6, t.scaleFloor * s.longScale);
    const error = value - expected;
    const z = error / (1.2533 * scale);
    s.shortZ = s.shortZ * (1 - t.shortAlpha) + z * t.shortAlpha;
    const shortNormalised = s.shortZ * Math.sqrt((2 - t.shortAlpha) / t.shortAlpha);

    const pPoint =
      z >= 0 ? tailProbability(s.upPoint, s.total, z, t) : tailProbability(s.downPoint, s.total, -z, t);
    const pShort =
      shortNormalised >= 0
        ? tailProbability(s.upShort, s.total, shortNormalised, t)
        : tailProbability(s.downShort, s.total, -shortNormalised, t);
    const longError = value - (s.slow + seasonal);
    const longDeviation = Math.max(s.longDeviation, 1e-12, t.scaleFloor * s.longScale);
    const zLong = longError / (1.2533 * longDeviation);
    const pLong = t.useLong
      ? zLong >= 0
        ? tailProbability(s.upLong, s.total, zLong, t)
        : tailProbability(s.downLong, s.total, -zLong, t)
      : 1;
    s.longDeviation =
      s.longDeviation === 0
        ? Math.abs(longError)
        : s.longDeviation +
          t.longDevAlpha * (Math.min(Math.abs(longError), t.longClip * s.longDeviation) - s.longDeviation);
    const surprise = -Math.log10(Math.max(Math.min(pPoint, pShort, pLong), 1e-300));

    const decay = 1 - t.histogramAlpha;
    s.total = s.total * decay + 1;
    count(s.upPoint, z, decay);
    count(s.downPoint, -z, decay);
    count(s.upShort, shortNormalised, decay);
    count(s.downShort, -shortNormalised, decay);
    count(s.upLong, zLong, decay);
    count(s.downLong, -zLong, decay);

    const clipped = Math.max(-t.huber * 1.2533 * scale, Math.min(t.huber * 1.2533 * scale, error));
    s.level += t.levelAlpha * clipped;
    s.scale += t.scaleAlpha * (Math.abs(clipped) - s.scale);
    const clippedValue = expected + clipped;
    s.slow += t.slowAlpha * (clippedValue - s.slow);
    s.longLevel += t.longAlpha * (value - s.longLevel);
    s.longScale += t.longAlpha * (Math.abs(value - s.longLevel) - s.longScale);
    const gapMs = s.gapMs || dayMs / t.dailySlots;
    const dailyAlpha = Math.min(0.5, (t.profileDayAlpha * gapMs * t.dailySlots) / dayMs);
    learnProfile(s.daily, s.dailyVisits, dayPosition, clippedValue - s.slow, dailyAlpha);
    const weeklyAlpha = Math.min(0.5, (t.profileDayAlpha * 7 * gapMs * weeklySlots) / weekMs);
    learnProfile(s.weekly, s.weeklyVisits, weekPosition, clippedValue - s.slow - dailyPart, weeklyAlpha);
    const previousSeason = s.season;
    s.season =
      history >= 2 * dayMs && s.errorDaily < (1 - t.dailyStrength) * s.errorNone
        ? history >= 14 * dayMs && s.errorWeekly < t.weeklyGain * s.errorDaily
          ? 2
          : 1
        : 0;
    if (s.season !== previousSeason) {
      // Keep the expected value continuous when the seasonal model changes.
      const next = s.season === 2 ? dailyPart + weeklyPart : s.season === 1 ? dailyPart : 0;
      s.level += seasonal - next;
    }

    // Suppression: during an incident a new alert needs more surprise than the decayed incident peak.
    const effective = surprise - s.incident;
    if (surprise >= t.suppressTrigger) s.incident = Math.max(s.incident, surprise);
    s.incident *= 0.5 ** (1 / t.suppressHalfLife);
    const score = Math.max(0, effective) / (Math.max(0, effective) + t.surpriseAtEdge);
    const width = 3 * 1.2533 * scale;
    return {
      timestamp,
      value,
      expected,
      lower: expected - width,
      upper: expected + width,
      score,
      anomaly: score >= 0.5,
      debug: {
        zl: +zLong.toFixed(2),
        pL: +(-Math.log10(pLong)).toFixed(2),
        z: +z.toFixed(2),
        sh: +shortNormalised.toFixed(2),
        pP: +(-Math.log10(pPoint)).toFixed(2),
        pS: +(-Math.log10(pShort)).toFixed(2),
        inc: +s.incident.toFixed(2),
        season: s.season,
        scale: +scale.toPrecision(3),
      },
    } as BandResult;
  }

  toState(): EngineState {
    return structuredClone(this.state);
  }
}

function freshState(settings: Partial<BandSettings> | undefined): State {
  const bins = (): number[] => binEdges.map(() => 0);
  return {
    engine: engineName,
    settings: { ...defaultBandSettings, ...settings },
    n: 0,
    firstTimestamp: 0,
    lastTimestamp: 0,
    level: 0,
    scale: 0,
    shortZ: 0,
    total: 0,
    upPoint: bins(),
    downPoint: bins(),
    upShort: bins(),
    downShort: bins(),
    incident: 0,
    gapMs: 0,
    slow: 0,
    longLevel: 0,
    longScale: 0,
    daily: Array.from({ length: defaultTuning.dailySlots }, () => 0),
    dailyVisits: Array.from({ length: defaultTuning.dailySlots }, () => 0),
    weekly: Array.from({ length: weeklySlots }, () => 0),
    weeklyVisits: Array.from({ length: weeklySlots }, () => 0),
    errorNone: 0,
    errorDaily: 0,
    errorWeekly: 0,
    season: 0,
    minNonZero: 0,
    typical: 0,
    longDeviation: 0,
    upLong: bins(),
    downLong: bins(),
  };
}

export function normalcyEngineWith(tuning: NormalcyTuning): BandEngineFactory {
  return {
    name: engineName,
    create: (settings) => new NormalcyEngine(freshState(settings), tuning),
    restore: (state, settings) =>
      new NormalcyEngine(
        state?.engine === engineName ? (structuredClone(state) as State) : freshState(settings),
        tuning,
      ),
  };
}

export const normalcyEngine = normalcyEngineWith(defaultTuning);
