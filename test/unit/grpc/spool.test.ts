/** The gate's spool on a real directory: group commit, replay after a crash (torn tail), deletion once handled, the lock. */
import { appendFileSync, copyFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Spool, type SpoolEntry } from '../../../grpc/spool';

const logger = pino({ level: 'silent' });
const newDir = (): string => mkdtempSync(join(tmpdir(), 'ballast-spool-'));

async function opened(dir: string, segmentBytes?: number) {
  const delivered: SpoolEntry[] = [];
  const spool = new Spool({ dir, logger, deliver: (e) => delivered.push(e), segmentBytes });
  const recovered = await spool.open();
  return { spool, delivered, recovered };
}

test('records appended together share one fdatasync and are delivered only once durable, in order', async () => {
  const { spool, delivered } = await opened(newDir());
  const acks = [1, 2, 3].map((i) => spool.append('fill', 'r1', { fillId: `f${i}` }));
  expect(delivered).toEqual([]);
  await Promise.all(acks);
  expect(delivered.map((e) => (e.row as { fillId: string }).fillId)).toEqual(['f1', 'f2', 'f3']);
  expect(spool.syncStats).toMatchObject({ groups: 1, records: 3 });
  spool.handled(delivered);
  await spool.close();
});

test('a crash leaves the records for the next start, which replays them and skips a torn last line', async () => {
  const crashed = newDir();
  const first = await opened(crashed);
  await first.spool.append('decision', 'r1', { decisionId: 'd1' });
  await first.spool.append('fill', 'r1', { fillId: 'f1' });
  // The process dies (no close): what the next start finds is its files, the lock naming a dead pid,
  // and a record being written when it died cut short.
  const dir = newDir();
  for (const name of readdirSync(crashed)) copyFileSync(join(crashed, name), join(dir, name));
  appendFileSync(join(dir, 'lock'), '');
  const [segment] = readdirSync(dir).filter((n) => n.startsWith('segment-'));
  appendFileSync(join(dir, segment), '{"k":"f","r":"r1","v":{"fillId":"f2"');
  const second = await opened(dir);
  expect(second.recovered).toEqual({ replayed: 2, torn: 1 });
  expect(second.delivered.map((e) => [e.kind, e.replica, e.row])).toEqual([
    ['decision', 'r1', { decisionId: 'd1' }],
    ['fill', 'r1', { fillId: 'f1' }],
  ]);
  // Once both are handled the old segment goes; a clean close with nothing pending leaves no segment.
  second.spool.handled(second.delivered);
  await second.spool.close();
  expect(readdirSync(dir).filter((n) => n.startsWith('segment-'))).toEqual([]);
  await first.spool.close();
});

test('records not handled at close stay for the next start; handled segments are deleted after rotation', async () => {
  const dir = newDir();
  const a = await opened(dir, 64);
  await a.spool.append('fill', 'r1', { fillId: 'f1', pad: 'x'.repeat(80) });
  a.spool.handled(a.delivered);
  await a.spool.append('fill', 'r1', { fillId: 'f2' }); // rotates: the first segment is full and handled
  expect(readdirSync(dir).filter((n) => n.startsWith('segment-'))).toHaveLength(1);
  await a.spool.close();
  const b = await opened(dir);
  expect(b.delivered.map((e) => (e.row as { fillId: string }).fillId)).toEqual(['f2']);
  b.spool.handled(b.delivered);
  await b.spool.close();
});

test('a second gate on the same data dir is refused with a sentence saying why', async () => {
  const dir = newDir();
  const a = await opened(dir);
  await expect(opened(dir)).rejects.toThrow(`gate data dir ${dir} is already used by a gate in this process`);
  await a.spool.close();
});
