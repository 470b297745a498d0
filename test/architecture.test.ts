import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const config = join(root, '.dependency-cruiser.cjs');
const sourceFolders = ['lib', 'functions', 'cdk', 'bench', 'scripts', 'dashboard', 'agent', 'test'];

/** dependency-cruiser's CLI on `folders` of `cwd` with the repository's rules: its exit status and report. */
function cruise(cwd: string, folders: readonly string[]): { status: number | null; report: string } {
  const result = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs'),
      '--config',
      config,
      '--output-type',
      'err',
      ...folders,
    ],
    { cwd, encoding: 'utf8' },
  );
  return { status: result.status, report: `${result.stdout}${result.stderr}` };
}

describe('the import rules (.dependency-cruiser.cjs)', () => {
  it('hold for the whole repository: no loop, no import upward or sideways between layers', () => {
    const { status, report } = cruise(root, sourceFolders);
    // The report lists each violation with its rule and the import, e.g.
    // "error lib-imports-no-program: lib/ingest/accept.ts → functions/ingest.ts".
    expect(report).toContain('no dependency violations found');
    expect(status, report).toBe(0);
  });

  const scratch = mkdtempSync(join(tmpdir(), 'normalcy-imports-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(scratch, path)), { recursive: true });
    writeFileSync(join(scratch, path), text);
  };

  it('fail on an upward import, an impure engine, a driver outside the adapters and a loop', () => {
    write(
      'tsconfig.json',
      JSON.stringify({
        compilerOptions: { module: 'NodeNext', allowImportingTsExtensions: true, noEmit: true },
      }),
    );
    write('functions/ingest.ts', 'export const handler = 1;\n');
    write(
      'lib/ingest/accept.ts',
      "import { handler } from '../../functions/ingest.ts';\nexport const a = handler;\n",
    );
    write('lib/bands/engine.ts', "import { readFileSync } from 'node:fs';\nexport const b = readFileSync;\n");
    write('lib/query/read.ts', "import { p } from './parameters.ts';\nexport const r = p;\n");
    write('lib/query/parameters.ts', "import { r } from './read.ts';\nexport const p = () => r;\n");
    symlinkSync(join(root, 'node_modules'), join(scratch, 'node_modules'));
    write('lib/alerts/store.ts', "import Database from 'better-sqlite3';\nexport const s = Database;\n");
    write('test/helper.ts', 'export const helper = 1;\n');
    write('bench/run.ts', "import { helper } from '../test/helper.ts';\nexport const run = helper;\n");

    const { status, report } = cruise(scratch, ['lib', 'functions', 'bench', 'test']);

    expect(report).toContain('lib-imports-no-program: lib/ingest/accept.ts → functions/ingest.ts');
    expect(report).toContain('engine-is-pure: lib/bands/engine.ts → fs');
    expect(report).toContain('lib-has-no-io: lib/bands/engine.ts → fs');
    expect(report).toContain('no-circular: lib/query/parameters.ts');
    expect(report).toMatch(
      /drivers-only-in-adapters: lib\/alerts\/store\.ts → \S*node_modules\/better-sqlite3\//,
    );
    expect(report).toContain('tools-not-on-tests: bench/run.ts → test/helper.ts');
    expect(status).not.toBe(0);
  });
});
