/** A self-signed certificate for the HTTPS tests, made with openssl (installed by .ci/run). */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

/** A certificate for localhost, pharmacy-lan (the tests' LAN name) and 127.0.0.1, and its key, in `dir`. */
export function makeCertificate(dir: string, name = 'server', commonName = 'localhost'): { cert: string; key: string } {
  const cert = path.join(dir, `${name}-cert.pem`);
  const key = path.join(dir, `${name}-key.pem`);
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2'];
  args.push('-subj', `/CN=${commonName}`, '-addext', 'subjectAltName=DNS:localhost,DNS:pharmacy-lan,IP:127.0.0.1');
  execFileSync('openssl', args, { stdio: 'pipe' });
  return { cert, key };
}
