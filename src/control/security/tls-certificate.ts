// The master's TLS certificate: the one given in the data directory (tls.crt, tls.key), or a
// self-signed ECDSA P-256 one made on first start for the master's names and the loopback.

import { createPrivateKey, webcrypto, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
// @peculiar/x509's dependency injection (tsyringe) needs the Reflect metadata API loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { SecurityError } from './security-error.js';
import { writeFileAtomically } from './write-file-atomically.js';

export interface TlsCertificate {
  /** PEM. */
  cert: string;
  /** PEM (PKCS#8). */
  key: string;
  /** SHA-256 of the certificate's DER, as colon-separated hex: what a client pins or compares. */
  fingerprintSha256: string;
}

export const TLS_CERT_FILE = 'tls.crt';
export const TLS_KEY_FILE = 'tls.key';
const VALIDITY_MS = 365 * 24 * 60 * 60_000;
// Clients whose clocks lag a little still accept a certificate made just now.
const BACKDATE_MS = 5 * 60_000;

async function readIfPresent(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new SecurityError('bad-tls-files', `cannot read ${path}: ${(error as Error).message}`, { path, cause: error });
  }
}

function checkPair(dir: string, cert: string, key: string): TlsCertificate {
  let parsed: X509Certificate;
  try {
    parsed = new X509Certificate(cert);
  } catch (error) {
    throw new SecurityError('bad-tls-files', `${join(dir, TLS_CERT_FILE)} is not a PEM certificate`, { path: join(dir, TLS_CERT_FILE), cause: error });
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    throw new SecurityError('bad-tls-files', `${join(dir, TLS_KEY_FILE)} is not a PEM private key`, { path: join(dir, TLS_KEY_FILE), cause: error });
  }
  if (!parsed.checkPrivateKey(privateKey)) {
    throw new SecurityError('bad-tls-files', `${join(dir, TLS_KEY_FILE)} is not the private key of ${join(dir, TLS_CERT_FILE)}`, { path: join(dir, TLS_KEY_FILE) });
  }
  return { cert, key, fingerprintSha256: parsed.fingerprint256 };
}

function subjectAltNames(hostnames: readonly string[]): x509.JsonGeneralNames {
  const names = [...new Set([...hostnames, 'localhost', '127.0.0.1', '::1'])];
  return names.map((value) => ({ type: isIP(value) ? 'ip' : 'dns', value }));
}

/** A new self-signed server certificate: ECDSA P-256, SHA-256, one year, serverAuth. */
export async function createSelfSignedCertificate(hostnames: readonly string[], now = new Date()): Promise<{ cert: string; key: string }> {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: 'CN=Vireo master',
      notBefore: new Date(now.getTime() - BACKDATE_MS),
      notAfter: new Date(now.getTime() + VALIDITY_MS),
      signingAlgorithm: algorithm,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(subjectAltNames(hostnames)),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto as Crypto),
      ],
    },
    webcrypto as Crypto,
  );
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { cert: certificate.toString('pem'), key: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
}

/**
 * The certificate in `dir`, or a new self-signed one written there (key mode 0600) for
 * `hostnames` plus localhost, 127.0.0.1 and ::1.
 */
export async function loadOrCreateTlsCertificate(dir: string, hostnames: readonly string[]): Promise<TlsCertificate> {
  const certPath = join(dir, TLS_CERT_FILE);
  const keyPath = join(dir, TLS_KEY_FILE);
  const [cert, key] = await Promise.all([readIfPresent(certPath), readIfPresent(keyPath)]);
  if (cert !== null && key !== null) return checkPair(dir, cert, key);
  if (cert !== null || key !== null) {
    const [has, lacks] = cert !== null ? [certPath, keyPath] : [keyPath, certPath];
    throw new SecurityError('bad-tls-files', `${has} is there but ${lacks} is not: give both, or remove it to have a self-signed certificate made`, { path: lacks });
  }
  const made = await createSelfSignedCertificate(hostnames);
  try {
    // The key first: a crash in between leaves a key alone, which is refused, never a certificate without its key.
    await writeFileAtomically(keyPath, made.key, 0o600, true);
    await writeFileAtomically(certPath, made.cert, 0o644, true);
  } catch (error) {
    throw new SecurityError('bad-tls-files', `cannot write the new certificate to ${dir}: ${(error as Error).message}`, { path: dir, cause: error });
  }
  return checkPair(dir, made.cert, made.key);
}
