// The local PKI's access file: written once, an unedited 0.1 default upgraded (its operator gains the
// ingest grant ingestion now needs), a file the desk edited never touched.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAccessPolicy } from '../../../grpc/access';
import { ensureLocalPki } from '../../../infra/certs';

const OLD_DEFAULT = `# Who may call the gate: client-certificate identity (its CN) -> grant. See docs/gate.md.
# portfolios / strategies: lists of ids, or ['*']. control: may call OverrideLimit and TriggerRebalance.
ballast-demo-oms:
  portfolios: ['*']
  strategies: ['*']
ballast-operator:
  portfolios: ['*']
  strategies: ['*']
  control: true
`;

describe('local PKI access file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ballast-pki-'));
  const pki = ensureLocalPki({ dir });
  const policy = () => parseAccessPolicy(readFileSync(pki.accessFile, 'utf8'), pki.accessFile);

  test('the default grants the operator control and ingestion, the demo OMS trading only', () => {
    expect(policy()['ballast-operator']).toMatchObject({ control: true, ingest: true });
    expect(policy()['ballast-demo-oms']).toMatchObject({ control: false, ingest: false });
  });

  test('an unedited 0.1 default is upgraded; an edited file is kept as it is', () => {
    writeFileSync(pki.accessFile, OLD_DEFAULT);
    ensureLocalPki({ dir });
    expect(policy()['ballast-operator'].ingest).toBe(true);
    const edited = OLD_DEFAULT.replace("strategies: ['*']\n  control", 'strategies: [trend]\n  control');
    writeFileSync(pki.accessFile, edited);
    ensureLocalPki({ dir });
    expect(readFileSync(pki.accessFile, 'utf8')).toBe(edited);
  });
});
