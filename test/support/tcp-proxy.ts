/**
 * A TCP proxy for fault tests: it sits between a server and PostgreSQL so a test can take the
 * database away and bring it back without stopping either. Point the server's DATABASE_URL at
 * `port`; `cut()` resets every open connection and every new one until `restore()`.
 */
import net from 'node:net';

export interface TcpProxy {
  /** The local port to connect to instead of the target. */
  port: number;
  /** Resets every open connection (the client sees ECONNRESET) and every new one until restore(). */
  cut(): void;
  /** Accepts and forwards connections again. */
  restore(): void;
  /**
   * Arms a one-shot cut: when a client next sends bytes containing `marker` (e.g. 'COMMIT'),
   * those bytes are dropped and the proxy cuts as cut() does. Resolves when it has happened.
   */
  cutWhenClientSends(marker: string): Promise<void>;
  /**
   * The same for the other direction: when the target next sends bytes containing `marker`, they
   * are dropped and the proxy cuts. The target has done the work, its answer never arrives: a
   * COMMIT that PostgreSQL made but the server never heard of, or an HTTP 200 the client never got.
   */
  cutWhenServerSends(marker: string): Promise<void>;
  /** Connections open now. */
  readonly openConnections: number;
  /** Connections accepted since start (refused ones included). */
  readonly acceptedConnections: number;
  /** Cuts, stops listening and resolves when the port is closed. */
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
}

export async function start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let isCut = false;
  let accepted = 0;
  let armed: { marker: string; done: () => void } | undefined;
  let armedUpstream: { marker: string; done: () => void } | undefined;

  const cut = () => {
    isCut = true;
    for (const { client, upstream } of pairs) {
      client.resetAndDestroy();
      upstream.destroy(); // PostgreSQL sees the client go away and rolls back its open transaction
    }
    pairs.clear();
  };

  const server = net.createServer((client) => {
    accepted++;
    if (isCut) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(targetPort, targetHost);
    const pair: Pair = { client, upstream };
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.setNoDelay(true);
    upstream.setNoDelay(true);

    // A marker split over two chunks is still seen: keep the end of the previous chunk.
    let tail = '';
    client.on('data', (chunk: Buffer) => {
      if (armed) {
        const text = tail + chunk.toString('latin1');
        tail = text.slice(-armed.marker.length);
        if (text.includes(armed.marker)) {
          const { done } = armed;
          armed = undefined;
          cut();
          done();
          return;
        }
      }
      upstream.write(chunk);
    });
    let upstreamTail = '';
    upstream.on('data', (chunk: Buffer) => {
      if (armedUpstream) {
        const text = upstreamTail + chunk.toString('latin1');
        upstreamTail = text.slice(-armedUpstream.marker.length);
        if (text.includes(armedUpstream.marker)) {
          const { done } = armedUpstream;
          armedUpstream = undefined;
          cut();
          done();
          return;
        }
      }
      if (!client.write(chunk)) {
        upstream.pause();
        client.once('drain', () => upstream.resume());
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;

  return {
    port,
    cut,
    restore: () => {
      isCut = false;
    },
    cutWhenClientSends: (marker) =>
      new Promise<void>((resolve) => {
        armed = { marker, done: resolve };
      }),
    cutWhenServerSends: (marker) =>
      new Promise<void>((resolve) => {
        armedUpstream = { marker, done: resolve };
      }),
    get openConnections() {
      return pairs.size;
    },
    get acceptedConnections() {
      return accepted;
    },
    close: () =>
      new Promise<void>((resolve) => {
        armed = armedUpstream = undefined;
        cut();
        server.close(() => resolve());
      }),
  };
}
