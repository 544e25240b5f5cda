/**
 * The replay corpus: test/fixtures/histories/<release>/<scenario>.json, as exported by
 * `temporal workflow show --output json`, listed with their sha256 in corpus.json. Histories are
 * added by release and never changed; CI replays all of them through the current workflow code,
 * except a release retired from replay with a reason (its runs can no longer reach this code).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const CORPUS_DIR = join(__dirname, '..', 'fixtures', 'histories');
const MANIFEST = join(CORPUS_DIR, 'corpus.json');

interface Release {
  files: Record<string, string>;
  /** Set when a later release stops replaying these histories: from which release, and why that is safe. */
  retiredFromReplayIn?: { release: string; why: string };
}
interface Manifest {
  about: string;
  releases: Record<string, Release>;
}

export const readManifest = (): Manifest => JSON.parse(readFileSync(MANIFEST, 'utf8')) as Manifest;
export const digest = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Every history file on disk, as release/name. */
export function filesOnDisk(): string[] {
  return readdirSync(CORPUS_DIR)
    .filter((d) => statSync(join(CORPUS_DIR, d)).isDirectory())
    .flatMap((release) =>
      readdirSync(join(CORPUS_DIR, release))
        .filter((f) => f.endsWith('.json'))
        .map((f) => `${release}/${f}`),
    );
}

/** The histories the current code must replay: every listed file of every release not retired. */
export function historiesToReplay(): string[] {
  return Object.entries(readManifest().releases)
    .filter(([, release]) => !release.retiredFromReplayIn)
    .flatMap(([name, release]) => Object.keys(release.files).map((f) => join(CORPUS_DIR, name, f)));
}

/** Adds a history of the current release; an existing file is never overwritten (the corpus is append-only). */
export function addHistory(release: string, name: string, json: string): string {
  const dir = join(CORPUS_DIR, release);
  const file = join(dir, name);
  if (existsSync(file))
    throw new Error(`${release}/${name} is already in the replay corpus; histories are never re-recorded: name this scenario differently`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, json);
  const manifest = readManifest();
  (manifest.releases[release] ??= { files: {} }).files[name] = digest(file);
  writeFileSync(MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);
  return file;
}
