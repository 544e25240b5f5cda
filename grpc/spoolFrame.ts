/**
 * The spool's record framing inside a preallocated segment file (grpc/spool.ts). Each record is
 *
 *   crc32 u32 LE | length u32 LE | segment u32 LE | payload (length bytes, UTF-8 JSON)
 *
 * where the CRC-32 covers everything after it: the length, the segment number and the payload. Segments are zero-filled
 * when created and reused (renamed to a new number) once their records are in Postgres, so what
 * follows the last record written is either zeros or records of the file's earlier life. Reading
 * stops at the first frame that is not a record of this segment:
 * - length 0 (zeros): the end of what was written;
 * - another segment number: a stale record from before the file was recycled;
 * - a CRC mismatch or a length past the end: a torn write (the gate died mid-write; that group's
 *   fdatasync never returned, so none of it was acknowledged).
 * Records are written in order and each group only after the previous one is durable, so nothing
 * acknowledged ever lies past the first invalid frame.
 */
import * as zlib from 'node:zlib';

export const FRAME_HEADER_BYTES = 12;

/** Why reading a segment stopped. */
export type SegmentEnd = 'zeros' | 'stale' | 'torn' | 'eof';

/** A record's frame with its length and payload; `seal` adds the segment number and checksum once its segment is known. */
export function frameOf(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + length);
  frame.writeUInt32LE(length, 4);
  frame.write(text, FRAME_HEADER_BYTES);
  return frame;
}

/** Stamps the frame (in place) with the segment it is written to and its checksum. */
export function seal(frame: Buffer, segment: number): Buffer {
  frame.writeUInt32LE(segment >>> 0, 8);
  frame.writeUInt32LE(frameCrc(frame), 0);
  return frame;
}

/** One record's frame, ready to be written. */
export function encodeFrame(segment: number, payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32LE(payload.length, 4);
  payload.copy(frame, FRAME_HEADER_BYTES);
  return seal(frame, segment);
}

/** The payloads of the valid records at the start of a segment's bytes, and why reading stopped. */
export function decodeSegment(segment: number, bytes: Buffer): { payloads: Buffer[]; end: SegmentEnd; validBytes: number } {
  const payloads: Buffer[] = [];
  let offset = 0;
  for (;;) {
    // The spool never starts a record whose frame does not fit, so a short tail is only ever the end.
    if (offset + FRAME_HEADER_BYTES > bytes.length) return { payloads, end: 'eof', validBytes: offset };
    const length = bytes.readUInt32LE(offset + 4);
    if (length === 0) return { payloads, end: 'zeros', validBytes: offset };
    if (bytes.readUInt32LE(offset + 8) !== segment >>> 0) return { payloads, end: 'stale', validBytes: offset };
    const frame = bytes.subarray(offset, offset + FRAME_HEADER_BYTES + length);
    if (frame.length < FRAME_HEADER_BYTES + length || frame.readUInt32LE(0) !== frameCrc(frame))
      return { payloads, end: 'torn', validBytes: offset };
    payloads.push(frame.subarray(FRAME_HEADER_BYTES));
    offset += frame.length;
  }
}

function frameCrc(frame: Buffer): number {
  return crc32(frame.subarray(4));
}

const CRC_TABLE = ((): Uint32Array => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE), continuing from `previous`: zlib's (native) where Node has it (≥ 20.15, 22.2), else the table below. */
export const crc32: (bytes: Uint8Array, previous?: number) => number = (zlib as { crc32?: typeof crc32 }).crc32 ?? tableCrc32;

/** The same CRC in JavaScript (about twice the CPU of a spool record's other work; only for Node < 20.15). */
export function tableCrc32(bytes: Uint8Array, previous = 0): number {
  let c = ~previous;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
