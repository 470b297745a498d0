import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The NAB subset shipped with the tests (31 series, labels, four reference detectors, official scores). */
export const nabFixtureDir = fileURLToPath(new URL('../../fixtures/nab', import.meta.url));
export const nabDataDir = `${nabFixtureDir}/data`;
export const nabLabelsFile = `${nabFixtureDir}/labels/combined_windows.json`;
export const nabReferenceDir = `${nabFixtureDir}/reference`;

if (!existsSync(nabDataDir)) {
  throw new Error(`NAB fixtures missing at ${nabFixtureDir}: they are part of the repository, restore them`);
}
