/**
 * Makes the app's PNG icons (client/public/icons/) from client/public/favicon.svg with Debian's
 * Chromium, no network: the manifest's 192 and 512 px icons, a maskable 512 px icon (full-bleed,
 * the mark inside the central safe zone) and the 180 px apple-touch-icon. The PNGs are committed;
 * run again after changing the SVG: npx tsx test/e2e/make-icons.ts
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM } from './harness';

const PUBLIC = path.resolve(__dirname, '../../client/public');
const svg = fs.readFileSync(path.join(PUBLIC, 'favicon.svg'), 'utf8');

/** The SVG as is (rounded corners on transparency), or full-bleed with the mark scaled into the safe zone. */
function page(size: number, fullBleed: boolean): string {
  const mark = fullBleed
    ? svg
        .replace(/<rect [^>]*\/>/, '<rect width="32" height="32" fill="#0b6b72"/>')
        .replace('<text ', '<text transform="translate(16 16) scale(0.72) translate(-16 -16)" ')
    : svg;
  const src = `data:image/svg+xml;base64,${Buffer.from(mark).toString('base64')}`;
  return `<html><body style="margin:0;background:transparent"><img src="${src}" width="${size}" height="${size}" style="display:block"></body></html>`;
}

const ICONS = [
  { file: 'icon-192.png', size: 192, fullBleed: false },
  { file: 'icon-512.png', size: 512, fullBleed: false },
  { file: 'maskable-512.png', size: 512, fullBleed: true },
  { file: 'apple-touch-icon.png', size: 180, fullBleed: true },
];

async function main(): Promise<void> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  try {
    for (const icon of ICONS) {
      const p = await browser.newPage({ viewport: { width: icon.size, height: icon.size } });
      await p.setContent(page(icon.size, icon.fullBleed));
      await p.locator('img').evaluate((img: HTMLImageElement) => img.decode());
      const file = path.join(PUBLIC, 'icons', icon.file);
      await p.screenshot({ path: file, omitBackground: true });
      console.log(`Wrote ${file}`);
      await p.close();
    }
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
