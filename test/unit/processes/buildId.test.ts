import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeploymentVersionError, canonicalVersion, deriveBuildId, resolveDeploymentVersion } from '../../../processes/buildId';

/** A throwaway git repository with a package.json, committed once. */
function repo(): { dir: string; commit: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ballast-buildid-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'x', version: '1.2.3' }));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' }).trim();
  git('init', '-q');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'one');
  return { dir, commit: git('rev-parse', '--short=12', 'HEAD') };
}

describe('build ids', () => {
  it('derives <version>-<commit> from a clean checkout', () => {
    const { dir, commit } = repo();
    expect(deriveBuildId(dir, {})).toBe(`1.2.3-${commit}`);
  });

  it('marks uncommitted changes with a digest of them, different for different changes', () => {
    const { dir, commit } = repo();
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'x', version: '1.2.3', a: 1 }));
    const first = deriveBuildId(dir, {});
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'x', version: '1.2.3', a: 2 }));
    const second = deriveBuildId(dir, {});
    expect(first).toMatch(new RegExp(`^1\\.2\\.3-${commit}-dirty\\.[0-9a-f]{8}$`));
    expect(second).not.toBe(first);
  });

  it('uses BALLAST_GIT_COMMIT without a git checkout, else a digest of the workflow sources', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ballast-buildid-nogit-'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ version: '0.9.0' }));
    mkdirSync(join(dir, 'workflows'));
    writeFileSync(join(dir, 'workflows', 'loop.ts'), 'export const a = 1;');
    expect(deriveBuildId(dir, { BALLAST_GIT_COMMIT: 'abcdef0123456789' })).toBe('0.9.0-abcdef012345');
    const before = deriveBuildId(dir, {});
    expect(before).toMatch(/^0\.9\.0-src\.[0-9a-f]{12}$/);
    writeFileSync(join(dir, 'workflows', 'loop.ts'), 'export const a = 2;');
    expect(deriveBuildId(dir, {})).not.toBe(before);
  });

  it('takes --build-id over BALLAST_BUILD_ID over the derived one, and names the deployment', () => {
    const env = { BALLAST_BUILD_ID: 'from-env', BALLAST_DEPLOYMENT_NAME: 'risk' };
    expect(resolveDeploymentVersion({ buildId: 'flag', env })).toEqual({ deploymentName: 'risk', buildId: 'flag' });
    expect(resolveDeploymentVersion({ env })).toEqual({ deploymentName: 'risk', buildId: 'from-env' });
    expect(canonicalVersion(resolveDeploymentVersion({ buildId: '1.0.0-abc', env: {} }))).toBe('ballast.1.0.0-abc');
  });

  it('refuses names the server would refuse or misread', () => {
    expect(() => resolveDeploymentVersion({ buildId: 'a b', env: {} })).toThrow(DeploymentVersionError);
    expect(() => resolveDeploymentVersion({ buildId: 'ok', deploymentName: 'has.dot', env: {} })).toThrow(/deployment name/);
  });
});
