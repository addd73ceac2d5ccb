'use strict';
// compare-xunit.js STOCK.xml PGATOMIC.xml: the counts of two runs of one
// suite (mocha's xunit reporter) side by side, and every test whose outcome
// differs between them.  A missing file is reported, not fatal.
const fs = require('fs');

function decode(s) {
  return s.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>').replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d) => String.fromCodePoint(Number(d))).replace(/&amp;/g, '&');
}

// { outcome: Map(title -> 'passed' | 'failed' | 'skipped'), first line of each failure }
function read(file) {
  const outcome = new Map();
  const why = new Map();
  if (!fs.existsSync(file)) return null;
  const xml = fs.readFileSync(file, 'utf8');
  const re = /<testcase classname="([^"]*)" name="([^"]*)"[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (let m; (m = re.exec(xml)) !== null;) {
    const title = `${decode(m[1])} :: ${decode(m[2])}`;
    const body = m[4] || '';
    let state = 'passed';
    if (/<failure/.test(body)) {
      state = 'failed';
      const f = /<failure[^>]*>([\s\S]*?)<\/failure>/.exec(body);
      why.set(title, f ? decode(f[1]).split('\n')[0].slice(0, 300) : '');
    } else if (/<skipped/.test(body)) {
      state = 'skipped';
    }
    // A title that repeats keeps its worst outcome.
    if (outcome.get(title) !== 'failed') outcome.set(title, state);
  }
  return { outcome, why };
}

function counts(run) {
  const c = { passed: 0, failed: 0, skipped: 0 };
  for (const s of run.outcome.values()) c[s]++;
  return c;
}

const [stockFile, oursFile] = process.argv.slice(2);
const stock = read(stockFile);
const ours = read(oursFile);
for (const [name, run, file] of [['pg (stock)', stock, stockFile], ['pgatomic/pg', ours, oursFile]]) {
  if (!run) {
    console.log(`${name.padEnd(12)} no results (${file} missing)`);
    continue;
  }
  const c = counts(run);
  console.log(`${name.padEnd(12)} ${c.passed} passed, ${c.failed} failed, ${c.skipped} pending`);
}
if (stock && ours) {
  const titles = new Set([...stock.outcome.keys(), ...ours.outcome.keys()]);
  const diffs = [];
  for (const t of [...titles].sort()) {
    const a = stock.outcome.get(t) || 'absent';
    const b = ours.outcome.get(t) || 'absent';
    if (a !== b) diffs.push({ t, a, b });
  }
  console.log(`\n${diffs.length} tests differ (stock -> pgatomic/pg):`);
  for (const d of diffs) {
    const reason = d.b === 'failed' ? ours.why.get(d.t) : d.a === 'failed' ? stock.why.get(d.t) : '';
    console.log(`  [${d.a} -> ${d.b}] ${d.t}${reason ? `\n      ${reason}` : ''}`);
  }
}
