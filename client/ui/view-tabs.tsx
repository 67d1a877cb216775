/**
 * The signed-in views, in a bar under the header: the counter, finding a record and the totals for
 * everyone; the Admin view and the site's staff for a site admin.
 */
export type View = 'counter' | 'find' | 'totals' | 'admin' | 'staff';

const LABELS: [View, string][] = [
  ['counter', 'Counter'],
  ['find', 'Find'],
  ['totals', 'Totals'],
  ['admin', 'Admin'],
  ['staff', 'Staff'],
];

export function ViewTabs({ view, onChange, admin }: { view: View; onChange: (v: View) => void; admin: boolean }) {
  return (
    <nav className="view-tabs view-bar" aria-label="Views">
      {LABELS.filter(([v]) => admin || (v !== 'admin' && v !== 'staff')).map(([v, label]) => (
        <button key={v} type="button" className="ghost" aria-pressed={view === v} onClick={() => onChange(v)}>
          {label}
        </button>
      ))}
    </nav>
  );
}
