/**
 * LISTEN on Postgres channels over a dedicated connection that reconnects with capped exponential
 * backoff. `onConnected` fires after every (re)connect, because notifications sent while we were
 * disconnected are lost: the subscriber must re-read its state then.
 */
import pg from 'pg';
import type { Logger } from 'pino';

export interface ListenOptions {
  readonly databaseUrl: string;
  readonly channels: readonly string[];
  onNotification(channel: string, payload: string): void;
  onConnected(): void | Promise<void>;
  readonly logger?: Logger;
  readonly maxBackoffMs?: number;
}

export interface Subscription {
  close(): Promise<void>;
  readonly connected: boolean;
}

export async function listen(options: ListenOptions): Promise<Subscription> {
  const channelRe = /^[a-z_][a-z0-9_]*$/;
  for (const c of options.channels) if (!channelRe.test(c)) throw new Error(`invalid channel name "${c}"`);
  const maxBackoff = options.maxBackoffMs ?? 5_000;
  let client: pg.Client | undefined;
  let closed = false;
  let connected = false;
  let attempt = 0;
  let retryTimer: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: options.databaseUrl, keepAlive: true });
    c.on('notification', (msg) => {
      if (msg.payload !== undefined) options.onNotification(msg.channel, msg.payload);
    });
    c.on('error', (err) => scheduleReconnect(c, err));
    c.on('end', () => scheduleReconnect(c, new Error('connection ended')));
    try {
      await c.connect();
      for (const ch of options.channels) await c.query(`LISTEN ${ch}`);
      if (closed) throw new Error('closed while connecting');
      client = c;
      connected = true;
      attempt = 0;
      await options.onConnected();
    } catch (err) {
      // Never leave a half-set-up connection listening beside the next attempt's.
      if (client === c) client = undefined;
      connected = false;
      c.removeAllListeners();
      c.on('error', () => undefined);
      await c.end().catch(() => undefined);
      throw err;
    }
  };

  const scheduleReconnect = (c: pg.Client, err: Error): void => {
    if (closed || c !== client) return;
    connected = false;
    client = undefined;
    c.removeAllListeners();
    c.end().catch(() => undefined);
    options.logger?.warn({ err: err.message }, 'notification listener disconnected; reconnecting');
    retry();
  };

  const retry = (): void => {
    const delay = Math.min(maxBackoff, 100 * 2 ** attempt++);
    retryTimer = setTimeout(() => {
      connect().catch((err: Error) => {
        if (closed) return;
        options.logger?.warn({ err: err.message, delayMs: delay }, 'notification listener reconnect failed');
        retry();
      });
    }, delay);
  };

  await connect();
  return {
    get connected() {
      return connected;
    },
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      const c = client;
      client = undefined;
      connected = false;
      if (c) {
        c.removeAllListeners();
        c.on('error', () => undefined);
        await c.end().catch(() => undefined);
      }
    },
  };
}

/** Channels the base migration's triggers NOTIFY with `{"portfolioId": …}` payloads. */
const PORTFOLIO_CHANNELS = ['ballast_budget', 'ballast_control'] as const;

/** Told when a portfolio's budget, trading state or overrides change. */
export interface PortfolioChangeListener {
  /** The portfolio that changed, or undefined when the payload names none (re-read everything). */
  onChange(portfolioId: string | undefined): void;
  /** After every (re)connect: changes made while disconnected were never announced. */
  onConnected(): void | Promise<void>;
}

/** A source of portfolio change notifications that a reader of budgets subscribes to. */
export interface PortfolioChangeFeed {
  subscribe(listener: PortfolioChangeListener): Promise<Subscription>;
}

/** Budget commits (`ballast_budget`) and trading-state or override changes (`ballast_control`), over LISTEN. */
export function portfolioChangeFeed(databaseUrl: string, logger?: Logger): PortfolioChangeFeed {
  return {
    subscribe: (listener) =>
      listen({
        databaseUrl,
        channels: PORTFOLIO_CHANNELS,
        logger,
        onConnected: () => listener.onConnected(),
        onNotification: (_channel, payload) => listener.onChange(portfolioIdOf(payload)),
      }),
  };
}

/** Rebalancing plans committed to the outbox (`ballast_plan`, raised by the outbox's insert trigger), over LISTEN. */
export function planCommitFeed(databaseUrl: string, logger?: Logger): PortfolioChangeFeed {
  return {
    subscribe: (listener) =>
      listen({
        databaseUrl,
        channels: ['ballast_plan'],
        logger,
        onConnected: () => listener.onConnected(),
        onNotification: (_channel, payload) => listener.onChange(portfolioIdOf(payload)),
      }),
  };
}

function portfolioIdOf(payload: string): string | undefined {
  try {
    const id = (JSON.parse(payload) as { portfolioId?: unknown }).portfolioId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What the console's live page hears: every portfolio channel plus recommendations, alerts, regime
 * changes, gate decisions and each loop cycle's metrics (the regime timeline).
 */
export const CONSOLE_CHANNELS = ['ballast_budget', 'ballast_control', 'ballast_console', 'ballast_decisions', 'ballast_cycle'] as const;
export type ConsoleChannel = (typeof CONSOLE_CHANNELS)[number];

export interface ConsoleChangeListener {
  onChange(channel: ConsoleChannel, portfolioId: string | undefined): void;
  onConnected(): void | Promise<void>;
}

/** The console's change feed over LISTEN (see migration 1765100000000_console_notify). */
export function consoleChangeFeed(databaseUrl: string, logger?: Logger): { subscribe(l: ConsoleChangeListener): Promise<Subscription> } {
  return {
    subscribe: (listener) =>
      listen({
        databaseUrl,
        channels: CONSOLE_CHANNELS,
        logger,
        onConnected: () => listener.onConnected(),
        onNotification: (channel, payload) => listener.onChange(channel as ConsoleChannel, portfolioIdOf(payload)),
      }),
  };
}
