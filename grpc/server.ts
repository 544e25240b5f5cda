/**
 * The gRPC pre-trade gate server. `startGate` loads the latest committed budgets, starts listening for
 * new ones, and serves GateService plus standard health checking and server reflection.
 *
 * Request path: validate → authorize → decide from the in-memory snapshot → push an audit row. No
 * Postgres, no info-level logging, no awaits.
 */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import type { Logger } from 'pino';
import { overrideRequestError } from '../risk/overrides';
import { createPool } from '../db/pool';
import { type AccessPolicy, callerOf, denyControl, denyTrade } from './access';
import { auditWriter, type DecisionRecord } from './audit';
import { BatchWriter } from './batchWriter';
import type { OrderRequest, Reason } from './checks';
import { fillWriter, reconcilePositions } from './fills';
import { type FillRecord, GateCore } from './gate';
import {
  Decision,
  GateServiceService,
  type GateServiceServer,
  LimitField,
  type Order,
  type OverrideLimitRequest,
  ReasonCode,
  Side,
  TradingState as ProtoTradingState,
} from './generated/ballast/gate/v1/gate';
import type { LimitOverrideCommand, LimitOverrider, RebalanceStarter, RecommendationReader } from './ports';
import { SnapshotSource } from './snapshotSource';
import type { TradingState } from './snapshot';

export interface TlsOptions {
  /** PEM server certificate chain and private key. */
  readonly cert: Buffer | string;
  readonly key: Buffer | string;
  /** PEM CA bundle for client certificates. With it, clients must present a certificate it signed (mTLS). */
  readonly clientCa?: Buffer | string;
}

export interface GateOptions {
  readonly databaseUrl: string;
  readonly host?: string;
  /** 0 = ephemeral. */
  readonly port?: number;
  readonly logger: Logger;
  readonly tls?: TlsOptions;
  /** Identity → grants. Without it every caller may do everything (development only). */
  readonly access?: AccessPolicy;
  readonly staleReduceAfterMs?: number;
  readonly staleHaltAfterMs?: number;
  readonly restrictedInstruments?: readonly string[];
  readonly clock?: () => number;
  readonly pollIntervalMs?: number;
  readonly reconcileIntervalMs?: number;
  readonly reservationTtlMs?: number;
  readonly auditFlushIntervalMs?: number;
  /** Audit rows queued beyond this make trade RPCs answer RESOURCE_EXHAUSTED. */
  readonly auditMaxQueue?: number;
  readonly maxReceiveMessageLength?: number;
  readonly replicaId?: string;
  readonly rebalanceStarter?: RebalanceStarter;
  readonly recommendationReader?: RecommendationReader;
  readonly limitOverrider?: LimitOverrider;
}

export interface RunningGate {
  readonly address: string;
  close(): Promise<void>;
  /** The in-memory decision core (snapshots, exposures), for tests and processes embedding the gate. */
  readonly core: GateCore;
}

export const GATE_SERVICE_NAME = 'ballast.gate.v1.GateService';
const MAX_ID_LENGTH = 128;
const HOUR = 3_600_000;

class InvalidArgument extends Error {}
class Refused extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

export async function startGate(options: GateOptions): Promise<RunningGate> {
  const logger = options.logger;
  const replica = options.replicaId ?? `${hostname()}:${process.pid}`;
  const pool = createPool(options.databaseUrl, 4);
  const audit = new BatchWriter<DecisionRecord>({
    name: 'audit',
    write: auditWriter(pool, replica),
    flushIntervalMs: options.auditFlushIntervalMs ?? 50,
    maxBatch: 5_000,
    maxQueue: options.auditMaxQueue ?? 200_000,
    logger,
  });
  const fills = new BatchWriter<FillRecord>({
    name: 'fills',
    write: fillWriter(pool, replica),
    flushIntervalMs: 50,
    maxBatch: 2_000,
    maxQueue: 1_000_000,
    logger,
  });
  const core = new GateCore({
    policy: {
      staleReduceAfterMs: options.staleReduceAfterMs ?? 24 * HOUR,
      staleHaltAfterMs: options.staleHaltAfterMs ?? 72 * HOUR,
      restrictedInstruments: new Set(options.restrictedInstruments ?? []),
    },
    clock: options.clock ?? Date.now,
    // A day: orders can rest that long; the OMS's fill/cancel reports are what normally release them.
    reservationTtlMs: options.reservationTtlMs ?? 24 * HOUR,
    idMemoryMs: 24 * HOUR,
    audit,
    fills,
  });
  const health = new HealthImplementation({ '': 'NOT_SERVING', [GATE_SERVICE_NAME]: 'NOT_SERVING' });
  const source = new SnapshotSource({
    pool,
    databaseUrl: options.databaseUrl,
    core,
    pollIntervalMs: options.pollIntervalMs ?? 5_000,
    logger,
    onLoaded: () => {
      health.setStatus('', 'SERVING');
      health.setStatus(GATE_SERVICE_NAME, 'SERVING');
    },
  });

  const server = new grpc.Server({ 'grpc.max_receive_message_length': options.maxReceiveMessageLength ?? 64 * 1024 });
  server.addService(GateServiceService, handlers(core, source, audit, options));
  health.addToServer(server);
  // Reflection describes the gate and the health service, so grpcurl/buf curl need no local protos.
  new ReflectionService(protoLoader.loadSync([protoFile(), healthProtoPath], { includeDirs: [protoRoot()], keepCase: true })).addToServer(
    server,
  );

  const timers: NodeJS.Timeout[] = [];
  /** Stops background work and writes everything queued; used by close() and by a failed start. */
  const release = async (): Promise<void> => {
    timers.forEach((t) => clearInterval(t));
    await source.close();
    // Every queued decision and fill is written before the pool goes away.
    await audit.close();
    await fills.close();
    await pool.end();
  };
  const host = options.host ?? '127.0.0.1';
  let port: number;
  try {
    await source.start();
    timers.push(
      setInterval(() => {
        const expired = core.expireReservations();
        // A resting order's capacity is only safe to hand back when the OMS reports the order's end.
        if (expired > 0)
          logger.warn({ expired }, "reservations expired without a fill or cancel report: the OMS must report every order's end");
      }, 1_000),
      setInterval(() => {
        reconcilePositions(pool, core, fills).catch((err: Error) => logger.warn({ err: err.message }, 'position reconciliation failed'));
      }, options.reconcileIntervalMs ?? 30_000),
    );
    timers.forEach((t) => t.unref());
    // Fail closed: never answer as if every book were flat because the first read of positions failed.
    await retry(
      () => reconcilePositions(pool, core, fills),
      5,
      (err, attempt) => logger.warn({ err: err.message, attempt }, 'initial position reconciliation failed; retrying'),
    );
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${options.port ?? 0}`, serverCredentials(options.tls), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
  } catch (err) {
    await release().catch(() => undefined);
    throw err;
  }
  const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (!options.access) logger.warn('gate started without an access policy: every caller may trade and control');
  logger.info({ address, replica, tls: Boolean(options.tls), mtls: Boolean(options.tls?.clientCa) }, 'gate listening');

  let closing: Promise<void> | undefined;
  return {
    address,
    core,
    close: () =>
      (closing ??= (async () => {
        health.setStatus('', 'NOT_SERVING');
        health.setStatus(GATE_SERVICE_NAME, 'NOT_SERVING');
        await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
        await release();
        logger.info({ address, auditRows: audit.written }, 'gate stopped');
      })()),
  };
}

function serverCredentials(tls: TlsOptions | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  // With a client CA, clients must present a certificate it signed (mTLS).
  return grpc.ServerCredentials.createSsl(
    tls.clientCa ? Buffer.from(tls.clientCa) : null,
    [{ cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }],
    tls.clientCa !== undefined,
  );
}

/** The proto tree lives at <repo>/proto both from grpc/ (ts-jest) and dist/grpc/ (compiled). */
function protoRoot(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'proto', 'ballast', 'gate', 'v1', 'gate.proto'))) return join(dir, 'proto');
  }
  throw new Error('proto/ballast/gate/v1/gate.proto not found above ' + __dirname);
}
const protoFile = (): string => join(protoRoot(), 'ballast', 'gate', 'v1', 'gate.proto');

function handlers(core: GateCore, source: SnapshotSource, audit: BatchWriter<DecisionRecord>, options: GateOptions): GateServiceServer {
  const policy = options.access;
  const logger = options.logger;
  const tradeGuard = (call: grpc.ServerUnaryCall<unknown, unknown>, order: OrderRequest): string => {
    const caller = callerOf(call);
    const denied = denyTrade(policy, caller, order.portfolioId, order.strategy);
    if (denied) throw new Refused(grpc.status.PERMISSION_DENIED, denied);
    if (!source.ready) throw new Refused(grpc.status.UNAVAILABLE, 'gate is starting: budgets not loaded yet');
    if (audit.full) throw new Refused(grpc.status.RESOURCE_EXHAUSTED, 'audit backlog full: the gate will not decide what it cannot record');
    // A caller that has given up would never learn of an approval, whose reservation would then block
    // capacity until it times out: do not decide at all.
    if (call.cancelled || deadlinePassed(call.getDeadline()))
      throw new Refused(grpc.status.DEADLINE_EXCEEDED, 'deadline exceeded before a decision');
    return caller.label;
  };
  const readGuard = (call: grpc.ServerUnaryCall<unknown, unknown>, portfolioId: string): void => {
    requireId(portfolioId, 'portfolio_id');
    const denied = denyTrade(policy, callerOf(call), portfolioId, '');
    if (denied) throw new Refused(grpc.status.PERMISSION_DENIED, denied);
  };
  return {
    evaluateTrade: unary(logger, (call) => {
      const started = process.hrtime.bigint();
      const order = parseOrder(call.request.order, true);
      const caller = tradeGuard(call, order);
      const r = core.evaluate(order, caller, started);
      return {
        decision: r.approved ? Decision.DECISION_APPROVE : Decision.DECISION_DENY,
        reasons: r.reasons.map(reasonCode),
        detail: r.detail,
        budgetVersion: r.version,
        tradingState: stateCode(r.state),
      };
    }),
    sizePosition: unary(logger, (call) => {
      const started = process.hrtime.bigint();
      const order = parseOrder(call.request.order, false);
      const caller = tradeGuard(call, order);
      const r = core.size(order, caller, started);
      return {
        approvedQuantity: r.quantity,
        bindingLimit: r.binding ? reasonCode(r.binding) : ReasonCode.REASON_CODE_UNSPECIFIED,
        detail: r.detail,
        budgetVersion: r.version,
        tradingState: stateCode(r.state),
      };
    }),
    reportFill: unary(logger, (call) => {
      const req = call.request;
      const fill = {
        portfolioId: requireId(req.portfolioId, 'portfolio_id'),
        strategy: requireId(req.strategy, 'strategy'),
        instrument: requireId(req.instrument, 'instrument'),
        side: parseSide(req.side),
        clientOrderId: requireId(req.clientOrderId, 'client_order_id'),
        fillId: requireId(req.fillId, 'fill_id'),
        quantity: requireNumber(req.quantity, 'quantity', true),
        price: requireNumber(req.price, 'price', false),
        orderDone: req.orderDone,
      };
      if (fill.quantity > 0 && !(fill.price > 0)) throw new InvalidArgument('price must be positive for a non-zero fill');
      const denied = denyTrade(policy, callerOf(call), fill.portfolioId, fill.strategy);
      if (denied) throw new Refused(grpc.status.PERMISSION_DENIED, denied);
      if (!core.snapshot(fill.portfolioId))
        throw new Refused(grpc.status.FAILED_PRECONDITION, `unknown portfolio "${fill.portfolioId}" or no budget`);
      const applied = core.reportFill(fill);
      return applied
        ? { duplicate: false, positionQuantity: applied.position }
        : { duplicate: true, positionQuantity: core.book(fill.portfolioId).pair(fill.strategy, fill.instrument)?.position ?? 0 };
    }),
    getCurrentBudget: unary(logger, (call) => {
      readGuard(call, call.request.portfolioId);
      const s = core.snapshot(call.request.portfolioId);
      if (!s) throw new Refused(grpc.status.FAILED_PRECONDITION, `no committed budget for portfolio "${call.request.portfolioId}"`);
      return {
        budgetVersion: s.version,
        committedAt: new Date(s.committedAtMs).toISOString(),
        tradingState: stateCode(core.tradingState(s.portfolioId)),
        budgetJson: JSON.stringify(s.budget),
      };
    }),
    getUtilization: unary(logger, (call) => {
      readGuard(call, call.request.portfolioId);
      const u = core.utilization(call.request.portfolioId);
      if (!u) throw new Refused(grpc.status.FAILED_PRECONDITION, `no committed budget for portfolio "${call.request.portfolioId}"`);
      const line = (l: { strategy: string; instrument: string; used: number; limit: number }) => ({
        strategy: l.strategy,
        instrument: l.instrument,
        usedNotional: l.used,
        limitNotional: l.limit,
        utilization: l.limit > 0 ? l.used / l.limit : l.used > 0 ? Infinity : 0,
      });
      return {
        budgetVersion: core.snapshot(call.request.portfolioId)!.version,
        gross: line(u.gross),
        net: line(u.net),
        strategies: u.strategies.map(line),
        assets: u.assets.map(line),
      };
    }),
    getRecommendations: unaryAsync(logger, async (call) => {
      readGuard(call, call.request.portfolioId);
      const reader = options.recommendationReader;
      if (!reader) throw new Refused(grpc.status.FAILED_PRECONDITION, 'this gate has no recommendation reader configured');
      const limit = call.request.limit > 0 ? Math.min(call.request.limit, 100) : 10;
      return { recommendations: [...(await reader.latest(call.request.portfolioId, limit))] };
    }),
    triggerRebalance: unaryAsync(logger, async (call) => {
      const portfolioId = requireId(call.request.portfolioId, 'portfolio_id');
      const caller = callerOf(call);
      const denied = denyControl(policy, caller, portfolioId);
      if (denied) throw new Refused(grpc.status.PERMISSION_DENIED, denied);
      const reason = call.request.reason.trim();
      if (reason === '' || reason.length > 1_000) throw new InvalidArgument('reason must be 1..1000 characters');
      const starter = options.rebalanceStarter;
      if (!starter) throw new Refused(grpc.status.FAILED_PRECONDITION, 'this gate has no rebalance starter configured');
      return { workflowId: (await starter.start(portfolioId, caller.label, reason)).workflowId };
    }),
    overrideLimit: unaryAsync(logger, async (call) => {
      const portfolioId = requireId(call.request.portfolioId, 'portfolio_id');
      const caller = callerOf(call);
      const denied = denyControl(policy, caller, portfolioId);
      if (denied) throw new Refused(grpc.status.PERMISSION_DENIED, denied);
      const command = parseOverride(call.request, caller.label, Date.now());
      const overrider = options.limitOverrider;
      if (!overrider) throw new Refused(grpc.status.FAILED_PRECONDITION, 'this gate has no limit overrider configured');
      return { overrideId: (await overrider.override(portfolioId, command)).overrideId };
    }),
  };
}

const OVERRIDE_FIELDS: Partial<Record<LimitField, LimitOverrideCommand['field']>> = {
  [LimitField.LIMIT_FIELD_MAX_POSITION_NOTIONAL]: 'maxPositionNotional',
  [LimitField.LIMIT_FIELD_MAX_GROSS_NOTIONAL]: 'maxGrossNotional',
  [LimitField.LIMIT_FIELD_MAX_NET_NOTIONAL]: 'maxNetNotional',
  [LimitField.LIMIT_FIELD_MAX_ORDER_NOTIONAL]: 'maxOrderNotional',
};

async function retry(fn: () => Promise<void>, attempts: number, onError: (err: Error, attempt: number) => void): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts) throw err;
      onError(err as Error, attempt);
      await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
    }
  }
}

function parseOverride(req: OverrideLimitRequest, approver: string, nowMs: number): LimitOverrideCommand {
  const field = OVERRIDE_FIELDS[req.field];
  if (!field)
    throw new InvalidArgument(
      `field must be one of ${Object.keys(OVERRIDE_FIELDS)
        .map((f) => LimitField[Number(f)])
        .join(', ')}`,
    );
  const command: LimitOverrideCommand = {
    field,
    value: requireNumber(req.value, 'value', true),
    reason: req.reason.trim(),
    approver,
    expiresAt: req.expiresAt,
    strategy: req.strategy === '' ? undefined : requireId(req.strategy, 'strategy'),
    asset: req.asset === '' ? undefined : requireId(req.asset, 'asset'),
  };
  const error = overrideRequestError(command, nowMs);
  if (error) throw new InvalidArgument(error);
  return { ...command, expiresAt: new Date(command.expiresAt).toISOString() };
}

/** Wrap a synchronous handler: thrown InvalidArgument/Refused become statuses; anything else is logged and INTERNAL. */
function unary<Req, Res>(logger: Logger, fn: (call: grpc.ServerUnaryCall<Req, Res>) => Res): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    let response: Res;
    try {
      response = fn(call);
    } catch (err) {
      callback(toStatus(err, logger));
      return;
    }
    callback(null, response);
  };
}

/** Async handlers (ports) answer DEADLINE_EXCEEDED themselves if the call's deadline passes first. */
function unaryAsync<Req, Res>(logger: Logger, fn: (call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    let done = false;
    const finish = (err: Partial<grpc.ServiceError> | null, res?: Res): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      callback(err, res);
    };
    const deadline = call.getDeadline();
    const at = deadline instanceof Date ? deadline.getTime() : deadline;
    const ms = Number.isFinite(at) ? at - Date.now() : undefined;
    const timer =
      ms !== undefined
        ? setTimeout(() => finish({ code: grpc.status.DEADLINE_EXCEEDED, details: 'deadline exceeded' }), Math.max(0, ms))
        : undefined;
    fn(call).then(
      (res) => finish(null, res),
      (err) => finish(toStatus(err, logger)),
    );
  };
}

function deadlinePassed(deadline: grpc.Deadline): boolean {
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) && ms <= Date.now();
}

function toStatus(err: unknown, logger: Logger): Partial<grpc.ServiceError> {
  if (err instanceof InvalidArgument) return { code: grpc.status.INVALID_ARGUMENT, details: err.message };
  if (err instanceof Refused) return { code: err.code, details: err.message };
  logger.error({ err }, 'gate handler failed');
  return { code: grpc.status.INTERNAL, details: 'internal error' };
}

const ID_PATTERN = /^[\x21-\x7e]+$/;

function requireId(value: string, field: string): string {
  if (value === '') throw new InvalidArgument(`${field} is required`);
  if (value.length > MAX_ID_LENGTH) throw new InvalidArgument(`${field} is longer than ${MAX_ID_LENGTH} characters`);
  if (!ID_PATTERN.test(value)) throw new InvalidArgument(`${field} must be printable ASCII without spaces`);
  return value;
}

function requireNumber(value: number, field: string, allowZero: boolean): number {
  if (!Number.isFinite(value)) throw new InvalidArgument(`${field} must be a finite number, got ${value}`);
  if (allowZero && value < 0) throw new InvalidArgument(`${field} must not be negative`);
  return value;
}

function parseSide(side: Side): 'BUY' | 'SELL' {
  if (side === Side.SIDE_BUY) return 'BUY';
  if (side === Side.SIDE_SELL) return 'SELL';
  throw new InvalidArgument(`side must be SIDE_BUY or SIDE_SELL, got ${side}`);
}

/** Malformed → INVALID_ARGUMENT. Finite but non-positive numbers are a decision (DENY), not an error. */
function parseOrder(order: Order | undefined, needsOrderId: boolean): OrderRequest {
  if (!order) throw new InvalidArgument('order is required');
  return {
    portfolioId: requireId(order.portfolioId, 'order.portfolio_id'),
    strategy: requireId(order.strategy, 'order.strategy'),
    instrument: requireId(order.instrument, 'order.instrument'),
    side: parseSide(order.side),
    quantity: requireNumber(order.quantity, 'order.quantity', false),
    price: requireNumber(order.price, 'order.price', false),
    clientOrderId: needsOrderId || order.clientOrderId !== '' ? requireId(order.clientOrderId, 'order.client_order_id') : '',
  };
}

const reasonCode = (r: Reason): ReasonCode => ReasonCode[`REASON_CODE_${r}` as keyof typeof ReasonCode];
const stateCode = (s: TradingState): ProtoTradingState => ProtoTradingState[`TRADING_STATE_${s}` as keyof typeof ProtoTradingState];
