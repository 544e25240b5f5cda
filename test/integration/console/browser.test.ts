/**
 * The console in a real browser (Debian's Chromium through playwright-core) against the real worker,
 * gate, Temporal and Postgres: the budget on the page, a crisis shrinking the gauges without a reload,
 * approvals by a second person, the kill switch enforced by the gate, roles, CSRF and escaping.
 */
import { createServer, type Server } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { FeedStore } from '../../../db/stores/marketFeeds';
import { BudgetStore } from '../../../db/stores/budgets';
import { Decision, type EvaluateTradeResponse, ReasonCode, Side } from '../../../grpc/generated/ballast/gate/v1/gate';
import type { RunningGate } from '../../../grpc/server';
import { temporalControls } from '../../../processes/gateControls';
import { startGate } from '../../../processes/gate';
import { type DemoUser, demoUsers, startConsoleProcess } from '../../../processes/console';
import type { RunningWorker } from '../../../processes/worker';
import type { RunningConsole } from '../../../console/server';
import { portfolioLoop } from '../../../workflows';
import { loopWorkflowId } from '../../../workflows/types';
import { eventually, testClient, testEnv, testLogger, testPool, testWorker, uniqueId } from '../../support/env';
import { launchBrowser, newPerson } from '../../support/browser';
import { call, client as gateClient } from '../grpc/helpers';

const XSS = '<img src=x onerror=alert(1)>';
const ASSETS = ['EQ_US', 'EQ_EU', 'EQ_JP', 'BOND', 'GOLD'];
const CONFIG = {
  risk_budgeting: {
    strategies: [
      { name: XSS, budget: 0.5, assets: ['EQ_US', 'EQ_EU', 'EQ_JP'] },
      { name: 'defensive', budget: 0.5, assets: ['BOND', 'GOLD'] },
    ],
  },
};

describe('console in the browser', () => {
  const taskQueue = uniqueId('console-e2e');
  let pool: pg.Pool;
  let temporal: { client: Client; close(): Promise<void> };
  let worker: RunningWorker;
  let gate: RunningGate;
  let consoleServer: RunningConsole;
  let browser: Browser;
  let users: Record<string, DemoUser>;
  const dialogs: string[] = [];
  const loops: string[] = [];

  beforeAll(async () => {
    pool = testPool();
    temporal = await testClient();
    worker = await testWorker(taskQueue);
    gate = await startGate({
      databaseUrl: testEnv().databaseUrl,
      port: 0,
      logger: testLogger,
      controls: temporalControls(temporal.client),
    });
    const demo = await demoUsers();
    users = Object.fromEntries(demo.users.map((u) => [u.name, u]));
    consoleServer = await startConsoleProcess({
      databaseUrl: testEnv().databaseUrl,
      client: temporal.client,
      taskQueue,
      port: 0,
      auth: demo.auth,
      logger: testLogger,
    });
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    for (const id of loops)
      await temporal.client.workflow
        .getHandle(loopWorkflowId(id))
        .terminate('test done')
        .catch(() => undefined);
    await consoleServer?.close();
    await gate?.close();
    await worker?.shutdown();
    // The Temporal client retries a failed call on a timer; closing its channel under a pending retry
    // throws from that timer into whichever suite runs next. Let pending retries settle first.
    await new Promise((r) => setTimeout(r, 3_000));
    await temporal?.close();
    await pool?.end();
  });

  async function startLoop(prefix: string, autoApproveInitialBudget: boolean): Promise<string> {
    const portfolioId = uniqueId(prefix);
    loops.push(portfolioId);
    await new FeedStore(pool).ensureFeed({ id: portfolioId, seed: 7, assets: ASSETS, barMs: 500, historyBars: 300 });
    await temporal.client.workflow.start(portfolioLoop, {
      taskQueue,
      workflowId: loopWorkflowId(portfolioId),
      args: [
        {
          portfolioId,
          marketData: { kind: 'synthetic', feedId: portfolioId },
          monitoringIntervalMs: 1000,
          config: CONFIG,
          autoApproveInitialBudget,
          approvalTimeoutMs: 600_000,
        },
      ],
    });
    return portfolioId;
  }

  async function signedIn(name: string, portfolioId: string): Promise<Page> {
    const page = await (await newPerson(browser)).newPage();
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(`${consoleServer.url}/#/p/${encodeURIComponent(portfolioId)}`);
    await page.fill('input[name=username]', name);
    await page.fill('input[name=password]', users[name].password);
    await page.click('#login button[type=submit]');
    await page.waitForSelector('#budget-header, #budget p.muted');
    return page;
  }

  const grossLimitOnPage = async (page: Page): Promise<number> =>
    Number(await page.getAttribute('.gauge[data-scope="gross"]', 'data-limit', { timeout: 30_000 }));

  it('shows the budget, moves the regime and shrinks the gauges live on a crisis, and escapes a hostile strategy name', async () => {
    const portfolioId = await startLoop('e2e-live', true);
    await eventually(async () => new BudgetStore(pool).latestBudget(portfolioId), 30_000, 'the first budget');
    const page = await signedIn('desk', portfolioId);
    await page.waitForSelector('#budget-version');
    expect(await page.textContent('#budget-version')).toBe('v1');
    const calmLimit = await grossLimitOnPage(page);
    expect(calmLimit).toBeGreaterThan(0);

    // The hostile name is text in the strategy gauge and table, never an element.
    await page.waitForSelector(`.gauge[data-scope="${XSS.replace(/"/g, '\\"')}"]`);
    expect(await page.locator('text=Strategy <img src=x onerror=alert(1)>').count()).toBeGreaterThan(0);
    expect(await page.locator('main img').count()).toBe(0);

    // Crisis on the feed: a tighter budget commits and the page follows through NOTIFY → SSE, no reload.
    const navigations: string[] = [];
    page.on('framenavigated', (f) => navigations.push(f.url()));
    await new FeedStore(pool).setRegime(portfolioId, 'crisis');
    const crisis = await eventually(
      async () => {
        const b = await new BudgetStore(pool).latestBudget(portfolioId);
        return b && b.budget.regime === 'crisis' ? b : undefined;
      },
      45_000,
      'a crisis budget',
    );
    const committedAt = Date.now();
    // (Playwright locators, not waitForFunction: the console's CSP forbids evaluating strings, rightly.)
    await page.locator('#budget-version', { hasText: new RegExp(`^v${crisis.version}$`) }).waitFor({ timeout: 10_000 });
    const seenAfterMs = Date.now() - committedAt;
    // Commit (Postgres now()) → the version drawn on the page (the page's clock; same machine).
    const renderedAt = Number(await page.getAttribute('#budget-version', 'data-rendered-at'));
    const commitToPageMs = renderedAt - Date.parse(crisis.committedAt);
    await eventually(async () => ((await grossLimitOnPage(page)) < calmLimit ? true : undefined), 10_000, 'the gross gauge to shrink');
    expect(await grossLimitOnPage(page)).toBeLessThan(calmLimit);
    await page.locator('#regime', { hasText: /^crisis$/ }).waitFor({ timeout: 15_000 });
    // The regime timeline follows the loop: its recorded readings, the crisis band and the crisis version's marker.
    await page.locator(`#timeline .version-marker[data-version="${crisis.version}"]`).waitFor({ state: 'attached', timeout: 15_000 });
    await page.locator('#timeline .regime-band[data-regime="crisis"]').waitFor({ state: 'attached', timeout: 15_000 });
    expect(Number(await page.getAttribute('#timeline .timeline-plot', 'data-points'))).toBeGreaterThan(0);
    expect(navigations).toEqual([]);
    process.stderr.write(
      `[console e2e] budget commit → drawn on the page: ${commitToPageMs} ms (test saw the commit, then the page, ${seenAfterMs} ms apart)\n`,
    );

    // Kill switch from the page: reason, confirmation, then the gate denies with TRADING_HALTED.
    await page.click('button:has-text("Kill switch")');
    await page.click('button.confirm'); // without a reason: refused on the page
    expect(await page.textContent('#control-message')).toMatch(/reason is required/);
    await page.fill('input.reason', 'fat-finger drill');
    await page.click('button.confirm');
    await page.locator('#trading-state', { hasText: /^HALTED$/ }).waitFor({ timeout: 10_000 });
    const c = gateClient(gate.address);
    const denied = await eventually(
      async () => {
        const r = await call<unknown, EvaluateTradeResponse>(c, 'evaluateTrade', {
          order: {
            portfolioId,
            strategy: 'defensive',
            instrument: 'BOND',
            side: Side.SIDE_BUY,
            quantity: 1,
            price: crisis.budget.assets.find((a) => a.asset === 'BOND')!.referencePrice,
            clientOrderId: 'e2e-1',
          },
        });
        return r.decision === Decision.DECISION_DENY ? r : undefined;
      },
      10_000,
      'a TRADING_HALTED denial',
    );
    expect(denied.reasons).toContain(ReasonCode.REASON_CODE_TRADING_HALTED);
    c.close();
    const audit = await pool.query<{ operator: string; reason: string }>(
      "SELECT operator, reason FROM operator_actions WHERE portfolio_id = $1 AND action = 'trading-state:HALTED'",
      [portfolioId],
    );
    expect(audit.rows).toEqual([{ operator: 'desk', reason: 'fat-finger drill' }]);

    // CSRF: the page's own origin without the token is refused; a cross-site page cannot even send JSON.
    const withoutToken = await page.evaluate(async (url) => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'no token' }),
      });
      return { status: res.status, type: res.headers.get('content-type'), body: await res.json() };
    }, `/api/v1/portfolios/${portfolioId}/loop/pause`);
    expect(withoutToken).toMatchObject({
      status: 403,
      type: expect.stringMatching(/problem\+json/),
      body: { detail: expect.stringMatching(/CSRF/) },
    });
    const evil = await crossSitePage(`${consoleServer.url}/api/v1/portfolios/${portfolioId}/loop/pause`);
    try {
      await page.goto(evil.url); // same browser profile: the desk's session cookie exists
      await page.waitForFunction('window.done === true', undefined, { timeout: 10_000 });
    } finally {
      evil.server.close();
    }
    const pauses = await pool.query("SELECT 1 FROM operator_actions WHERE portfolio_id = $1 AND action = 'pause'", [portfolioId]);
    expect(pauses.rowCount).toBe(0);
    expect(dialogs).toEqual([]);
    await page.context().close();
  }, 180_000);

  it('shows a pending approval with before → after; a second person approves it; a viewer may not', async () => {
    const portfolioId = await startLoop('e2e-approve', false);
    const viewer = await signedIn('viewer', portfolioId);
    await viewer.waitForSelector('.card.pending', { timeout: 45_000 });
    // No buttons for a viewer, and the API refuses a viewer's POST whatever the page shows.
    expect(await viewer.locator('.card.pending button:has-text("Approve")').count()).toBe(0);
    const viewerPost = await viewer.evaluate(async (url) => {
      const me = (await (await fetch('/api/v1/session')).json()) as { csrfToken: string };
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrfToken },
        body: '{"reason":"me too"}',
      });
      return { status: res.status, body: await res.json() };
    }, `/api/v1/portfolios/${portfolioId}/loop/pause`);
    expect(viewerPost).toMatchObject({ status: 403, body: { detail: expect.stringMatching(/needs operator/) } });

    const approver = await signedIn('risk-officer', portfolioId);
    const card = approver.locator('.card.pending');
    await card.waitFor();
    expect(await card.locator('table.changes').textContent()).toMatch(/maxGrossNotional/);
    expect(await card.locator('.countdown').textContent()).toMatch(/min|h/);
    await card.locator('button:has-text("Approve")').click();
    await card.locator('input.reason').fill('first budget, looks right');
    await card.locator('button.confirm').click();
    await approver.waitForSelector('#budget-version', { timeout: 20_000 });
    expect(await approver.textContent('#budget-version')).toBe('v1');
    await approver.waitForSelector('#no-pending');
    // The viewer's page followed without a reload.
    await viewer.waitForSelector('#budget-version', { timeout: 10_000 });
    const decided = await pool.query<{ approver: string }>('SELECT approver FROM approval_decisions WHERE portfolio_id = $1', [
      portfolioId,
    ]);
    expect(decided.rows).toEqual([{ approver: 'risk-officer' }]);

    // Four eyes: the approver may not grant an override they requested themselves.
    await approver.selectOption('#override-form select[name=field]', 'maxGrossNotional');
    await approver.fill('#override-form input[name=value]', '123456');
    await approver.fill('#override-form input[name=reason]', 'my own idea');
    await approver.fill('#override-form input[name=requestedBy]', 'risk-officer');
    await approver.fill('#override-form input[name=minutes]', '10');
    await approver.click('#override-form button[type=submit]');
    await approver.locator('#override-message', { hasText: 'may not approve' }).waitFor({ timeout: 10_000 });
    expect(await approver.locator('#active-overrides tr.override').count()).toBe(0);

    // An override that lasts 5 seconds: created from the form, counted down, then gone from the active list.
    await approver.selectOption('#override-form select[name=field]', 'maxGrossNotional');
    await approver.fill('#override-form input[name=value]', '123456');
    await approver.fill('#override-form input[name=reason]', 'five-second drill');
    await approver.fill('#override-form input[name=requestedBy]', 'desk-head');
    await approver.fill('#override-form input[name=minutes]', String(5 / 60));
    await approver.click('#override-form button[type=submit]');
    const row = approver.locator('#active-overrides tr.override');
    await row.waitFor({ timeout: 10_000 });
    expect(await row.textContent()).toMatch(/five-second drill.*risk-officer.*ends in \d s/);
    // Revoking goes to the loop's revokeOverride Update; a loop without one answers 501 with a sentence, never 500.
    const overrideId = await row.getAttribute('data-id');
    const revoke = await approver.evaluate(
      async ([url]) => {
        const me = (await (await fetch('/api/v1/session')).json()) as { csrfToken: string };
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrfToken },
          body: '{"reason":"drill over"}',
        });
        return { status: res.status, body: (await res.json()) as { detail?: string } };
      },
      [`/api/v1/portfolios/${portfolioId}/overrides/${overrideId}/revoke`],
    );
    if (revoke.status !== 200) expect(revoke).toMatchObject({ status: 501, body: { detail: expect.stringMatching(/revokeOverride/) } });
    await row.waitFor({ state: 'detached', timeout: 15_000 });
    await approver.locator('#no-overrides').waitFor();
    const recorded = await pool.query<{ approver: string }>('SELECT approver FROM limit_overrides WHERE portfolio_id = $1', [portfolioId]);
    expect(recorded.rows).toEqual([{ approver: 'risk-officer' }]);
    await viewer.context().close();
    await approver.context().close();
  }, 180_000);
});

/** A page on another origin that tries to pause the loop with the visitor's cookies (a CSRF attempt). */
async function crossSitePage(target: string): Promise<{ server: Server; url: string }> {
  const html = `<!doctype html><script>
    fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: '{"reason":"pwned"}' })
      .catch(() => undefined).finally(() => { window.done = true; });
  </script>`;
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
  return { server, url: `http://localhost:${(server.address() as { port: number }).port}/` };
}
