/**
 * What the repository says of itself stays true: every decision record is in the index, and no
 * code or doc points a reader at something the repository does not hold (a design document kept
 * elsewhere, an issue tracker's numbers).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
const tracked = execFileSync('git', ['ls-files', '-z', '--', '*.ts', '*.tsx', '*.js', '*.mjs', '*.md', '*.css', '*.yml', '*.json'], { cwd: root })
  .toString()
  .split('\0')
  .filter((f) => f && f !== 'package-lock.json' && f !== path.relative(root, __filename));

test('every decision record is listed in docs/decisions/README.md', () => {
  const index = readFileSync(path.join(root, 'docs/decisions/README.md'), 'utf8');
  const records = readdirSync(path.join(root, 'docs/decisions')).filter((f) => f.endsWith('.md') && f !== 'README.md');
  expect(records.filter((f) => !index.includes(`(${f})`))).toEqual([]);
});

test('no file cites a document outside the repository or an issue number', () => {
  const outside = /\b(DESIGN|STYLE)\.md\b|\b[Ii]ssues? #?\d+|\(#\d+\)/;
  const found = tracked.flatMap((f) =>
    readFileSync(path.join(root, f), 'utf8')
      .split('\n')
      .flatMap((line, i) => (outside.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [])),
  );
  expect(found).toEqual([]);
});
