/** Handles on the infrastructure globalSetup started, for integration tests. */
import { readFileSync } from 'node:fs';
import { Client } from '@temporalio/client';
import type pg from 'pg';
import pino from 'pino';
import { createPool } from '../../db/pool';
import { plainEndpoint } from '../../infra/temporalConfig';
import type { DeploymentVersion } from '../../processes/buildId';
import { startWorker, type RunningWorker } from '../../processes/worker';
import { connectTemporalClient } from '../../infra/temporalConnection';

export const testLogger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });

export function testEnv(): { databaseUrl: string; temporalAddress: string; bundlePath: string } {
  const databaseUrl = process.env.BALLAST_TEST_DATABASE_URL;
  const temporalAddress = process.env.BALLAST_TEST_TEMPORAL_ADDRESS;
  const bundlePath = process.env.BALLAST_TEST_WORKFLOW_BUNDLE;
  if (!databaseUrl || !temporalAddress || !bundlePath)
    throw new Error('integration test environment missing: run through jest (globalSetup)');
  return { databaseUrl, temporalAddress, bundlePath };
}

export function testPool(): pg.Pool {
  return createPool(testEnv().databaseUrl, 4);
}

export async function testClient(): Promise<{ client: Client; close(): Promise<void> }> {
  const connection = await connectTemporalClient({ address: testEnv().temporalAddress });
  return {
    client: new Client({ connection }),
    // Safe with calls still retrying: the connection's guard fails them instead of throwing.
    close: () => connection.close(),
  };
}

/** A worker on its own task queue, using the workflow bundle built once by globalSetup. */
export async function testWorker(
  taskQueue: string,
  opts: { alertWebhookUrl?: string; deployment?: DeploymentVersion; bundlePath?: string } = {},
): Promise<RunningWorker> {
  const { databaseUrl, temporalAddress, bundlePath } = testEnv();
  const { bundlePath: bundle = bundlePath, ...rest } = opts;
  return startWorker({
    temporal: plainEndpoint(temporalAddress),
    databaseUrl,
    taskQueue,
    logger: testLogger,
    workflowBundle: { code: readFileSync(bundle, 'utf8') },
    ...rest,
  });
}

/** Polls `probe` until it returns a value (not undefined) or the timeout passes. */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
}

export const uniqueId = (prefix: string): string => `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
