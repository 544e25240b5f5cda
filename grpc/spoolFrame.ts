/**
 * The spool's record framing inside a preallocated segment file (grpc/spool.ts). Each record is
 *
 *   length u32 LE | segment u32 LE | crc32 u32 LE | payload (length bytes, UTF-8 JSON)
 *
 * where the CRC-32 covers the length, the segment number and the payload. Segments are zero-filled
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
export const FRAME_HEADER_BYTES = 12;

/** Why reading a segment stopped. */
export type SegmentEnd = 'zeros' | 'stale' | 'torn' | 'eof';

/** One record's frame, ready to be written. */
export function encodeFrame(segment: number, payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32LE(payload.length, 0);
  frame.writeUInt32LE(segment >>> 0, 4);
  payload.copy(frame, FRAME_HEADER_BYTES);
  frame.writeUInt32LE(frameCrc(frame, payload.length), 8);
  return frame;
}

/** The payloads of the valid records at the start of a segment's bytes, and why reading stopped. */
export function decodeSegment(segment: number, bytes: Buffer): { payloads: Buffer[]; end: SegmentEnd; validBytes: number } {
  const payloads: Buffer[] = [];
  let offset = 0;
  for (;;) {
    // The spool never starts a record whose frame does not fit, so a short tail is only ever the end.
    if (offset + FRAME_HEADER_BYTES > bytes.length) return { payloads, end: 'eof', validBytes: offset };
    const length = bytes.readUInt32LE(offset);
    if (length === 0) return { payloads, end: 'zeros', validBytes: offset };
    if (bytes.readUInt32LE(offset + 4) !== segment >>> 0) return { payloads, end: 'stale', validBytes: offset };
    const frame = bytes.subarray(offset, offset + FRAME_HEADER_BYTES + length);
    if (frame.length < FRAME_HEADER_BYTES + length || frame.readUInt32LE(8) !== frameCrc(frame, length))
      return { payloads, end: 'torn', validBytes: offset };
    payloads.push(frame.subarray(FRAME_HEADER_BYTES));
    offset += frame.length;
  }
}

function frameCrc(frame: Buffer, length: number): number {
  return crc32(frame.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length), crc32(frame.subarray(0, 8)));
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

/** CRC-32 (IEEE, as zlib), continuing from `previous` (zlib.crc32 needs Node ≥ 20.15; the engines field allows 20.11). */
export function crc32(bytes: Uint8Array, previous = 0): number {
  let c = ~previous;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
