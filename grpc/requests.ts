/**
 * Request parsing: proto messages in, typed requests out, or InvalidArgument with one sentence naming
 * the field. Only malformed input is an error here; a well-formed order that breaks a rule (a zero
 * quantity, an unknown strategy) is a decision, made by the checks.
 */
import { overrideRequestError } from '../risk/overrides';
import type { Side } from '../risk/kinds';
import type { OrderRequest } from '../risk/pretrade/checks';
import { NOTIONAL_RANGE, outOfRange, PRICE_RANGE, QUANTITY_RANGE, type ValueRange } from '../risk/pretrade/ranges';
import type { FillReport } from './gate';
import { LimitField, type Order, type OverrideLimitRequest, type ReportFillRequest } from './generated/ballast/gate/v1/gate';
import type { LimitOverrideCommand } from './ports';
import { LIMIT_FIELD_CODE, LIMIT_FIELD_OF, lookup, SIDE_OF } from './protoEnums';
import { InvalidArgument } from './status';

export const MAX_ID_LENGTH = 128;
const ID_PATTERN = /^[\x21-\x7e]+$/;
const MAX_REBALANCE_REASON = 1_000;
const DEFAULT_RECOMMENDATIONS = 10;
const MAX_RECOMMENDATIONS = 100;

/** An identifier: 1..128 printable ASCII characters without spaces. */
export function requireId(value: string, field: string): string {
  if (value === '') throw new InvalidArgument(`${field} is required`);
  if (value.length > MAX_ID_LENGTH) throw new InvalidArgument(`${field} is longer than ${MAX_ID_LENGTH} characters`);
  if (!ID_PATTERN.test(value)) throw new InvalidArgument(`${field} must be printable ASCII without spaces`);
  return value;
}

/** A finite number; with `nonNegative`, also ≥ 0. */
export function requireNumber(value: number, field: string, nonNegative: boolean): number {
  if (!Number.isFinite(value)) throw new InvalidArgument(`${field} must be a finite number, got ${value}`);
  if (nonNegative && value < 0) throw new InvalidArgument(`${field} must not be negative`);
  return value;
}

/** A number within `range` (risk/pretrade/ranges.ts: what storage and the checks can hold); with `nonNegative`, also ≥ 0. */
export function requireInRange(value: number, range: ValueRange, field: string, nonNegative: boolean): number {
  requireNumber(value, field, nonNegative);
  const error = outOfRange(value, range, field);
  if (error) throw new InvalidArgument(error);
  return value;
}

/** quantity × price within NOTIONAL_RANGE, so no product (or batch sum of products) can overflow. */
function requireNotional(quantity: number, price: number, field: string): void {
  const error = outOfRange(quantity * price, NOTIONAL_RANGE, field);
  if (error) throw new InvalidArgument(error);
}

export function parseSide(side: number): Side {
  const parsed = lookup(SIDE_OF, side);
  if (parsed === undefined) throw new InvalidArgument(`side must be SIDE_BUY or SIDE_SELL, got ${side}`);
  return parsed;
}

/** EvaluateTrade needs a client order id (it reserves under it); SizePosition may omit it. */
export function parseOrder(order: Order | undefined, clientOrderId: 'required' | 'optional'): OrderRequest {
  if (!order) throw new InvalidArgument('order is required');
  const parsed: OrderRequest = {
    portfolioId: requireId(order.portfolioId, 'order.portfolio_id'),
    strategy: requireId(order.strategy, 'order.strategy'),
    instrument: requireId(order.instrument, 'order.instrument'),
    side: parseSide(order.side),
    // Non-positive numbers within range are a decision (INVALID_QUANTITY / INVALID_PRICE), not an error.
    quantity: requireInRange(order.quantity, QUANTITY_RANGE, 'order.quantity', false),
    price: requireInRange(order.price, PRICE_RANGE, 'order.price', false),
    clientOrderId:
      clientOrderId === 'required' || order.clientOrderId !== '' ? requireId(order.clientOrderId, 'order.client_order_id') : '',
  };
  requireNotional(parsed.quantity, parsed.price, 'order notional (quantity × price)');
  return parsed;
}

export function parseFill(req: ReportFillRequest): FillReport {
  const fill = {
    portfolioId: requireId(req.portfolioId, 'portfolio_id'),
    strategy: requireId(req.strategy, 'strategy'),
    instrument: requireId(req.instrument, 'instrument'),
    side: parseSide(req.side),
    clientOrderId: requireId(req.clientOrderId, 'client_order_id'),
    fillId: requireId(req.fillId, 'fill_id'),
    // Zero is a cancel report (with order_done).
    quantity: requireInRange(req.quantity, QUANTITY_RANGE, 'quantity', true),
    price: requireInRange(req.price, PRICE_RANGE, 'price', false),
    orderDone: req.orderDone,
  };
  if (fill.quantity > 0 && !(fill.price > 0)) throw new InvalidArgument('price must be positive for a non-zero fill');
  requireNotional(fill.quantity, fill.price, 'fill notional (quantity × price)');
  return fill;
}

export function parseRebalanceReason(reason: string): string {
  const trimmed = reason.trim();
  if (trimmed === '' || trimmed.length > MAX_REBALANCE_REASON)
    throw new InvalidArgument(`reason must be 1..${MAX_REBALANCE_REASON} characters`);
  return trimmed;
}

/** A control call's optional idempotency key: undefined when empty, else an id like any other. */
export function parseRequestId(requestId: string): string | undefined {
  if (requestId === '') return undefined;
  // A JavaScript client that leaves the field out of an untyped request sends the string "undefined":
  // taken as an id, every such call would replay the first one.
  if (requestId === 'undefined' || requestId === 'null')
    throw new InvalidArgument(`request_id "${requestId}" looks like an unset field: send a unique id, or none`);
  return requireId(requestId, 'request_id');
}

/** How many recommendations to return: 10 when unset, at most 100. */
export const recommendationLimit = (limit: number): number => (limit > 0 ? Math.min(limit, MAX_RECOMMENDATIONS) : DEFAULT_RECOMMENDATIONS);

function requireRequester(requestedBy: string): string {
  const who = requestedBy.trim();
  if (who === '') throw new InvalidArgument('requested_by is required: an override names who asked for it, and the caller approves it');
  return who;
}

/** An override as the loop records it, checked by the one override rule (risk/overrides.ts). */
export function parseOverride(req: OverrideLimitRequest, approver: string, nowMs: number): LimitOverrideCommand {
  const field = lookup(LIMIT_FIELD_OF, req.field);
  if (!field)
    throw new InvalidArgument(
      `field must be one of ${Object.values(LIMIT_FIELD_CODE)
        .map((code) => LimitField[code])
        .join(', ')}`,
    );
  const command: LimitOverrideCommand = {
    field,
    value: requireInRange(req.value, NOTIONAL_RANGE, 'value', true),
    reason: req.reason.trim(),
    requestedBy: requireRequester(req.requestedBy),
    approver,
    expiresAt: req.expiresAt,
    strategy: req.strategy === '' ? undefined : requireId(req.strategy, 'strategy'),
    asset: req.asset === '' ? undefined : requireId(req.asset, 'asset'),
  };
  const error = overrideRequestError(command, nowMs);
  if (error) throw new InvalidArgument(error);
  return { ...command, expiresAt: new Date(command.expiresAt).toISOString() };
}
