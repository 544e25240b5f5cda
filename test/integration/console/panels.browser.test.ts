/**
 * The console's regime timeline, budget-vs-actual risk chart and success metrics in a real browser
 * (Debian's Chromium through playwright-core), drawn from a portfolio written through the real stores
 * in Postgres; live redraws through NOTIFY → SSE without a reload; a sign-in that survives a console
 * restart.
 */
import type { Browser, Page } from 'playwright-core';
import pino from 'pino';
import type pg from 'pg';
import { hashPassword } from '../../../console/auth';
import type { RunningConsole } from '../../../console/server';
import { BudgetStore } from '../../../db/stores/budgets';
import { GateDecisionsStore } from '../../../db/stores/gateDecisions';
import { GateLeaseStore } from '../../../db/stores/gateLeases';
import { MetricsStore } from '../../../db/stores/metrics';
import { startConsoleProcess } from '../../../processes/console';
import { launchBrowser, newPerson } from '../../support/browser';
import { XSS, decisionRow, noDesk, seedPanels } from '../../support/consoleSeed';
import { eventually, testEnv, testPool, uniqueId } from '../../support/env';

describe('console panels in the browser', () => {
  let pool: pg.Pool;
  let server: RunningConsole;
  let browser: Browser;
  let page: Page;
  const portfolioId = uniqueId('panels-e2e');
  const auth = async () => ({ users: [{ name: 'vic', roles: [], passwordHash: await hashPassword('vic-pw', 4) }] });
  const start = async (port = 0) =>
    startConsoleProcess({ databaseUrl: testEnv().databaseUrl, desk: noDesk, port, auth: await auth(), logger: pino({ level: 'silent' }) });

  beforeAll(async () => {
    pool = testPool();
    await seedPanels(pool, portfolioId);
    // Two gate replicas (run with --ha): one serves v2 and decides, one still serves v1.
    const leases = new GateLeaseStore(pool);
    await leases.heartbeat(`${portfolioId}-gate-a`, '127.0.0.1:1', 600_000, { [portfolioId]: 2 });
    await leases.acquire(portfolioId, `${portfolioId}-gate-a`, '127.0.0.1:1', 600_000, 2);
    await leases.heartbeat(`${portfolioId}-gate-b`, '127.0.0.1:2', 600_000, { [portfolioId]: 1 });
    // A working order at the gate: 500 AAPL approved for trend, not filled yet.
    await new GateDecisionsStore(pool).insert(`${portfolioId}-gate-a`, [
      decisionRow(portfolioId, { decisionId: `${portfolioId}-working`, clientOrderId: 'working-1', quantity: 500 }),
    ]);
    server = await start();
    browser = await launchBrowser();
    page = await (await newPerson(browser)).newPage();
    await page.goto(`${server.url}/#/p/${encodeURIComponent(portfolioId)}`);
    await page.fill('input[name=username]', 'vic');
    await page.fill('input[name=password]', 'vic-pw');
    await page.click('#login button[type=submit]');
    await page.waitForSelector('#timeline .timeline-plot canvas', { timeout: 20_000 });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await pool?.end();
  });

  it('draws the regime timeline: probability lines, regime bands, version markers and override bands', async () => {
    expect(Number(await page.getAttribute('#timeline .timeline-plot', 'data-points'))).toBeGreaterThanOrEqual(12);
    const bands = await page
      .locator('#timeline .regime-band')
      .evaluateAll((els) => els.map((e) => ({ regime: e.getAttribute('data-regime'), width: e.getBoundingClientRect().width })));
    expect(bands.map((b) => b.regime)).toEqual(['calm', 'crisis']);
    for (const b of bands) expect(b.width).toBeGreaterThan(10);
    // Versions 1 and 2 were committed moments ago: both markers sit near the right edge of the plot.
    const plot = (await page.locator('#timeline .u-over').boundingBox())!;
    for (const v of ['1', '2']) {
      const marker = page.locator(`#timeline .version-marker[data-version="${v}"]`);
      expect(await marker.textContent()).toBe(`v${v}`);
      const box = (await marker.boundingBox())!;
      expect(box.x).toBeGreaterThan(plot.x + plot.width * 0.9);
    }
    expect(await page.locator('#timeline .override-band.active').count()).toBe(1);
    expect(await page.locator('#timeline .override-band.revoked').count()).toBe(1);
    // The legend names the hostile override reason as text.
    await page.click('#timeline-legend summary');
    expect(await page.locator('#timeline-legend .legend-override', { hasText: `month end ${XSS}` }).count()).toBe(1);
    // uPlot's legend lists one series per regime.
    expect(await page.locator('#timeline .u-legend .u-series').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringMatching(/P\(calm\)/), expect.stringMatching(/P\(crisis\)/)]),
    );
  }, 60_000);

  it('charts budget vs actual risk contribution per strategy, the hostile name as text', async () => {
    const rows = await page.locator('#risk-contributions .rc-row').evaluateAll((els) =>
      els.map((e) => {
        const d = {
          strategy: e.getAttribute('data-strategy'),
          budget: e.getAttribute('data-budget'),
          actual: e.getAttribute('data-actual'),
        };
        const width = (cls: string) => e.querySelector(`.rc-bar.${cls}`)!.getBoundingClientRect().width;
        return {
          strategy: d.strategy,
          budget: Number(d.budget),
          actual: Number(d.actual),
          budgetBar: width('budget'),
          actualBar: width('actual'),
        };
      }),
    );
    expect(rows.map((r) => r.strategy)).toEqual(['trend', XSS]);
    expect(rows[0]).toMatchObject({ budget: 0.7, actual: 0.64 });
    expect(rows[1]).toMatchObject({ budget: 0.3, actual: 0.36 });
    // Bars are drawn to scale (the CSP lets the CSSOM set their widths).
    expect(rows[0].budgetBar / rows[0].actualBar).toBeCloseTo(0.7 / 0.64, 1);
    expect(await page.locator('#risk-contributions .rc-name', { hasText: XSS }).count()).toBe(1);
    expect(await page.locator('main img').count()).toBe(0);
    // The gauges' fills are drawn too (the same CSP rule).
    const gross = await page.locator('.gauge[data-scope="gross"] .fill:not(.worst)').boundingBox();
    expect(gross!.width).toBeGreaterThan(0);
    expect(await page.textContent('#success-metrics')).toMatch(/Regime response \(median \/ max\)\s*300 ms/);
  }, 60_000);

  it('shows budget staleness per gate replica beside the control bar: the lagging one in amber', async () => {
    const line = (name: string) => page.locator(`#replica-staleness .replica[data-replica="${portfolioId}-${name}"]`);
    await line('gate-b').waitFor({ timeout: 20_000 });
    expect(await page.locator('#replica-staleness').isVisible()).toBe(true);
    expect(await line('gate-a').textContent()).toMatch(/v2 \(current\).*decides/);
    expect(await line('gate-b').textContent()).toMatch(/v1 \(1 behind\)/);
    expect(await line('gate-b').locator('.state').getAttribute('class')).toContain('REDUCING');
  }, 60_000);

  it('draws the worst case with working orders behind what is held, as the gate checks it', async () => {
    const aapl = page.locator('#gauges details .gauge[data-scope="trend/AAPL"]');
    const held = Number(await aapl.getAttribute('data-utilization'));
    const worst = Number(await aapl.getAttribute('data-worst'));
    expect(worst / held).toBeCloseTo(1.5, 6); // 1 500 units against 1 000 held
    expect(await aapl.textContent()).toMatch(/worst case/);
    expect(await page.textContent('#working-orders')).toMatch(/^1 working orders/);
    const widths = await aapl.evaluate((g) => [...g.querySelectorAll('.fill')].map((f) => f.getBoundingClientRect().width));
    expect(widths).toHaveLength(2);
  }, 60_000);

  it('explains a pending approval: the triggers that fired with readings and thresholds, limits and forecast vol before → after, expiry', async () => {
    const card = page.locator('.card.pending');
    const triggers = await card
      .locator('tr.trigger')
      .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
    expect(triggers).toEqual([
      ['regime-change', 'calm', '–', 'crisis → calm after 17 bars'],
      ['drift', '0.1200', '0.0500', `largest drift ${XSS}`],
    ]);
    const changes = await card
      .locator('table.changes tbody tr')
      .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
    expect(changes).toContainEqual(['portfolio', 'maxGrossNotional', '$600.0k', '$900.0k', '+50.0 %']);
    expect(changes).toContainEqual(['portfolio', 'forecastVol', '11.0 %', '14.0 %', '+27.3 %']);
    expect(await card.locator('.countdown').textContent()).toMatch(/^(9|10) min \d+ s$/);
  }, 60_000);

  it('redraws live: a committed version adds a marker, a loop cycle adds readings, no reload', async () => {
    const navigations: string[] = [];
    page.on('framenavigated', (f) => navigations.push(f.url()));
    const budgets = new BudgetStore(pool);
    const latest = (await budgets.latestBudget(portfolioId))!;
    await budgets.commitBudget(`${portfolioId}-v3`, { ...latest.budget, regime: 'calm' });
    await page.locator('#timeline .version-marker[data-version="3"]').waitFor({ timeout: 10_000 });
    const before = Number(await page.getAttribute('#timeline .timeline-plot', 'data-points'));
    // A cycle: readings, then its index_realized_vol row, whose NOTIFY the console coalesces per page.
    const at = new Date(Date.now() + 60_000 - (Date.now() % 15_000));
    await new MetricsStore(pool).record([
      {
        idempotencyKey: `${portfolioId}-live-calm`,
        portfolioId,
        name: 'regime_probability',
        value: 0.97,
        labels: { regime: 'calm' },
        observedAt: new Date(),
      },
      {
        idempotencyKey: `${portfolioId}-live-crisis`,
        portfolioId,
        name: 'regime_probability',
        value: 0.03,
        labels: { regime: 'crisis' },
        observedAt: new Date(),
      },
      { idempotencyKey: `${portfolioId}-live-vol`, portfolioId, name: 'index_realized_vol', value: 0.15, labels: {}, observedAt: at },
    ]);
    await eventually(
      async () => (Number(await page.getAttribute('#timeline .timeline-plot', 'data-points')) > before ? true : undefined),
      10_000,
      'the new reading on the timeline',
    );
    expect(navigations).toEqual([]);
  }, 60_000);

  it('keeps the person signed in across a console restart', async () => {
    // BALLAST_SCREENSHOT=docs/console-panels.png regenerates the README's picture of these panels.
    if (process.env.BALLAST_SCREENSHOT) await page.screenshot({ path: process.env.BALLAST_SCREENSHOT, fullPage: true });
    const port = Number(new URL(server.url).port);
    const t0 = Date.now();
    await server.close();
    process.stderr.write(`[console panels e2e] console closed in ${Date.now() - t0} ms\n`);
    server = await start(port);
    await page.reload();
    await page.waitForSelector('#timeline .timeline-plot canvas', { timeout: 20_000 });
    expect(await page.locator('#login').count()).toBe(0);
    expect(await page.textContent('#who')).toMatch(/^vic/);
  }, 60_000);
});
