/**
 * Server-sent events for the live page, fed by Postgres NOTIFY (db/notifications.ts): one LISTEN
 * connection for the whole process, fanned out to every open page. An event only says what changed
 * ("budget of portfolio X"); the page then re-reads that part through the API, so an event lost on a
 * reconnect costs nothing but a `resync`. Gate decisions arrive in batches and loop cycles every bar:
 * both are coalesced per page, to at most one event per `decisionsEveryMs` / `cycleEveryMs`.
 */
import type { ServerResponse } from 'node:http';
import type { ConsoleChannel } from '../db/notifications';

export interface ChangeSource {
  subscribe(listener: {
    onChange(channel: ConsoleChannel, portfolioId: string | undefined): void;
    onConnected(): void | Promise<void>;
  }): Promise<{
    close(): Promise<void>;
  }>;
}

/** What the page is told: which part of which portfolio to re-read. */
export const EVENT_TOPICS: Readonly<Record<ConsoleChannel, string>> = {
  ballast_budget: 'budget',
  ballast_control: 'control',
  ballast_console: 'activity',
  ballast_decisions: 'decisions',
  ballast_cycle: 'cycle',
};

interface Client {
  readonly res: ServerResponse;
  /** Only this portfolio's events; undefined: all (the overview). */
  readonly portfolioId: string | undefined;
  /** Coalesced topics with an event already scheduled. */
  readonly pending: Map<string, NodeJS.Timeout>;
}

export class EventHub {
  private readonly clients = new Set<Client>();
  private subscription: { close(): Promise<void> } | undefined;
  private keepAlive: NodeJS.Timeout | undefined;

  constructor(
    private readonly source: ChangeSource,
    private readonly decisionsEveryMs = 500,
    private readonly cycleEveryMs = 2_000,
  ) {}

  async start(): Promise<void> {
    this.subscription = await this.source.subscribe({
      onChange: (channel, portfolioId) => this.publish(channel, portfolioId),
      // Whatever changed while the LISTEN connection was down was never announced.
      onConnected: () => this.broadcast(undefined, 'resync', {}),
    });
    // A comment line every 15 s keeps proxies from closing an idle stream.
    this.keepAlive = setInterval(() => {
      for (const c of this.clients) c.res.write(': keep-alive\n\n');
    }, 15_000);
    this.keepAlive.unref();
  }

  async stop(): Promise<void> {
    if (this.keepAlive) clearInterval(this.keepAlive);
    for (const c of this.clients) {
      for (const t of c.pending.values()) clearTimeout(t);
      c.res.end();
    }
    this.clients.clear();
    await this.subscription?.close();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Takes over the response as an event stream until the client goes away. */
  attach(res: ServerResponse, portfolioId: string | undefined): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    const client: Client = { res, portfolioId, pending: new Map() };
    this.clients.add(client);
    this.send(client, 'hello', { portfolioId: portfolioId ?? null });
    res.on('close', () => {
      for (const t of client.pending.values()) clearTimeout(t);
      this.clients.delete(client);
    });
  }

  private publish(channel: ConsoleChannel, portfolioId: string | undefined): void {
    const topic = EVENT_TOPICS[channel];
    const every = channel === 'ballast_decisions' ? this.decisionsEveryMs : channel === 'ballast_cycle' ? this.cycleEveryMs : 0;
    for (const c of this.clients) {
      if (portfolioId && c.portfolioId && c.portfolioId !== portfolioId) continue;
      if (every === 0) {
        this.send(c, topic, { portfolioId: portfolioId ?? null, at: new Date().toISOString() });
      } else if (!c.pending.has(topic)) {
        c.pending.set(
          topic,
          setTimeout(() => {
            c.pending.delete(topic);
            this.send(c, topic, { portfolioId: portfolioId ?? null, at: new Date().toISOString() });
          }, every),
        );
      }
    }
  }

  private broadcast(portfolioId: string | undefined, topic: string, data: object): void {
    for (const c of this.clients) if (!portfolioId || !c.portfolioId || c.portfolioId === portfolioId) this.send(c, topic, data);
  }

  private send(c: Client, topic: string, data: object): void {
    c.res.write(`event: ${topic}\ndata: ${JSON.stringify(data)}\n\n`);
  }
}
