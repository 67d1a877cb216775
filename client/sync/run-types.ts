/** What a sync run is given and what it hands back (the run itself: run.ts). */
import type { SchedulerOptions } from './scheduler';
import type { SyncFailure } from './http';

export interface SyncDeps {
  baseUrl: string;
  /** The site of the database: only its records are sent, only with a token of its users. */
  siteId: string;
  getToken: () => string | null;
  deviceId: string;
  /** The server refused the session (`failure`: its code and words, for `token`; null when there was no token). */
  onUnauthorized?: (failure: SyncFailure | null, token: string | null) => void;
  fetch?: typeof fetch;
  /** Rows per push request (default and most 1000), requests per RxDB batch (4), records per pull answer (1000). */
  batchSize?: number;
  requestsPerBatch?: number;
  pullBatchSize?: number;
  /** A run that takes longer is ended and retried with backoff (default 5 minutes). */
  runTimeoutMs?: number;
  scheduler?: Pick<SchedulerOptions, 'isOnline' | 'onOnline' | 'backoffBaseMs' | 'backoffMaxMs' | 'random'>;
}

export interface SyncController {
  /** Runs a sync now (in another tab if that one leads) and resolves when it has ended. */
  syncNow(): Promise<void>;
  /** Stops the timer and the replication of this tab; records stay on the device. */
  stop(): Promise<void>;
  /** True once this tab leads and its sync is set up; false if it stopped first (tests wait on it). */
  leading: Promise<boolean>;
}

export type Leader = { syncNow(): Promise<void>; refresh(): void /* posts the status again */; dispose(): Promise<void> };
