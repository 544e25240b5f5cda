import { rmSync } from 'node:fs';
import { dropDatabase } from '../../db/migrate';
import type { DevServer } from '../../infra/temporal';

export default async function globalTeardown(): Promise<void> {
  const server = (globalThis as Record<string, unknown>).__ballastTemporal as DevServer | undefined;
  await server?.stop();
  if (process.env.BALLAST_TEST_DATABASE_URL && !process.env.BALLAST_KEEP_TEST_DB) {
    await dropDatabase(process.env.BALLAST_TEST_DATABASE_URL).catch(() => undefined);
  }
  if (process.env.BALLAST_TEST_WORKFLOW_BUNDLE) rmSync(process.env.BALLAST_TEST_WORKFLOW_BUNDLE, { force: true });
}
