/**
 * Request and response schemas of the console API (TypeBox: JSON Schema with static types). Fastify
 * validates every body, parameter and query against them, and @fastify/swagger publishes them as the
 * OpenAPI 3.1 document; unknown body fields are refused, not ignored (a typo must be loud).
 */
import { type Static, Type } from '@sinclair/typebox';
import { OVERRIDABLE_LIMITS } from '../risk/budget';
import { TRADING_STATES } from '../risk/kinds';
import { MAX_REASON_LENGTH } from '../risk/overrides';

const strict = { additionalProperties: false } as const;
const open = { additionalProperties: true } as const;

export const Problem = Type.Object(
  { type: Type.String(), title: Type.String(), status: Type.Integer(), detail: Type.String(), instance: Type.Optional(Type.String()) },
  { $id: 'Problem', description: 'RFC 9457 problem document', ...open },
);

export const PortfolioParams = Type.Object({ portfolioId: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' }) }, strict);
export const VersionParams = Type.Object({ ...PortfolioParams.properties, version: Type.Integer({ minimum: 1 }) }, strict);
export const RecommendationParams = Type.Object(
  { ...PortfolioParams.properties, recommendationId: Type.String({ minLength: 1, maxLength: 200 }) },
  strict,
);
export const OverrideParams = Type.Object({ ...PortfolioParams.properties, overrideId: Type.Integer({ minimum: 1 }) }, strict);

export const Page = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    cursor: Type.Optional(Type.String({ maxLength: 500, description: 'nextCursor of the previous page' })),
  },
  strict,
);
export type PageQuery = Static<typeof Page>;

export const MetricsQuery = Type.Object({ windowHours: Type.Number({ exclusiveMinimum: 0, maximum: 24 * 90, default: 24 }) }, strict);

export const TimelineQuery = Type.Object(
  { windowMinutes: Type.Integer({ minimum: 1, maximum: 43_200, default: 60, description: 'the window ending now (at most 30 days)' }) },
  strict,
);

export const DecisionSummaryQuery = Type.Object({ windowMinutes: Type.Integer({ minimum: 1, maximum: 10_080, default: 60 }) }, strict);

const Reason = Type.String({ minLength: 1, maxLength: MAX_REASON_LENGTH, pattern: '\\S', description: 'why; recorded with the change' });

export const ReasonBody = Type.Object({ reason: Reason }, strict);
export type ReasonBodyT = Static<typeof ReasonBody>;

export const OverrideBody = Type.Object(
  {
    field: Type.Union(OVERRIDABLE_LIMITS.map((f) => Type.Literal(f))),
    value: Type.Number({ minimum: 0 }),
    strategy: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    asset: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    reason: Reason,
    expiresAt: Type.String({ format: 'date-time', description: 'ISO-8601, in the future (at most 30 days)' }),
    requestedBy: Type.String({
      minLength: 1,
      maxLength: 200,
      pattern: '\\S',
      description: 'who asked for the override; the signed-in approver may not be that person (four eyes)',
    }),
  },
  strict,
);
export type OverrideBodyT = Static<typeof OverrideBody>;

export const TradingStateBody = Type.Object(
  {
    state: Type.Union(
      TRADING_STATES.map((s) => Type.Literal(s)),
      { description: 'HALTED is the kill switch; REDUCING lets only reducing orders through' },
    ),
    scope: Type.Optional(
      Type.Object(
        {
          strategy: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' })),
          instrument: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' })),
        },
        { ...strict, description: 'one strategy, or one instrument (in every strategy); none: the whole portfolio' },
      ),
    ),
    reason: Reason,
  },
  strict,
);
export type TradingStateBodyT = Static<typeof TradingStateBody>;

export const LoginBody = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 200 }), password: Type.String({ minLength: 1, maxLength: 1000 }) },
  strict,
);
export type LoginBodyT = Static<typeof LoginBody>;

/** A page of a list: the items and the cursor of the next page (null at the end). */
export const PageOf = (item: ReturnType<typeof Type.Object> | ReturnType<typeof Type.Unknown>) =>
  Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) }, open);

export const AnyObject = Type.Object({}, open);
