/**
 * MarketDataService.IngestCloses: closes in from a firm's market-data system (proto/…/market.proto),
 * stored idempotently by (instrument, at) through the `IngestPorts` store, then the loops that read
 * those instruments are woken (their marketEvent Signal, through the `wake` port).
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { IngestOutcome, IngestedClose } from '../db/stores/marketCloses';
import { type AccessPolicy, callerOf, denyIngest } from './access';
import type { IngestClosesRequest, IngestClosesResponse, MarketDataServiceServer } from './generated/ballast/gate/v1/market';
import { requireId } from './requests';
import { InvalidArgument, Refused, unaryAsync } from './status';
import { timestamp } from './plans';

export const MAX_CLOSES_PER_BATCH = 10_000;

export interface IngestPorts {
  readonly store: {
    ingest(closes: readonly IngestedClose[], source: string): Promise<IngestOutcome>;
    portfoliosReading(instruments: readonly string[]): Promise<string[]>;
  };
  /** Wakes the loops of these portfolios (their marketEvent Signal); absent: they pick the closes up on their next cycle. */
  readonly wake?: (portfolioIds: readonly string[], source: string) => Promise<void>;
}

export function marketDataService(deps: { ports: IngestPorts; access: AccessPolicy | undefined; logger: Logger }): MarketDataServiceServer {
  return { ingestCloses: unaryAsync(deps.logger, (call) => ingestCloses(deps, call)) };
}

async function ingestCloses(
  deps: { ports: IngestPorts; access: AccessPolicy | undefined; logger: Logger },
  call: grpc.ServerUnaryCall<IngestClosesRequest, IngestClosesResponse>,
): Promise<IngestClosesResponse> {
  // Feeding prices moves every portfolio that reads them: only an identity granted ingest.
  const denied = denyIngest(deps.access, callerOf(call));
  if (denied) throw new Refused(grpc.status.PERMISSION_DENIED, denied);
  const { closes: raw, source } = call.request;
  if (raw.length > MAX_CLOSES_PER_BATCH)
    throw new Refused(grpc.status.RESOURCE_EXHAUSTED, `${raw.length} closes in one batch; send at most ${MAX_CLOSES_PER_BATCH}`);
  const closes = raw.map((c, i): IngestedClose => {
    const where = `closes[${i}]`;
    requireId(c.instrument, `${where}.instrument`);
    if (!c.at) throw new InvalidArgument(`${where}.at is required`);
    const atMs = c.at.seconds * 1000 + Math.floor(c.at.nanos / 1e6);
    if (!Number.isFinite(atMs)) throw new InvalidArgument(`${where}.at is not a valid time`);
    if (!Number.isFinite(c.close) || c.close <= 0) throw new InvalidArgument(`${where}.close must be finite and positive, got ${c.close}`);
    return { instrument: c.instrument, atMs, close: c.close };
  });
  const label = source.trim() || 'unnamed';
  const outcome = await deps.ports.store.ingest(closes, label);
  const woken = outcome.inserted > 0 ? await deps.ports.store.portfoliosReading(closes.map((c) => c.instrument)) : [];
  if (woken.length > 0 && deps.ports.wake)
    await deps.ports
      .wake(woken, label)
      .catch((err: Error) => deps.logger.warn({ err: err.message, woken }, 'could not wake loops after ingestion'));
  return {
    inserted: outcome.inserted,
    duplicates: outcome.duplicates,
    conflicts: outcome.conflicts.map((c) => ({
      instrument: c.instrument,
      at: timestamp(Date.parse(c.at)),
      stored: c.stored,
      sent: c.sent,
    })),
    wokenPortfolios: woken,
  };
}
