/**
 * Authorization enforced by the full Temporal server (deploy/temporal-server/authorizer.go): only a
 * caller whose JWT carries the approver role may send an approval Signal or Update, and the
 * server records the token's subject as the principal of the events a call causes. Needs the
 * server binary, so it runs under `npm run test:full-server` (which sets BALLAST_TEST_TEMPORAL_SERVER)
 * and is skipped by the dev-server run.
 */
import { createSign, generateKeyPairSync } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, type Connection, WorkflowNotFoundError, isGrpcServiceError } from '@temporalio/client';
import {
  type TemporalServer,
  dropTemporalDatabases,
  freeServerPorts,
  setupTemporalSchema,
  startTemporalServer,
} from '../../../infra/temporalServer';
import { testLogger, uniqueId } from '../../support/env';
import { connectTemporalClient } from '../../../infra/temporalConnection';

const binary = process.env.BALLAST_TEST_TEMPORAL_SERVER;
const PERMISSION_DENIED = 7;

/** The gRPC status a refused call failed with (the SDK wraps it as the error's cause); undefined if it succeeded. */
async function grpcCode(call: Promise<unknown>): Promise<number | undefined> {
  try {
    await call;
    return undefined;
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause ?? err;
    return isGrpcServiceError(cause) ? cause.code : -1;
  }
}
const describeWithServer = binary ? describe : describe.skip;

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/** An RS256 JWT as Temporal's claim mapper reads it: `permissions` for namespace roles, plus Ballast's roles. */
function token(sub: string, permissions: string[], roles: string[] = []): string {
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: 'ballast-test' }));
  const payload = b64url(JSON.stringify({ sub, permissions, ballast_roles: roles, exp: Math.floor(Date.now() / 1000) + 3600 }));
  const signature = createSign('RSA-SHA256').update(`${header}.${payload}`).sign(privateKey);
  return `${header}.${payload}.${b64url(signature)}`;
}

describeWithServer('the full server enforces who may approve', () => {
  const databases = {
    postgresUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    main: `temporal_authz_${process.pid}`,
    visibility: `temporal_visibility_authz_${process.pid}`,
  };
  let jwks: Server;
  let server: TemporalServer;
  const connections: Connection[] = [];

  async function clientAs(bearer?: string): Promise<Client> {
    const connection = await connectTemporalClient({
      address: server.address,
      metadata: bearer ? { authorization: `Bearer ${bearer}` } : {},
    });
    connections.push(connection);
    return new Client({ connection });
  }

  beforeAll(async () => {
    const key = { ...publicKey.export({ format: 'jwk' }), kid: 'ballast-test', alg: 'RS256', use: 'sig' };
    jwks = createServer((_req, res) => res.end(JSON.stringify({ keys: [key] })));
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    await setupTemporalSchema(binary as string, databases, testLogger);
    server = await startTemporalServer({
      binary: binary as string,
      databases,
      ports: await freeServerPorts(),
      logFile: join(tmpdir(), `ballast-authz-${process.pid}.log`),
      logger: testLogger,
      authorization: {
        jwksUrl: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`,
        adminToken: token('ballast-admin', ['temporal-system:admin']),
      },
    });
  }, 120_000);

  afterAll(async () => {
    await Promise.all(connections.map((c) => c.close()));
    await server?.stop();
    jwks?.close();
    await dropTemporalDatabases(databases).catch(() => undefined);
  });

  test('approval messages need the approver role; the recorded principal is the token subject', async () => {
    const operator = await clientAs(token('oscar', ['default:write'], ['operator']));
    const approver = await clientAs(token('ana', ['default:write'], ['approver']));
    const anonymous = await clientAs();
    // A workflow no worker runs: Signals are recorded all the same, and the authorizer decides first.
    const handle = await operator.workflow.start('portfolioLoop', { taskQueue: uniqueId('no-worker'), workflowId: uniqueId('authz') });

    const asOperator = operator.workflow.getHandle(handle.workflowId);
    expect(await grpcCode(asOperator.signal('approve', { approver: 'oscar' }))).toBe(PERMISSION_DENIED);
    expect(await grpcCode(asOperator.executeUpdate('approveRecommendation', { args: [{ approver: 'oscar' }] }))).toBe(PERMISSION_DENIED);
    expect(await grpcCode(anonymous.workflow.getHandle(handle.workflowId).signal('pause'))).toBe(PERMISSION_DENIED);
    await operator.workflow.getHandle(handle.workflowId).signal('pause', { operator: 'oscar' });
    await approver.workflow.getHandle(handle.workflowId).signal('approve', { approver: 'ana' });

    const history = await operator.workflow.getHandle(handle.workflowId).fetchHistory();
    const signals = (history.events ?? [])
      .filter((e) => e.workflowExecutionSignaledEventAttributes)
      .map((e) => [e.workflowExecutionSignaledEventAttributes?.signalName, e.principal?.name]);
    expect(signals).toEqual([
      ['pause', 'oscar'],
      ['approve', 'ana'],
    ]);
    await handle.terminate('test over').catch((err) => {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    });
  }, 60_000);
});
