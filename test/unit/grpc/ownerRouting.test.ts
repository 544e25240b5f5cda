/**
 * The routing client's rules (grpc/ownerRouting.ts) against tiny fake replicas (real grpc-js servers
 * on loopback whose EvaluateTrade answers as each test says): learn the owner from a forwarded
 * answer's trailers, follow a redirect, forget an owner that is gone and go back to the seeds, retry
 * only UNAVAILABLE, within a bounded number of attempts and the caller's deadline.
 */
import * as grpc from '@grpc/grpc-js';
import { OWNER_ADDRESS_HEADER, OWNER_HEADER } from '../../../grpc/forward';
import {
  Decision,
  type EvaluateTradeRequest,
  EvaluateTradeResponse,
  GateServiceService,
  Side,
} from '../../../grpc/generated/ballast/gate/v1/gate';
import { OwnerRoutingClient } from '../../../grpc/ownerRouting';

/** What a fake replica does with a call. */
type Behaviour =
  | { readonly kind: 'decide' }
  | { readonly kind: 'forward'; readonly owner: Replica }
  | { readonly kind: 'redirect'; readonly owner: Replica }
  | { readonly kind: 'refuse'; readonly code: grpc.status }
  /** Never answers (the call ends at its deadline). */
  | { readonly kind: 'hang' };

interface Replica {
  readonly name: string;
  address: string;
  behaviour: Behaviour;
  calls: number;
  server: grpc.Server;
}

const replicas: Replica[] = [];
let routing: OwnerRoutingClient | undefined;

afterEach(async () => {
  routing?.close();
  routing = undefined;
  replicas.splice(0).forEach((r) => r.server.forceShutdown());
});

const approve = EvaluateTradeResponse.fromPartial({ decision: Decision.DECISION_APPROVE, budgetVersion: 1 });

const hint = (owner: Replica): grpc.Metadata => {
  const md = new grpc.Metadata();
  md.set(OWNER_HEADER, owner.name);
  md.set(OWNER_ADDRESS_HEADER, owner.address);
  return md;
};

async function replica(name: string, behaviour: Behaviour = { kind: 'decide' }): Promise<Replica> {
  const server = new grpc.Server();
  const r: Replica = { name, address: '', behaviour, calls: 0, server };
  server.addService(GateServiceService, {
    evaluateTrade: (_call: grpc.ServerUnaryCall<EvaluateTradeRequest, unknown>, cb: grpc.sendUnaryData<EvaluateTradeResponse>) => {
      r.calls++;
      const b = r.behaviour;
      switch (b.kind) {
        case 'decide':
          return cb(null, approve);
        case 'forward':
          return cb(null, approve, hint(b.owner));
        case 'redirect':
          return cb({ code: grpc.status.UNAVAILABLE, details: `call ${b.owner.address}`, metadata: hint(b.owner) });
        case 'refuse':
          return cb({ code: b.code, details: 'refused' });
        case 'hang':
          return;
      }
    },
  });
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? rej(err) : res(p))),
  );
  r.address = `127.0.0.1:${port}`;
  replicas.push(r);
  return r;
}

const order = (clientOrderId: string) => ({
  order: { portfolioId: 'p1', strategy: 'trend', instrument: 'AAPL', side: Side.SIDE_BUY, quantity: 1, price: 100, clientOrderId },
});

const client = (seeds: readonly Replica[], maxAttempts?: number): OwnerRoutingClient =>
  (routing = new OwnerRoutingClient({ seeds: seeds.map((s) => s.address), maxAttempts }));

test('a forwarded answer names the owner: the next calls for the portfolio go straight to it', async () => {
  const owner = await replica('owner');
  const other = await replica('other', { kind: 'forward', owner });
  const c = client([other]);
  expect((await c.evaluateTrade(order('o1'))).decision).toBe(Decision.DECISION_APPROVE);
  expect(c.ownerOf('p1')).toBe(owner.address);
  for (let i = 2; i <= 4; i++) await c.evaluateTrade(order(`o${i}`));
  expect([other.calls, owner.calls]).toEqual([1, 3]);
  // Another portfolio has no owner known yet: it starts at the seed.
  expect(c.ownerOf('p2')).toBeUndefined();
});

test('an UNAVAILABLE redirect is followed at once, and remembered', async () => {
  const owner = await replica('owner');
  const other = await replica('other', { kind: 'redirect', owner });
  const c = client([other]);
  expect((await c.evaluateTrade(order('o1'))).decision).toBe(Decision.DECISION_APPROVE);
  await c.evaluateTrade(order('o2'));
  expect([other.calls, owner.calls]).toEqual([1, 2]);
});

test('an owner that is gone is forgotten: the call goes back to the seeds in turn, which name the new owner', async () => {
  const owner = await replica('owner');
  const a = await replica('a', { kind: 'refuse', code: grpc.status.UNAVAILABLE });
  const b = await replica('b', { kind: 'forward', owner });
  const c = client([a, b]);
  await c.evaluateTrade(order('o1'));
  expect(c.ownerOf('p1')).toBe(owner.address);
  expect([a.calls, b.calls, owner.calls]).toEqual([1, 1, 0]);
  // The owner dies; b has taken over and decides itself.
  await new Promise<void>((res) => owner.server.tryShutdown(() => res()));
  owner.server.forceShutdown();
  b.behaviour = { kind: 'decide' };
  expect((await c.evaluateTrade(order('o2'))).decision).toBe(Decision.DECISION_APPROVE);
  expect(c.ownerOf('p1')).toBe(b.address);
  // The dead owner once, then the seeds from where the client left off: b (a had refused before).
  expect([a.calls, b.calls]).toEqual([1, 2]);
  await c.evaluateTrade(order('o3'));
  expect([a.calls, b.calls]).toEqual([1, 3]);
});

test('a deposed owner (UNAVAILABLE without a hint) is forgotten too', async () => {
  const owner = await replica('owner');
  const seed = await replica('seed', { kind: 'redirect', owner });
  const c = client([seed]);
  await c.evaluateTrade(order('o1'));
  expect(c.ownerOf('p1')).toBe(owner.address);
  owner.behaviour = { kind: 'refuse', code: grpc.status.UNAVAILABLE };
  seed.behaviour = { kind: 'decide' };
  await c.evaluateTrade(order('o2'));
  expect(c.ownerOf('p1')).toBe(seed.address);
  expect([seed.calls, owner.calls]).toEqual([2, 2]);
});

test('no status but UNAVAILABLE is retried (a DENY is an answer; an error goes back as is)', async () => {
  for (const code of [grpc.status.RESOURCE_EXHAUSTED, grpc.status.PERMISSION_DENIED, grpc.status.INVALID_ARGUMENT, grpc.status.INTERNAL]) {
    const a = await replica(`a${code}`, { kind: 'refuse', code });
    const b = await replica(`b${code}`);
    const c = client([a, b]);
    await expect(c.evaluateTrade(order('o1'))).rejects.toMatchObject({ code });
    expect([a.calls, b.calls]).toEqual([1, 0]);
    c.close();
  }
});

test('when no replica decides, the attempts are bounded and the last UNAVAILABLE goes back', async () => {
  const a = await replica('a', { kind: 'refuse', code: grpc.status.UNAVAILABLE });
  const b = await replica('b', { kind: 'refuse', code: grpc.status.UNAVAILABLE });
  const c = client([a, b], 5);
  await expect(c.evaluateTrade(order('o1'), Date.now() + 10_000)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  expect(a.calls + b.calls).toBe(5);
});

test("…and the caller's deadline bounds the retries", async () => {
  const a = await replica('a', { kind: 'refuse', code: grpc.status.UNAVAILABLE });
  const c = client([a], 1_000);
  const started = Date.now();
  await expect(c.evaluateTrade(order('o1'), Date.now() + 700)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  expect(Date.now() - started).toBeLessThan(1_500);
  // Pauses of 50, 100, 200, 400 ms between rounds: a handful of calls, not a busy loop.
  expect(a.calls).toBeGreaterThanOrEqual(3);
  expect(a.calls).toBeLessThanOrEqual(6);
});

test('a takeover under way: the client waits between rounds and is answered once a replica decides', async () => {
  const a = await replica('a', { kind: 'refuse', code: grpc.status.UNAVAILABLE });
  const b = await replica('b', { kind: 'refuse', code: grpc.status.UNAVAILABLE });
  const c = client([a, b]);
  setTimeout(() => (b.behaviour = { kind: 'decide' }), 400);
  const started = Date.now();
  expect((await c.evaluateTrade(order('o1'), Date.now() + 5_000)).decision).toBe(Decision.DECISION_APPROVE);
  expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  expect(c.ownerOf('p1')).toBe(b.address);
  expect(a.calls + b.calls).toBeLessThan(20);
});

test('an owner the client cannot reach is not learned again from forwarded answers: the calls stay on the forwarding replica', async () => {
  const owner = await replica('owner');
  const a = await replica('a', { kind: 'forward', owner });
  owner.server.forceShutdown(); // advertised, but not reachable from this client
  const c = client([a]);
  await c.evaluateTrade(order('o1'));
  expect(c.ownerOf('p1')).toBe(owner.address);
  await c.evaluateTrade(order('o2')); // the owner fails: back to a, which forwards and names it again
  expect(c.ownerOf('p1')).toBe(a.address);
  await c.evaluateTrade(order('o3'));
  await c.evaluateTrade(order('o4'));
  expect(a.calls).toBe(4);
  expect(c.ownerOf('p1')).toBe(a.address);
});

test('an owner silent until the deadline: DEADLINE_EXCEEDED goes back (not retried, the time is up), and the owner is forgotten', async () => {
  const owner = await replica('owner', { kind: 'hang' });
  const a = await replica('a', { kind: 'forward', owner });
  const c = client([a]);
  await c.evaluateTrade(order('o1'));
  await expect(c.evaluateTrade(order('o2'), Date.now() + 300)).rejects.toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED });
  expect(owner.calls).toBe(1);
  expect(c.ownerOf('p1')).toBeUndefined();
  await c.evaluateTrade(order('o3'));
  await c.evaluateTrade(order('o4'));
  expect([a.calls, owner.calls]).toEqual([3, 1]);
});
