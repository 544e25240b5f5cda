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
