/**
 * Makes docs/screenshot.png: the built app, signed in, a few records (some synced, some
 * pending) and the sync panel open, at 1280x800. Run: npx tsx test/e2e/screenshot.ts
 */
import path from 'node:path';
import { dispense, openSyncPanel, syncNow, waitForPending } from './counter';
import { signIn, startE2E } from './harness';

const RECORDS = [
  {
    patientId: 'MRN-204881',
    patientName: 'Amina Okafor',
    medicationCode: 'AMOX500',
    medicationName: 'Amoxicillin 500 mg capsules',
    quantity: '21',
    unit: 'capsule',
  },
  {
    patientId: 'MRN-198034',
    patientName: 'Daniel Reyes',
    medicationCode: 'MET500',
    medicationName: 'Metformin 500 mg tablets',
    quantity: '56',
    unit: 'tablet',
  },
  {
    patientId: 'MRN-210457',
    patientName: 'Grace Mwangi',
    medicationCode: 'SALB100',
    medicationName: 'Salbutamol 100 mcg inhaler',
    quantity: '1',
    unit: 'pack',
  },
  {
    patientId: 'MRN-187220',
    patientName: 'Tomás Novak',
    medicationCode: 'ATOR20',
    medicationName: 'Atorvastatin 20 mg tablets',
    quantity: '28',
    unit: 'tablet',
  },
  {
    patientId: 'MRN-215903',
    patientName: 'Leila Haddad',
    medicationCode: 'PARA-SUSP',
    medicationName: 'Paracetamol 120 mg/5 ml oral suspension',
    quantity: '100',
    unit: 'ml',
  },
  {
    patientId: 'MRN-176512',
    patientName: 'Oluwaseun Bello',
    medicationCode: 'OMEP20',
    medicationName: 'Omeprazole 20 mg capsules',
    quantity: '28',
    unit: 'capsule',
  },
  {
    patientId: 'MRN-220118',
    patientName: 'Hannah Schmidt',
    medicationCode: 'LEVO50',
    medicationName: 'Levothyroxine 50 mcg tablets',
    quantity: '28',
    unit: 'tablet',
  },
];
const SYNCED_FIRST = 4;

async function main(): Promise<void> {
  const e2e = await startE2E();
  try {
    // A daytime clock at the counter (the server's clock is untouched: only the display zone moves).
    const context = await e2e.browser.newContext({
      baseURL: e2e.server.url,
      viewport: { width: 1280, height: 800 },
      locale: 'en-GB',
      timezoneId: 'Australia/Sydney',
    });
    const page = await context.newPage();
    await page.goto('/');
    await signIn(page);
    for (const r of RECORDS.slice(0, SYNCED_FIRST)) await dispense(page, r);
    await syncNow(page);
    await waitForPending(page, 0);
    for (const r of RECORDS.slice(SYNCED_FIRST)) await dispense(page, r);
    await openSyncPanel(page);
    const file = path.resolve(__dirname, '../../docs/screenshot.png');
    await page.screenshot({ path: file });
    console.log(`Wrote ${file}`);
  } finally {
    await e2e.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
