/**
 * Aligns the in-memory positions with the stored ones. Every replica writes its fills to the same
 * table, so re-reading it is also how one replica learns of the fills reported to another.
 */
import type { FillRecord } from '../db/stores/fills';
import type { BatchWriter } from './batchWriter';
import type { GateCore } from './gate';
import type { PositionsReader } from './ports';

/**
 * Queued fills are written first and no flush runs until the read is applied; fills reported
 * meanwhile are recorded as deltas and added on top of what the read returns.
 */
export async function reconcilePositions(positions: PositionsReader, core: GateCore, fills: BatchWriter<FillRecord>): Promise<void> {
  await fills.afterFlush(async () => {
    core.beginReconcile();
    try {
      core.endReconcile(await positions.all());
    } catch (err) {
      core.endReconcileAborted();
      throw err;
    }
  });
}
