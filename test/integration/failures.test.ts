/**
 * Bad input never turns into an endless retry: a bad configuration ends the run with the bad key
 * named and an alert; bad market data alerts once and the loop carries on. Alerts reach the table,
 * and the webhook when one is configured.
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Client, WorkflowFailedError } from '@temporalio/client';
import type pg from 'pg';
import { statusQuery } from '../../workflows/messages';
import { type LoopStatus, loopWorkflowId } from '../../workflows/types';
import type { RunningWorker } from '../../workers/worker';
import { eventually, testClient, testPool, testWorker, uniqueId } from '../support/env';

describe('bad input', () => {
  let pool: pg.Pool;
  let temporal: { client: Client; close(): Promise<void> };
  let worker: RunningWorker;
  let webhook: Server;
  const received: { kind: string; portfolioId: string; severity: string }[] = [];
  const taskQueue = uniqueId('failures');

  beforeAll(async () => {
    webhook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    pool = testPool();
    temporal = await testClient();
    worker = await testWorker(taskQueue, { alertWebhookUrl: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/alerts` });
  });
  afterAll(async () => {
    await worker?.shutdown();
    await temporal?.close();
    await pool?.end();
    webhook?.close();
  });

  it('fails the run on a bad configuration, naming the key, with a critical alert', async () => {
    const portfolioId = uniqueId('badcfg');
    const handle = await temporal.client.workflow.start('portfolioLoop', {
      taskQueue,
      workflowId: loopWorkflowId(portfolioId),
      args: [{ portfolioId, marketData: { kind: 'synthetic', feedId: 'none' }, config: { risk_budgeting: { lookback_days: -3 } } }],
    });
    const failure = await handle.result().catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause?.message).toMatch(/invalid configuration: .*risk_budgeting\.lookback_days/);
    const { rows } = await pool.query('SELECT severity, kind FROM alerts WHERE portfolio_id = $1', [portfolioId]);
    expect(rows).toEqual([{ severity: 'critical', kind: 'bad-input' }]);
  }, 60_000);

  it('alerts once on bad market data and keeps the loop running; the alert reaches the webhook', async () => {
    const portfolioId = uniqueId('baddata');
    const handle = await temporal.client.workflow.start('portfolioLoop', {
      taskQueue,
      workflowId: loopWorkflowId(portfolioId),
      args: [{ portfolioId, marketData: { kind: 'csv', path: '/nonexistent/prices.csv' }, monitoringIntervalMs: 300 }],
    });
    const status = await eventually(async () => {
      const s = await handle.query<LoopStatus>(statusQuery);
      return s.cycle >= 4 ? s : undefined;
    }, 20_000, 'several cycles');
    expect(status.lastError).toMatch(/cannot read price file \/nonexistent\/prices.csv/);
    const { rows } = await pool.query('SELECT severity, kind, webhook_status FROM alerts WHERE portfolio_id = $1', [portfolioId]);
    expect(rows).toEqual([{ severity: 'critical', kind: 'bad-input', webhook_status: 'delivered' }]);
    expect(received.filter((a) => a.portfolioId === portfolioId)).toEqual([expect.objectContaining({ kind: 'bad-input', severity: 'critical' })]);
    await handle.terminate('test done');
  }, 60_000);
});
