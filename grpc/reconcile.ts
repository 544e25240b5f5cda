/**
 * Aligns the in-memory positions with the stored ones. Every replica writes its fills to the same
 * table, so re-reading it is also how one replica learns of the fills reported to another.
 */
import type { GateCore } from './gate';
import type { PositionsReader } from './ports';

/**
 * Queued fills are written first and no flush runs until the read is applied; fills the table does
 * not have yet (still in the spool or queued, see GateCore.endReconcile) are added on top of the read.
 */
export async function reconcilePositions(
  positions: PositionsReader,
  core: GateCore,
  fills: { afterFlush<R>(fn: () => Promise<R>): Promise<R> },
): Promise<void> {
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
