/**
 * Scenario results: each scenario prints one summary line and merges its figures into
 * test/faults/results.json (gitignored), from which docs/reliability.md is written.
 * Test files run in parallel workers, so the merge takes a lock directory.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface ScenarioResult {
  /** Short key, e.g. "8a"; the JSON is keyed by it (with "@scaleN" when FAULTS_SCALE is not 1). */
  id: string;
  scenario: string;
  /** Records made by the clients (or pushed) in the scenario. */
  records: number;
  /** What was injected, in words, e.g. "5 SIGKILLs". */
  faults: string;
  faultCount: number;
  /** Records (or their latest change) the clients made that PostgreSQL does not hold. */
  lost: number;
  /** Rows beyond one per externalId, plus records created twice in the audit trail. */
  duplicated: number;
  /** HTTP answers with a status of 500 or more that the clients saw (503 while the database is cut is counted separately). */
  http5xx: number;
  /** Stored rows that fail dispenseSchema. */
  invalidStored: number;
  auditRows: number;
  auditExpected: number;
  seconds: number;
  notes?: string;
  /** FAULTS_SCALE of the run that made this result (set by report()). */
  scale?: number;
}

export const RESULTS_FILE = path.resolve(__dirname, '../results.json');
const LOCK = `${RESULTS_FILE}.lock`;

/** FAULTS_SCALE multiplies the default sizes (1 = the default run, 10 = the full 10,000-record run). */
export const SCALE = (() => {
  const raw = Number(process.env.FAULTS_SCALE ?? '1');
  return Number.isFinite(raw) && raw > 0 ? raw : 1;
})();
export const scaled = (n: number): number => Math.max(1, Math.round(n * SCALE));

async function withLock<T>(fn: () => T): Promise<T> {
  for (let waited = 0; ; waited += 50) {
    try {
      fs.mkdirSync(LOCK);
      break;
    } catch {
      // A lock left by a killed worker is older than any real merge.
      if (waited > 5000) fs.rmSync(LOCK, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(LOCK, { recursive: true, force: true });
  }
}

export function summaryLine(r: ScenarioResult): string {
  return (
    `[faults] ${r.id} ${r.scenario}: records=${r.records} faults="${r.faults}" lost=${r.lost} duplicated=${r.duplicated} ` +
    `5xx=${r.http5xx} invalid=${r.invalidStored} audit=${r.auditRows}/${r.auditExpected} ${r.seconds.toFixed(1)}s` +
    (SCALE === 1 ? '' : ` (FAULTS_SCALE=${SCALE})`)
  );
}

/** Prints the scenario's line and merges it into results.json. */
export async function report(r: ScenarioResult): Promise<void> {
  process.stdout.write(`${summaryLine(r)}\n`);
  await withLock(() => {
    let all: { scenarios: Record<string, ScenarioResult & { at: string }> } = { scenarios: {} };
    try {
      all = JSON.parse(fs.readFileSync(RESULTS_FILE, 'utf8'));
    } catch {
      // first result of a run, or an unreadable file: start again
    }
    // A run at another scale keeps its own entry beside the default run's.
    all.scenarios[SCALE === 1 ? r.id : `${r.id}@scale${SCALE}`] = { ...r, scale: SCALE, at: new Date().toISOString() };
    const tmp = `${RESULTS_FILE}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(all, null, 2)}\n`);
    fs.renameSync(tmp, RESULTS_FILE);
  });
}

/** Seconds since `start` (a Date.now() value). */
export const since = (start: number): number => (Date.now() - start) / 1000;
