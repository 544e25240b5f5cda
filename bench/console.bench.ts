/**
 * The console on a 500-asset portfolio (5 strategies × 100 assets, every pair held, 5 000 gate decisions,
 * a pending recommendation, a factor risk model, a day of regime readings at one a second for the last
 * hour and one a minute before): API latency per route against a same-run baseline (GET /api/v1/session:
 * the same server, cookie and session lookup, nothing else), and the dashboard's first paint in Chromium
 * (navigation → budget header, every gauge and the regime timeline drawn), when Chromium is installed. The desk is a stand-in: this
 * measures reads and rendering, not Temporal.
 */
import { existsSync } from 'node:fs';
import pino from 'pino';
import { dropDatabase } from '../db/migrate';
import { scratchDatabase } from './scratchDatabase';
import { createPool } from '../db/pool';
import { BudgetStore } from '../db/stores/budgets';
import { GateDecisionsStore, type DecisionRecord } from '../db/stores/gateDecisions';
import { RiskModelStore } from '../db/stores/riskModels';
import { RecommendationStore } from '../db/stores/recommendations';
import { hashPassword } from '../console/auth';
import type { Desk } from '../console/desk';
import { startConsoleProcess } from '../processes/console';
import type { RiskBudget } from '../risk/budget';
import type { Recommendation } from '../risk/approval';
import { type RiskModel, factorRiskModel } from '../risk/riskModel';

const PORTFOLIO = 'bench-console';
const STRATEGIES = 5;
const ASSETS_PER_STRATEGY = 100;
const REQUESTS = 200;
const PAINTS = 5;

function bigBudget(scale: number): RiskBudget {
  const strategies = Array.from({ length: STRATEGIES }, (_, s) => `strategy-${s}`);
  const assets = strategies.flatMap((strategy, s) =>
    Array.from({ length: ASSETS_PER_STRATEGY }, (_, a) => ({
      strategy,
      asset: `A${s * ASSETS_PER_STRATEGY + a}`,
      targetWeight: 0.002,
      targetNotional: 20_000 * scale,
      maxPositionNotional: 40_000 * scale,
      riskBudget: 0.002,
      forecastVol: 0.2,
      referencePrice: 100,
    })),
  );
  return {
    portfolioId: PORTFOLIO,
    asOf: new Date().toISOString(),
    regime: scale < 1 ? 'crisis' : 'bull',
    volTarget: 0.12,
    forecastVol: 0.11,
    limits: {
      capital: 10_000_000,
      grossLeverage: 1,
      maxGrossNotional: 10_000_000 * scale,
      maxNetNotional: 8_000_000 * scale,
      cashWeight: 0,
      maxOrderNotional: 500_000,
      priceCollar: 0.1,
    },
    strategies: strategies.map((strategy) => ({
      strategy,
      riskBudget: 1 / STRATEGIES,
      capital: 2_000_000,
      maxGrossNotional: 2_000_000 * scale,
      maxNetNotional: 1_600_000 * scale,
    })),
    assets,
    diagnostics: {},
  } as unknown as RiskBudget;
}

const standInDesk = (): Desk => {
  const refuse = async (): Promise<never> => {
    throw new Error('the benchmark desk changes nothing');
  };
  return {
    decide: refuse,
    startRebalance: refuse,
    rebalanceProgress: async () => ({ phase: 'none' }),
    createOverride: refuse,
    revokeOverride: refuse,
    setTradingState: refuse,
    setPaused: refuse,
    loop: async () => undefined,
  };
};

/** A 20-factor model over the budget's assets (deterministic loadings), the form budgets over 300 assets carry. */
function benchRiskModel(assets: readonly string[]): RiskModel {
  const k = 20;
  return factorRiskModel({
    unit: 'annualized',
    assets,
    factors: Array.from({ length: k }, (_, j) => `F${j}`),
    loadings: Float64Array.from({ length: assets.length * k }, (_, x) => (((x * 7919) % 97) / 97 - 0.5) * 0.4),
    factorCovariance: Float64Array.from({ length: k * k }, (_, x) => (x % (k + 1) === 0 ? 0.04 : 0)),
    specificVariances: Float64Array.from({ length: assets.length }, () => 0.01),
  });
}

/** Readings of two regimes: one a second over the last hour, one a minute over the 23 hours before. */
async function regimeReadings(pool: ReturnType<typeof createPool>): Promise<void> {
  const now = Date.now();
  const times = [
    ...Array.from({ length: 3_600 }, (_, i) => now - i * 1_000),
    ...Array.from({ length: 23 * 60 }, (_, i) => now - 3_600_000 - i * 60_000),
  ];
  const calm = times.map((_, i) => 0.5 + 0.5 * Math.sin(i / 300));
  await pool.query(
    `INSERT INTO metrics (idempotency_key, portfolio_id, name, value, labels, observed_at)
     SELECT 'bench-rp-' || r || '-' || i, $1, 'regime_probability', CASE WHEN r = 'calm' THEN p ELSE 1 - p END,
            jsonb_build_object('regime', r), to_timestamp(t / 1000.0)
     FROM unnest($2::float8[], $3::float8[]) WITH ORDINALITY AS x(t, p, i), unnest(ARRAY['calm', 'crisis']) AS r`,
    [PORTFOLIO, times, calm],
  );
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

export async function run(): Promise<void> {
  const databaseUrl = await scratchDatabase('console');
  const pool = createPool(databaseUrl, 4);
  const server = await startConsoleProcess({
    databaseUrl,
    desk: standInDesk(),
    port: 0,
    auth: { users: [{ name: 'bench', roles: ['operator', 'approver'], passwordHash: await hashPassword('bench-pw', 4) }] },
    logger: pino({ level: 'warn' }),
  });
  try {
    const budgets = new BudgetStore(pool);
    await budgets.ensurePortfolio(PORTFOLIO);
    await budgets.commitBudget('bench-v1', bigBudget(1));
    const model = benchRiskModel(bigBudget(1).assets.map((a) => a.asset));
    const modelId = await new RiskModelStore(pool).put(model);
    await budgets.commitBudget('bench-v2', {
      ...bigBudget(0.5),
      riskLimits: { modelId, form: 'factor', assetCount: model.assets.length, volLimit: 0.3, riskBudgetTolerance: 0.1 },
    } as RiskBudget);
    await regimeReadings(pool);
    const pending: Recommendation = {
      id: 'bench-rec',
      portfolioId: PORTFOLIO,
      createdAtMs: Date.now(),
      expiresAtMs: Date.now() + 3_600_000,
      reason: 'regime-change: bull',
      addsRisk: true,
      triggers: [],
      budget: bigBudget(1),
      baseVersion: 2,
      summary: {} as Recommendation['summary'],
    };
    await new RecommendationStore(pool).record(pending, 'PENDING', null);
    const held = bigBudget(1).assets;
    await pool.query(
      'INSERT INTO positions (portfolio_id, strategy, asset, quantity) SELECT $1, * FROM unnest($2::text[], $3::text[], $4::float8[])',
      [PORTFOLIO, held.map((a) => a.strategy), held.map((a) => a.asset), held.map((_, i) => 100 + (i % 200))],
    );
    const decisions: DecisionRecord[] = Array.from({ length: 5_000 }, (_, i) => ({
      decisionId: `bench-console-${i}`,
      decidedAtMs: Date.now() - i * 10,
      rpc: 'EvaluateTrade',
      caller: 'bench',
      portfolioId: PORTFOLIO,
      strategy: held[i % held.length].strategy,
      instrument: held[i % held.length].asset,
      side: 'BUY',
      quantity: 10,
      price: 100,
      clientOrderId: `o${i}`,
      decision: i % 10 === 0 ? 'DENY' : 'APPROVE',
      approvedQuantity: i % 10 === 0 ? 0 : 10,
      reasons: i % 10 === 0 ? ['POSITION_LIMIT'] : [],
      detail: '',
      budgetVersion: 2,
      tradingState: 'ACTIVE',
      latencyUs: 50 + (i % 40),
    }));
    await new GateDecisionsStore(pool).insert('bench', decisions);

    const login = await fetch(`${server.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'bench', password: 'bench-pw' }),
    });
    const cookie = login.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const base = `/api/v1/portfolios/${PORTFOLIO}`;
    const routes = [
      '/api/v1/session',
      '/api/v1/portfolios',
      `${base}/budget`,
      `${base}/utilization`,
      `${base}/recommendations`,
      `${base}/budget/versions`,
      `${base}/decisions?limit=50`,
      `${base}/decisions/summary?windowMinutes=60`,
      `${base}/overrides`,
      `${base}/alerts`,
      `${base}/regimes/timeline?windowMinutes=60`,
      `${base}/regimes/timeline?windowMinutes=1440`,
      `${base}/risk-contributions`,
    ];
    process.stdout.write(`API latency, ${REQUESTS} sequential requests per route, 500-asset portfolio:\n`);
    process.stdout.write(
      `${'route'.padEnd(58)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'× baseline p50'.padStart(15)} ${'bytes'.padStart(8)}\n`,
    );
    let baseline = 0;
    for (const route of routes) {
      const times: number[] = [];
      let bytes = 0;
      for (let i = 0; i < REQUESTS + 20; i++) {
        const t = process.hrtime.bigint();
        const res = await fetch(server.url + route, { headers: { cookie } });
        const body = await res.arrayBuffer();
        if (!res.ok) throw new Error(`${route} answered ${res.status}`);
        if (i >= 20) times.push(Number(process.hrtime.bigint() - t) / 1e6);
        bytes = body.byteLength;
      }
      times.sort((a, b) => a - b);
      const p50 = percentile(times, 0.5);
      if (route === '/api/v1/session') baseline = p50;
      process.stdout.write(
        `${route.replace(base, '…').padEnd(58)} ${p50.toFixed(2).padStart(8)} ${percentile(times, 0.99).toFixed(2).padStart(8)} ${(p50 / baseline).toFixed(1).padStart(15)} ${String(bytes).padStart(8)}\n`,
      );
    }
    await firstPaint(server.url);
  } finally {
    await server.close();
    await pool.end();
    await dropDatabase(databaseUrl).catch(() => undefined);
  }
}

async function firstPaint(url: string): Promise<void> {
  const executablePath = process.env.BALLAST_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    process.stdout.write(`first paint: skipped (no Chromium at ${executablePath})\n`);
    return;
  }
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  try {
    const page = await (await browser.newContext({ viewport: { width: 1366, height: 900 } })).newPage();
    await page.goto(`${url}/#/p/${PORTFOLIO}`);
    await page.fill('input[name=username]', 'bench');
    await page.fill('input[name=password]', 'bench-pw');
    await page.click('#login button[type=submit]');
    await page.waitForSelector('.gauge');
    const times: number[] = [];
    for (let i = 0; i < PAINTS; i++) {
      const t = Date.now();
      await page.goto(`${url}/#/p/${PORTFOLIO}`);
      await page.reload();
      await page.waitForSelector('#budget-version');
      // (Locators, not waitForFunction: the console's CSP forbids evaluating strings.) Per-asset gauges sit in a closed <details>.
      await page
        .locator('.gauge')
        .nth(1 + STRATEGIES + STRATEGIES * ASSETS_PER_STRATEGY)
        .waitFor({ state: 'attached' });
      await page.locator('#timeline .timeline-plot canvas').waitFor({ state: 'attached' });
      await page.locator('.card.pending table.changes').waitFor();
      times.push(Date.now() - t);
    }
    times.sort((a, b) => a - b);
    process.stdout.write(
      `first paint (reload → budget, ${2 + STRATEGIES + STRATEGIES * ASSETS_PER_STRATEGY} gauges, the regime timeline and the pending approval drawn), ${PAINTS} runs: median ${times[Math.floor(PAINTS / 2)]} ms, max ${times[PAINTS - 1]} ms\n`,
    );
  } finally {
    await browser.close();
  }
}
