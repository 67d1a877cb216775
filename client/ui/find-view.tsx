/**
 * Find a record: the site's records on this device searched by patient (id or name), medication
 * (code or name), prescription reference and days, voided ones hidden on demand. It reads the
 * device's record index, so it answers each keystroke at once and works with no network; the
 * results are the recent list's rows, with the same actions, a page at a time, newest first.
 */
import { useCallback, useEffect, useId, useMemo, useRef, useState, type FormEvent } from 'react';
import type { Dispense } from '../../schemas/dispense';
import type { DispenseDatabase } from '../data/db';
import { recordsOf } from '../data/device-index';
import type { SearchFilter } from '../data/record-index';
import { useFind, type FindFields } from '../stores/find';
import { RecentList, type ListHeading } from './recent-list';
import { useDeviceIndex } from './use-device-index';
import { useSyncStates } from './use-sync-states';
import './find.css';

const PAGE = 50;

const RESULTS: ListHeading = {
  id: 'find-results-title',
  title: 'Records found',
  intro: "Newest first: this device's own records and those the site's other devices sent.",
  empty: 'No record on this device matches.',
  loading: 'Reading the records on this device…',
};

/** Local midnight of a `YYYY-MM-DD`, `plusDays` later, as an instant. */
function localDay(text: string, plusDays = 0): string | undefined {
  if (!text) return undefined;
  const [y, m, d] = text.split('-').map(Number);
  return new Date(y, m - 1, d + plusDays).toISOString();
}

function filterOf(f: FindFields): SearchFilter {
  return {
    patient: f.patient,
    medication: f.medication,
    prescription: f.prescription,
    from: localDay(f.fromDay),
    to: localDay(f.toDay, 1), // the last day included
    hideVoided: f.hideVoided,
  };
}

interface Answer {
  /** The search (its fields) and the page size it answers. */
  search: string;
  limit: number;
  total: number;
  records: Dispense[];
}

const NONE: Dispense[] = [];

interface Props {
  db: DispenseDatabase | null;
  username: string;
  onEdit: (d: Dispense) => void;
  onVoid: (d: Dispense) => void;
  onHistory: (d: Dispense) => void;
}

export function FindView({ db, username, onEdit, onVoid, onHistory }: Props) {
  const { fields, set, clear } = useFind();
  const { index, version, error } = useDeviceIndex(db);
  const key = JSON.stringify(fields);
  // More pages of the same search; a new search starts at one page.
  const [paging, setPaging] = useState({ key, limit: PAGE });
  const limit = paging.key === key ? paging.limit : PAGE;
  const [answer, setAnswer] = useState<Answer | null>(null);
  const filter = useMemo(() => filterOf(fields), [fields]);
  const first = useRef<HTMLInputElement>(null);
  const ids = useId();

  useEffect(() => first.current?.focus(), []);

  useEffect(() => {
    if (!db || !index) return;
    let current = true;
    const { total, ids: found } = index.search(filter, limit);
    recordsOf(db, found).then(
      (records) => current && setAnswer({ search: key, limit, total, records }),
      () => {}, // the database closing under it: the view goes with it
    );
    return () => {
      current = false;
    };
  }, [db, index, version, filter, limit, key]);

  const shown = answer?.records ?? NONE;
  const states = useSyncStates(db, shown);
  const onMore = useCallback(() => answer && setPaging({ key: answer.search, limit: answer.limit + PAGE }), [answer]);
  // Made again only when the answer or its rows' states change, not at each keystroke's first render.
  const results = useMemo(
    () => (
      <RecentList
        dispenses={shown}
        username={username}
        states={states}
        loading={answer === null && !error}
        hasMore={(answer?.total ?? 0) > shown.length}
        onMore={onMore}
        onEdit={onEdit}
        onVoid={onVoid}
        onHistory={onHistory}
        heading={RESULTS}
      />
    ),
    [shown, username, states, answer, error, onMore, onEdit, onVoid, onHistory],
  );
  const badDays = fields.fromDay && fields.toDay && fields.toDay < fields.fromDay;
  const field = (name: Exclude<keyof FindFields, 'hideVoided'>) => ({
    id: `${ids}-${name}`,
    value: fields[name],
    onChange: (e: { target: { value: string } }) => set({ [name]: e.target.value }),
  });

  return (
    <main className="find-view">
      <form className="card find-form" aria-labelledby={`${ids}-title`} role="search" onSubmit={(e: FormEvent) => e.preventDefault()}>
        <div className="card-head">
          <h1 id={`${ids}-title`} className="view-title">
            Find a record
          </h1>
          <p className="muted">Searches the records on this device; works with no network. Upper or lower case, any part of an id or a name.</p>
        </div>
        <div className="find-fields">
          <div className="field wide">
            <label htmlFor={`${ids}-patient`}>Patient ID or name</label>
            <input ref={first} type="search" autoComplete="off" spellCheck={false} {...field('patient')} />
          </div>
          <div className="field wide">
            <label htmlFor={`${ids}-medication`}>Medication code or name</label>
            <input type="search" autoComplete="off" spellCheck={false} {...field('medication')} />
          </div>
          <div className="field wide">
            <label htmlFor={`${ids}-prescription`}>Prescription reference</label>
            <input type="search" autoComplete="off" spellCheck={false} {...field('prescription')} />
          </div>
          <div className="field">
            <label htmlFor={`${ids}-fromDay`}>From</label>
            <input type="date" {...field('fromDay')} />
          </div>
          <div className="field">
            <label htmlFor={`${ids}-toDay`}>To (included)</label>
            <input type="date" aria-invalid={badDays ? true : undefined} aria-describedby={badDays ? `${ids}-days` : undefined} {...field('toDay')} />
          </div>
          <label className="check">
            <input type="checkbox" checked={fields.hideVoided} onChange={(e) => set({ hideVoided: e.target.checked })} />
            Hide voided
          </label>
        </div>
        {badDays ? (
          <p className="field-error" id={`${ids}-days`}>
            The last day is before the first.
          </p>
        ) : null}
        <div className="actions">
          <button type="button" onClick={clear}>
            Clear
          </button>
          <p className="muted" role="status" data-testid="find-count">
            {error ?? (answer ? `${answer.total} ${answer.total === 1 ? 'record matches' : 'records match'}` : 'Reading the records on this device…')}
          </p>
        </div>
      </form>
      <div className="find-results" data-answered={answer ? `${answer.search}#${answer.limit}` : undefined}>
        {results}
      </div>
    </main>
  );
}
