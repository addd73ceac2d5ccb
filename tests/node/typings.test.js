'use strict';
// node/index.d.ts against the runtime: tests/types/accepts.ts (what the
// runtime accepts) must type-check under tsc --strict and every line of
// tests/types/rejects.ts (what it refuses) must be an error; and every value
// the types export is a named export under ESM (`import { x } from
// 'pgatomic'`), which needs node/index.js to stay readable by Node's
// CommonJS export scanner.
const path = require('path');
const { execFileSync } = require('child_process');
const ts = require('typescript');

const ROOT = path.join(__dirname, '..', '..');
jest.setTimeout(120000);

test('types_accept_what_the_runtime_accepts_and_reject_what_it_rejects', () => {
  const tsc = require.resolve('typescript/bin/tsc');
  let out = '';
  try {
    execFileSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tests', 'types')], { encoding: 'utf8' });
  } catch (e) {
    out = `${e.stdout}${e.stderr}`;
  }
  expect(out).toBe('');
});

// The names of the values (not types) index.d.ts exports.
function valueExports() {
  const file = path.join(ROOT, 'node', 'index.d.ts');
  const src = ts.createSourceFile(file, require('fs').readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const names = [];
  for (const st of src.statements) {
    const exported = st.modifiers && st.modifiers.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
    if (!exported) continue;
    if (ts.isClassDeclaration(st) || ts.isFunctionDeclaration(st)) names.push(st.name.text);
    if (ts.isVariableStatement(st)) for (const d of st.declarationList.declarations) names.push(d.name.text);
  }
  return [...new Set(names)].sort();
}

test('every_exported_value_is_an_esm_named_export', () => {
  const names = valueExports();
  expect(names).toEqual(expect.arrayContaining(['connect', 'Database', 'Transaction', 'errors']));
  const entry = path.join(ROOT, 'node', 'index.js');
  // A static import of every name: Node refuses the module if one is missing.
  const code = `import { ${names.join(', ')} } from ${JSON.stringify(entry)};\n` +
    `import cjs from ${JSON.stringify(entry)};\n` +
    `const bad = [${names.join(', ')}].map((v, i) => v === undefined || v !== cjs[${JSON.stringify(names)}[i]] ? i : -1).filter((i) => i >= 0);\n` +
    'console.log(JSON.stringify(bad));';
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  expect(JSON.parse(out)).toEqual([]);
});

test('every_runtime_export_is_typed', () => {
  const runtime = Object.keys(require('../../node')).sort();
  expect(runtime).toEqual(valueExports());
});
