/**
 * Summarises a V8 CPU profile of the page (bench/pull.ts, bench/ab-browser.ts and `npm run bench`
 * write them with --cpu-prof): busy and idle time, and the functions with the most self time,
 * mapped through the build's source maps to their source file, per 1000 records.
 *
 *   npx tsx bench/cpu-profile.ts <file.cpuprofile> --records 5000 [--dist dist/bench/client] [--top 25]
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { originalPositionFor, TraceMap } from '@jridgewell/trace-mapping';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    records: { type: 'string', default: '1000' },
    dist: { type: 'string', default: 'dist/bench/client' },
    top: { type: 'string', default: '25' },
  },
});

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const maps = new Map<string, TraceMap | null>();

/** `name source:line` of a frame, through the bundle's source map when there is one. */
function frameName(cf: ProfileNode['callFrame']): string {
  const file = (cf.url || '').split('/').pop() ?? '';
  if (!file.endsWith('.js')) return cf.functionName || '(anonymous)';
  if (!maps.has(file)) {
    const mapFile = path.join(values.dist!, 'assets', `${file}.map`);
    maps.set(file, fs.existsSync(mapFile) ? new TraceMap(fs.readFileSync(mapFile, 'utf8')) : null);
  }
  const map = maps.get(file);
  if (!map) return `${cf.functionName || '(anonymous)'} ${file}:${cf.lineNumber + 1}`;
  const o = originalPositionFor(map, { line: cf.lineNumber + 1, column: cf.columnNumber });
  const source = (o.source ?? '?').replace(/^.*node_modules\//, '').replace(/^.*?\/client\//, 'client/');
  return `${o.name || cf.functionName || '(anonymous)'} ${source}:${o.line}`;
}

const profile = JSON.parse(fs.readFileSync(positionals[0], 'utf8')) as Profile;
const names = new Map(profile.nodes.map((n) => [n.id, frameName(n.callFrame)]));
const self = new Map<string, number>();
let total = 0;
let idle = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  total += dt;
  const name = names.get(id)!;
  if (name === '(idle)') idle += dt;
  else self.set(name, (self.get(name) ?? 0) + dt);
});
const per = 1000 / Number(values.records);
const ms = (us: number) => (us / 1000).toFixed(1);
const busy = total - idle;
console.log(`total ${ms(total)} ms, idle ${ms(idle)} ms, busy ${ms(busy)} ms = ${ms(busy * per)} ms per 1000 records`);
for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) {
  console.log(`${ms(us * per).padStart(8)} ms per 1000  ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${name}`);
}
