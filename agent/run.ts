/**
 * `npm run agent`: starts etsy's statsd daemon with the Normalcy backend. The backend (TypeScript) is bundled
 * to a CommonJS file, because statsd loads backends with require(); then statsd runs in this process.
 *
 * Environment: NORMALCY_URL (default http://127.0.0.1:8080), NORMALCY_API_KEY (default: the local server's
 * key in NORMALCY_DATA_DIR/api-key), STATSD_PORT (UDP, default 8125), STATSD_MGMT_PORT (TCP, default 8126),
 * FLUSH_INTERVAL_MS (default 10000), STATSD_PERCENTILES (default 90,99), NORMALCY_MAX_QUEUED_FLUSHES (360).
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));

export interface AgentSettings {
  readonly url: string;
  readonly apiKey: string;
  readonly statsdPort: number;
  readonly managementPort: number;
  readonly flushIntervalMs: number;
  readonly percentiles: readonly number[];
  readonly maxQueuedFlushes: number;
}

export function settingsFromEnvironment(env: NodeJS.ProcessEnv = process.env): AgentSettings {
  const apiKey = env.NORMALCY_API_KEY || localKey(env);
  if (!apiKey) {
    throw new Error(
      'set NORMALCY_API_KEY (or start the local server first: npm start writes .normalcy/api-key)',
    );
  }
  return {
    url: env.NORMALCY_URL || 'http://127.0.0.1:8080',
    apiKey,
    statsdPort: Number(env.STATSD_PORT || 8125),
    managementPort: Number(env.STATSD_MGMT_PORT || 8126),
    flushIntervalMs: Number(env.FLUSH_INTERVAL_MS || 10_000),
    percentiles: (env.STATSD_PERCENTILES || '90,99').split(',').map(Number),
    maxQueuedFlushes: Number(env.NORMALCY_MAX_QUEUED_FLUSHES || 360),
  };
}

/** Bundles the backend and writes a statsd configuration beside it; returns the configuration's path. */
export function prepareAgent(
  settings: AgentSettings,
  directory = mkdtempSync(join(tmpdir(), 'normalcy-agent-')),
) {
  const backendFile = join(directory, 'normalcy-statsd-backend.cjs');
  buildSync({
    entryPoints: [join(here, 'statsd-backend.ts')],
    outfile: backendFile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'warning',
  });
  const config = {
    port: settings.statsdPort,
    mgmt_port: settings.managementPort,
    mgmt_address: '127.0.0.1',
    flushInterval: settings.flushIntervalMs,
    percentThreshold: settings.percentiles,
    backends: [backendFile],
    automaticConfigReload: false,
    normalcy: { url: settings.url, apiKey: settings.apiKey, maxQueuedFlushes: settings.maxQueuedFlushes },
  };
  const configFile = join(directory, 'statsd-config.js');
  writeFileSync(configFile, JSON.stringify(config, null, 2), { mode: 0o600 });
  return configFile;
}

function localKey(env: NodeJS.ProcessEnv): string | undefined {
  const file = join(resolve(env.NORMALCY_DATA_DIR || '.normalcy'), 'api-key');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const settings = settingsFromEnvironment();
  const configFile = prepareAgent(settings);
  console.log(
    `statsd listening on UDP ${settings.statsdPort}, flushing every ${settings.flushIntervalMs} ms to ${settings.url}`,
  );
  process.argv[2] = configFile;
  createRequire(import.meta.url)('statsd/stats.js');
}
