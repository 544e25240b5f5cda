/** Gate HA's record queue (grpc/ha.ts FencedRecorder): group commit, fencing, and what a failed write does. */
import { setImmediate } from 'node:timers';
import { FencedRecorder, LeaseLost } from '../../../grpc/ha';

interface Row {
  readonly portfolioId: string;
  readonly n: number;
}

function leases(tokens: Record<string, number>) {
  const lost: string[] = [];
  return {
    lost,
    token: (id: string): number | undefined => tokens[id],
    lostLease(id: string) {
      lost.push(id);
      delete tokens[id];
    },
  };
}

function recorder(
  tokens: Record<string, number>,
  write: (rows: readonly Row[], t: ReadonlyMap<string, number>) => Promise<Set<string>>,
  eagerGroupRows?: number,
) {
  const l = leases(tokens);
  const written: Row[] = [];
  const r = new FencedRecorder<Row>(
    write,
    { token: l.token, lost: (id) => l.lostLease(id) },
    (rows) => written.push(...rows),
    eagerGroupRows,
  );
  return { r, lost: l.lost, written };
}

test('rows pushed in one turn go in one statement, with the token of each portfolio', async () => {
  const calls: Array<{ rows: readonly Row[]; tokens: ReadonlyMap<string, number> }> = [];
  const { r, written } = recorder({ a: 3, b: 7 }, async (rows, tokens) => {
    calls.push({ rows, tokens });
    return new Set(tokens.keys());
  });
  await Promise.all([r.push({ portfolioId: 'a', n: 1 }), r.push({ portfolioId: 'b', n: 2 }), r.push({ portfolioId: 'a', n: 3 })]);
  expect(calls).toHaveLength(1);
  expect([...calls[0].tokens]).toEqual([
    ['a', 3],
    ['b', 7],
  ]);
  expect(written.map((w) => w.n)).toEqual([1, 2, 3]);
});

test('a row of a portfolio the replica does not hold is refused at once', async () => {
  const { r } = recorder({}, async () => new Set());
  await expect(r.push({ portfolioId: 'a', n: 1 })).rejects.toBeInstanceOf(LeaseLost);
});

test('rows refused by the fence are rejected and the lease given up; the others are acknowledged', async () => {
  const { r, lost } = recorder({ a: 1, b: 1 }, async () => new Set(['b']));
  const [a, b] = await Promise.allSettled([r.push({ portfolioId: 'a', n: 1 }), r.push({ portfolioId: 'b', n: 2 })]);
  expect(a.status).toBe('rejected');
  expect((a as PromiseRejectedResult).reason).toBeInstanceOf(LeaseLost);
  expect(b.status).toBe('fulfilled');
  expect(lost).toEqual(['a']);
});

test('a failed write rejects its rows and gives up every portfolio in it (its outcome is unknown)', async () => {
  const { r, lost } = recorder({ a: 1, b: 1 }, async () => {
    throw new Error('connection reset');
  });
  const settled = await Promise.allSettled([r.push({ portfolioId: 'a', n: 1 }), r.push({ portfolioId: 'b', n: 2 })]);
  expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
  expect(lost.sort()).toEqual(['a', 'b']);
});

test('rows arriving while a statement is in flight form the next group; sync waits for both', async () => {
  let release!: () => void;
  const groups: number[] = [];
  const { r } = recorder({ a: 1 }, async (rows) => {
    groups.push(rows.length);
    if (groups.length === 1) await new Promise<void>((res) => (release = res));
    return new Set(['a']);
  });
  const first = r.push({ portfolioId: 'a', n: 1 });
  await new Promise((res) => setImmediate(res));
  const later = [r.push({ portfolioId: 'a', n: 2 }), r.push({ portfolioId: 'a', n: 3 })];
  const synced = r.sync();
  release();
  await Promise.all([first, ...later, synced]);
  expect(groups).toEqual([1, 2]);
});

test('a burst starts its first statement once the group holds eagerGroupRows; the rest is the next group', async () => {
  const groups: number[] = [];
  const { r, written } = recorder(
    { a: 1 },
    async (rows) => {
      groups.push(rows.length);
      return new Set(['a']);
    },
    4,
  );
  // Ten rows pushed in one turn: the first four are already being written when the fifth arrives.
  const acks = Array.from({ length: 10 }, (_, n) => r.push({ portfolioId: 'a', n }));
  expect(groups).toEqual([4]);
  await Promise.all(acks);
  expect(groups).toEqual([4, 6]);
  expect(written.map((w) => w.n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});
