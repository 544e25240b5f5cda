/**
 * The gate's local certificate authority: a CA, the gate's server certificate and client certificates
 * (one per OMS or operator identity, its CN being the identity the access policy names), kept as PEM
 * files in one directory outside the repository (`certsDir()`). `ballast start` and `ballast gate`
 * create what is missing on first run, so every way Ballast runs serves the gate on mTLS; `ballast
 * certs issue` adds an identity. Certificates are made with node-forge (a maintained X.509 library;
 * no openssl binary needed, so the slim container image can run the same code), keys by Node's crypto.
 *
 * Layout: ca.crt ca.key (0600) · gate.crt gate.key · <identity>.crt <identity>.key · access.yaml.
 * A production deployment may bring its own PKI instead (--tls-cert/--tls-key/--tls-client-ca).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';
import { cacheDir } from './temporal';

/** The identity of `npm start`'s demo order flow: may trade every portfolio, no control. */
export const DEMO_OMS_IDENTITY = 'ballast-demo-oms';
/** The operator identity: may call control RPCs (overrides, rebalances) on every portfolio. */
export const OPERATOR_IDENTITY = 'ballast-operator';

/** Where the local CA lives: BALLAST_CERTS_DIR, else ~/.cache/ballast/pki (outside the repository). */
export function certsDir(): string {
  return process.env.BALLAST_CERTS_DIR ?? join(cacheDir(), 'pki');
}

export type CertificateKind = 'server' | 'client';

export interface IssuedCertificate {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface LocalPki {
  readonly dir: string;
  readonly caFile: string;
  readonly server: IssuedCertificate;
  /** Identity → files, for the demo OMS and the operator. */
  readonly clients: Readonly<Record<string, IssuedCertificate>>;
  /** The access policy file (YAML) the gate reads; written once, then the operator's to edit. */
  readonly accessFile: string;
}

/** A certificate name the access policy can match exactly and a file name can hold. */
const IDENTITY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const CA_YEARS = 10;
const LEAF_DAYS = 825;

export class CertificateError extends Error {
  override readonly name = 'CertificateError';
}

/**
 * Creates whatever is missing: the CA, the gate's certificate (for `serverNames`, plus localhost and
 * 127.0.0.1; re-issued when it does not cover a name), the demo OMS and operator certificates and the
 * default access policy. Existing files are kept.
 */
export function ensureLocalPki(options: { dir?: string; serverNames?: readonly string[] } = {}): LocalPki {
  const dir = options.dir ?? certsDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = ensureCa(dir);
  const names = [...new Set(['localhost', '127.0.0.1', ...(options.serverNames ?? [])])];
  const server = files(dir, 'gate');
  if (!existsSync(server.certFile) || !covers(readFileSync(server.certFile, 'utf8'), names)) {
    issueWith(ca, dir, 'gate', 'server', names);
  }
  const clients: Record<string, IssuedCertificate> = {};
  for (const identity of [DEMO_OMS_IDENTITY, OPERATOR_IDENTITY]) {
    clients[identity] = files(dir, identity);
    if (!existsSync(clients[identity].certFile)) issueWith(ca, dir, identity, 'client', []);
  }
  const accessFile = join(dir, 'access.yaml');
  if (!existsSync(accessFile) || readFileSync(accessFile, 'utf8') === DEFAULT_ACCESS_POLICY_0_1)
    writeFileSync(accessFile, DEFAULT_ACCESS_POLICY, { mode: 0o600 });
  return { dir, caFile: join(dir, 'ca.crt'), server, clients, accessFile };
}

/** Issues (or re-issues) a certificate for `identity` signed by the CA in `dir`, creating the CA if needed. */
export function issueCertificate(
  dir: string,
  identity: string,
  kind: CertificateKind,
  serverNames: readonly string[] = [],
): IssuedCertificate {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return issueWith(ensureCa(dir), dir, identity, kind, serverNames);
}

const DEFAULT_ACCESS_POLICY = `# Who may call the gate: client-certificate identity (its CN) -> grant. See docs/gate.md.
# portfolios / strategies: lists of ids, or ['*']. control: may call OverrideLimit and TriggerRebalance.
# ingest: may feed market data (IngestCloses); give a firm's feed its own certificate with only this.
${DEMO_OMS_IDENTITY}:
  portfolios: ['*']
  strategies: ['*']
${OPERATOR_IDENTITY}:
  portfolios: ['*']
  strategies: ['*']
  control: true
  ingest: true
`;

/** 0.1's default, before ingestion had its own grant: replaced when found unedited, so the operator keeps feeding. */
const DEFAULT_ACCESS_POLICY_0_1 = DEFAULT_ACCESS_POLICY.replace(/^# ingest:.*\n/m, '').replace('  ingest: true\n', '');

interface Ca {
  readonly cert: forge.pki.Certificate;
  readonly key: forge.pki.rsa.PrivateKey;
}

function files(dir: string, identity: string): IssuedCertificate {
  return { certFile: join(dir, `${identity}.crt`), keyFile: join(dir, `${identity}.key`) };
}

function ensureCa(dir: string): Ca {
  const certFile = join(dir, 'ca.crt');
  const keyFile = join(dir, 'ca.key');
  if (existsSync(certFile) && existsSync(keyFile)) {
    return {
      cert: forge.pki.certificateFromPem(readFileSync(certFile, 'utf8')),
      key: forge.pki.privateKeyFromPem(readFileSync(keyFile, 'utf8')) as forge.pki.rsa.PrivateKey,
    };
  }
  const keys = rsaKeys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  validity(cert, CA_YEARS * 365);
  const subject = [{ name: 'commonName', value: `Ballast local CA ${randomBytes(4).toString('hex')}` }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  writePrivate(keyFile, forge.pki.privateKeyToPem(keys.privateKey));
  writeFileSync(certFile, forge.pki.certificateToPem(cert));
  return { cert, key: keys.privateKey };
}

function issueWith(ca: Ca, dir: string, identity: string, kind: CertificateKind, serverNames: readonly string[]): IssuedCertificate {
  if (!IDENTITY.test(identity))
    throw new CertificateError(
      `identity "${identity}" must be 1–64 letters, digits, dots, dashes or underscores, starting with a letter or digit`,
    );
  const keys = rsaKeys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  validity(cert, LEAF_DAYS);
  cert.setSubject([{ name: 'commonName', value: identity }]);
  cert.setIssuer(ca.cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    kind === 'server' ? { name: 'extKeyUsage', serverAuth: true } : { name: 'extKeyUsage', clientAuth: true },
    ...(kind === 'server' ? [{ name: 'subjectAltName', altNames: serverNames.map(altName) }] : []),
  ]);
  cert.sign(ca.key, forge.md.sha256.create());
  const out = files(dir, identity);
  writePrivate(out.keyFile, forge.pki.privateKeyToPem(keys.privateKey));
  writeFileSync(out.certFile, forge.pki.certificateToPem(cert));
  return out;
}

/** Key generation in Node's native crypto (node-forge's pure-JS RSA takes seconds). */
function rsaKeys(): { publicKey: forge.pki.rsa.PublicKey; privateKey: forge.pki.rsa.PrivateKey } {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  const key = forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey;
  return { privateKey: key, publicKey: forge.pki.setRsaPublicKey(key.n, key.e) };
}

const serial = (): string => `01${randomBytes(15).toString('hex')}`;

function validity(cert: forge.pki.Certificate, days: number): void {
  // An hour of slack for clocks a little behind this one.
  cert.validity.notBefore = new Date(Date.now() - 3_600_000);
  cert.validity.notAfter = new Date(Date.now() + days * 86_400_000);
}

const altName = (name: string): { type: number; value?: string; ip?: string } =>
  /^[\d.]+$/.test(name) || name.includes(':') ? { type: 7, ip: name } : { type: 2, value: name };

/** Does the certificate name every one of `names` in its subjectAltName? */
function covers(pem: string, names: readonly string[]): boolean {
  const san = forge.pki.certificateFromPem(pem).getExtension('subjectAltName') as { altNames?: { value?: string; ip?: string }[] } | null;
  const present = new Set((san?.altNames ?? []).map((a) => a.ip ?? a.value));
  return names.every((n) => present.has(n));
}

function writePrivate(file: string, pem: string): void {
  writeFileSync(file, pem, { mode: 0o600 });
  chmodSync(file, 0o600);
}
