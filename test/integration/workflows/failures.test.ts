/**
 * Bad input never turns into an endless retry: a bad configuration ends the run with the bad key
 * named and an alert; bad market data alerts once and the loop carries on. Alerts reach the table,
 * and the webhook when one is configured.
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WorkflowFailedError } from '@temporalio/client';
import { statusQuery } from '../../../workflows/messages';
import { portfolioLoop } from '../../../workflows';
import { type LoopStatus, type PortfolioLoopInput, loopWorkflowId } from '../../../workflows/types';
import { eventually, uniqueId } from '../../support/env';
import { useLoopHarness } from '../../support/harness';

describe('bad input', () => {
  const received: { kind: string; portfolioId: string; severity: string }[] = [];
  const webhook: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  beforeAll(() => new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve)));
  afterAll(() => webhook.close());
  const h = useLoopHarness('failures', () => ({ alertWebhookUrl: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/alerts` }));

  const startLoop = (prefix: string, input: Partial<PortfolioLoopInput>) => {
    const portfolioId = uniqueId(prefix);
    return h.client.workflow
      .start(portfolioLoop, {
        taskQueue: h.taskQueue,
        workflowId: loopWorkflowId(portfolioId),
        args: [{ portfolioId, marketData: { kind: 'synthetic', feedId: 'none' }, ...input }],
      })
      .then((handle) => ({ portfolioId, handle }));
  };

  it('fails the run on a bad configuration, naming the key, with a critical alert', async () => {
    const { portfolioId, handle } = await startLoop('badcfg', { config: { risk_budgeting: { lookback_days: -3 } } });
    const failure = await handle.result().catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause?.message).toMatch(/invalid configuration: .*risk_budgeting\.lookback_days/);
    const { rows } = await h.pool.query('SELECT severity, kind FROM alerts WHERE portfolio_id = $1', [portfolioId]);
    expect(rows).toEqual([{ severity: 'critical', kind: 'bad-input' }]);
  }, 60_000);

  it('alerts once on bad market data and keeps the loop running; the alert reaches the webhook', async () => {
    const { portfolioId, handle } = await startLoop('baddata', {
      marketData: { kind: 'csv', path: '/nonexistent/prices.csv' },
      monitoringIntervalMs: 300,
    });
    const status = await eventually(
      async () => {
        const s = await handle.query<LoopStatus>(statusQuery);
        return s.cycle >= 4 ? s : undefined;
      },
      20_000,
      'several cycles',
    );
    expect(status.lastError).toMatch(/cannot read price file \/nonexistent\/prices.csv/);
    const { rows } = await h.pool.query('SELECT severity, kind, webhook_status FROM alerts WHERE portfolio_id = $1', [portfolioId]);
    expect(rows).toEqual([{ severity: 'critical', kind: 'bad-input', webhook_status: 'delivered' }]);
    expect(received.filter((a) => a.portfolioId === portfolioId)).toEqual([
      expect.objectContaining({ kind: 'bad-input', severity: 'critical' }),
    ]);
    await handle.terminate('test done');
  }, 60_000);
});
