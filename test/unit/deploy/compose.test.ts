/**
 * docker-compose.yml, checked without a Docker engine: against the Compose specification's JSON
 * schema (dclint), and for what makes it start in order and match the locally built server: the
 * same Temporal version and config template, healthchecks behind every service_healthy, one-shot
 * jobs behind every service_completed_successfully, loopback-only ports.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { parse } from 'yaml';
import { gateSecuritySettings } from '../../../cli/gateFlags';
import { checkGateSecurity } from '../../../grpc/security';
import { resolveGateSecurity } from '../../../processes/gateSecurity';
import { runCli } from '../../support/cli';
import { cliTypeName } from '../../../infra/temporal';
import { SEARCH_ATTRIBUTES } from '../../../workflows/searchAttributes';
import { temporalServerVersion } from '../../../infra/temporalServer';
import { defaultGateDataDir } from '../../../processes/gate';

const ROOT = join(__dirname, '..', '..', '..');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  entrypoint?: string[];
  restart?: string;
  healthcheck?: { test: string[] };
}
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const version = temporalServerVersion().replace(/^v/, '');

/** The repository file a container path comes from, through the service's bind mounts. */
function hostPath(service: Service, containerPath: string): string | undefined {
  for (const volume of service.volumes ?? []) {
    const [source, target] = volume.split(':');
    if (source.startsWith('./') && (containerPath === target || containerPath.startsWith(`${target}/`))) {
      return join(ROOT, source, posix.relative(target, containerPath));
    }
  }
  return undefined;
}

test('the file is valid Compose (JSON schema) with no lint warnings', () => {
  const run = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'dclint', 'bin', 'dclint.cjs'), '-f', 'json', '--max-warnings', '0', 'docker-compose.yml'],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  );
  const messages = (JSON.parse(run.stdout) as { messages: { rule: string; message: string }[] }[]).flatMap((r) => r.messages);
  expect(messages).toEqual([]);
  expect(run.status).toBe(0);
});

test('Temporal images are the version deploy/temporal-server/go.mod builds, and none is deprecated', () => {
  const images = Object.values(services).flatMap((s) => (s.image ? [s.image] : []));
  expect(images.filter((i) => i.startsWith('temporalio/auto-setup'))).toEqual([]);
  expect(services.temporal.image).toBe(`temporalio/server:${version}`);
  expect(services['temporal-schema'].image).toBe(`temporalio/admin-tools:${version}`);
  expect(services['temporal-namespace'].image).toBe(`temporalio/admin-tools:${version}`);
  for (const image of images) expect(image).toMatch(/:(?!latest$)[\w.-]+$/); // every image pinned to a tag
});

test('every dependency waits on a condition its target can meet', () => {
  for (const [name, service] of Object.entries(services)) {
    expect(Array.isArray(service.depends_on)).toBe(false); // the short form waits for nothing
    for (const [target, { condition }] of Object.entries(service.depends_on ?? {})) {
      expect(services[target]).toBeDefined();
      if (condition === 'service_healthy') expect(services[target].healthcheck?.test.length).toBeGreaterThan(0);
      else if (condition === 'service_completed_successfully') expect(services[target].restart).toMatch(/^on-failure/);
      else throw new Error(`${name} depends on ${target} with condition ${condition}`);
    }
  }
});

test('start-up order: schema job, then the server, then the namespace job, then Ballast', () => {
  expect(services['temporal-schema'].depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
  expect(services.temporal.depends_on).toEqual({ 'temporal-schema': { condition: 'service_completed_successfully' } });
  expect(services['temporal-namespace'].depends_on).toEqual({ temporal: { condition: 'service_healthy' } });
  for (const ballast of ['ballast', 'worker']) {
    expect(services[ballast].depends_on).toMatchObject({ 'temporal-namespace': { condition: 'service_completed_successfully' } });
  }
});

test('the server reads the same config template and dynamic config as the local build, shard count included', () => {
  const env = services.temporal.environment ?? {};
  const config = hostPath(services.temporal, env.TEMPORAL_SERVER_CONFIG_FILE_PATH);
  const dynamic = hostPath(services.temporal, env.DYNAMIC_CONFIG_FILE_PATH);
  expect(config).toBe(join(ROOT, 'deploy', 'temporal-server', 'config.yaml.tmpl'));
  expect(dynamic).toBe(join(ROOT, 'deploy', 'temporal-server', 'dynamicconfig.yaml'));
  expect(env.NUM_HISTORY_SHARDS).toBeUndefined(); // the template's value, as for the local server
  for (const key of ['POSTGRES_SEEDS', 'POSTGRES_USER', 'POSTGRES_PWD', 'DBNAME', 'VISIBILITY_DBNAME']) expect(env[key]).toBeTruthy();
  const schemaEnv = services['temporal-schema'].environment ?? {};
  expect([schemaEnv.DBNAME, schemaEnv.VISIBILITY_DBNAME]).toEqual([env.DBNAME, env.VISIBILITY_DBNAME]);
});

test("the one-shot jobs run scripts that exist, and register exactly Ballast's search attributes", () => {
  for (const job of ['temporal-schema', 'temporal-namespace']) {
    const script = services[job].entrypoint?.at(-1) ?? '';
    const file = hostPath(services[job], script);
    expect(file && existsSync(file)).toBe(true);
  }
  const registered = services['temporal-namespace'].environment?.BALLAST_SEARCH_ATTRIBUTES ?? '';
  expect(Object.fromEntries(registered.split(',').map((pair) => pair.split('=')))).toEqual(
    Object.fromEntries(SEARCH_ATTRIBUTES.map((key) => [key.name, cliTypeName(key.type)])),
  );
});

test('ports are published on loopback only', () => {
  const published = Object.values(services).flatMap((s) => s.ports ?? []);
  expect(published.length).toBeGreaterThan(0);
  for (const port of published) expect(port).toMatch(/^127\.0\.0\.1:/);
});

test('the gate serves mTLS with an access policy: certificates from the one-shot certs job, through a volume', async () => {
  const job = services.certs;
  const gate = services.ballast;
  expect(job.build).toBeDefined(); // the Ballast image: `ballast certs`
  expect(job.command).toEqual(['certs']);
  expect(gate.depends_on).toMatchObject({ certs: { condition: 'service_completed_successfully' } });
  const volumeOf = (s: Service): string | undefined =>
    s.volumes?.find((v) => v.endsWith(`:${s.environment?.BALLAST_CERTS_DIR}`))?.split(':')[0];
  expect(volumeOf(job)).toBe('certs');
  expect(volumeOf(gate)).toBe('certs');
  expect(gate.environment?.BALLAST_GATE_TLS_NAMES).toBe(job.environment?.BALLAST_GATE_TLS_NAMES);
  // No flag in the command replaces the volume's certificates or policy.
  expect((gate.command ?? []).filter((w) => w.startsWith('--tls') || w.startsWith('--access'))).toEqual([]);

  // What the two containers do with that environment: the job makes the files, the gate resolves them to mTLS + policy.
  const dir = mkdtempSync(join(tmpdir(), 'ballast-compose-certs-'));
  const saved = { ...process.env };
  try {
    Object.assign(process.env, job.environment, { BALLAST_CERTS_DIR: dir });
    await runCli(job.command ?? []);
    Object.assign(process.env, gate.environment, { BALLAST_CERTS_DIR: dir });
    const host = gate.environment?.BALLAST_GATE_HOST ?? '';
    const security = resolveGateSecurity(
      gateSecuritySettings(host, { certsDir: dir, tlsName: gate.environment?.BALLAST_GATE_TLS_NAMES?.split(',') }),
    );
    expect(security.tls?.clientCa).toBeDefined();
    expect(Object.entries(security.access ?? {}).filter(([, g]) => g.control)).toEqual([
      ['ballast-operator', { portfolios: ['*'], strategies: ['*'], control: true, ingest: true }],
    ]);
    expect(() => checkGateSecurity({ host, tls: security.tls, access: security.access })).not.toThrow();
  } finally {
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the gate's spool and quarantine live on a named volume, so a recreated container replays what it acknowledged", () => {
  const gate = services.ballast;
  const saved = process.env.BALLAST_DATA_DIR;
  let dataDir: string;
  try {
    process.env.BALLAST_DATA_DIR = gate.environment?.BALLAST_DATA_DIR;
    dataDir = defaultGateDataDir();
  } finally {
    if (saved === undefined) delete process.env.BALLAST_DATA_DIR;
    else process.env.BALLAST_DATA_DIR = saved;
  }
  const mount = (gate.volumes ?? []).map((v) => v.split(':')).find(([, target]) => dataDir === target || dataDir.startsWith(`${target}/`));
  expect(mount).toBeDefined();
  const [source] = mount!;
  expect(source).not.toMatch(/^[./]/); // a named volume, not a bind mount of the checkout
  expect(Object.keys((compose as unknown as { volumes: Record<string, unknown> }).volumes)).toContain(source);
});
