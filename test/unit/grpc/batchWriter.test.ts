/** Batching, retry on failure, the high-water mark and flush-on-close of the audit/fill writer. */
import { BatchWriter } from '../../../grpc/batchWriter';

function writer(write: (rows: readonly number[]) => Promise<void>, maxQueue = 10) {
  return new BatchWriter<number>({ name: 'test', write, flushIntervalMs: 3_600_000, maxBatch: 4, maxQueue });
}

test('writes queued rows in batches of at most maxBatch, in order, on flush', async () => {
  const batches: number[][] = [];
  const w = writer(async (rows) => void batches.push([...rows]));
  for (let i = 0; i < 9; i++) w.push(i);
  await w.flush();
  expect(batches).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8]]);
  expect([w.written, w.pending]).toEqual([9, 0]);
  await w.close();
});

test('a failed write keeps the rows, in order, for the next flush', async () => {
  let fail = true;
  const written: number[] = [];
  const w = writer(async (rows) => {
    if (fail) throw new Error('db down');
    written.push(...rows);
  });
  [1, 2, 3].forEach((x) => w.push(x));
  await w.flush();
  expect([w.pending, written]).toEqual([3, []]);
  w.push(4);
  fail = false;
  await w.flush();
  expect(written).toEqual([1, 2, 3, 4]);
  await w.close();
});

test('full at the high-water mark; close flushes everything', async () => {
  const written: number[] = [];
  const w = writer(async (rows) => void written.push(...rows), 5);
  for (let i = 0; i < 5; i++) w.push(i);
  expect(w.full).toBe(true);
  await w.close();
  expect(written).toEqual([0, 1, 2, 3, 4]);
  expect(w.full).toBe(false);
});

test('afterFlush runs only once the queue is written, and refuses when it cannot be', async () => {
  let fail = false;
  const w = writer(async () => {
    if (fail) throw new Error('db down');
  });
  w.push(1);
  await expect(w.afterFlush(async () => w.pending)).resolves.toBe(0);
  fail = true;
  w.push(2);
  await expect(w.afterFlush(async () => 'ran')).rejects.toThrow('1 rows not yet written');
  fail = false;
  await w.close();
});

test('a batch storage refuses is split: the refused row is quarantined once, every other row written, nothing retried forever', async () => {
  const written: number[] = [];
  const kept: number[] = [];
  const handled: number[] = [];
  let statements = 0;
  const refused = Object.assign(new Error('value out of range: underflow'), { code: '22003' });
  const w = new BatchWriter<number>({
    name: 'test',
    flushIntervalMs: 3_600_000,
    maxBatch: 16,
    maxQueue: 100,
    write: async (rows) => {
      statements++;
      if (rows.includes(7)) throw refused;
      written.push(...rows);
    },
    isRejection: (err) => (err as { code?: string }).code === '22003',
    quarantine: async (row) => void kept.push(row),
    onHandled: (rows) => handled.push(...rows),
  });
  for (let i = 0; i < 16; i++) w.push(i);
  await w.flush();
  expect(kept).toEqual([7]);
  expect(written).toEqual([...Array(16).keys()].filter((i) => i !== 7));
  expect(handled).toEqual([...Array(16).keys()]);
  expect([w.pending, w.written, w.quarantined]).toEqual([0, 15, 1]);
  expect(statements).toBeLessThanOrEqual(2 * Math.log2(16) + 1);
  await w.close();
});

test('an outage during a split keeps the rows not yet done, in order, and nothing done twice', async () => {
  let down = false;
  const written: number[] = [];
  const w = new BatchWriter<number>({
    name: 'test',
    flushIntervalMs: 3_600_000,
    maxBatch: 8,
    maxQueue: 100,
    write: async (rows) => {
      if (rows.includes(1)) throw Object.assign(new Error('bad row'), { code: '23514' });
      if (down) throw new Error('connection refused');
      written.push(...rows);
      if (rows.includes(0)) down = true;
    },
    isRejection: (err) => (err as { code?: string }).code === '23514',
    quarantine: async () => undefined,
  });
  for (let i = 0; i < 8; i++) w.push(i);
  await w.flush();
  expect(written).toEqual([0]);
  expect(w.pending).toBe(6);
  down = false;
  await w.flush();
  expect(written).toEqual([0, 2, 3, 4, 5, 6, 7]);
  await w.close();
});
