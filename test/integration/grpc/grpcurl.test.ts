/**
 * grpcurl through server reflection alone (no local protos): health Check and List (whose map field
 * the protobufjs-synthesized descriptors got wrong), and the plan service, whose messages import
 * google.protobuf.Timestamp. grpcurl is installed once from the Go module proxy into ~/.cache/ballast.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RunningGate } from '../../../grpc/server';
import { gate } from './helpers';

const run = promisify(execFile);
const bin = join(homedir(), '.cache', 'ballast', 'go-plugins');
const grpcurl = join(bin, 'grpcurl');
let g: RunningGate;

beforeAll(async () => {
  if (!existsSync(grpcurl))
    await run('go', ['install', 'github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.1'], {
      env: { ...process.env, GOBIN: bin },
      timeout: 600_000,
    });
  g = await gate();
}, 620_000);

afterAll(async () => {
  await g?.close();
});

const curl = async (...args: string[]): Promise<string> => (await run(grpcurl, ['-plaintext', ...args], { timeout: 20_000 })).stdout;

it('lists the services and checks health through reflection', async () => {
  expect((await curl(g.address, 'list')).trim().split('\n')).toEqual([
    'ballast.gate.v1.GateService',
    'ballast.gate.v1.MarketDataService',
    'ballast.gate.v1.PlanService',
    'grpc.health.v1.Health',
  ]);
  expect(JSON.parse(await curl(g.address, 'grpc.health.v1.Health/Check'))).toEqual({ status: 'SERVING' });
  const listed = JSON.parse(await curl(g.address, 'grpc.health.v1.Health/List')) as { statuses: Record<string, { status: string }> };
  expect(listed.statuses['ballast.gate.v1.GateService']).toEqual({ status: 'SERVING' });
  // The plan service resolves with its Timestamp import, comments included.
  const described = await curl(g.address, 'describe', 'ballast.gate.v1.RebalancePlan');
  expect(described).toContain('.google.protobuf.Timestamp expires_at = 10;');
  expect(described).toContain('Stable id');
}, 60_000);
