/**
 * The real server as a separate node process (server/main.ts bundled with esbuild), so a
 * scenario can SIGKILL it mid-batch and start it again on the same port, run several
 * instances on one database, read everything it printed, and the benchmark can read the
 * process's own peak memory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { build } from 'esbuild';
import { TEST_JWT_SECRET } from './server';

const ROOT = path.resolve(__dirname, '../..');
// One bundle per jest worker: parallel test files must not write the same file.
const BUNDLE = path.join(ROOT, `dist/faults/server-${process.pid}.cjs`);
let built: Promise<unknown> | undefined;

export interface ServerProcess {
  url: string;
  port: number;
  pid: number;
  /** Everything the process wrote to stdout and stderr so far. */
  output: () => string;
  /** Sends a signal and waits for the process to exit. */
  kill: (signal?: NodeJS.Signals) => Promise<void>;
  /** SIGTERM: in-flight requests finish, then the process exits. */
  stop: () => Promise<void>;
  exited: () => boolean;
  /** Peak resident memory since start or the last resetPeak(), in MB (Linux /proc VmHWM). */
  peakRssMb: () => number;
  resetPeak: () => void;
}

export interface ServerProcessOptions {
  /** Listen on this port (to restart where clients already point); default a random one. */
  port?: number;
  /** Called with each chunk the process prints. */
  onOutput?: (chunk: string) => void;
}

export async function startServerProcess(env: Record<string, string>, opts: ServerProcessOptions = {}): Promise<ServerProcess> {
  built ??= build({
    entryPoints: [path.join(ROOT, 'server/main.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    packages: 'external',
    format: 'cjs',
    outfile: BUNDLE,
    logLevel: 'warning',
  }).then(() => process.once('exit', () => fs.rmSync(BUNDLE, { force: true })));
  await built;
  // A free port chosen here (the process's own log may be silent, so it cannot be read from it).
  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(process.execPath, [BUNDLE], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'silent',
      JWT_SECRET: TEST_JWT_SECRET,
      SHUTDOWN_GRACE_SECONDS: '2',
      // Scenarios and benchmarks stamp records a millisecond apart from now on (or from a fixed
      // day), which runs ahead of the server's clock at size: not what they measure (clock_ahead).
      CLOCK_AHEAD_LIMIT_MINUTES: String(7 * 24 * 60),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const onData = (b: Buffer) => {
    const s = b.toString();
    out += s;
    opts.onOutput?.(s);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  // Listening once the liveness probe answers at all (503 too: the database may be down on purpose).
  for (const started = Date.now(); ; await new Promise((r) => setTimeout(r, 50))) {
    if (exited) throw new Error(`server exited (${child.exitCode ?? child.signalCode}) before listening:\n${out}`);
    if (Date.now() - started > 30_000) throw new Error(`server did not listen within 30 s:\n${out}`);
    const answered = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(5000) }).then(
      () => true,
      () => false,
    );
    if (answered) break;
  }
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (!exited) child.kill(signal);
    await exit;
  };
  return {
    url,
    port,
    pid: child.pid!,
    output: () => out,
    kill,
    stop: () => kill('SIGTERM'),
    exited: () => exited,
    peakRssMb: () => Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024,
    // Writing 5 to clear_refs resets the kernel's peak-RSS mark (VmHWM) for this process.
    resetPeak: () => fs.writeFileSync(`/proc/${child.pid}/clear_refs`, '5'),
  };
}

/** A port nobody listens on now, from the system (bound to 0 and released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
