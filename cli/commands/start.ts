/** `ballast start` (what `npm start` runs): the whole system on this machine, wired in processes/all.ts. */
import type { Command } from 'commander';
import { runAllInOne } from '../../processes/all';
import { DEFAULT_GATE_METRICS_PORT } from '../../processes/metricsEndpoint';
import { type MetricsFlags, addMetricsOptions, metricsListen } from '../metricsFlags';
import { environmentHelp } from '../context';
import { integer, option, positiveInteger } from '../flags';
import { addGateSecurityFlags, type GateSecurityFlags, gateSecuritySettings } from '../gateFlags';

interface StartFlags extends GateSecurityFlags, MetricsFlags {
  readonly portfolio: string;
  readonly intervalMs: number;
  readonly gateHost: string;
  readonly gatePort: number;
  readonly ordersPerSecond: number;
  readonly demo: boolean;
  readonly buildId?: string;
  readonly consoleHost: string;
  readonly consolePort: number;
  readonly consoleUsers?: string;
}

export function define(command: Command): void {
  addGateSecurityFlags(command)
    .description(
      'Run everything on this machine: Postgres and a Temporal dev server (unless DATABASE_URL / TEMPORAL_ADDRESS ' +
        'point at running ones), the worker, the pre-trade gate, a demo portfolio loop on a synthetic feed (one bar ' +
        'per second) and a demo order flow, with a live status line on stdout. Keys: c crisis, n calm, q quit. ' +
        'Ctrl-C stops everything cleanly; the loop resumes on the next start.',
    )
    .option('--portfolio <id>', 'the demo portfolio (and its synthetic feed)', 'demo')
    .addOption(
      option('--interval-ms <ms>', "the demo loop's monitoring interval, in milliseconds", positiveInteger)
        .env('BALLAST_MONITORING_INTERVAL_MS')
        .default(5_000),
    )
    .addOption(option('--gate-host <host>', 'the interface the gate listens on').env('BALLAST_GATE_HOST').default('127.0.0.1'))
    .addOption(
      option('--gate-port <port>', 'the TCP port of the gate (0: any free port)', integer(0, 65_535))
        .env('BALLAST_GATE_PORT')
        .default(50_051),
    )
    .addOption(
      option('--console-host <host>', 'the interface the risk desk console listens on').env('BALLAST_CONSOLE_HOST').default('127.0.0.1'),
    )
    .addOption(
      option('--console-port <port>', 'the TCP port of the console (0: any free port)', integer(0, 65_535))
        .env('BALLAST_CONSOLE_PORT')
        .default(8_400),
    )
    .addOption(
      option(
        '--console-users <file>',
        "YAML with the console's users (bcrypt hashes) and trusted proxy; default: demo users on loopback",
      ).env('BALLAST_CONSOLE_USERS'),
    )
    .addOption(option('--orders-per-second <n>', 'rate of the demo order flow', positiveInteger).default(200))
    .option('--no-demo', 'no demo order flow (the demo portfolio loop still runs)')
    .addOption(
      option('--build-id <id>', "the worker's build, made current at start (default: <package version>-<git commit>)").env(
        'BALLAST_BUILD_ID',
      ),
    )
    .addHelpText(
      'after',
      environmentHelp([
        ['DATABASE_URL', 'use this database (default: the local Postgres on 127.0.0.1:5432, else a private one under .data/)'],
        ['TEMPORAL_ADDRESS', 'use this Temporal server (default: a dev server on 127.0.0.1:7233, its UI on :8233)'],
        ['TEMPORAL_NAMESPACE', 'the namespace (default: default); TEMPORAL_PROFILE, _API_KEY, _TLS*: as for `ballast worker`'],
        ['BALLAST_DATA_DIR', 'where the dev server and a private Postgres keep their data (default: .data/)'],
        ['BALLAST_CERTS_DIR', "the gate's local CA, certificates and access policy (default: ~/.cache/ballast/pki)"],
        ['BALLAST_ALERT_WEBHOOK_URL', 'where alerts are posted as JSON (default: none)'],
        ['LOG_LEVEL', 'pino log level of the logs on stderr (default: warn)'],
        ['BALLAST_LOG_FORMAT', 'json or pretty (default: pretty on a terminal, JSON otherwise)'],
      ]),
    );
  addMetricsOptions(command, DEFAULT_GATE_METRICS_PORT).action((flags: StartFlags) =>
    runAllInOne({
      portfolioId: flags.portfolio,
      monitoringIntervalMs: flags.intervalMs,
      gateHost: flags.gateHost,
      gatePort: flags.gatePort,
      gateSecurity: gateSecuritySettings(flags.gateHost, flags),
      ordersPerSecond: flags.demo ? flags.ordersPerSecond : 0,
      alertWebhookUrl: process.env.BALLAST_ALERT_WEBHOOK_URL,
      logLevel: process.env.LOG_LEVEL ?? 'warn',
      metrics: metricsListen(flags),
      buildId: flags.buildId,
      consoleHost: flags.consoleHost,
      consolePort: flags.consolePort,
      consoleUsersFile: flags.consoleUsers,
    }),
  );
}
