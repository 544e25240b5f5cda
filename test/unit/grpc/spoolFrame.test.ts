/** The spool's record framing: where replay of a preallocated, possibly recycled segment must stop. */
import { crc32 as zlibCrc32 } from 'node:zlib';
import { crc32, decodeSegment, encodeFrame, FRAME_HEADER_BYTES, tableCrc32 } from '../../../grpc/spoolFrame';

const payload = (s: string): Buffer => Buffer.from(s);
const texts = (r: ReturnType<typeof decodeSegment>): string[] => r.payloads.map((p) => p.toString());

/** A preallocated segment: `bytes` zeros with the frames written from the start. */
function segment(bytes: number, ...frames: Buffer[]): Buffer {
  const out = Buffer.alloc(bytes);
  Buffer.concat(frames).copy(out);
  return out;
}

test('CRC-32 is the IEEE one zlib computes, in JavaScript too (for Node < 20.15)', () => {
  const data = Buffer.from('{"k":"d","r":"r1","v":{"decisionId":"x"}}');
  for (const f of [crc32, tableCrc32]) {
    expect(f(data)).toBe(zlibCrc32(data));
    expect(f(data.subarray(10), f(data.subarray(0, 10)))).toBe(zlibCrc32(data));
  }
});

test('records written into a zeroed segment read back in order; the zeros after them are the end', () => {
  const bytes = segment(4096, encodeFrame(7, payload('a')), encodeFrame(7, payload('bb')), encodeFrame(7, payload('ccc')));
  const read = decodeSegment(7, bytes);
  expect(texts(read)).toEqual(['a', 'bb', 'ccc']);
  expect(read).toMatchObject({ end: 'zeros', validBytes: 3 * FRAME_HEADER_BYTES + 6 });
});

test('a torn last record (cut short, or bytes of it never reached the disk) is not replayed', () => {
  const whole = encodeFrame(3, payload('{"fillId":"f2","quantity":1}'));
  const cut = segment(4096, encodeFrame(3, payload('ok')), whole.subarray(0, whole.length - 5));
  expect(decodeSegment(3, cut)).toMatchObject({ end: 'torn', payloads: [payload('ok')] });
  const flipped = Buffer.from(whole);
  flipped[FRAME_HEADER_BYTES + 4] ^= 0x20; // one sector of the record written, another not
  expect(decodeSegment(3, segment(4096, encodeFrame(3, payload('ok')), flipped))).toMatchObject({ end: 'torn', payloads: [payload('ok')] });
  // A length that runs past the end of the file: torn, not a crash of the reader.
  const header = Buffer.from(whole.subarray(0, FRAME_HEADER_BYTES));
  header.writeUInt32LE(1 << 30, 4);
  expect(decodeSegment(3, segment(64, header))).toMatchObject({ end: 'torn', payloads: [] });
});

test("a recycled segment's records from its earlier life, after the new valid ones, are not replayed", () => {
  // The file was segment 2 (five records), then recycled as segment 9 and two records written over the start.
  const old = segment(4096, ...['o1', 'o2', 'o3', 'o4', 'o5'].map((t) => encodeFrame(2, payload(t))));
  const fresh = Buffer.concat([encodeFrame(9, payload('n1')), encodeFrame(9, payload('n2'))]);
  fresh.copy(old);
  const read = decodeSegment(9, old);
  expect(texts(read)).toEqual(['n1', 'n2']);
  expect(read.end).toBe('stale');
  // A new record that landed exactly over an old one's header still ends at the next old one.
  expect(texts(decodeSegment(9, segment(4096, encodeFrame(9, payload('xx')), encodeFrame(2, payload('yy')))))).toEqual(['xx']);
});

test('a recycled segment with nothing written yet replays nothing', () => {
  const old = segment(4096, encodeFrame(2, payload('o1')), encodeFrame(2, payload('o2')));
  expect(decodeSegment(9, old)).toMatchObject({ payloads: [], end: 'stale', validBytes: 0 });
  expect(decodeSegment(9, Buffer.alloc(4096))).toMatchObject({ payloads: [], end: 'zeros' });
});

test('a record written over an old one of the same length, torn half-way, fails its checksum', () => {
  // Same number: cannot happen (numbers are never reused), and still it stops.
  const old = encodeFrame(9, payload('old record: 1111'));
  const fresh = encodeFrame(9, payload('new record: 2222'));
  const mixed = Buffer.concat([fresh.subarray(0, FRAME_HEADER_BYTES + 4), old.subarray(FRAME_HEADER_BYTES + 4)]);
  expect(decodeSegment(9, segment(4096, mixed))).toMatchObject({ payloads: [], end: 'torn' });
});
