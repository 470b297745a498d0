/**
 * `npx tsx bench/dynamodb-packing.ts SCENARIO_DIR` (a folder written by
 * `node ../shared/scenarios/generate.mjs SCENARIO_DIR --seed 1 --weeks 1`)
 *
 * Bytes a point takes in the DynamoDB store's series-hour items, per scenario series (the packed attribute
 * only; DynamoDB adds the key attributes and 100 bytes per item): format 2 (lib/adapters/dynamodb-packing.ts)
 * beside format 1 (deflate of 4-byte time gaps and float64 values, rebuilt here as it was).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { hourStartOf, packPoints } from '../lib/adapters/dynamodb-packing.ts';
import type { TimedValue } from '../lib/ports/metric-store.ts';

const directory = join(process.argv[2] ?? 'scenarios', 'data', 'ops');

function packFormat1(points: readonly TimedValue[]): number {
  const bytes = Buffer.alloc(4 + points.length * 12);
  bytes.writeUInt32LE(points.length, 0);
  let previous = hourStartOf(points[0]?.timestamp ?? 0);
  for (const [i, point] of points.entries()) {
    bytes.writeUInt32LE(point.timestamp - previous, 4 + i * 4);
    bytes.writeDoubleLE(point.value, 4 + points.length * 4 + i * 8);
    previous = point.timestamp;
  }
  return deflateRawSync(bytes).length;
}

let total = { points: 0, format1: 0, format2: 0 };
console.log(
  '| series | points | format 1 bytes/point | format 2 bytes/point |\n| --- | ---: | ---: | ---: |',
);
for (const file of readdirSync(directory).sort()) {
  const points = readFileSync(join(directory, file), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [time, value] = line.split(',');
      return { timestamp: Date.parse(`${time}Z`), value: Number(value) };
    });
  const hours = new Map<number, TimedValue[]>();
  for (const point of points) {
    const hour = hourStartOf(point.timestamp);
    hours.set(hour, [...(hours.get(hour) ?? []), point]);
  }
  let format1 = 0;
  let format2 = 0;
  for (const hour of hours.values()) {
    format1 += packFormat1(hour);
    format2 += packPoints(hour).reduce((sum, part) => sum + part.length, 0);
  }
  const perPoint = (bytes: number) => (bytes / points.length).toFixed(2);
  console.log(`| ${file} | ${points.length} | ${perPoint(format1)} | ${perPoint(format2)} |`);
  total = {
    points: total.points + points.length,
    format1: total.format1 + format1,
    format2: total.format2 + format2,
  };
}
console.log(
  `| all | ${total.points} | ${(total.format1 / total.points).toFixed(2)} | ${(total.format2 / total.points).toFixed(2)} |`,
);
