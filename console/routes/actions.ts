/**
 * The console API's changes. Each goes through the desk (the workflows' Updates), carries the
 * signed-in person as operator/approver/requester, needs a role and a CSRF token, and is refused
 * with a problem document when the input or the workflow says no.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { TradingScope } from '../../risk/kinds';
import { overrideRequestError } from '../../risk/overrides';
import type { Role } from '../auth';
import type { ConsoleContext } from '../context';
import { Problem } from '../problem';
import { requirePortfolio } from './lookups';
import type { PortfolioRow } from '../../db/stores/consoleReads';
import { OverrideBody, OverrideParams, PortfolioParams, ReasonBody, RecommendationParams, TradingStateBody } from '../schemas';
import { identityOf, requireRole } from '../guards';

export function actionRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { reads, desk } = ctx;
  // Role first (a viewer learns 403, not "bad token"), then the CSRF token.
  const guard = (role: Role) => ({
    onRequest: [requireRole(role), app.csrfProtection as (req: FastifyRequest, reply: FastifyReply, done: () => void) => void],
  });
  const tags = (t: string, role: Role) => ({
    tags: [t],
    security: [
      { session: [], csrf: [] },
      { proxy: [], csrf: [] },
    ] as Record<string, string[]>[],
    description: `Needs the ${role} role and the X-CSRF-Token header (GET /api/v1/session returns it).`,
  });

  const portfolioOr404 = (id: string): Promise<PortfolioRow> => requirePortfolio(reads, id);

  for (const kind of ['approve', 'reject'] as const) {
    r.post(
      `/portfolios/:portfolioId/recommendations/:recommendationId/${kind}`,
      {
        ...guard('approver'),
        schema: {
          ...tags('recommendations', 'approver'),
          summary: `${kind === 'approve' ? 'Approve' : 'Reject'} a pending recommendation (the workflow refuses its own requester: four eyes)`,
          params: RecommendationParams,
          body: ReasonBody,
        },
      },
      async (req) => {
        const { portfolioId, recommendationId } = req.params;
        await portfolioOr404(portfolioId);
        const rec = await reads.recommendation(portfolioId, recommendationId);
        if (!rec) throw new Problem('conflict', `portfolio "${portfolioId}" has no recommendation "${recommendationId}" to ${kind}`);
        if (rec.status !== 'PENDING')
          throw new Problem('conflict', `recommendation "${recommendationId}" was already decided: it is ${rec.status}`);
        return desk.decide(kind, portfolioId, recommendationId, identityOf(req).name, req.body.reason);
      },
    );
  }

  r.post(
    '/portfolios/:portfolioId/rebalances',
    {
      ...guard('operator'),
      schema: {
        ...tags('rebalances', 'operator'),
        summary: 'Start a manual rebalance; answers 202 with the workflow id (progress: GET …/rebalances/current)',
        params: PortfolioParams,
        body: ReasonBody,
      },
    },
    async (req, reply) => {
      await portfolioOr404(req.params.portfolioId);
      const started = await desk.startRebalance(req.params.portfolioId, identityOf(req).name, req.body.reason);
      return reply
        .code(202)
        .header('location', `/api/v1/portfolios/${encodeURIComponent(req.params.portfolioId)}/rebalances/current`)
        .send(started);
    },
  );

  r.get(
    '/portfolios/:portfolioId/rebalances/current',
    {
      schema: {
        tags: ['rebalances'],
        summary: "The latest manual rebalance's progress and result (the new version, or null for no change)",
        params: PortfolioParams,
      },
    },
    async (req) => {
      await portfolioOr404(req.params.portfolioId);
      return desk.rebalanceProgress(req.params.portfolioId);
    },
  );

  r.post(
    '/portfolios/:portfolioId/overrides',
    {
      ...guard('approver'),
      schema: {
        ...tags('overrides', 'approver'),
        summary: 'Create a temporary limit override (scope, field, value, reason and expiry required)',
        params: PortfolioParams,
        body: OverrideBody,
      },
    },
    async (req, reply) => {
      await portfolioOr404(req.params.portfolioId);
      const request = { ...req.body, approver: identityOf(req).name };
      // The same rule the workflow's validator applies; checked here first for a 400 with its sentence.
      const error = overrideRequestError(request, ctx.now().getTime());
      if (error) throw new Problem('bad-request', error);
      return reply.code(201).send(await desk.createOverride(req.params.portfolioId, request));
    },
  );

  r.post(
    '/portfolios/:portfolioId/overrides/:overrideId/revoke',
    {
      ...guard('approver'),
      schema: { ...tags('overrides', 'approver'), summary: 'Revoke an active override', params: OverrideParams, body: ReasonBody },
    },
    async (req) => {
      const { portfolioId, overrideId } = req.params;
      await portfolioOr404(portfolioId);
      const o = await reads.override(portfolioId, overrideId);
      if (!o) throw new Problem('not-found', `portfolio "${portfolioId}" has no override ${overrideId}`);
      if (o.revokedAt) throw new Problem('conflict', `override ${overrideId} was already revoked`);
      if (o.expiresAt <= ctx.now()) throw new Problem('conflict', `override ${overrideId} has already expired`);
      await desk.revokeOverride(portfolioId, overrideId, identityOf(req).name, req.body.reason);
      return { overrideId, revoked: true };
    },
  );

  r.put(
    '/portfolios/:portfolioId/trading-state',
    {
      ...guard('operator'),
      schema: {
        ...tags('trading', 'operator'),
        summary:
          'Set the trading state (HALTED = kill switch, REDUCING = reduce only, ACTIVE = resume) of the portfolio, a strategy or an instrument',
        params: PortfolioParams,
        body: TradingStateBody,
      },
    },
    async (req) => {
      await portfolioOr404(req.params.portfolioId);
      const { strategy, instrument } = req.body.scope ?? {};
      if (strategy !== undefined && instrument !== undefined)
        throw new Problem('bad-request', 'scope names a strategy or an instrument, not both');
      const scope: TradingScope | undefined =
        strategy !== undefined
          ? { kind: 'strategy', name: strategy }
          : instrument !== undefined
            ? { kind: 'instrument', name: instrument }
            : undefined;
      // The operator role (guard) is what authorises a resume as much as a halt; the identity is recorded with the change.
      return desk.setTradingState(req.params.portfolioId, {
        state: req.body.state,
        scope,
        reason: req.body.reason,
        operator: identityOf(req).name,
      });
    },
  );

  for (const [path, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    r.post(
      `/portfolios/:portfolioId/loop/${path}`,
      {
        ...guard('operator'),
        schema: {
          ...tags('loop', 'operator'),
          summary: `${paused ? 'Pause' : 'Resume'} the control loop`,
          params: PortfolioParams,
          body: ReasonBody,
        },
      },
      async (req) => {
        await portfolioOr404(req.params.portfolioId);
        return desk.setPaused(req.params.portfolioId, paused, identityOf(req).name, req.body.reason);
      },
    );
  }
}
