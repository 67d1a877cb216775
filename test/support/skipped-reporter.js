/**
 * A jest reporter that ends the run with what was skipped and why (a describe name carries the
 * reason, e.g. "(skipped: SKIP_BROWSERS is set)"), so a green run never hides a suite left out.
 */
class SkippedReporter {
  onRunComplete(_contexts, results) {
    const skipped = new Map();
    for (const file of results.testResults) {
      for (const t of file.testResults) {
        if (t.status !== 'pending' && t.status !== 'skipped') continue;
        const title = t.ancestorTitles[0] ?? t.title;
        skipped.set(title, (skipped.get(title) ?? 0) + 1);
      }
    }
    if (skipped.size === 0) return;
    const lines = [...skipped].map(([title, n]) => `  ${title}: ${n} test${n === 1 ? '' : 's'}`);
    process.stderr.write(`\nSkipped in this run:\n${lines.join('\n')}\n`);
  }
}
module.exports = SkippedReporter;
