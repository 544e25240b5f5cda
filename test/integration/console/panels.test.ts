/**
 * The console's regime timeline, budget-vs-actual risk contribution and the OpenAPI document's
 * validity, over real Postgres (stores seeded through their own write methods).
 */
import pino from 'pino';
import type pg from 'pg';
import { Authenticator, hashPassword } from '../../../console/auth';
import { type RunningConsole, startConsole } from '../../../console/server';
import { ConsoleReadStore } from '../../../db/stores/consoleReads';
import { GateDecisionsStore } from '../../../db/stores/gateDecisions';
import { GateLeaseStore } from '../../../db/stores/gateLeases';
import { PositionsStore } from '../../../db/stores/positions';
import { BudgetStore } from '../../../db/stores/budgets';
import { XSS, noDesk, seedPanels, type Seeded } from '../../support/consoleSeed';
import { budget } from '../../unit/risk/pretrade/fixtures';
import { testPool, uniqueId } from '../../support/env';

describe('console panels API', () => {
  let pool: pg.Pool;
  let server: RunningConsole;
  let cookie = '';
  let seeded: Seeded;
  const portfolioId = uniqueId('panels');
  const bare = uniqueId('panels-bare');
  const base = `/api/v1/portfolios/${portfolioId}`;

  beforeAll(async () => {
    pool = testPool();
    seeded = await seedPanels(pool, portfolioId);
    // A budget from before risk models were stored: no riskLimits.
    const budgets = new BudgetStore(pool);
    await budgets.ensurePortfolio(bare);
    await budgets.commitBudget(`${bare}-v1`, budget(bare));
    server = await startConsole({
      reads: new ConsoleReadStore(pool),
      replicas: new GateLeaseStore(pool),
      approvals: new GateDecisionsStore(pool),
      positions: new PositionsStore(pool),
      desk: noDesk,
      auth: new Authenticator({ users: [{ name: 'vic', roles: [], passwordHash: await hashPassword('vic-pw', 4) }] }),
      now: () => new Date(),
      logger: pino({ level: 'silent' }),
      secureCookies: false,
      changes: { subscribe: async () => ({ close: async () => undefined }) },
      port: 0,
    });
    const res = await fetch(`${server.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'vic', password: 'vic-pw' }),
    });
    cookie = res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
  });

  afterAll(async () => {
    await server?.close();
    await pool?.end();
  });

  const get = async <T>(path: string): Promise<{ status: number; type: string | null; body: T }> => {
    const res = await fetch(server.url + path, { headers: { cookie } });
    return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as T };
  };

  interface Timeline {
    from: string;
    to: string;
    bucketSeconds: number;
    regimes: string[];
    probabilities: { at: string[]; byRegime: Record<string, (number | null)[]> };
    bands: { regime: string; from: string; to: string }[];
    versions: { version: number; committedAt: string; regime: string }[];
    overrides: { id: number; scope: string; field: string; reason: string; from: string; to: string; ended: string }[];
  }

  it('draws the regime timeline of the last hour: probabilities, bands from the recorded switches, versions, overrides', async () => {
    const { status, body: t } = await get<Timeline>(`${base}/regimes/timeline?windowMinutes=60`);
    expect(status).toBe(200);
    expect(Date.parse(t.to) - Date.parse(t.from)).toBe(3_600_000);
    expect(t.bucketSeconds).toBe(15);
    // Readings every 5 minutes from 1 minute ago: 12 inside the hour, the older ones left out.
    const inWindow = seeded.readingsAt.filter((d) => d.getTime() >= Date.parse(t.from));
    expect(t.probabilities.at).toHaveLength(inWindow.length);
    expect([...t.probabilities.at].sort()).toEqual(t.probabilities.at);
    expect(t.regimes.slice(0, 2).sort()).toEqual(['calm', 'crisis']);
    const last = t.probabilities.at.length - 1;
    expect(t.probabilities.byRegime.crisis[last]).toBeCloseTo(0.9);
    expect(t.probabilities.byRegime.calm[0]).toBeCloseTo(0.9);
    // The window opens in calm (the switch three hours ago), then crisis from 20 minutes ago to now.
    expect(t.bands.map((b) => b.regime)).toEqual(['calm', 'crisis']);
    expect(t.bands[0].from).toBe(t.from);
    expect(t.bands[0].to).toBe(t.bands[1].from);
    expect(Date.parse(t.bands[1].from)).toBeGreaterThan(Date.parse(t.to) - 21 * 60_000);
    expect(t.bands[1].to).toBe(t.to);
    expect(t.versions.map((v) => [v.version, v.regime])).toEqual([
      [1, 'bull'],
      [2, 'crisis'],
    ]);
    const overrides = Object.fromEntries(t.overrides.map((o) => [o.id, o]));
    expect(overrides[seeded.overrideActive]).toMatchObject({ scope: 'portfolio', field: 'maxGrossNotional', ended: 'active', to: t.to });
    expect(overrides[seeded.overrideActive].reason).toBe(`month end ${XSS}`);
    expect(overrides[seeded.overrideRevoked]).toMatchObject({ field: 'maxNetNotional', ended: 'revoked' });
    expect(Date.parse(overrides[seeded.overrideRevoked].to)).toBeLessThan(Date.parse(t.to));
  });

  it('averages readings into buckets over a long window, and shows no probabilities where none were recorded', async () => {
    const day = (await get<Timeline>(`${base}/regimes/timeline?windowMinutes=1440`)).body;
    expect(day.bucketSeconds).toBe(360);
    // 24 readings 5 minutes apart over 115 minutes fall into 20–21 six-minute buckets: some are averages of two.
    expect(day.probabilities.at.length).toBeGreaterThanOrEqual(20);
    expect(day.probabilities.at.length).toBeLessThanOrEqual(21);
    for (const p of [...day.probabilities.byRegime.calm, ...day.probabilities.byRegime.crisis]) expect(p).toBeGreaterThanOrEqual(0);
    // Three hours ago bull → calm: a day's window opens in bull.
    expect(day.bands.map((b) => b.regime)).toEqual(['bull', 'calm', 'crisis']);
    const empty = (await get<Timeline>(`/api/v1/portfolios/${bare}/regimes/timeline`)).body;
    expect(empty.probabilities).toEqual({ at: [], byRegime: {} });
    expect(empty.bands).toEqual([]);
    expect(empty.versions.map((v) => v.version)).toEqual([1]);
  });

  it('refuses a bad window or an unknown portfolio with a problem document', async () => {
    for (const q of ['windowMinutes=0', 'windowMinutes=50000', 'windowMinutes=abc', 'since=1']) {
      const res = await get<{ status: number; detail: string }>(`${base}/regimes/timeline?${q}`);
      expect({ q, status: res.status, type: res.type }).toEqual({ q, status: 400, type: expect.stringMatching(/problem\+json/) });
    }
    const missing = await get<{ detail: string }>('/api/v1/portfolios/no-such-book/regimes/timeline');
    expect(missing.status).toBe(404);
    expect(missing.body.detail).toMatch(/no portfolio "no-such-book"/);
  });

  interface Contributions {
    budgetVersion: number;
    modelId: string | null;
    note: string | null;
    bookVol: number | null;
    strategies: { strategy: string; budget: number; actual: number | null; volContribution: number }[];
  }

  it("sets each strategy's budgeted risk share beside its share of the held book's risk under the budget's model", async () => {
    const { status, body: r } = await get<Contributions>(`${base}/risk-contributions`);
    expect(status).toBe(200);
    expect(r).toMatchObject({ budgetVersion: 2, modelId: expect.stringMatching(/^sha256:/), note: null });
    expect(r.bookVol).toBeCloseTo(0.025, 10);
    expect(r.strategies.map((s) => s.strategy)).toEqual(['trend', XSS]);
    expect(r.strategies[0]).toMatchObject({ budget: 0.7 });
    expect(r.strategies[0].actual).toBeCloseTo(0.64, 10);
    expect(r.strategies[1].actual).toBeCloseTo(0.36, 10);
  });

  it('says so when the budget names no stored risk model, and 404s without a budget or portfolio', async () => {
    const { body: r } = await get<Contributions>(`/api/v1/portfolios/${bare}/risk-contributions`);
    expect(r).toMatchObject({ modelId: null, bookVol: null, note: expect.stringMatching(/no stored risk model/) });
    expect(r.strategies.map((s) => [s.strategy, s.budget, s.actual])).toEqual([
      ['trend', 0.7, null],
      ['carry', 0.3, null],
    ]);
    const empty = uniqueId('panels-empty');
    await new BudgetStore(pool).ensurePortfolio(empty);
    expect((await get(`/api/v1/portfolios/${empty}/risk-contributions`)).status).toBe(404);
    expect((await get('/api/v1/portfolios/no-such-book/risk-contributions')).status).toBe(404);
  });

  it('publishes the new routes in a structurally valid OpenAPI 3.1 document', async () => {
    const { body: doc } = await get<{
      openapi: string;
      paths: Record<string, Record<string, { summary?: string; parameters?: { in: string; name: string; required?: boolean }[] }>>;
    }>('/api/v1/openapi.json');
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.paths['/api/v1/portfolios/{portfolioId}/regimes/timeline']?.get?.summary).toMatch(/timeline/);
    expect(doc.paths['/api/v1/portfolios/{portfolioId}/risk-contributions']?.get?.summary).toMatch(/risk contribution/);
    const timelineParams = doc.paths['/api/v1/portfolios/{portfolioId}/regimes/timeline'].get.parameters ?? [];
    expect(timelineParams).toContainEqual(expect.objectContaining({ in: 'query', name: 'windowMinutes' }));
    // Every templated path names each of its parameters as a required path parameter (OpenAPI's own rule).
    for (const [path, ops] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(ops)) {
        const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
        const declared = (op.parameters ?? []).filter((p) => p.in === 'path');
        expect({ path, method, params: declared.map((p) => p.name).sort() }).toEqual({ path, method, params: templated });
        expect(declared.every((p) => p.required === true)).toBe(true);
      }
  });
  it('shows budget staleness per gate replica: version served, versions behind, heartbeat, who decides', async () => {
    const leases = new GateLeaseStore(pool);
    const { body: current } = await get<{ version: number }>(`${base}/budget`);
    const other = uniqueId('panels-other');
    const [owner, lagging, dead, elsewhere] = ['a', 'b', 'c', 'd'].map((n) => uniqueId(`replica-${n}`));
    await leases.heartbeat(owner, '127.0.0.1:1', 60_000, { [portfolioId]: current.version });
    await leases.acquire(portfolioId, owner, '127.0.0.1:1', 60_000, current.version);
    await leases.heartbeat(lagging, '127.0.0.1:2', 60_000, { [portfolioId]: current.version - 1 });
    await leases.heartbeat(dead, '127.0.0.1:3', 1, { [portfolioId]: current.version });
    await leases.heartbeat(elsewhere, '127.0.0.1:4', 60_000, { [other]: 1 });
    await new Promise((r) => setTimeout(r, 20));

    const { status, body } = await get<{
      items: { replica: string; budgetVersion: number; versionsBehind: number; alive: boolean; decides: boolean }[];
    }>(`${base}/gate-replicas`);
    expect(status).toBe(200);
    const byName = new Map(body.items.map((r) => [r.replica, r]));
    expect(byName.has(elsewhere)).toBe(false);
    expect(byName.get(owner)).toMatchObject({ budgetVersion: current.version, versionsBehind: 0, alive: true, decides: true });
    expect(byName.get(lagging)).toMatchObject({ budgetVersion: current.version - 1, versionsBehind: 1, alive: true, decides: false });
    expect(byName.get(dead)).toMatchObject({ alive: false, decides: false });
    expect((await get(`/api/v1/portfolios/${uniqueId('nobody')}/gate-replicas`)).status).toBe(404);
  });
});
