#!/usr/bin/env node
// `npm run test:full-server [-- jest args]`: the integration suite against the full Temporal server
// on PostgreSQL instead of the dev server. Builds the server once (cached by version), sets up its
// schema in two fresh databases for this run, starts it on free loopback ports, runs jest's
// integration project with TEMPORAL_ADDRESS pointing at it, then stops it and drops the databases
// (BALLAST_KEEP_TEST_DB=1 keeps them); the server's log stays in .data/test/ when a test failed.
// First runs the Go unit tests of deploy/temporal-server (the authorizer), cheap once the server is
// built. Prints the time of each step. Runs after scripts/ensure.js.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const { rmSync } = require('node:fs');
const { join } = require('node:path');
const root = join(__dirname, '..');
const server = require(join(root, 'dist', 'infra', 'temporalServer.js'));
const { reachable } = require(join(root, 'dist', 'db', 'migrate.js'));
const { createLogger } = require(join(root, 'dist', 'lib', 'logger.js'));
const { goBinary } = require(join(root, 'dist', 'infra', 'temporal.js'));

const say = (msg) => process.stderr.write(`[ballast] ${msg}\n`);
const timings = [];
async function timed(step, fn) {
  const started = Date.now();
  try {
    return await fn();
  } finally {
    timings.push([step, (Date.now() - started) / 1000]);
  }
}

/** `go test` in deploy/temporal-server, with the build's flags so the compiled packages are reused. */
function goTests() {
  const go = goBinary();
  // Without our build in the Go cache (a prebuilt binary, or no Go), they would compile the server from scratch.
  if (!go || process.env.BALLAST_TEMPORAL_SERVER)
    return say('skipping the Go unit tests of deploy/temporal-server (no build of ours here)');
  const run = spawnSync(go, ['test', '-trimpath', '-vet=off', '-count=1', '.'], {
    cwd: server.serverSourceDir(),
    env: { ...process.env, GOFLAGS: '-mod=readonly' },
    stdio: 'inherit',
  });
  if (run.status !== 0) throw new Error('the Go unit tests of deploy/temporal-server failed');
}

function runJest(address, binary, args) {
  return new Promise((resolve, reject) => {
    const jest = spawn(process.execPath, [require.resolve('jest/bin/jest'), ...args, '--selectProjects', 'integration'], {
      cwd: root,
      stdio: 'inherit',
      // The binary too, for the tests that start a server of their own (authorization).
      env: { ...process.env, TEMPORAL_ADDRESS: address, BALLAST_TEST_TEMPORAL_SERVER: binary },
    });
    jest.on('error', reject);
    jest.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function main() {
  const logger = createLogger('full-server', process.env.LOG_LEVEL ?? 'info');
  const postgresUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  if (!(await reachable(postgresUrl))) throw new Error(`no Postgres reachable at ${postgresUrl}: start it or set DATABASE_URL`);
  const run = `${process.pid}`;
  const databases = { postgresUrl, main: `temporal_test_${run}`, visibility: `temporal_visibility_test_${run}` };
  const logFile = join(root, '.data', 'test', `temporal-server-${run}.log`);

  const binary = await timed('build (cached after the first run)', () => server.ensureTemporalServer(logger));
  await timed('go test (authorizer)', goTests);
  let running;
  const cleanUp = async () => {
    if (running) await timed('server stop', () => running.stop());
    running = undefined;
    if (!process.env.BALLAST_KEEP_TEST_DB) await server.dropTemporalDatabases(databases).catch(() => undefined);
  };
  process.once('SIGINT', () => void cleanUp().finally(() => process.exit(130)));
  let code = 1;
  try {
    await timed('schema setup', () => server.setupTemporalSchema(binary, databases, logger));
    const ports = await server.freeServerPorts();
    running = await timed('server start', () => server.startTemporalServer({ binary, databases, ports, logFile, logger }));
    say(
      `Temporal ${server.temporalServerVersion()} on Postgres at ${running.address}, ${running.historyShards} history shards; log ${logFile}`,
    );
    code = await timed('integration suite', () => runJest(running.address, binary, process.argv.slice(2)));
    if (code === 0) rmSync(logFile, { force: true }); // kept only when something failed
  } finally {
    await cleanUp();
    say(`full server run: ${timings.map(([step, s]) => `${step} ${s.toFixed(1)}s`).join(', ')}`);
  }
  return code;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    say(`test:full-server failed: ${err && err.message ? err.message : err}`);
    process.exit(1);
  },
);
