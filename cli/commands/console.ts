/**
 * `ballast console`: the risk desk console on its own (production use; `npm start` runs one for you):
 * the web page and JSON API over a running Temporal server and database, with users from a YAML file.
 */
import type { Command } from 'commander';
import { Client } from '@temporalio/client';
import { createLogger } from '../../lib/logger';
import { consoleAuth, startConsoleProcess } from '../../processes/console';
import { TASK_QUEUE } from '../../workflows/types';
import { DATABASE_VARIABLES, TEMPORAL_VARIABLES, databaseUrl, environmentHelp, temporalTarget } from '../context';
import { connectionOptions } from '../../infra/temporalConfig';
import { integer, option } from '../flags';
import { connectTemporalClient } from '../../infra/temporalConnection';

interface ConsoleFlags {
  readonly host: string;
  readonly port: number;
  readonly users?: string;
  readonly taskQueue: string;
  readonly secureCookies?: boolean;
}

export function define(command: Command): void {
  command
    .description(
      'Run the risk desk console (web page and JSON API) against a running Temporal server and database. Users, ' +
        'roles and an optional trusted proxy come from --users; without it, on loopback only, demo users are printed. ' +
        'Stops on SIGINT or SIGTERM.',
    )
    .addOption(option('--host <host>', 'the interface to listen on').env('BALLAST_CONSOLE_HOST').default('127.0.0.1'))
    .addOption(option('--port <port>', 'the TCP port (0: any free port)', integer(0, 65_535)).env('BALLAST_CONSOLE_PORT').default(8_400))
    .addOption(
      option('--users <file>', 'YAML: users: [{ name, roles, passwordHash }], proxy: { header, addresses }').env('BALLAST_CONSOLE_USERS'),
    )
    .option('--secure-cookies', 'mark cookies Secure (default: on unless bound to loopback; set it behind a TLS-terminating proxy)')
    .option('--task-queue <name>', 'the task queue of the Ballast workers (manual rebalances start on it)', TASK_QUEUE)
    .addHelpText('after', environmentHelp([...TEMPORAL_VARIABLES, ...DATABASE_VARIABLES, ['LOG_LEVEL', 'pino log level (default: info)']]))
    .action(async (flags: ConsoleFlags) => {
      const logger = createLogger('ballast-console');
      const { auth, demoUsers } = await consoleAuth(flags.host, flags.users);
      const temporal = temporalTarget();
      const connection = await connectTemporalClient(connectionOptions(temporal));
      const running = await startConsoleProcess({
        databaseUrl: databaseUrl(),
        client: new Client({ connection, namespace: temporal.namespace }),
        taskQueue: flags.taskQueue,
        host: flags.host,
        port: flags.port,
        auth,
        logger,
        secureCookies: flags.secureCookies,
      });
      process.stdout.write(`console ${running.url}  (API ${running.url}/api/v1, OpenAPI ${running.url}/api/v1/openapi.json)\n`);
      for (const u of demoUsers)
        process.stdout.write(`  demo user ${u.name.padEnd(13)} password ${u.password}   roles: ${u.roles.join(', ') || 'viewer'}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await running.close();
      await connection.close();
    });
}
