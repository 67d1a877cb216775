/**
 * HTTPS served by the server itself: a self-signed certificate made here with openssl, the real
 * server on random ports, real TLS requests that trust that certificate. Security headers that
 * only make sense over TLS (HSTS, upgrade-insecure-requests) are sent on secure requests only.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseEnv } from '../../server/env';
import { startServer } from '../../server/start';
import { createTestDatabase } from '../support/postgres';
import { makeCertificate } from '../support/certificate';
import { startTestServer, type TestServer } from '../support/server';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
}

let dir: string;
let files: { cert: string; key: string };
let ca: Buffer;

/** One request without keep-alive; over https it trusts only the test's certificate. */
function request(url: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const client = url.startsWith('https:') ? https : http;
    const req = client.request(url, { method: opts.method ?? 'GET', headers: opts.headers, ca, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

const csp = (reply: Reply) => String(reply.headers['content-security-policy']);

function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sems-tls-'));
  files = makeCertificate(dir);
  ca = fs.readFileSync(files.cert);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('a server with TLS_CERT_FILE and TLS_KEY_FILE', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ TLS_CERT_FILE: files.cert, TLS_KEY_FILE: files.key, HTTP_REDIRECT_PORT: '0' });
  });
  afterAll(() => server?.stop());

  test('serves HTTPS: its url is https:// and health answers 200 over TLS', async () => {
    expect(server.url).toBe(`https://127.0.0.1:${server.port}`);
    expect((await request(`${server.url}/api/health`)).status).toBe(200);
  });

  test('a TLS response carries HSTS and the CSP upgrade-insecure-requests', async () => {
    const reply = await request(`${server.url}/api/health`);
    expect(reply.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    expect(csp(reply)).toMatch(/upgrade-insecure-requests/);
    expect(csp(reply)).toMatch(/default-src 'self'/);
  });

  test('plain http on its TLS port is not answered as a page', async () => {
    await expect(request(`http://127.0.0.1:${server.port}/api/health`)).rejects.toThrow();
  });

  test('the redirect port answers 308 to the same host name, the https port, path and query', async () => {
    const reply = await request(`http://127.0.0.1:${server.redirectPort}/dispenses?patient=P-1&x=%20y`, {
      headers: { host: `pharmacy-lan:${server.redirectPort}` },
    });
    expect(reply.status).toBe(308);
    expect(reply.headers.location).toBe(`https://pharmacy-lan:${server.port}/dispenses?patient=P-1&x=%20y`);
    expect(reply.headers['strict-transport-security']).toBeUndefined();
  });

  test('a POST to the redirect port is redirected with 308 too (the method is kept), and the target answers over TLS', async () => {
    const reply = await request(`http://127.0.0.1:${server.redirectPort}/api/health`, { method: 'POST' });
    expect(reply.status).toBe(308);
    expect(reply.headers.location).toBe(`${server.url}/api/health`);
    expect((await request(reply.headers.location!)).status).toBe(200);
  });

  test('a request with a malformed Host header gets 400 from the redirect port, not a redirect elsewhere', async () => {
    const reply = await request(`http://127.0.0.1:${server.redirectPort}/`, { headers: { host: 'evil.example/path@x' } });
    expect(reply.status).toBe(400);
    expect(reply.headers.location).toBeUndefined();
  });
});

describe('a plain-http server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.stop());

  test('answers without HSTS and without upgrade-insecure-requests, and keeps the rest of the CSP', async () => {
    expect(server.url).toMatch(/^http:\/\//);
    const reply = await request(`${server.url}/api/health`);
    expect(reply.status).toBe(200);
    expect(reply.headers['strict-transport-security']).toBeUndefined();
    expect(csp(reply)).not.toMatch(/upgrade-insecure-requests/);
    expect(csp(reply)).toMatch(/default-src 'self'/);
    expect(csp(reply)).toMatch(/script-src 'self'/);
    expect(reply.headers['x-content-type-options']).toBe('nosniff');
  });

  test('behind a trusted proxy that received https (X-Forwarded-Proto), the response carries HSTS and upgrade-insecure-requests', async () => {
    // TRUST_PROXY defaults to loopback, and the test calls from 127.0.0.1: it is the proxy here.
    const reply = await request(`${server.url}/api/health`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(reply.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    expect(csp(reply)).toMatch(/upgrade-insecure-requests/);
  });
});

test('X-Forwarded-Proto from an address that is not a trusted proxy is ignored: no HSTS', async () => {
  const server = await startTestServer({ TRUST_PROXY: '10.0.0.1' });
  try {
    const reply = await request(`${server.url}/api/health`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(reply.headers['strict-transport-security']).toBeUndefined();
    expect(csp(reply)).not.toMatch(/upgrade-insecure-requests/);
  } finally {
    await server.stop();
  }
});

test('when the TLS server is closed, its redirect port is closed too', async () => {
  const server = await startTestServer({ TLS_CERT_FILE: files.cert, TLS_KEY_FILE: files.key, HTTP_REDIRECT_PORT: '0' });
  expect((await request(`http://127.0.0.1:${server.redirectPort}/`)).status).toBe(308);
  await server.stop();
  expect(await refusesConnections(server.redirectPort!)).toBe(true);
  expect(await refusesConnections(server.port)).toBe(true);
});

test('when the redirect port is taken, the start fails with EADDRINUSE and leaves no listener behind', async () => {
  const database = await createTestDatabase();
  const listenOn = async (port: number) => {
    const s = net.createServer();
    await new Promise<void>((resolve) => s.listen(port, '127.0.0.1', resolve));
    return s;
  };
  const blocker = await listenOn(0);
  const taken = (blocker.address() as net.AddressInfo).port;
  const probe = await listenOn(0); // a free port for the HTTPS listener, known in advance
  const httpsPort = (probe.address() as net.AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  try {
    await expect(
      startTestServer(
        { TLS_CERT_FILE: files.cert, TLS_KEY_FILE: files.key, PORT: String(httpsPort), HTTP_REDIRECT_PORT: String(taken) },
        { database },
      ),
    ).rejects.toThrow(/EADDRINUSE/);
    expect(await refusesConnections(httpsPort)).toBe(true);
  } finally {
    blocker.close();
    await database.drop();
  }
});

describe('a TLS configuration that cannot work stops the start with the variable and the reason', () => {
  // These fail before the database is opened, so an embedded data dir that is never created will do.
  const start = (env: Record<string, string>) =>
    startServer(parseEnv({ NODE_ENV: 'test', PORT: '0', LOG_LEVEL: 'silent', SEMS_DATA_DIR: path.join(dir, 'never-opened'), ...env }));

  test('a certificate file that does not exist', async () => {
    const missing = path.join(dir, 'missing.pem');
    await expect(start({ TLS_CERT_FILE: missing, TLS_KEY_FILE: files.key })).rejects.toThrow(`TLS_CERT_FILE: cannot read ${missing}: ENOENT`);
    expect(fs.existsSync(path.join(dir, 'never-opened'))).toBe(false);
  });

  test('a key file that is not a key', async () => {
    const notKey = path.join(dir, 'not-a-key.pem');
    fs.writeFileSync(notKey, 'hello\n');
    await expect(start({ TLS_CERT_FILE: files.cert, TLS_KEY_FILE: notKey })).rejects.toThrow(
      /TLS_CERT_FILE, TLS_KEY_FILE: not a usable certificate and key/,
    );
  });

  test('a key of another certificate', async () => {
    const other = makeCertificate(dir, 'other');
    await expect(start({ TLS_CERT_FILE: files.cert, TLS_KEY_FILE: other.key })).rejects.toThrow(/not a usable certificate and key \(.*mismatch/);
  });
});
