/**
 * The server under benchmark, in its own process (so its memory is its own): bundled once with
 * esbuild, started on a random port against the bench database, peak RSS read from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const BUNDLE = path.resolve('dist/bench/server.cjs');

export interface ServerProcess {
  url: string;
  pid: number;
  /** Peak resident memory since start or the last resetPeak(), in MB. */
  peakRssMb: () => number;
  resetPeak: () => void;
  stop: () => Promise<void>;
}

export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  await build({
    entryPoints: ['server/main.ts'],
    bundle: true,
    platform: 'node',
    target: 'node20',
    packages: 'external',
    format: 'cjs',
    outfile: BUNDLE,
    logLevel: 'warning',
  });
  const child: ChildProcess = spawn(process.execPath, [BUNDLE], {
    env: { ...process.env, NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}) before listening:\n${out}`)));
  });
  const status = () => fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
  return {
    url,
    pid: child.pid!,
    peakRssMb: () => Number(/VmHWM:\s+(\d+) kB/.exec(status())?.[1] ?? 0) / 1024,
    // Writing 5 to clear_refs resets the kernel's peak-RSS mark (VmHWM) for this process.
    resetPeak: () => fs.writeFileSync(`/proc/${child.pid}/clear_refs`, '5'),
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
