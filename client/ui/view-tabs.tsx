/** The signed-in views a site admin switches between; a pharmacist has the counter only and sees no tabs. */
export type View = 'counter' | 'admin' | 'staff';

export function ViewTabs({ view, onChange }: { view: View; onChange: (v: View) => void }) {
  return (
    <nav className="view-tabs" aria-label="Views">
      <button type="button" className="ghost" aria-pressed={view === 'counter'} onClick={() => onChange('counter')}>
        Counter
      </button>
      <button type="button" className="ghost" aria-pressed={view === 'admin'} onClick={() => onChange('admin')}>
        Admin
      </button>
      <button type="button" className="ghost" aria-pressed={view === 'staff'} onClick={() => onChange('staff')}>
        Staff
      </button>
    </nav>
  );
}
