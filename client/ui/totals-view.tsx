/**
 * Totals of a day or a shift per medication: how many dispenses and how much of each unit, voided
 * ones counted apart. The counter's numbers are this device's records (they need no network and
 * say so); a site admin also sees the server's numbers for the whole site.
 */
import { useEffect, useId, useState } from 'react';
import type { MedicationTotal } from '../../schemas/api';
import { fetchTotals } from '../data/admin-api';
import { correctedNow } from '../data/clock';
import type { DispenseDatabase } from '../data/db';
import { deviceTotals } from '../data/device-index';
import { countsOf, periodProblem, sortTotals, startOfDay } from '../data/totals';
import { toLocalInput } from './dispense-input';
import { useDeviceIndex } from './use-device-index';
import { useNow } from './use-observable';
import './find.css';
import { FormError } from './outcome';

interface Props {
  db: DispenseDatabase | null;
  token: string | null;
  /** A site admin also sees the server's totals for the site. */
  admin: boolean;
}

interface Period {
  from: string;
  /** null: until now, moving on as time passes. */
  to: string | null;
}

const todaySoFar = (): Period => ({ from: toLocalInput(startOfDay(correctedNow()).toISOString()), to: null });

export function TotalsView({ db, token, admin }: Props) {
  const [period, setPeriod] = useState<Period>(todaySoFar);
  const now = useNow(30_000);
  const ids = useId();
  const from = new Date(period.from);
  // "Now" is the server's time as measured, as the counter stamps dispenses (clock.ts).
  const to = period.to === null ? new Date(correctedNow()) : new Date(period.to);
  const problem = periodProblem(from, to);
  // A period with a problem is not counted (its dates may not even be dates).
  const fromIso = problem ? null : from.toISOString();
  const toIso = problem || period.to === null ? null : to.toISOString();
  const toKey = toIso ?? `now:${now}`;

  return (
    <main className="totals-view">
      <form className="card period-form" aria-labelledby={`${ids}-title`} onSubmit={(e) => e.preventDefault()} noValidate>
        <div className="card-head">
          <h1 id={`${ids}-title`} className="view-title">
            Totals of a day or a shift
          </h1>
          <p className="muted">Per medication: dispenses and the quantity of each unit. Voided dispenses are counted apart and in no quantity.</p>
        </div>
        <div className="period-fields">
          <div className="field">
            <label htmlFor={`${ids}-from`}>From</label>
            <input
              id={`${ids}-from`}
              type="datetime-local"
              value={period.from}
              onChange={(e) => setPeriod((p) => ({ ...p, from: e.target.value }))}
            />
          </div>
          <div className="field">
            <label htmlFor={`${ids}-to`}>To</label>
            <input
              id={`${ids}-to`}
              type="datetime-local"
              value={period.to ?? toLocalInput(new Date(now).toISOString())}
              aria-invalid={problem ? true : undefined}
              aria-describedby={problem ? `${ids}-problem` : `${ids}-to-hint`}
              onChange={(e) => setPeriod((p) => ({ ...p, to: e.target.value }))}
            />
            <p className="hint" id={`${ids}-to-hint`}>
              {period.to === null ? 'Now, and moving on' : 'Fixed'}
            </p>
          </div>
          <button type="button" onClick={() => setPeriod(todaySoFar())}>
            Today so far
          </button>
        </div>
        {problem ? (
          <p className="field-error" id={`${ids}-problem`} role="alert">
            {problem}
          </p>
        ) : null}
      </form>
      <DeviceTotals db={db} from={fromIso} to={toIso} toKey={toKey} />
      {admin ? <SiteTotals token={token} from={fromIso} to={toIso} /> : null}
    </main>
  );
}

interface Shown {
  key: string;
  rows: MedicationTotal[];
}

/** This device's totals, counted again whenever its records change. */
function DeviceTotals({ db, from, to, toKey }: { db: DispenseDatabase | null; from: string | null; to: string | null; toKey: string }) {
  const { index, version, error } = useDeviceIndex(db);
  const [shown, setShown] = useState<Shown | null>(null);
  const key = `${from}|${toKey}`;
  useEffect(() => {
    if (!db || !index || from === null) return;
    let current = true;
    deviceTotals(db, index, from, to ?? new Date(correctedNow()).toISOString()).then(
      (rows) => current && setShown({ key, rows }),
      () => {}, // the database closing under it: the view goes with it
    );
    return () => {
      current = false;
    };
  }, [db, index, version, from, to, key]);
  return (
    <TotalsTable
      title="On this device"
      intro="This device's records: its own, and those of the site's other devices it has received. Works with no network."
      rows={from === null ? null : shown?.key === key ? shown.rows : null}
      waiting={from === null ? NO_PERIOD : undefined}
      error={error}
      testId="device-totals"
    />
  );
}

/** The server's totals for the site, read again when the period changes (after a pause in typing) or on Refresh. */
function SiteTotals({ token, from, to }: { token: string | null; from: string | null; to: string | null }) {
  const [shown, setShown] = useState<Shown | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [request, setRequest] = useState(0);
  const key = `${from}|${to}|${request}`;
  useEffect(() => {
    if (from === null) return;
    let current = true;
    const timer = setTimeout(() => {
      fetchTotals(token, new Date(from), new Date(to ?? correctedNow())).then(
        (answer) => {
          if (!current) return;
          setShown({ key, rows: answer.totals });
          setError(null);
        },
        (err: Error) => current && setError(err.message),
      );
    }, 300);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [token, from, to, key]);
  return (
    <TotalsTable
      title="At the site (server)"
      intro="Every record the site's devices have sent, counted by the server. Records a device still holds unsent are not in it."
      rows={from === null ? null : shown?.key === key ? shown.rows : null}
      waiting={from === null ? NO_PERIOD : undefined}
      error={error}
      testId="site-totals"
      onRefresh={() => setRequest((r) => r + 1)}
    />
  );
}

const quantityFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3 });
const NO_PERIOD = 'Nothing is counted until the period above is corrected.';

interface TableProps {
  title: string;
  intro: string;
  /** null: not counted yet. */
  rows: MedicationTotal[] | null;
  /** Said while there are no rows: why ("Counting…" unless given). */
  waiting?: string;
  error: string | null;
  testId: string;
  onRefresh?: () => void;
}

function TotalsTable({ title, intro, rows, waiting = 'Counting…', error, testId, onRefresh }: TableProps) {
  const id = useId();
  const sorted = rows ? sortTotals(rows) : [];
  const counts = countsOf(sorted);
  return (
    <section className="card totals" aria-labelledby={id} data-testid={testId}>
      <div className="card-head row">
        <div>
          <h2 id={id}>{title}</h2>
          <p className="muted">{intro}</p>
        </div>
        {onRefresh ? (
          <button type="button" onClick={onRefresh}>
            Refresh
          </button>
        ) : null}
      </div>
      <FormError error={error} />
      {!error && rows === null ? <p className="empty">{waiting}</p> : null}
      {rows !== null && sorted.length === 0 ? <p className="empty">No dispenses in this period.</p> : null}
      {sorted.length > 0 ? (
        <table aria-labelledby={id}>
          <thead>
            <tr>
              <th scope="col">Medication</th>
              <th scope="col" className="num">
                Dispenses
              </th>
              <th scope="col" className="num">
                Quantity
              </th>
              <th scope="col" className="num">
                Voided
              </th>
            </tr>
          </thead>
          <tbody>
            {sorted.map((r) => (
              <tr key={`${r.medicationCode}\u0000${r.unit}`}>
                <th scope="row">
                  <span className="primary-line">{r.medicationName}</span>
                  <span className="code">{r.medicationCode}</span>
                </th>
                <td className="num">{r.dispensed}</td>
                <td className="num">
                  {quantityFormat.format(r.quantity)} {r.unit}
                </td>
                <td className="num">{r.voided}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row">All medications</th>
              <td className="num">{counts.dispensed}</td>
              <td />
              <td className="num">{counts.voided}</td>
            </tr>
          </tfoot>
        </table>
      ) : null}
    </section>
  );
}
