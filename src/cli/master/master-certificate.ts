// The certificate a master presents, read before anything is sent to it, so `vireo login`
// can show its fingerprint and pin it.

import { connect } from 'node:tls';

export interface PresentedCertificate {
  pem: string;
  fingerprintSha256: string;
  /** Whether the system's CAs already vouch for it for this host name. */
  trusted: boolean;
}

export function fetchCertificate(url: string): Promise<PresentedCertificate> {
  const { hostname, port } = new URL(url);
  const host = hostname.replace(/^\[|\]$/gu, '');
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port: Number(port || 443), servername: /^[\d.:]+$/u.test(host) ? undefined : host, rejectUnauthorized: false }, () => {
      const cert = socket.getPeerX509Certificate();
      const trusted = socket.authorized;
      socket.end();
      if (cert === undefined) reject(new Error(`${url} presented no certificate`));
      else resolve({ pem: cert.toString(), fingerprintSha256: cert.fingerprint256, trusted });
    });
    socket.setTimeout(15_000, () => socket.destroy(new Error(`no TLS answer from ${url} in 15 s`)));
    socket.once('error', (e) => reject(new Error(`cannot reach ${url}: ${e.message}`)));
  });
}
