/**
 * Which Worker Deployment Version a Ballast worker serves (Temporal Worker Versioning): the deployment
 * name (`ballast` unless BALLAST_DEPLOYMENT_NAME says otherwise) and a build id. The build id is given
 * (`--build-id`, BALLAST_BUILD_ID) or derived from the package version and the git commit, so that two
 * different workflow codes never share one: a pinned workflow is only ever replayed by the code that
 * wrote its history. A working tree with uncommitted changes gets a digest of them in its build id.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../lib/paths';

export const DEFAULT_DEPLOYMENT_NAME = 'ballast';

export interface DeploymentVersion {
  readonly deploymentName: string;
  readonly buildId: string;
}

/** A build id or deployment name Temporal would refuse, caught before a worker connects. */
export class DeploymentVersionError extends Error {
  override readonly name = 'DeploymentVersionError';
}

export interface DeploymentVersionInput {
  /** `--build-id`: wins over the environment. */
  readonly buildId?: string;
  readonly deploymentName?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** The repository to read the version and commit from (default: this one). */
  readonly root?: string;
}

export function resolveDeploymentVersion(input: DeploymentVersionInput = {}): DeploymentVersion {
  const env = input.env ?? process.env;
  const deploymentName = input.deploymentName ?? env.BALLAST_DEPLOYMENT_NAME ?? DEFAULT_DEPLOYMENT_NAME;
  const buildId = input.buildId ?? env.BALLAST_BUILD_ID ?? deriveBuildId(input.root ?? repoRoot(), env);
  // The server writes a version as `<deployment>.<build id>`: a dot in the name would make that ambiguous.
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(deploymentName))
    throw new DeploymentVersionError(`deployment name must be 1-100 letters, digits, "-" or "_", got "${deploymentName}"`);
  if (!/^[A-Za-z0-9_.+-]{1,200}$/.test(buildId))
    throw new DeploymentVersionError(`build id must be 1-200 letters, digits, ".", "+", "-" or "_", got "${buildId}"`);
  return { deploymentName, buildId };
}

/**
 * `<package version>-<commit>`, with `-dirty.<digest of the uncommitted changes>` when the tree has
 * some. Without git (a container image: .git is not copied) BALLAST_GIT_COMMIT names the commit;
 * without either, `<package version>-src.<digest of the workflow code's sources>` (workflows/ and
 * the risk/ code they replay), which still tells two different workflow codes apart.
 */
export function deriveBuildId(root: string, env: NodeJS.ProcessEnv = process.env): string {
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const commit = git(root, ['rev-parse', '--short=12', 'HEAD']) ?? env.BALLAST_GIT_COMMIT?.slice(0, 12);
  if (!commit) return `${version}-src.${sourceDigest(root)}`;
  const changes = git(root, ['status', '--porcelain', '--untracked-files=no']);
  if (!changes) return `${version}-${commit}`;
  const diff = git(root, ['diff', 'HEAD']) ?? changes;
  return `${version}-${commit}-dirty.${createHash('sha256').update(diff).digest('hex').slice(0, 8)}`;
}

/** A digest of the TypeScript sources that make up the workflow bundle. */
function sourceDigest(root: string): string {
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) hash.update(path.slice(root.length)).update('\0').update(readFileSync(path)).update('\0');
    }
  };
  for (const dir of ['workflows', 'risk']) walk(join(root, dir));
  return hash.digest('hex').slice(0, 12);
}

function git(cwd: string, args: string[]): string | undefined {
  const run = spawnSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (run.status !== 0) return undefined;
  return run.stdout.trim() || undefined;
}

/** How a version is written by the server and the `temporal` CLI (`ballast.0.1.0-abc123`). */
export const canonicalVersion = (v: DeploymentVersion): string => `${v.deploymentName}.${v.buildId}`;
