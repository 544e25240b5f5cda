/**
 * Integration tests run against real infrastructure: a Temporal dev server (in-memory, on a free
 * loopback port) and a freshly created, migrated Postgres database. Both are started once per run;
 * tests find them through BALLAST_TEST_TEMPORAL_ADDRESS and BALLAST_TEST_DATABASE_URL.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { ensureDatabase, migrate, reachable } from '../../db/migrate';
import { createLogger } from '../../lib/logger';
import { ensureTemporalCli, freePort, startDevServer } from '../../infra/temporal';
import { SEARCH_ATTRIBUTES } from '../../workflows/searchAttributes';

const ROOT = join(__dirname, '..', '..');

export default async function globalSetup(): Promise<void> {
  const logger = createLogger('test-setup', process.env.LOG_LEVEL ?? 'warn');
  const base = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  if (!(await reachable(base))) {
    throw new Error(`integration tests need Postgres: none reachable at ${base}. Start it (see README) or set DATABASE_URL.`);
  }
  const url = new URL(base);
  url.pathname = `/ballast_test_${process.pid}`;
  const databaseUrl = url.toString();
  await ensureDatabase(databaseUrl, logger);
  await migrate(databaseUrl, logger);

  let temporalAddress = process.env.TEMPORAL_ADDRESS;
  if (!temporalAddress) {
    const cli = await ensureTemporalCli(logger);
    const server = await startDevServer({
      cli,
      port: await freePort(),
      uiPort: await freePort(),
      searchAttributes: SEARCH_ATTRIBUTES,
      logger,
    });
    temporalAddress = server.address;
    (globalThis as Record<string, unknown>).__ballastTemporal = server;
  }

  const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quietBundlerLogger() });
  const dir = join(ROOT, '.data', 'test');
  mkdirSync(dir, { recursive: true });
  const bundlePath = join(dir, `workflow-bundle-${process.pid}.js`);
  writeFileSync(bundlePath, bundle.code);

  process.env.BALLAST_TEST_DATABASE_URL = databaseUrl;
  process.env.BALLAST_TEST_TEMPORAL_ADDRESS = temporalAddress;
  process.env.BALLAST_TEST_WORKFLOW_BUNDLE = bundlePath;
  // Gates and workers the tests spawn serve /metrics on a free port: test runs on one machine never collide.
  process.env.BALLAST_METRICS_PORT ??= '0';
}

function quietBundlerLogger() {
  const noop = () => undefined;
  return { trace: noop, debug: noop, info: noop, warn: noop, error: (msg: string) => process.stderr.write(`${msg}\n`), log: noop };
}
