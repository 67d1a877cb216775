/**
 * A User-Agent header in a site admin's words: "Chrome 141 on Windows", "Safari 18 on iOS". Only
 * what tells a pharmacy's devices apart: the browser's name and major version, and the system.
 * Browsers now freeze most of the header (Windows 11 still says "Windows NT 10.0", Android says
 * "Android 10; K"), so no system version is given. Order matters: Edge, Opera and Samsung
 * Internet also name Chrome and Safari, and every browser on iOS is Safari underneath.
 */

/** Pattern (its first group the major version), name, and what follows the version. */
const BROWSERS: [RegExp, string, string?][] = [
  [/\bEdg(?:e|A|iOS)?\/(\d+)/, 'Edge'],
  [/\b(?:OPR|OPT)\/(\d+)/, 'Opera'],
  [/\bSamsungBrowser\/(\d+)/, 'Samsung Internet'],
  [/\bCriOS\/(\d+)/, 'Chrome'],
  [/\bFxiOS\/(\d+)/, 'Firefox'],
  [/\bFirefox\/(\d+)/, 'Firefox'],
  [/\bHeadlessChrome\/(\d+)/, 'Chrome', ' (headless)'],
  [/\b(?:Chrome|Chromium)\/(\d+)/, 'Chrome'],
  [/\bVersion\/(\d+)[.\d]* (?:Mobile\/\S+ )?Safari\//, 'Safari'],
];

const SYSTEMS: [RegExp, string][] = [
  [/\b(?:iPhone|iPod)\b/, 'iOS'],
  [/\biPad\b/, 'iPadOS'],
  [/\bAndroid\b/, 'Android'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bWindows\b/, 'Windows'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bLinux\b|\bX11\b/, 'Linux'],
];

/** The browser and system of a User-Agent header; null when it names neither. */
export function describeUserAgent(ua: string | null | undefined): string | null {
  if (!ua) return null;
  let browser: string | null = null;
  for (const [pattern, name, suffix = ''] of BROWSERS) {
    const m = pattern.exec(ua);
    if (m) {
      browser = `${name} ${m[1]}${suffix}`;
      break;
    }
  }
  const system = SYSTEMS.find(([pattern]) => pattern.test(ua))?.[1] ?? null;
  if (browser && system) return `${browser} on ${system}`;
  return browser ?? (system ? `A browser on ${system}` : null);
}
