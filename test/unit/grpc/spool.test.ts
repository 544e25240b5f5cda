/**
 * The gate's spool on a real directory: group commit, preallocated segments, replay after a crash
 * (torn tail, recycled segments' stale records), recycling once handled, the earlier format, the lock.
 */
import {
  appendFileSync,
  copyFileSync,
  mkdtempSync,
  openSync,
  closeSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Spool, type SpoolEntry } from '../../../grpc/spool';
import { encodeFrame } from '../../../grpc/spoolFrame';

const logger = pino({ level: 'silent' });
const newDir = (): string => mkdtempSync(join(tmpdir(), 'ballast-spool-'));
const segments = (dir: string): string[] =>
  readdirSync(dir)
    .filter((n) => n.startsWith('segment-'))
    .sort();
const ids = (delivered: readonly SpoolEntry[]): string[] => delivered.map((e) => (e.row as { id: string }).id);

/** What a crash leaves: the files as they are on disk now, in another dir (the lock names a dead pid). */
function crashCopy(from: string): string {
  const dir = newDir();
  for (const name of readdirSync(from)) copyFileSync(join(from, name), join(dir, name));
  writeFileSync(join(dir, 'lock'), '999999999\n');
  return dir;
}

async function opened(dir: string, segmentBytes?: number, eagerGroupRecords?: number) {
  const delivered: SpoolEntry[] = [];
  const spool = new Spool({ dir, logger, deliver: (e) => delivered.push(e), segmentBytes, eagerGroupRecords });
  const recovered = await spool.open();
  return { spool, delivered, recovered };
}

test('records appended together share one fdatasync and are delivered only once durable, in order', async () => {
  const { spool, delivered } = await opened(newDir());
  const acks = [1, 2, 3].map((i) => spool.append('fill', 'r1', { id: `f${i}` }));
  expect(delivered).toEqual([]);
  await Promise.all(acks);
  expect(ids(delivered)).toEqual(['f1', 'f2', 'f3']);
  expect(spool.syncStats).toMatchObject({ groups: 1, records: 3 });
  spool.handled(delivered);
  await spool.close();
});

test('a burst starts its first write once the group holds eagerGroupRecords, before the burst ends; the rest is the next group', async () => {
  const { spool, delivered } = await opened(newDir(), undefined, 8);
  const order: string[] = [];
  // Twenty records appended in one turn of the event loop, as grpc-js hands over a burst read at once.
  const acks = Array.from({ length: 20 }, (_, i) => spool.append('fill', 'r1', { id: `f${i}` }).then(() => order.push(`f${i}`)));
  expect(spool.syncStats.groups).toBe(0);
  await acks[0];
  // The first eight were acknowledged on their own write, before the other twelve were durable.
  expect(order).toEqual(Array.from({ length: 8 }, (_, i) => `f${i}`));
  await Promise.all(acks);
  expect(spool.syncStats).toMatchObject({ groups: 2, records: 20 });
  expect(ids(delivered)).toEqual(Array.from({ length: 20 }, (_, i) => `f${i}`));
  spool.handled(delivered);
  await spool.close();
});

test('segments are preallocated: full size and zero-filled before the first record goes in', async () => {
  const dir = newDir();
  const { spool } = await opened(dir, 8192);
  await spool.append('fill', 'r1', { id: 'f1' });
  await spool.sync();
  // The one written to is full size; the next, prepared in the background, is full size once it is ready.
  expect(statSync(join(dir, segments(dir)[0])).size).toBe(8192);
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline && !(segments(dir).length === 2 && segments(dir).every((n) => statSync(join(dir, n)).size === 8192)))
    await new Promise((r) => setTimeout(r, 10));
  expect(segments(dir).map((n) => statSync(join(dir, n)).size)).toEqual([8192, 8192]);
  await spool.close();
});

test('a crash leaves the records for the next start, which replays them and skips a torn last record', async () => {
  const crashed = newDir();
  const first = await opened(crashed, 8192);
  await first.spool.append('decision', 'r1', { id: 'd1' });
  await first.spool.append('fill', 'r1', { id: 'f1' });
  // The process dies (no close) while a third record is being written: its frame is cut short.
  const dir = crashCopy(crashed);
  const [segment] = segments(dir);
  const no = Number(/\d+/.exec(segment)![0]);
  const written = [
    { k: 'd', r: 'r1', v: { id: 'd1' } },
    { k: 'f', r: 'r1', v: { id: 'f1' } },
  ]
    .map((r) => encodeFrame(no, Buffer.from(JSON.stringify(r))).length)
    .reduce((a, b) => a + b);
  const torn = encodeFrame(no, Buffer.from(JSON.stringify({ k: 'f', r: 'r1', v: { id: 'f2' } })));
  const fd = openSync(join(dir, segment), 'r+');
  writeSync(fd, torn, 0, torn.length - 3, written);
  closeSync(fd);
  const second = await opened(dir, 8192);
  expect(second.recovered).toEqual({ replayed: 2, torn: 1 });
  expect(second.delivered.map((e) => [e.kind, e.replica, e.row])).toEqual([
    ['decision', 'r1', { id: 'd1' }],
    ['fill', 'r1', { id: 'f1' }],
  ]);
  // New records never go after the torn one: a new segment. Once handled, nothing is replayed again.
  await second.spool.append('fill', 'r1', { id: 'f3' });
  second.spool.handled(second.delivered);
  await second.spool.close();
  const third = await opened(dir, 8192);
  expect(ids(third.delivered)).toEqual([]);
  await third.spool.close();
  await first.spool.close();
});

test('handled segments are recycled; their old records, after the new ones, are never replayed', async () => {
  const NEW = 30;
  const dir = newDir();
  const a = await opened(dir, 1024);
  // Fill several 1 KiB segments with records that are then written to Postgres (handled).
  for (let i = 0; i < 40; i++) await a.spool.append('fill', 'r1', { id: `old-${i}`, pad: 'x'.repeat(60) });
  a.spool.handled(a.delivered);
  for (let i = 0; i < 40; i++) await a.spool.append('fill', 'r1', { id: `mid-${i}`, pad: 'x'.repeat(60) });
  a.spool.handled(a.delivered);
  // Recycling runs in the background: wait for the spares.
  while (readdirSync(dir).filter((n) => n.startsWith('spare-')).length < 2) await new Promise((r) => setTimeout(r, 10));
  // Two short records not yet in Postgres, then enough to fill the next (recycled) segments.
  await a.spool.append('decision', 'r1', { id: 'new-1' });
  await a.spool.append('decision', 'r1', { id: 'new-2' });
  for (let i = 3; i <= NEW; i++) await a.spool.append('fill', 'r1', { id: `new-${i}`, pad: 'x'.repeat(60) });
  // Spares are reused, so the files stay few whatever the number of records.
  expect(readdirSync(dir).filter((n) => n.startsWith('spare-')).length).toBeLessThanOrEqual(2);
  expect(segments(dir).length).toBeLessThanOrEqual(6);
  // New records went into files that held handled records before, which follow them there.
  const texts = segments(dir).map((n) => readFileSync(join(dir, n), 'latin1'));
  expect(texts.filter((t) => /"new-\d+"/.test(t) && /"(old|mid)-\d+"/.test(t)).length).toBeGreaterThan(0);
  const b = await opened(crashCopy(dir), 1024);
  // Handled records that share a segment with unhandled ones replay too (Postgres skips them by id); stale ones never.
  const replayed = ids(b.delivered);
  const from = replayed.indexOf('new-1');
  expect(replayed.slice(from)).toEqual(Array.from({ length: NEW }, (_, i) => `new-${i + 1}`));
  expect(replayed.slice(0, from).every((id) => id.startsWith('mid-'))).toBe(true);
  expect(b.recovered.torn).toBe(0);
  b.spool.handled(b.delivered);
  await b.spool.close();
  a.spool.handled(a.delivered);
  await a.spool.close();
});

test("a spare's old number is never given again, even with no segment left to count from", async () => {
  const dir = newDir();
  const old = Buffer.alloc(1024);
  Buffer.concat(['o1', 'o2'].map((id) => encodeFrame(7, Buffer.from(JSON.stringify({ k: 'f', r: 'r0', v: { id } }))))).copy(old);
  writeFileSync(join(dir, 'spare-000000000007.wal'), old);
  const a = await opened(dir, 1024);
  expect(a.recovered).toEqual({ replayed: 0, torn: 0 });
  expect(segments(dir).every((n) => Number(/\d+/.exec(n)![0]) > 7)).toBe(true);
  await a.spool.append('fill', 'r1', { id: 'n1' });
  const b = await opened(crashCopy(dir), 1024);
  expect(ids(b.delivered)).toEqual(['n1']);
  b.spool.handled(b.delivered);
  await b.spool.close();
  a.spool.handled(a.delivered);
  await a.spool.close();
});

test('records not handled at close stay for the next start; handled ones are not replayed', async () => {
  const dir = newDir();
  const a = await opened(dir, 1024);
  await a.spool.append('fill', 'r1', { id: 'f1', pad: 'x'.repeat(80) });
  a.spool.handled(a.delivered);
  await a.spool.append('fill', 'r1', { id: 'f2' });
  await a.spool.close();
  const b = await opened(dir, 1024);
  // f1 shares f2's segment, so it is replayed too (Postgres skips it by id); f2 is what must come back.
  expect(ids(b.delivered)).toContain('f2');
  b.spool.handled(b.delivered);
  await b.spool.close();
  const c = await opened(dir, 1024);
  expect(ids(c.delivered)).toEqual([]);
  await c.spool.close();
});

test('a record whose row is a string (an encoded decision) comes back as that string, beside object rows', async () => {
  const dir = newDir();
  const a = await opened(dir);
  const line = 'd-1\t2026-11-30T08:00:00.000Z\tr1\tEvaluateTrade\toms \\t "desk"\n';
  await Promise.all([a.spool.append('decision', 'r1', line), a.spool.append('fill', 'r1', { id: 'f1' })]);
  await a.spool.close();
  const b = await opened(dir);
  expect(b.recovered).toEqual({ replayed: 2, torn: 0 });
  expect(b.delivered.map(({ kind, replica, row }) => ({ kind, replica, row }))).toEqual([
    { kind: 'decision', replica: 'r1', row: line },
    { kind: 'fill', replica: 'r1', row: { id: 'f1' } },
  ]);
  b.spool.handled(b.delivered);
  await b.spool.close();
});

test('segments of the earlier append-only format are replayed, a torn last line skipped, and deleted once handled', async () => {
  const dir = newDir();
  const legacy = 'segment-000000000003.jsonl';
  writeFileSync(join(dir, legacy), '{"k":"d","r":"r0","v":{"id":"d1"}}\n{"k":"f","r":"r0","v":{"id":"f1"}}\n');
  appendFileSync(join(dir, legacy), '{"k":"f","r":"r0","v":{"id":"f2"');
  const a = await opened(dir, 8192);
  expect(a.recovered).toEqual({ replayed: 2, torn: 1 });
  expect(a.delivered.map((e) => [e.kind, e.replica, e.row])).toEqual([
    ['decision', 'r0', { id: 'd1' }],
    ['fill', 'r0', { id: 'f1' }],
  ]);
  // Numbering continues after it.
  expect(
    segments(dir)
      .filter((n) => n.endsWith('.wal'))
      .every((n) => Number(/\d+/.exec(n)![0]) > 3),
  ).toBe(true);
  a.spool.handled(a.delivered);
  await a.spool.close();
  expect(readdirSync(dir)).not.toContain(legacy);
});

test('a record larger than a segment is refused on its own; the spool goes on', async () => {
  const { spool, delivered } = await opened(newDir(), 1024);
  await expect(spool.append('fill', 'r1', { id: 'big', pad: 'x'.repeat(2000) })).rejects.toThrow('does not fit a spool segment');
  await spool.append('fill', 'r1', { id: 'small' });
  expect(ids(delivered)).toEqual(['small']);
  expect(spool.failure).toBeUndefined();
  spool.handled(delivered);
  await spool.close();
});

test('a second gate on the same data dir is refused with a sentence saying why', async () => {
  const dir = newDir();
  const a = await opened(dir);
  await expect(opened(dir)).rejects.toThrow(`gate data dir ${dir} is already used by a gate in this process`);
  await a.spool.close();
});
