/**
 * The console's HTTP API against real Postgres (the stores it reads, the change feed's migration) with
 * a recording desk standing in for Temporal: every route, every role and CSRF rule, each bad input
 * answered with its problem document. The desk over real Temporal is exercised by the browser test.
 */
import { request as httpRequest } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import pino from 'pino';
import { ConsoleReadStore } from '../../../db/stores/consoleReads';
import { GateLeaseStore } from '../../../db/stores/gateLeases';
import { PositionsStore } from '../../../db/stores/positions';
import { AlertStore } from '../../../db/stores/alerts';
import { BudgetStore } from '../../../db/stores/budgets';
import { GateDecisionsStore, type DecisionRecord } from '../../../db/stores/gateDecisions';
import { decisionRow } from '../../support/consoleSeed';
import { OverrideStore } from '../../../db/stores/overrides';
import { RecommendationStore } from '../../../db/stores/recommendations';
import { RegimeChangeStore } from '../../../db/stores/regimeChanges';
import type { ConsoleChannel } from '../../../db/notifications';
import { Authenticator, hashPassword } from '../../../console/auth';
import type { Desk } from '../../../console/desk';
import { buildConsole } from '../../../console/server';
import type { Recommendation } from '../../../risk/approval';
import type { RiskBudget } from '../../../risk/budget';
import { testPool, uniqueId } from '../../support/env';
import { budget } from '../../unit/risk/pretrade/fixtures';

const XSS = '<img src=x onerror=alert(1)>';
const logger = pino({ level: 'silent' });

interface Call {
  readonly method: string;
  readonly args: unknown[];
}

function recordingDesk(calls: Call[]): Desk {
  const rec =
    <T>(method: string, result: T) =>
    async (...args: unknown[]): Promise<T> => {
      calls.push({ method, args });
      return result;
    };
  return {
    decide: async (kind, portfolioId, recommendationId, by, reason) => {
      calls.push({ method: 'decide', args: [kind, portfolioId, recommendationId, by, reason] });
      return { recommendationId, status: kind === 'approve' ? 'COMMITTED' : 'REJECTED', committedVersion: 3, workflowId: 'wf' };
    },
    startRebalance: rec('startRebalance', { workflowId: 'manual-rebalance-x' }),
    rebalanceProgress: rec('rebalanceProgress', {
      phase: 'completed' as const,
      workflowId: 'manual-rebalance-x',
      outcome: 'COMMITTED',
      recommendationId: 'r',
      version: 3,
    }),
    createOverride: rec('createOverride', { overrideId: 42 }),
    revokeOverride: rec('revokeOverride', undefined),
    setTradingState: async (portfolioId, change) => {
      calls.push({ method: 'setTradingState', args: [portfolioId, change] });
      return { state: change.state };
    },
    setPaused: async (portfolioId, paused, by, reason) => {
      calls.push({ method: 'setPaused', args: [portfolioId, paused, by, reason] });
      return { paused };
    },
    loop: rec('loop', {
      workflowId: 'portfolio-loop-x',
      paused: false,
      cycle: 7,
      regime: 'calm',
      regimeProbabilities: { calm: 0.9, crisis: 0.1 },
      lastMarketAsOf: null,
      pendingRecommendationId: null,
      lastError: null,
    }),
  };
}

function recommendation(portfolioId: string, id: string, b: RiskBudget, createdAtMs: number, baseVersion: number): Recommendation {
  return {
    id,
    portfolioId,
    createdAtMs,
    expiresAtMs: createdAtMs + 600_000,
    reason: 'regime-change: calm',
    addsRisk: true,
    triggers: [{ kind: 'regime-change', fired: true, value: 'calm', threshold: null, detail: 'crisis → calm' }],
    budget: b,
    baseVersion,
    summary: {} as Recommendation['summary'],
  };
}

describe('console API', () => {
  let pool: pg.Pool;
  let app: FastifyInstance;
  let emit: (channel: ConsoleChannel, portfolioId: string) => void = () => undefined;
  const calls: Call[] = [];
  const portfolioId = uniqueId('cons');
  const ids = { pending: `${portfolioId}-r2`, committed: `${portfolioId}-r1` };

  beforeAll(async () => {
    pool = testPool();
    const budgets = new BudgetStore(pool);
    await budgets.ensurePortfolio(portfolioId);
    const v1 = budget(portfolioId);
    // The second version renames a strategy to an XSS payload and moves the gross limit: both must show as data.
    const v2: RiskBudget = {
      ...v1,
      regime: 'crisis',
      limits: { ...v1.limits, maxGrossNotional: 300_000 as RiskBudget['limits']['maxGrossNotional'] },
      strategies: v1.strategies.map((s) => (s.strategy === 'carry' ? { ...s, strategy: XSS } : s)),
      assets: v1.assets.map((a) => (a.strategy === 'carry' ? { ...a, strategy: XSS } : a)),
    };
    await budgets.commitBudget(`${portfolioId}-v1`, v1);
    const recs = new RecommendationStore(pool);
    const committed = recommendation(portfolioId, ids.committed, v2, Date.now() - 60_000, 1);
    await recs.commit(
      committed,
      () => null,
      (version) => ({ portfolioId, budgetVersion: version, trades: [] }) as never,
    );
    await recs.record(recommendation(portfolioId, ids.pending, v1, Date.now() - 1_000, 2), 'PENDING', null);
    const alerts = new AlertStore(pool);
    for (let i = 0; i < 3; i++)
      await alerts.raise({
        idempotencyKey: `${portfolioId}-a${i}`,
        portfolioId,
        severity: 'warning',
        kind: 'regime-change',
        message: `alert ${i} ${XSS}`,
        details: {},
      });
    const decision = (i: number, deny: boolean): DecisionRecord =>
      decisionRow(portfolioId, {
        decisionId: `${portfolioId}-d${i}`,
        decidedAtMs: Date.now() - 1000 + i,
        quantity: 10,
        clientOrderId: `o${i}`,
        decision: deny ? 'DENY' : 'APPROVE',
        approvedQuantity: deny ? 0 : 10,
        reasons: deny ? ['TRADING_HALTED'] : [],
        latencyUs: 40 + i,
      });
    await new GateDecisionsStore(pool).insert(
      'replica-a',
      [0, 1, 2, 3, 4].map((i) => decision(i, i % 2 === 0)),
    );
    await new OverrideStore(pool).create(`${portfolioId}-o1`, portfolioId, {
      field: 'maxGrossNotional',
      value: 500_000,
      reason: 'month end',
      approver: 'ann',
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const detectedAtMs = Date.now() - 90_000; // one clock reading: the response time is exactly 1 000 ms
    await new RegimeChangeStore(pool).record(`${portfolioId}-rc1`, portfolioId, {
      from: 'calm',
      to: 'crisis',
      detectedAsOf: '2026-01-05',
      detectedAtMs,
      committedAtMs: detectedAtMs + 1_000,
      committedVersion: 2,
    } as never);
    await pool.query('INSERT INTO positions (portfolio_id, strategy, asset, quantity) VALUES ($1, $2, $3, $4), ($1, $5, $6, $7)', [
      portfolioId,
      'trend',
      'AAPL',
      1_700,
      XSS,
      'XOM',
      -1_000,
    ]);

    const hash = (p: string) => hashPassword(p, 4);
    const auth = new Authenticator({
      users: [
        { name: 'olga', roles: ['operator'], passwordHash: await hash('olga-pw') },
        { name: 'ann', roles: ['approver'], passwordHash: await hash('ann-pw') },
        { name: 'vic', roles: [], passwordHash: await hash('vic-pw') },
        { name: 'sso-approver', roles: ['approver'] },
      ],
      proxy: { header: 'X-Forwarded-User', addresses: ['10.9.9.9'] },
    });
    ({ app } = await buildConsole({
      reads: new ConsoleReadStore(pool),
      replicas: new GateLeaseStore(pool),
      approvals: new GateDecisionsStore(pool),
      positions: new PositionsStore(pool),
      desk: recordingDesk(calls),
      auth,
      now: () => new Date(),
      logger,
      secureCookies: false,
      changes: {
        subscribe: async (listener) => {
          emit = (channel, id) => listener.onChange(channel, id);
          return { close: async () => undefined };
        },
      },
    }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    origin = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  });

  afterAll(async () => {
    await app?.close();
    await pool?.end();
  });

  let origin = '';
  interface Reply {
    statusCode: number;
    headers: Record<string, string>;
    cookies: { name: string; value: string; attributes: string }[];
    json: <T = unknown>() => T;
  }
  /** Real HTTP against the listening server (light-my-request's ESM-only cookie dependency does not load under jest). */
  async function inject(o: { method: string; url: string; payload?: unknown; headers?: Record<string, string> }): Promise<Reply> {
    const isString = typeof o.payload === 'string';
    const res = await fetch(origin + o.url, {
      method: o.method,
      headers: { ...(o.payload !== undefined && !isString ? { 'content-type': 'application/json' } : {}), ...o.headers },
      body: o.payload === undefined ? undefined : isString ? (o.payload as string) : JSON.stringify(o.payload),
    });
    const text = await res.text();
    return {
      statusCode: res.status,
      headers: Object.fromEntries(res.headers.entries()),
      cookies: res.headers.getSetCookie().map((c) => {
        const [pair, ...attributes] = c.split(';');
        const i = pair.indexOf('=');
        return { name: pair.slice(0, i).trim(), value: pair.slice(i + 1), attributes: attributes.join(';') };
      }),
      json: <T>() => JSON.parse(text) as T,
    };
  }
  interface Session {
    cookie: string;
    csrf: string;
  }
  const sessions: Record<string, Session> = {};
  async function signIn(name: string): Promise<Session> {
    if (sessions[name]) return sessions[name];
    const res = await inject({ method: 'POST', url: '/api/v1/session', payload: { username: name, password: `${name}-pw` } });
    expect(res.statusCode).toBe(200);
    const cookie = res.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    return (sessions[name] = { cookie, csrf: res.json<{ csrfToken: string }>().csrfToken });
  }
  const get = async (url: string, who = 'vic') => inject({ method: 'GET', url, headers: { cookie: (await signIn(who)).cookie } });
  const post = async (url: string, payload: object, who: string, opts: { csrf?: boolean; method?: 'POST' | 'PUT' } = {}) => {
    const s = await signIn(who);
    return inject({
      method: opts.method ?? 'POST',
      url,
      payload,
      headers: { cookie: s.cookie, ...(opts.csrf === false ? {} : { 'x-csrf-token': s.csrf }) },
    });
  };
  const base = `/api/v1/portfolios/${portfolioId}`;
  const expectProblem = (
    res: { statusCode: number; headers: Record<string, unknown>; json: () => unknown },
    status: number,
    detail: RegExp,
  ) => {
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = res.json() as { status: number; title: string; detail: string; type: string };
    expect(body).toMatchObject({ status, type: expect.stringMatching(/^\/problems\//), title: expect.any(String) });
    expect(body.detail).toMatch(detail);
  };

  it('serves an OpenAPI 3.1 document naming every route', async () => {
    const res = await inject({ method: 'GET', url: '/api/v1/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<{ openapi: string; paths: Record<string, Record<string, { responses?: unknown; summary?: string }>> }>();
    expect(doc.openapi).toBe('3.1.0');
    const expected = [
      ['get', '/api/v1/portfolios'],
      ['get', '/api/v1/portfolios/{portfolioId}/budget'],
      ['get', '/api/v1/portfolios/{portfolioId}/budget/versions'],
      ['get', '/api/v1/portfolios/{portfolioId}/budget/versions/{version}'],
      ['get', '/api/v1/portfolios/{portfolioId}/utilization'],
      ['get', '/api/v1/portfolios/{portfolioId}/regimes'],
      ['get', '/api/v1/portfolios/{portfolioId}/recommendations'],
      ['get', '/api/v1/portfolios/{portfolioId}/alerts'],
      ['get', '/api/v1/portfolios/{portfolioId}/decisions'],
      ['get', '/api/v1/portfolios/{portfolioId}/decisions/summary'],
      ['get', '/api/v1/portfolios/{portfolioId}/overrides'],
      ['post', '/api/v1/portfolios/{portfolioId}/recommendations/{recommendationId}/approve'],
      ['post', '/api/v1/portfolios/{portfolioId}/recommendations/{recommendationId}/reject'],
      ['post', '/api/v1/portfolios/{portfolioId}/rebalances'],
      ['get', '/api/v1/portfolios/{portfolioId}/rebalances/current'],
      ['post', '/api/v1/portfolios/{portfolioId}/overrides'],
      ['post', '/api/v1/portfolios/{portfolioId}/overrides/{overrideId}/revoke'],
      ['put', '/api/v1/portfolios/{portfolioId}/trading-state'],
      ['get', '/api/v1/portfolios/{portfolioId}/trading-state'],
      ['post', '/api/v1/portfolios/{portfolioId}/loop/pause'],
      ['post', '/api/v1/portfolios/{portfolioId}/loop/resume'],
      ['get', '/api/v1/events'],
    ];
    for (const [method, path] of expected)
      expect({ path, method, summary: doc.paths[path]?.[method]?.summary }).toEqual({ path, method, summary: expect.any(String) });
    // The body schemas travel into the document, required fields included.
    const override = doc.paths['/api/v1/portfolios/{portfolioId}/overrides'].post as unknown as {
      requestBody: { content: { 'application/json': { schema: { required: string[] } } } };
    };
    expect(override.requestBody.content['application/json'].schema.required).toEqual(
      expect.arrayContaining(['field', 'value', 'reason', 'expiresAt', 'requestedBy']),
    );
  });

  it('answers 401 with a problem document without a session, and on a wrong password', async () => {
    expectProblem(await inject({ method: 'GET', url: '/api/v1/portfolios' }), 401, /sign in/);
    expectProblem(await inject({ method: 'POST', url: '/api/v1/session', payload: { username: 'ann', password: 'nope' } }), 401, /wrong/);
    expectProblem(await inject({ method: 'POST', url: '/api/v1/session', payload: { username: 'nobody', password: 'x' } }), 401, /wrong/);
  });

  it('sets an HttpOnly, SameSite=Strict session cookie and a restrictive content security policy', async () => {
    const res = await inject({ method: 'POST', url: '/api/v1/session', payload: { username: 'ann', password: 'ann-pw' } });
    const session = res.cookies.find((c) => c.name === 'ballast_session');
    expect(session?.attributes).toMatch(/HttpOnly/);
    expect(session?.attributes).toMatch(/SameSite=Strict/);
    expect(res.headers['content-security-policy']).toMatch(/script-src 'self'/);
  });

  it('lists portfolios and one portfolio; an unknown one is 404', async () => {
    const list = (await get('/api/v1/portfolios')).json<{ items: { id: string; budgetVersion: number; tradingState: string }[] }>();
    expect(list.items.find((p) => p.id === portfolioId)).toMatchObject({ budgetVersion: 2, tradingState: 'ACTIVE', regime: 'crisis' });
    expect((await get(base)).json()).toMatchObject({ id: portfolioId, budgetVersion: 2 });
    for (const path of [
      '',
      '/budget',
      '/budget/versions',
      '/utilization',
      '/regimes',
      '/recommendations',
      '/alerts',
      '/decisions',
      '/overrides',
      '/loop',
    ])
      expectProblem(await get(`/api/v1/portfolios/no-such-book${path}`), 404, /no portfolio "no-such-book"/);
  });

  it('shows the current budget with who approved it and what moved against the predecessor', async () => {
    const res = await get(`${base}/budget`);
    expect(res.statusCode).toBe(200);
    const b = res.json<{
      version: number;
      committedAt: string;
      recommendationId: string;
      changes: { scope: string; field: string; before: number; after: number; relative: number }[];
    }>();
    expect(b).toMatchObject({ version: 2, recommendationId: ids.committed, regime: 'crisis', predecessor: { version: 1 } });
    expect(b.committedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    expect(b.changes).toContainEqual(
      expect.objectContaining({ scope: 'portfolio', field: 'maxGrossNotional', before: 600_000, after: 300_000, relative: -0.5 }),
    );
    expect(b.changes).toContainEqual(
      expect.objectContaining({ scope: `strategy:${XSS}`, field: 'maxGrossNotional', before: null, after: 180_000 }),
    );
  });

  it('pages budget versions by cursor and diffs any version; a missing version is 404, a forged cursor 400', async () => {
    const first = (await get(`${base}/budget/versions?limit=1`)).json<{ items: { version: number }[]; nextCursor: string }>();
    expect(first.items.map((v) => v.version)).toEqual([2]);
    const second = (await get(`${base}/budget/versions?limit=1&cursor=${first.nextCursor}`)).json<{
      items: { version: number }[];
      nextCursor: string | null;
    }>();
    expect(second.items.map((v) => v.version)).toEqual([1]);
    const third = (await get(`${base}/budget/versions?limit=1&cursor=${second.nextCursor}`)).json<{ items: unknown[]; nextCursor: null }>();
    expect(third).toEqual({ items: [], nextCursor: null });
    const v1 = (await get(`${base}/budget/versions/1`)).json<{ predecessor: null; changes: unknown[] }>();
    expect(v1.predecessor).toBeNull();
    expect(v1.changes.length).toBeGreaterThan(0);
    expectProblem(await get(`${base}/budget/versions/9`), 404, /no budget version 9/);
    expectProblem(await get(`${base}/budget/versions/0`), 400, /params/);
    expectProblem(await get(`${base}/budget/versions?cursor=not-ours`), 400, /cursor/);
    expectProblem(await get(`${base}/budget/versions?limit=0`), 400, /limit/);
  });

  it('shows utilization against the limits in force, overrides applied', async () => {
    const u = (await get(`${base}/utilization`)).json<{
      gross: { used: number; limit: number; utilization: number; overridden: boolean };
      strategies: { scope: string; used: number; utilization: number }[];
      assets: { scope: string; utilization: number }[];
      workingOrders: number;
      worstCase: { gross: { used: number; limit: number }; assets: { scope: string; used: number }[] };
    }>();
    // AAPL 1700 × 100 = 170 000; XOM −1000 × 50 = 50 000; gross 220 000 against the 500 000 override.
    expect(u.gross).toEqual({ scope: 'gross', used: 220_000, limit: 500_000, utilization: 0.44, overridden: true });
    expect(u.strategies.find((s) => s.scope === 'trend')).toMatchObject({ used: 170_000 });
    expect(u.assets.find((a) => a.scope === 'trend/AAPL')?.utilization).toBeCloseTo(0.85);
    // The gate approved two buys of 10 AAPL with no fill yet: the worst case holds them as filled.
    expect(u.workingOrders).toBe(2);
    expect(u.worstCase.gross).toMatchObject({ used: 222_000, limit: 500_000 });
    expect(u.worstCase.assets.find((a) => a.scope === 'trend/AAPL')?.used).toBe(172_000);
  });

  it('lists regime changes with the version each caused, recommendations pending first, alerts newest first', async () => {
    const regimes = (await get(`${base}/regimes`)).json<{ items: { to: string; committedVersion: number; responseMs: number }[] }>();
    expect(regimes.items[0]).toMatchObject({ from: 'calm', to: 'crisis', committedVersion: 2, responseMs: 1000 });
    const recs = (await get(`${base}/recommendations`)).json<{ items: { id: string; status: string; changes?: unknown[] }[] }>();
    expect(recs.items.map((r) => [r.id, r.status])).toEqual([
      [ids.pending, 'PENDING'],
      [ids.committed, 'COMMITTED'],
    ]);
    expect(recs.items[0].changes).toContainEqual(expect.objectContaining({ field: 'maxGrossNotional', before: 300_000, after: 600_000 }));
    const page1 = (await get(`${base}/recommendations?limit=1`)).json<{ items: { id: string }[]; nextCursor: string }>();
    const page2 = (await get(`${base}/recommendations?limit=1&cursor=${page1.nextCursor}`)).json<{ items: { id: string }[] }>();
    expect([page1.items[0].id, page2.items[0].id]).toEqual([ids.pending, ids.committed]);
    const alerts1 = (await get(`${base}/alerts?limit=2`)).json<{ items: { message: string }[]; nextCursor: string }>();
    const alerts2 = (await get(`${base}/alerts?limit=2&cursor=${alerts1.nextCursor}`)).json<{
      items: { message: string }[];
      nextCursor: null;
    }>();
    expect([...alerts1.items, ...alerts2.items]).toHaveLength(3);
    expect(alerts2.nextCursor).toBeNull();
  });

  it("lists the gate's decisions and counts denials by reason", async () => {
    const d = (await get(`${base}/decisions?limit=3`)).json<{
      items: { id: number; decision: string; reasons: string[] }[];
      nextCursor: string;
    }>();
    expect(d.items).toHaveLength(3);
    const rest = (await get(`${base}/decisions?limit=3&cursor=${d.nextCursor}`)).json<{ items: unknown[] }>();
    expect(rest.items).toHaveLength(2);
    const s = (await get(`${base}/decisions/summary?windowMinutes=60`)).json<{
      total: number;
      denied: number;
      denialsByReason: Record<string, number>;
      latencyUs: { p50: number };
    }>();
    expect(s).toMatchObject({ total: 5, denied: 3, denialsByReason: { TRADING_HALTED: 3 }, latencyUs: { p50: 42 } });
    expectProblem(await get(`${base}/decisions/summary?windowMinutes=abc`), 400, /windowMinutes/);
  });

  it('lists overrides with countdowns, the latest metrics and the loop status', async () => {
    const o = (await get(`${base}/overrides`)).json<{
      active: { field: string; secondsLeft: number; approver: string }[];
      history: unknown[];
    }>();
    expect(o.active[0]).toMatchObject({ field: 'maxGrossNotional', approver: 'ann' });
    expect(o.active[0].secondsLeft).toBeGreaterThan(3500);
    const metrics = (await get(`${base}/metrics?windowHours=2`)).json<{
      windowHours: number;
      summary: { regimeResponseMs: { count: number }; overrides: { count: number } };
    }>();
    expect(metrics).toMatchObject({ windowHours: 2, summary: { regimeResponseMs: { count: 1 }, overrides: { count: 1 } } });
    expectProblem(await get(`${base}/metrics?windowHours=0`), 400, /windowHours/);
    expect((await get(`${base}/loop`)).json()).toMatchObject({ regime: 'calm', paused: false });
  });

  describe('changes', () => {
    const approve = `${base}/recommendations/${ids.pending}/approve`;

    it('refuses a viewer (403), an operator approving (403) and a request without the CSRF token (403)', async () => {
      expectProblem(await post(approve, { reason: 'ok' }, 'vic'), 403, /needs approver/);
      expectProblem(await post(approve, { reason: 'ok' }, 'olga'), 403, /needs approver/);
      expectProblem(await post(`${base}/loop/pause`, { reason: 'x' }, 'vic'), 403, /needs operator/);
      expectProblem(await post(approve, { reason: 'ok' }, 'ann', { csrf: false }), 403, /CSRF/);
      // A token minted for another person is worthless.
      const olga = await signIn('olga');
      const ann = await signIn('ann');
      const forged = await inject({
        method: 'POST',
        url: `${base}/loop/pause`,
        payload: { reason: 'x' },
        headers: { cookie: olga.cookie, 'x-csrf-token': ann.csrf },
      });
      expectProblem(forged, 403, /CSRF/);
      expect(calls.filter((c) => c.method === 'decide' || c.method === 'setPaused')).toHaveLength(0);
    });

    it('refuses a cross-site form post (not JSON, no token)', async () => {
      const ann = await signIn('ann');
      const res = await inject({
        method: 'POST',
        url: approve,
        payload: 'reason=pwned',
        headers: { cookie: ann.cookie, 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      });
      expect([403, 415]).toContain(res.statusCode);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
    });

    it('validates bodies: missing reason 400, unknown field 400, unknown or decided recommendation 409', async () => {
      expectProblem(await post(approve, {}, 'ann'), 400, /reason/);
      expectProblem(await post(approve, { reason: '   ' }, 'ann'), 400, /reason/);
      expectProblem(await post(approve, { reason: 'ok', approver: 'someone-else' }, 'ann'), 400, /additional properties/);
      expectProblem(await post(`${base}/recommendations/nope/approve`, { reason: 'ok' }, 'ann'), 409, /no recommendation "nope"/);
      expectProblem(
        await post(`${base}/recommendations/${ids.committed}/approve`, { reason: 'ok' }, 'ann'),
        409,
        /already decided: it is COMMITTED/,
      );
    });

    it("approves and rejects through the desk under the signed-in person's name", async () => {
      const res = await post(approve, { reason: 'calm is back' }, 'ann');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ status: 'COMMITTED', committedVersion: 3 });
      expect(calls.at(-1)).toEqual({ method: 'decide', args: ['approve', portfolioId, ids.pending, 'ann', 'calm is back'] });
      expect((await post(`${base}/recommendations/${ids.pending}/reject`, { reason: 'no' }, 'ann')).statusCode).toBe(200);
      expect(calls.at(-1)?.args[0]).toBe('reject');
    });

    it('creates overrides only with scope rules, a reason and a future expiry; revokes them', async () => {
      const url = `${base}/overrides`;
      const future = new Date(Date.now() + 3_600_000).toISOString();
      expectProblem(
        await post(url, { requestedBy: 'desk-head', field: 'maxGrossNotional', value: 1, expiresAt: future }, 'ann'),
        400,
        /reason/,
      );
      expectProblem(
        await post(
          url,
          { requestedBy: 'desk-head', field: 'maxGrossNotional', value: 1, reason: 'x', expiresAt: '2020-01-01T00:00:00Z' },
          'ann',
        ),
        400,
        /in the future/,
      );
      expectProblem(
        await post(url, { requestedBy: 'desk-head', field: 'maxGrossNotional', value: 1, reason: 'x', expiresAt: 'tomorrow' }, 'ann'),
        400,
        /expiresAt/,
      );
      expectProblem(
        await post(url, { requestedBy: 'desk-head', field: 'maxLeverage', value: 1, reason: 'x', expiresAt: future }, 'ann'),
        400,
        /field/,
      );
      expectProblem(
        await post(url, { requestedBy: 'desk-head', field: 'maxGrossNotional', value: -1, reason: 'x', expiresAt: future }, 'ann'),
        400,
        /value/,
      );
      expectProblem(
        await post(url, { requestedBy: 'desk-head', field: 'maxPositionNotional', value: 1, reason: 'x', expiresAt: future }, 'ann'),
        400,
        /needs an asset/,
      );
      expectProblem(
        await post(url, { requestedBy: 'desk-head', field: 'maxGrossNotional', value: 1, reason: 'x', expiresAt: future }, 'olga'),
        403,
        /approver/,
      );
      expectProblem(
        await post(url, { requestedBy: 'ann', field: 'maxGrossNotional', value: 1, reason: 'x', expiresAt: future }, 'ann'),
        400,
        /may not approve/,
      );
      const ok = await post(
        url,
        { requestedBy: 'desk-head', field: 'maxGrossNotional', value: 700_000, reason: 'month end', expiresAt: future },
        'ann',
      );
      expect(ok.statusCode).toBe(201);
      expect(ok.json()).toEqual({ overrideId: 42 });
      expect(calls.at(-1)).toMatchObject({
        method: 'createOverride',
        args: [portfolioId, { approver: 'ann', value: 700_000, reason: 'month end' }],
      });

      const { active } = (await get(`${base}/overrides`)).json<{ active: { id: number }[] }>();
      expectProblem(await post(`${base}/overrides/999999999/revoke`, { reason: 'x' }, 'ann'), 404, /no override/);
      expectProblem(await post(`${base}/overrides/${active[0].id}/revoke`, {}, 'ann'), 400, /reason/);
      expect((await post(`${base}/overrides/${active[0].id}/revoke`, { reason: 'done' }, 'ann')).json()).toEqual({
        overrideId: active[0].id,
        revoked: true,
      });
      expect(calls.at(-1)).toEqual({ method: 'revokeOverride', args: [portfolioId, active[0].id, 'ann', 'done'] });
    });

    it('sets the trading state, pauses and resumes, starts a rebalance and shows its progress', async () => {
      const ts = `${base}/trading-state`;
      expectProblem(await post(ts, { state: 'HALTED' }, 'olga', { method: 'PUT' }), 400, /reason/);
      expectProblem(await post(ts, { state: 'STOPPED', reason: 'x' }, 'olga', { method: 'PUT' }), 400, /state/);
      expectProblem(await post(ts, { state: 'HALTED', reason: 'x' }, 'ann', { method: 'PUT' }), 403, /operator/);
      expect((await post(ts, { state: 'HALTED', reason: 'fat finger' }, 'olga', { method: 'PUT' })).json()).toEqual({ state: 'HALTED' });
      expect(calls.at(-1)).toEqual({
        method: 'setTradingState',
        args: [portfolioId, { state: 'HALTED', reason: 'fat finger', operator: 'olga', scope: undefined }],
      });
      expect(
        (await post(ts, { state: 'REDUCING', reason: 'x', scope: { instrument: 'AAPL' } }, 'olga', { method: 'PUT' })).statusCode,
      ).toBe(200);
      expect(calls.at(-1)).toMatchObject({ args: [portfolioId, { state: 'REDUCING', scope: { kind: 'instrument', name: 'AAPL' } }] });
      // Resuming a scope is an operator's act like halting it: a viewer or an approver is refused, and nothing reaches the desk.
      const before = calls.length;
      const resume = { state: 'ACTIVE', reason: 'x', scope: { strategy: 'trend' } };
      expectProblem(await post(ts, resume, 'vic', { method: 'PUT' }), 403, /operator/);
      expectProblem(await post(ts, resume, 'ann', { method: 'PUT' }), 403, /operator/);
      expect(calls.length).toBe(before);
      expect((await get(ts)).json()).toMatchObject({ items: [{ scope: { kind: 'portfolio', name: '' }, state: 'ACTIVE' }] });
      expectProblem(
        await post(ts, { state: 'HALTED', reason: 'x', scope: { strategy: 'trend', instrument: 'AAPL' } }, 'olga', { method: 'PUT' }),
        400,
        /not both/,
      );
      expect((await post(`${base}/loop/pause`, { reason: 'data issue' }, 'olga')).json()).toEqual({ paused: true });
      expect((await post(`${base}/loop/resume`, { reason: 'fixed' }, 'olga')).json()).toEqual({ paused: false });
      const started = await post(`${base}/rebalances`, { reason: 'month end' }, 'olga');
      expect(started.statusCode).toBe(202);
      expect(started.json()).toEqual({ workflowId: 'manual-rebalance-x' });
      expect(calls.at(-1)).toEqual({ method: 'startRebalance', args: [portfolioId, 'olga', 'month end'] });
      expect((await get(`${base}/rebalances/current`)).json()).toMatchObject({ phase: 'completed', version: 3 });
      expectProblem(await post(`/api/v1/portfolios/no-such-book/rebalances`, { reason: 'x' }, 'olga'), 404, /no portfolio/);
    });
  });

  describe('identity from an authenticating proxy', () => {
    it('ignores the identity header from anyone but the configured proxy', async () => {
      // The console's proxy is 10.9.9.9; this request comes from 127.0.0.1.
      const spoofed = await inject({ method: 'GET', url: '/api/v1/session', headers: { 'x-forwarded-user': 'sso-approver' } });
      expectProblem(spoofed, 401, /sign in/);
    });
  });

  it('streams change events (server-sent events) as NOTIFY reports them', async () => {
    const port = (app.server.address() as { port: number }).port;
    const { cookie } = await signIn('vic');
    const received = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port, path: `/api/v1/events?portfolioId=${portfolioId}`, headers: { cookie } },
        (res) => {
          expect(res.headers['content-type']).toMatch(/text\/event-stream/);
          let text = '';
          res.on('data', (chunk: Buffer) => {
            text += chunk.toString();
            if (text.includes('event: hello')) emit('ballast_budget', portfolioId);
            if (text.includes('event: budget')) {
              req.destroy();
              resolve(text);
            }
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(received).toMatch(new RegExp(`event: budget\\ndata: \\{"portfolioId":"${portfolioId}"`));
  });
});
