/** The console API's reads: portfolios, budgets and their diffs, utilization, regimes, recommendations, overrides, alerts, gate decisions. */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { diffBudgets } from '../../risk/budgetDiff';
import { DEFAULT_RESERVATION_TTL_MS } from '../../risk/pretrade/exposures';
import type { RiskModel } from '../../risk/riskModel';
import { strategyRiskShares } from '../../risk/strategyRisk';
import { utilization } from '../../risk/utilization';
import type { ConsoleContext } from '../context';
import { decodeCursor, pageOf } from '../cursor';
import { Problem } from '../problem';
import { requirePortfolio } from './lookups';
import type { PortfolioRow } from '../../db/stores/consoleReads';
import { AnyObject, DecisionSummaryQuery, MetricsQuery, Page, PageOf, PortfolioParams, TimelineQuery, VersionParams } from '../schemas';
import { regimeTimeline } from '../timeline';

/** Points a timeline window is averaged into: enough for a laptop-wide chart, few enough to send live. */
const TIMELINE_POINTS = 240;
/** Working orders read per portfolio (the newest; a gate holds at most 100 000 per portfolio by default). */
const MAX_WORKING_ORDERS = 100_000;
/** Risk models kept in memory (a few portfolios' current ones). */
const RISK_MODELS_KEPT = 8;

const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === 'string';

export function readRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  const kit = readKit(app, ctx);
  portfolioRoutes(kit);
  budgetRoutes(kit);
  riskRoutes(kit);
  activityRoutes(kit);
}

/** What every group of read routes shares: the typed app, the reads, a portfolio or 404, and a small risk-model cache. */
function readKit(app: FastifyInstance, ctx: ConsoleContext) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { reads } = ctx;
  // Risk models are immutable under their content id: keep the last few instead of re-reading megabytes per redraw.
  const models = new Map<string, RiskModel>();
  const riskModel = async (id: string): Promise<RiskModel | undefined> => {
    const cached = models.get(id);
    if (cached) return cached;
    const model = await reads.riskModel(id);
    if (model) {
      if (models.size >= RISK_MODELS_KEPT) models.delete(models.keys().next().value as string);
      models.set(id, model);
    }
    return model;
  };

  const portfolioOr404 = (id: string): Promise<PortfolioRow> => requirePortfolio(reads, id);

  const portfolioView = (p: PortfolioRow) => ({
    id: p.id,
    baseCurrency: p.baseCurrency,
    tradingState: p.tradingState,
    stateReason: p.stateReason,
    stateChangedBy: p.stateChangedBy,
    stateChangedAt: iso(p.stateChangedAt),
    loopHeartbeatAt: iso(p.loopHeartbeatAt),
    heartbeatAgeSeconds: p.loopHeartbeatAt ? (ctx.now().getTime() - p.loopHeartbeatAt.getTime()) / 1000 : null,
    budgetVersion: p.latestVersion,
    regime: p.regime,
  });

  const tags = (t: string) => ({ tags: [t], security: [{ session: [] }, { proxy: [] }] as Record<string, string[]>[] });
  return { r, ctx, reads, riskModel, portfolioOr404, portfolioView, tags };
}

type ReadKit = ReturnType<typeof readKit>;

/** Portfolios, their trading states, the gate replicas serving them and the control loop. */
function portfolioRoutes({ r, ctx, reads, portfolioOr404, portfolioView, tags }: ReadKit): void {
  r.get(
    '/portfolios',
    { schema: { ...tags('portfolios'), summary: 'All portfolios with trading state, heartbeat and budget version' } },
    async () => ({
      items: (await reads.portfolios()).map(portfolioView),
      nextCursor: null,
    }),
  );

  r.get('/portfolios/:portfolioId', { schema: { ...tags('portfolios'), summary: 'One portfolio', params: PortfolioParams } }, async (req) =>
    portfolioView(await portfolioOr404(req.params.portfolioId)),
  );

  r.get(
    '/portfolios/:portfolioId/gate-replicas',
    {
      schema: {
        ...tags('portfolios'),
        summary:
          'Budget staleness per gate replica (replicas run with --ha): the version each serves, how many committed versions it is behind, its heartbeat age, and which one decides the portfolio',
        params: PortfolioParams,
      },
    },
    async (req) => {
      const p = await portfolioOr404(req.params.portfolioId);
      const replicas = await ctx.replicas.replicaStatus();
      return {
        items: replicas
          .filter((r) => p.id in r.budgetVersions || r.owns.includes(p.id))
          .map((r) => ({
            replica: r.replica,
            address: r.address,
            budgetVersion: r.budgetVersions[p.id] ?? null,
            versionsBehind: r.versionsBehind[p.id] ?? null,
            heartbeatAgeSeconds: r.heartbeatAgeMs / 1000,
            // A heartbeat older than the lease TTL: the replica is dead or cut off from Postgres.
            alive: r.heartbeatAgeMs <= r.leaseTtlMs,
            decides: r.owns.includes(p.id),
          })),
      };
    },
  );

  r.get(
    '/portfolios/:portfolioId/trading-state',
    {
      schema: {
        ...tags('trading'),
        summary:
          'The trading state of every scope: the portfolio, then each strategy and instrument an operator has set, with who set it, why and when',
        params: PortfolioParams,
      },
    },
    async (req) => {
      await portfolioOr404(req.params.portfolioId);
      return { items: await reads.tradingStates(req.params.portfolioId) };
    },
  );

  r.get(
    '/portfolios/:portfolioId/loop',
    { schema: { ...tags('loop'), summary: "The control loop's live status (a Temporal Query)", params: PortfolioParams } },
    async (req) => {
      const p = await portfolioOr404(req.params.portfolioId);
      const loop = await ctx.desk.loop(p.id);
      if (!loop) throw new Problem('not-found', `no control loop is running for portfolio "${p.id}"`);
      return loop;
    },
  );
}

/** The budget in force, its versions with what changed, and how much of it the books use. */
function budgetRoutes({ r, ctx, reads, portfolioOr404, tags }: ReadKit): void {
  r.get(
    '/portfolios/:portfolioId/budget',
    {
      schema: {
        ...tags('budgets'),
        summary: 'The current budget: version, committed at, by whom and why, limits, target allocation, forecast vol, and its diff',
        params: PortfolioParams,
      },
    },
    async (req) => {
      const p = await portfolioOr404(req.params.portfolioId);
      if (p.latestVersion === null) throw new Problem('not-found', `portfolio "${p.id}" has no committed budget yet`);
      return versionView(await reads.budgetVersionWithPredecessor(p.id, p.latestVersion));
    },
  );

  r.get(
    '/portfolios/:portfolioId/budget/versions',
    {
      schema: {
        ...tags('budgets'),
        summary: 'Budget versions, newest first',
        params: PortfolioParams,
        querystring: Page,
        response: { 200: PageOf(AnyObject) },
      },
    },
    async (req) => {
      await portfolioOr404(req.params.portfolioId);
      const after = decodeCursor<{ v: number }>(req.query.cursor, (k): k is { v: number } => isNum(k.v));
      const rows = await reads.budgetVersions(req.params.portfolioId, req.query.limit, after?.v);
      const page = pageOf(rows, req.query.limit, (last) => ({ v: last.version }));
      return { items: [...page.items], nextCursor: page.nextCursor };
    },
  );

  r.get(
    '/portfolios/:portfolioId/budget/versions/:version',
    {
      schema: {
        ...tags('budgets'),
        summary: 'One budget version and the limits that moved against its predecessor',
        params: VersionParams,
      },
    },
    async (req) => {
      await portfolioOr404(req.params.portfolioId);
      const pair = await reads.budgetVersionWithPredecessor(req.params.portfolioId, req.params.version);
      if (!pair.version)
        throw new Problem('not-found', `portfolio "${req.params.portfolioId}" has no budget version ${req.params.version}`);
      return versionView(pair);
    },
  );

  r.get(
    '/portfolios/:portfolioId/utilization',
    {
      schema: {
        ...tags('budgets'),
        summary:
          "Gross, net, per strategy and per asset notional against the limits in force (overrides applied), at reference prices; worstCase adds the gates' working orders (approved, not yet done) on their worse side, as the gate checks",
        params: PortfolioParams,
      },
    },
    async (req) => {
      const p = await portfolioOr404(req.params.portfolioId);
      if (p.latestVersion === null) throw new Problem('not-found', `portfolio "${p.id}" has no committed budget yet`);
      const [pair, positions, overrides, approved] = await Promise.all([
        reads.budgetVersionWithPredecessor(p.id, p.latestVersion),
        ctx.positions.forPortfolio(p.id),
        reads.overrides(p.id, ctx.now()),
        ctx.approvals.approvedInPortfolio(p.id, ctx.now().getTime() - DEFAULT_RESERVATION_TTL_MS, MAX_WORKING_ORDERS),
      ]);
      if (!pair.version) throw new Problem('not-found', `portfolio "${p.id}" has no committed budget yet`);
      const working = approved
        .filter((o) => !o.done && o.approvedQuantity > o.filled)
        .map((o) => ({ strategy: o.strategy, asset: o.instrument, side: o.side, remaining: o.approvedQuantity - o.filled }));
      return {
        budgetVersion: pair.version.version,
        workingOrders: working.length,
        ...utilization(pair.version.budget, positions, overrides.active, working),
      };
    },
  );
}

/** Regimes, risk contributions and the recommendations the loop made. */
function riskRoutes({ r, ctx, reads, riskModel, portfolioOr404, tags }: ReadKit): void {
  r.get(
    '/portfolios/:portfolioId/regimes',
    {
      schema: {
        ...tags('regimes'),
        summary: 'Regime changes, newest first, with the budget version each caused',
        params: PortfolioParams,
        querystring: Page,
      },
    },
    async (req) => {
      await portfolioOr404(req.params.portfolioId);
      const after = decodeCursor<{ t: string }>(req.query.cursor, (k): k is { t: string } => isStr(k.t) && !Number.isNaN(Date.parse(k.t)));
      const rows = await reads.regimeChanges(req.params.portfolioId, req.query.limit, after ? new Date(after.t) : undefined);
      const page = pageOf(rows, req.query.limit, (last) => ({ t: last.detectedAt.toISOString() }));
      return {
        items: page.items.map((c) => ({ ...c, detectedAt: iso(c.detectedAt), committedAt: iso(c.committedAt) })),
        nextCursor: page.nextCursor,
      };
    },
  );

  r.get(
    '/portfolios/:portfolioId/regimes/timeline',
    {
      schema: {
        ...tags('regimes'),
        summary:
          'The regime timeline of a window ending now: filtered regime probabilities (bucketed), regime bands, the budget versions committed and the overrides in force',
        params: PortfolioParams,
        querystring: TimelineQuery,
      },
    },
    async (req) => {
      await portfolioOr404(req.params.portfolioId);
      const until = ctx.now();
      const windowMs = req.query.windowMinutes * 60_000;
      const since = new Date(until.getTime() - windowMs);
      const bucketSeconds = Math.max(1, Math.ceil(windowMs / 1000 / TIMELINE_POINTS));
      const rows = await reads.regimeTimeline(req.params.portfolioId, since, until, bucketSeconds * 1000);
      return regimeTimeline(rows, since, until, bucketSeconds);
    },
  );

  r.get(
    '/portfolios/:portfolioId/risk-contributions',
    {
      schema: {
        ...tags('budgets'),
        summary:
          "Budget vs actual risk contribution per strategy: each strategy's budgeted share of risk and its Euler share of the held book's risk under the budget's risk model",
        params: PortfolioParams,
      },
    },
    async (req) => {
      const p = await portfolioOr404(req.params.portfolioId);
      if (p.latestVersion === null) throw new Problem('not-found', `portfolio "${p.id}" has no committed budget yet`);
      const { version } = await reads.budgetVersionWithPredecessor(p.id, p.latestVersion);
      if (!version) throw new Problem('not-found', `portfolio "${p.id}" has no committed budget yet`);
      const modelId = version.budget.riskLimits?.modelId ?? null;
      const [model, positions] = await Promise.all([modelId ? riskModel(modelId) : undefined, ctx.positions.forPortfolio(p.id)]);
      const budgetOnly = version.budget.strategies.map((s) => ({
        strategy: s.strategy,
        budget: s.riskBudget,
        actual: null,
        volContribution: 0,
      }));
      const report = model ? strategyRiskShares(model, version.budget, positions) : { bookVol: null, strategies: budgetOnly };
      return {
        budgetVersion: version.version,
        modelId,
        // Budgets committed before risk models were stored name none: the budget side only.
        note: model ? null : 'this budget names no stored risk model: actual contributions cannot be computed',
        volTarget: version.budget.volTarget,
        forecastVol: version.budget.forecastVol,
        ...report,
      };
    },
  );

  r.get(
    '/portfolios/:portfolioId/recommendations',
    {
      schema: {
        ...tags('recommendations'),
        summary: 'Recommendations, pending first then newest, each with the limits it would change',
        params: PortfolioParams,
        querystring: Page,
      },
    },
    async (req) => {
      const p = await portfolioOr404(req.params.portfolioId);
      type Key = { p: boolean; t: string; id: string };
      const after = decodeCursor<Key>(req.query.cursor, (k): k is Key => typeof k.p === 'boolean' && isStr(k.t) && isStr(k.id));
      const rows = await reads.recommendations(
        p.id,
        req.query.limit,
        after ? { pending: after.p, createdAt: new Date(after.t), id: after.id } : undefined,
      );
      const current = p.latestVersion !== null ? (await reads.budgetVersionWithPredecessor(p.id, p.latestVersion)).version : undefined;
      const page = pageOf(rows, req.query.limit, (last) => ({
        p: last.status === 'PENDING',
        t: last.createdAt.toISOString(),
        id: last.id,
      }));
      return {
        items: page.items.map((rec) => ({
          id: rec.id,
          status: rec.status,
          reason: rec.reason,
          addsRisk: rec.addsRisk,
          baseVersion: rec.baseVersion,
          committedVersion: rec.committedVersion,
          createdAt: iso(rec.createdAt),
          expiresAt: iso(rec.expiresAt),
          decidedAt: iso(rec.decidedAt),
          triggers: rec.triggers,
          summary: rec.summary,
          regime: rec.budget.regime,
          // Pending ones are compared with the budget in force now; decided ones with what they were based on.
          changes: rec.status === 'PENDING' ? diffBudgets(current?.budget, rec.budget) : undefined,
        })),
        nextCursor: page.nextCursor,
      };
    },
  );
}

/** What happened: overrides, alerts, the gate's decisions and the success metrics. */
function activityRoutes({ r, ctx, reads, portfolioOr404, tags }: ReadKit): void {
  r.get(
    '/portfolios/:portfolioId/overrides',
    { schema: { ...tags('overrides'), summary: 'Active overrides (soonest expiry first) and the history', params: PortfolioParams } },
    async (req) => {
      await portfolioOr404(req.params.portfolioId);
      const now = ctx.now();
      const { active, history } = await reads.overrides(req.params.portfolioId, now);
      const view = (o: (typeof active)[number]) => ({
        ...o,
        createdAt: iso(o.createdAt),
        expiresAt: iso(o.expiresAt),
        revokedAt: iso(o.revokedAt),
        secondsLeft: Math.max(0, (o.expiresAt.getTime() - now.getTime()) / 1000),
      });
      return { active: active.map(view), history: history.map(view) };
    },
  );

  r.get(
    '/portfolios/:portfolioId/alerts',
    { schema: { ...tags('alerts'), summary: 'Alerts, newest first', params: PortfolioParams, querystring: Page } },
    async (req) => {
      await portfolioOr404(req.params.portfolioId);
      type Key = { t: string; k: string };
      const after = decodeCursor<Key>(req.query.cursor, (k): k is Key => isStr(k.t) && isStr(k.k) && !Number.isNaN(Date.parse(k.t)));
      const rows = await reads.alerts(
        req.params.portfolioId,
        req.query.limit,
        after ? { createdAt: new Date(after.t), key: after.k } : undefined,
      );
      const page = pageOf(rows, req.query.limit, (last) => ({ t: last.createdAt.toISOString(), k: last.key }));
      return { items: page.items.map((a) => ({ ...a, createdAt: iso(a.createdAt) })), nextCursor: page.nextCursor };
    },
  );

  r.get(
    '/portfolios/:portfolioId/decisions',
    { schema: { ...tags('gate'), summary: "The gate's recent decisions, newest first", params: PortfolioParams, querystring: Page } },
    async (req) => {
      await portfolioOr404(req.params.portfolioId);
      type Key = { t: string; id: number };
      const after = decodeCursor<Key>(req.query.cursor, (k): k is Key => isStr(k.t) && !Number.isNaN(Date.parse(k.t)) && isNum(k.id));
      const rows = await reads.gateDecisions(
        req.params.portfolioId,
        req.query.limit,
        after ? { decidedAt: new Date(after.t), id: after.id } : undefined,
      );
      const page = pageOf(rows, req.query.limit, (last) => ({ t: last.decidedAt.toISOString(), id: last.id }));
      return { items: page.items.map((d) => ({ ...d, decidedAt: iso(d.decidedAt) })), nextCursor: page.nextCursor };
    },
  );

  r.get(
    '/portfolios/:portfolioId/decisions/summary',
    {
      schema: {
        ...tags('gate'),
        summary: 'Decisions in a window: totals, denial counts by reason, latency p50/p99',
        params: PortfolioParams,
        querystring: DecisionSummaryQuery,
      },
    },
    async (req) => {
      await portfolioOr404(req.params.portfolioId);
      const since = new Date(ctx.now().getTime() - req.query.windowMinutes * 60_000);
      return { since: since.toISOString(), ...(await reads.decisionSummary(req.params.portfolioId, since)) };
    },
  );

  r.get(
    '/portfolios/:portfolioId/metrics',
    {
      schema: {
        ...tags('portfolios'),
        summary:
          'Success metrics over a window (utilization, regime response time, override frequency, approval latency, realized vs target vol, return per unit of risk) and the latest value of each series',
        params: PortfolioParams,
        querystring: MetricsQuery,
      },
    },
    async (req) => {
      await portfolioOr404(req.params.portfolioId);
      const [summary, latest] = await Promise.all([
        reads.successMetrics(req.params.portfolioId, req.query.windowHours * 3_600_000),
        reads.latestMetrics(req.params.portfolioId),
      ]);
      return { windowHours: req.query.windowHours, summary, latest: latest.map((m) => ({ ...m, observedAt: iso(m.observedAt) })) };
    },
  );
}

type Pair = Awaited<ReturnType<ConsoleContext['reads']['budgetVersionWithPredecessor']>>;

function versionView({ version, predecessor }: Pair) {
  if (!version) throw new Problem('not-found', 'no such budget version');
  return {
    portfolioId: version.portfolioId,
    version: version.version,
    committedAt: version.committedAt,
    recommendationId: version.recommendationId,
    reason: version.reason,
    approver: version.approver,
    approvalReason: version.approvalReason,
    regime: version.budget.regime,
    asOf: version.budget.asOf,
    volTarget: version.budget.volTarget,
    forecastVol: version.budget.forecastVol,
    limits: version.budget.limits,
    strategies: version.budget.strategies,
    assets: version.budget.assets,
    predecessor: predecessor ? { version: predecessor.version, committedAt: predecessor.committedAt } : null,
    changes: diffBudgets(predecessor?.budget, version.budget),
  };
}
