/**
 * The console process's wiring: its own Postgres pool, the read stores, the desk over Temporal, the
 * authenticator and the LISTEN change feed, served by console/server.ts. Used by `ballast start`
 * (what `npm start` runs) and the tests.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { consoleChangeFeed } from '../db/notifications';
import { createPool } from '../db/pool';
import { ConsoleReadStore } from '../db/stores/consoleReads';
import { GateDecisionsStore } from '../db/stores/gateDecisions';
import { GateLeaseStore } from '../db/stores/gateLeases';
import { ConsoleSessionStore } from '../db/stores/consoleSessions';
import { PositionsStore } from '../db/stores/positions';
import { type AuthConfig, Authenticator, type ConsoleUser, hashPassword } from '../console/auth';
import type { Desk } from '../console/desk';
import { type RunningConsole, startConsole } from '../console/server';
import { temporalDesk } from './consoleDesk';

export interface ConsoleProcessOptions {
  readonly databaseUrl: string;
  /** The desk's Temporal client (or `desk` for tests that stand one in). */
  readonly client?: Client;
  readonly desk?: Desk;
  readonly taskQueue?: string;
  /** Default 127.0.0.1: the console is for the desk's machines, not the internet. */
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly auth: AuthConfig;
  readonly logger: Logger;
  /** Default: on unless bound to loopback over plain HTTP. */
  readonly secureCookies?: boolean;
}

const isLoopback = (host: string): boolean => host === '127.0.0.1' || host === '::1' || host === 'localhost';

export async function startConsoleProcess(options: ConsoleProcessOptions): Promise<RunningConsole> {
  const host = options.host ?? '127.0.0.1';
  const desk = options.desk ?? (options.client ? temporalDesk(options.client, options.taskQueue) : undefined);
  if (!desk) throw new Error('the console needs a Temporal client (or a desk)');
  const pool = createPool(options.databaseUrl, 4);
  try {
    const sessions = new ConsoleSessionStore(pool);
    const running = await startConsole({
      host,
      port: options.port,
      logger: options.logger,
      reads: new ConsoleReadStore(pool),
      replicas: new GateLeaseStore(pool),
      approvals: new GateDecisionsStore(pool),
      positions: new PositionsStore(pool),
      desk,
      auth: new Authenticator(options.auth, sessions),
      // Shared by every console on this database: sessions and CSRF tokens outlive a restart and work at any of them.
      secret: await sessions.sharedSecret('console', () => randomBytes(32).toString('hex')),
      changes: consoleChangeFeed(options.databaseUrl, options.logger),
      now: () => new Date(),
      secureCookies: options.secureCookies ?? !isLoopback(host),
    });
    return { ...running, close: () => running.close().finally(() => pool.end()) };
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
}

export interface DemoUser {
  readonly name: string;
  readonly password: string;
  readonly roles: ConsoleUser['roles'];
}

/**
 * Demo users for `npm start` on loopback: a desk user who may do everything and a second approver, so
 * four eyes can be tried. Fresh random passwords every start, printed once, hashed like any other.
 */
export async function demoUsers(): Promise<{ users: DemoUser[]; auth: AuthConfig }> {
  const users: DemoUser[] = [
    { name: 'desk', password: randomBytes(9).toString('base64url'), roles: ['operator', 'approver'] },
    { name: 'risk-officer', password: randomBytes(9).toString('base64url'), roles: ['approver'] },
    { name: 'viewer', password: randomBytes(9).toString('base64url'), roles: [] },
  ];
  const hashed = await Promise.all(
    users.map(async (u) => ({ name: u.name, roles: u.roles, passwordHash: await hashPassword(u.password, 10) })),
  );
  return { users, auth: { users: hashed } };
}

/**
 * The console's users: from a YAML file (`users: [{ name, roles, passwordHash }]`, optional
 * `proxy: { header, addresses }`), or, with no file and a loopback bind only, fresh demo users.
 */
export async function consoleAuth(host: string, usersFile: string | undefined): Promise<{ auth: AuthConfig; demoUsers: DemoUser[] }> {
  if (usersFile) return { auth: loadAuthConfig(usersFile), demoUsers: [] };
  if (!isLoopback(host))
    throw new Error(
      `the console binds to ${host}, beyond this machine: give it a users file (BALLAST_CONSOLE_USERS, or --users / --console-users); demo users are loopback only`,
    );
  const demo = await demoUsers();
  return { auth: demo.auth, demoUsers: demo.users };
}

export function loadAuthConfig(file: string): AuthConfig {
  const doc = YAML.parse(readFileSync(file, 'utf8')) as Partial<AuthConfig> | null;
  if (!doc || !Array.isArray(doc.users)) throw new Error(`${file}: expected a \`users:\` list of { name, roles, passwordHash }`);
  return { users: doc.users, proxy: doc.proxy, sessionTtlMs: doc.sessionTtlMs };
}
