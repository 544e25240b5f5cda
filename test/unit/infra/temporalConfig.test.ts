import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TemporalConfigError, connectionOptions, loadTemporalSettings, temporalEndpoint } from '../../../infra/temporalConfig';

/** A client config file as the temporal CLI writes it (`temporal config set`). */
function configFile(toml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ballast-envconfig-')), 'temporal.toml');
  writeFileSync(file, toml);
  return file;
}

const PROFILES = `
[profile.default]
address = "temporal.internal:7233"
namespace = "risk-prod"

[profile.cloud]
address = "risk.a1b2c.tmprl.cloud:7233"
namespace = "risk.a1b2c"
api_key = "secret-key"
`;

describe('Temporal client configuration (as the temporal CLI reads it)', () => {
  it('defaults to the local server and the default namespace when nothing is configured', () => {
    const env = { TEMPORAL_CONFIG_FILE: join(tmpdir(), 'ballast-no-such-temporal.toml') };
    expect(loadTemporalSettings(env).address).toBeUndefined();
    expect(temporalEndpoint(env)).toEqual({ address: '127.0.0.1:7233', namespace: 'default' });
  });

  it('reads the default profile, and TEMPORAL_PROFILE picks another (an API key turns TLS on)', () => {
    const file = configFile(PROFILES);
    expect(temporalEndpoint({ TEMPORAL_CONFIG_FILE: file })).toEqual({ address: 'temporal.internal:7233', namespace: 'risk-prod' });
    const cloud = temporalEndpoint({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud' });
    expect(cloud).toMatchObject({ address: 'risk.a1b2c.tmprl.cloud:7233', namespace: 'risk.a1b2c', apiKey: 'secret-key', tls: true });
    expect(connectionOptions(cloud)).toEqual({ address: cloud.address, apiKey: 'secret-key', tls: true });
  });

  it('lets TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and TLS variables override the profile', () => {
    const file = configFile(PROFILES);
    const endpoint = temporalEndpoint({
      TEMPORAL_CONFIG_FILE: file,
      TEMPORAL_ADDRESS: '10.0.0.5:7233',
      TEMPORAL_NAMESPACE: 'risk-staging',
      TEMPORAL_TLS: 'true',
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
      TEMPORAL_GRPC_META_X_DESK: 'rates',
    });
    expect(endpoint).toMatchObject({ address: '10.0.0.5:7233', namespace: 'risk-staging', metadata: { 'x-desk': 'rates' } });
    expect(endpoint.tls).toMatchObject({ serverNameOverride: 'temporal.internal' });
  });

  it('names the variables to fix when the file or profile cannot be read', () => {
    expect(() => loadTemporalSettings({ TEMPORAL_CONFIG_FILE: configFile('[profile.default\naddress=') })).toThrow(TemporalConfigError);
    expect(() => loadTemporalSettings({ TEMPORAL_CONFIG_FILE: configFile(PROFILES), TEMPORAL_PROFILE: 'nope' })).toThrow(
      /TEMPORAL_PROFILE/,
    );
  });
});
