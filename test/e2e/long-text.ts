/**
 * Records at the edge of what the record allows: every text field at its longest, with no space to
 * break a line at (a pasted formula, a scanned code), and a finder of whatever then runs past the
 * edge of the window or of its own box.
 */
import type { Page } from 'playwright-core';
import type { Dispense } from '../../schemas/dispense';

/** `start`, then wide letters up to `length` characters, with no space anywhere. */
export const unbroken = (start: string, length: number) => start + 'W'.repeat(length - start.length);

/** Every text a dispense can hold, at its longest, starting with `tag` so records differ. */
export function longTexts(tag: string) {
  return {
    patientId: unbroken(`PID-${tag}-`, 64),
    patientName: unbroken(`=HYPERLINK("http://evil.example","click")${tag}`, 200),
    medicationCode: unbroken(`MED-${tag}-`, 64),
    medicationName: unbroken(`Medication-${tag}-`, 200),
    batchNumber: unbroken(`LOT-${tag}-`, 64),
    prescriber: unbroken(`Dr.${tag}-`, 200),
    prescriptionRef: unbroken(`RX-${tag}-`, 64),
    notes: unbroken(`Note-${tag}-`, 1000),
  } satisfies Partial<Dispense>;
}

export type LongTexts = ReturnType<typeof longTexts>;

/** Fills every field of the new-dispense form with `texts` (quantity and unit at their widest); does not save. */
export async function fillLong(page: Page, texts: LongTexts): Promise<void> {
  const form = page.getByRole('form', { name: 'New dispense' });
  await form.getByLabel('Patient ID').fill(texts.patientId);
  await form.getByLabel('Patient name').fill(texts.patientName);
  await form.getByLabel('Medication code').fill(texts.medicationCode);
  await form.getByLabel('Medication name').fill(texts.medicationName);
  await form.getByLabel('Quantity').fill('99999.125');
  await form.getByLabel('Unit').selectOption('ml');
  await form.getByLabel('Batch number').fill(texts.batchNumber);
  await form.getByLabel('Prescriber').fill(texts.prescriber);
  await form.getByLabel('Prescription reference').fill(texts.prescriptionRef);
  await form.getByLabel('Notes').fill(texts.notes);
}

/**
 * What runs sideways at the page's current size, in words: the page wider than the window; a
 * landmark, card, panel, dialog or control reaching past the window's edges; a box whose content
 * is wider than the box (so it scrolls or spills); a name cut short in the header.
 */
export function sidewaysOverflow(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const width = window.innerWidth;
    const found: string[] = [];
    const name = (el: Element) =>
      `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className && typeof el.className === 'string' ? `.${el.className.trim().split(/\s+/).join('.')}` : ''}`;
    const page = document.documentElement.scrollWidth;
    if (page > width) found.push(`the page is ${page}px wide in a ${width}px window`);
    const shown = (el: Element) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
    const boxes = 'header, main, .card, .banner, .notice, .patient-history, .sync-body, dialog[open], .update-prompt';
    for (const el of document.querySelectorAll(`${boxes}, button, input, select, textarea, h1, h2`)) {
      if (!shown(el) || el.closest('.sr-only')) continue;
      const r = el.getBoundingClientRect();
      if (r.left < -0.5 || r.right > width + 0.5) found.push(`${name(el)} spans ${Math.round(r.left)}..${Math.round(r.right)}px`);
    }
    for (const el of document.querySelectorAll(boxes)) {
      if (shown(el) && el.scrollWidth > el.clientWidth + 1) found.push(`${name(el)} holds ${el.scrollWidth}px of content in ${el.clientWidth}px`);
    }
    for (const el of document.querySelectorAll('header .who, header .site')) {
      if (shown(el) && el.scrollWidth > el.clientWidth + 1) found.push(`${name(el)} "${el.textContent}" is cut short`);
    }
    return found;
  });
}
