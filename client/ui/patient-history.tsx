/**
 * Under the form, once a patient id is typed: the patient's recent dispenses at this site, what
 * this device holds first, then the server's history when online, with where each came from.
 */
import { useEffect, useState } from 'react';
import type { Dispense } from '../../schemas/dispense';
import { mergeHistory } from '../data/patient-history';
import { formatWhen } from './format';
import { useNow } from './use-observable';

export interface HistoryLookup {
  /** What this device holds of the patient, newest first. */
  local: (patientId: string) => Promise<Dispense[]>;
  /** The server's history (null: offline, or it could not be read). */
  server: (patientId: string) => Promise<Dispense[] | null>;
}

interface Shown {
  patientId: string;
  records: Dispense[];
  /** 'server': the server's history is in; 'local': this device's only (offline, or still asking). */
  from: 'local' | 'server';
}

const SHOWN = 5;

export function PatientHistory({ patientId, lookup, username }: { patientId: string; lookup: HistoryLookup; username: string }) {
  const [shown, setShown] = useState<Shown | null>(null);
  const now = useNow(60_000);
  const id = patientId.trim();

  useEffect(() => {
    if (!id) return;
    let live = true;
    // Typed, not yet settled: wait a moment before reading.
    const timer = setTimeout(async () => {
      const local = await lookup.local(id);
      if (!live) return;
      setShown({ patientId: id, records: local, from: 'local' });
      const server = await lookup.server(id);
      if (!live || server === null) return;
      setShown({ patientId: id, records: mergeHistory(local, server), from: 'server' });
    }, 250);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [id, lookup]);

  if (!id || shown?.patientId !== id) return null;
  return (
    <section className="patient-history" aria-label={`Recent dispenses for ${id}`}>
      <h3>Recent dispenses for {id}</h3>
      {shown.records.length === 0 ? (
        <p className="muted">None {shown.from === 'server' ? 'at this site' : 'on this device'}.</p>
      ) : (
        <ul>
          {shown.records.slice(0, SHOWN).map((d) => (
            <li key={d.externalId} className={d.status === 'voided' ? 'voided' : undefined}>
              <span className="when">{formatWhen(d.dispensedAt, now)}</span> {d.quantity} {d.unit} {d.medicationName}{' '}
              <span className="code">{d.medicationCode}</span>
              {d.dispensedBy !== username ? <span className="code"> · by {d.dispensedBy}</span> : null}
              {d.status === 'voided' ? <span className="code"> · voided</span> : null}
            </li>
          ))}
        </ul>
      )}
      {shown.from === 'local' ? <p className="muted small-print">From this device; the server&apos;s older history shows when online.</p> : null}
    </section>
  );
}
