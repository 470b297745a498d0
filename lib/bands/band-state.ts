/**
 * The band's state and how it is stored. Since normalcy/8, in the compact form of packed-state.ts (written into
 * the engine's one string): the scalars and episodes as numbers (noise units and edges as float32), the daily
 * profile in 16-bit fixed point, the other arrays (noise by hour, weekdays, tails) as the float32s they are,
 * zeros left out. normalcy/7 stored
 * float64 scalars, float32 arrays and float64 episodes, each as base64 ({@link decodeBandState} still reads it:
 * the same numbers, so an upgraded band goes on exactly where it was). A stored band that is not a whole one
 * reads as none: the band then starts afresh.
 */
import { type StateReader, type StateWriter, toFloat32 } from './packed-state.ts';
import { allFinite, base64Length, decodeInto, scratchFloat64s } from './stored-bytes.ts';
import { tailRungs } from './tails.ts';

/** Daily profile slots (5 minutes each), and noise slots (an hour each). */
export const dailySlots = 288;
export const scaleSlots = 24;

/** The scalars of a band, in the order they are stored. */
export function freshScalars() {
  // One object literal: every band's scalars share one hidden class (restored ones too), so update() stays fast.
  return {
    points: 0,
    first: 0,
    last: 0,
    interval: 0,
    offset: 0,
    smallest: Number.MAX_VALUE,
    level: 0,
    daysSeen: 0,
    scale: 0,
    today: -1,
    todaySum: 0,
    todayBuckets: 0,
    errorNone: 0,
    errorDaily: 0,
    season: 0,
    counted: 0,
    unit: 1,
    previousZ: 0,
    earlierZ: 0,
    side: 0,
    since: 0,
    insideRun: 0,
    departureSum: 0,
    departureCount: 0,
    departureMax: 0,
    recent0: 0,
    recent1: 0,
    recent2: 0,
    formerLevel: 0,
    formerUntil: 0,
    edgeUp: 0,
    edgeDown: 0,
    extremeUp: 0,
    extremeDown: 0,
    lastValue: 0,
    repeatRun: 0,
    repeatFrequency: 0,
    largest: -Number.MAX_VALUE,
    backRun: 0,
    outsideSince: 0,
    eventSide: 0,
    eventStart: 0,
    eventEnd: 0,
    eventMax: 0,
    scaleCount: 0,
    meanZ: 0,
    sustainUp: 0,
    sustainDown: 0,
    countSeen: 0,
    countExpected: 0,
    countSpread: 0,
  };
}
export type Scalars = ReturnType<typeof freshScalars>;
const scalarNames = Object.keys(freshScalars()) as (keyof Scalars)[];
/** How many scalars a band had before normalcy/9 added the running count (the first ones, in this order). */
const scalarsBefore9 = scalarNames.indexOf('countSeen');

/** The arrays of a band, stored as float32s in this order. */
const arrayLengths = {
  daily: dailySlots,
  dailyScale: scaleSlots,
  weekday: 7,
  /** Each weekday's last three deviations (newest first), and how many of them it has had (up to three). */
  weekdayMeans: 21,
  weekdayCount: 7,
  dayMeans: 7,
  up: tailRungs,
  down: tailRungs,
  pairUp: tailRungs,
  pairDown: tailRungs,
  sustainedUp: tailRungs,
  sustainedDown: tailRungs,
} as const;
export type Arrays = Record<keyof typeof arrayLengths, Float32Array> & { readonly all: Float32Array };
/** Where each array starts in the one buffer they share, and the buffer's length. */
const arrayLayout = Object.entries(arrayLengths).map(([name, length], index, entries) => ({
  name: name as keyof typeof arrayLengths,
  offset: entries.slice(0, index).reduce((sum, [, before]) => sum + before, 0),
  length,
}));
const arraysLength = Object.values(arrayLengths).reduce((sum, length) => sum + length, 0);

/** The arrays as views of one buffer (`all`, new unless given): restored and stored without copying. */
export function freshArrays(restored?: Float32Array): Arrays {
  const all = restored ?? new Float32Array(arraysLength);
  const arrays = { all } as { all: Float32Array } & Partial<Record<keyof typeof arrayLengths, Float32Array>>;
  for (const { name, offset, length } of arrayLayout) arrays[name] = all.subarray(offset, offset + length);
  // Noise by hour starts at the series' noise.
  if (!restored) arrays.dailyScale?.fill(1);
  return arrays as Arrays;
}

/** A departure the series made: start, end, and its largest deviation (signed). Kept as three float64s. */
export const episodeFields = 3;

/** A band's whole state: its scalars, its arrays and its remembered runs (start, end, size; oldest first). */
export interface BandState {
  readonly s: Scalars;
  readonly a: Arrays;
  readonly episodes: number[];
}

/** A normalcy/7 band as stored: base64 of its float64 scalars, float32 arrays and float64 episodes. */
export interface StoredBand {
  readonly scalars: string;
  readonly arrays: string;
  readonly episodes: string;
}

export const freshBandState = (): BandState => ({ s: freshScalars(), a: freshArrays(), episodes: [] });

/** Everything learned forgotten, in place. */
export function resetBandState(state: BandState): void {
  Object.assign(state.s, freshScalars());
  Object.assign(state.a, freshArrays());
  state.episodes.length = 0;
}

/** Timestamps are written as offsets from the band's last one (see packed-state.ts). */
const anchorOf = (s: Scalars): number => s.last;

/**
 * Scalars stored as float32: noise units, edges and running means of residuals, whose last digits are far
 * below anything the band measures (levels, sums, timestamps and the values compared for equality keep all of
 * theirs).
 */
const float32Scalars: ReadonlySet<keyof Scalars> = new Set([
  'interval',
  'scale',
  'errorNone',
  'errorDaily',
  'counted',
  'unit',
  'previousZ',
  'earlierZ',
  'departureMax',
  'edgeUp',
  'edgeDown',
  'extremeUp',
  'extremeDown',
  'repeatFrequency',
  'eventMax',
  'meanZ',
  'sustainUp',
  'sustainDown',
  'countSeen',
  'countExpected',
  'countSpread',
] as const);
const storedAsFloat32 = scalarNames.map((name) => float32Scalars.has(name));

/** The band into `writer`, in the order {@link readBandState} reads it. O(state). */
export function writeBandState({ s, a, episodes }: BandState, writer: StateWriter): void {
  const scalars = scratchScalars;
  for (let index = 0; index < scalarNames.length; index++) {
    const value = s[scalarNames[index] ?? 'points'];
    scalars[index] = storedAsFloat32[index] ? toFloat32(value) : value;
  }
  writer.float64(anchorOf(s));
  writer.numbers(scalars, anchorOf(s));
  writer.profile(a.daily);
  // The rest of the arrays follow the daily profile in their one buffer.
  writer.counts(a.all.subarray(dailySlots));
  writer.byte(episodes.length / episodeFields);
  // An episode's size (its third field) widens the band by 110 % of it: float32 is plenty.
  for (let index = 0; index < episodes.length; index++)
    scratchEpisodes[index] =
      index % episodeFields === 2 ? toFloat32(episodes[index] ?? 0) : (episodes[index] ?? 0);
  writer.numbers(scratchEpisodes.subarray(0, episodes.length), anchorOf(s));
}

const scratchEpisodes = new Float64Array(64 * episodeFields);

const scratchScalars = new Float64Array(scalarNames.length);

/**
 * A band written by {@link writeBandState}; undefined when it is not a whole one. O(state). A normalcy/8 band
 * (`before9`) has no running count: it starts at zero, as a fresh band's does.
 */
export function readBandState(reader: StateReader, before9 = false): BandState | undefined {
  const anchor = reader.float64();
  const scalarValues = scratchScalars;
  scalarValues.fill(0);
  if (!reader.numbers(before9 ? scalarValues.subarray(0, scalarsBefore9) : scalarValues, anchor))
    return undefined;
  const all = new Float32Array(arraysLength);
  reader.profile(all.subarray(0, dailySlots));
  if (!reader.counts(all.subarray(dailySlots))) return undefined;
  const episodes: number[] = new Array(reader.byte() * episodeFields).fill(0);
  if (!reader.numbers(episodes, anchor)) return undefined;
  const scalars = freshScalars();
  for (let index = 0; index < scalarNames.length; index++) {
    scalars[scalarNames[index] ?? 'points'] = scalarValues[index] ?? 0;
  }
  return { s: scalars, a: freshArrays(all), episodes };
}

/** A normalcy/7 band read back; undefined when it is not a whole one (the band then starts afresh). */
export function decodeBandState(stored: StoredBand): BandState | undefined {
  const arrays = new Float32Array(arraysLength);
  const arrayText = stored.arrays;
  if (base64Length(arrayText) !== arrays.byteLength) return undefined;
  if (!decodeInto(arrayText, arrays.buffer, 0, arrays.byteLength) || !allFinite(arrays)) return undefined;
  const episodeValues = scratchFloat64s(stored.episodes);
  if (!episodeValues || episodeValues.length % episodeFields !== 0) return undefined;
  const episodes = Array.from(episodeValues);
  // Read last: the scratch it shares with the episodes is read into the scalars at once.
  const scalarValues = scratchFloat64s(stored.scalars);
  if (!scalarValues || scalarValues.length !== scalarsBefore9) return undefined;
  const scalars = freshScalars();
  for (let index = 0; index < scalarsBefore9; index++) {
    scalars[scalarNames[index] ?? 'points'] = scalarValues[index] ?? 0;
  }
  return { s: scalars, a: freshArrays(arrays), episodes };
}
