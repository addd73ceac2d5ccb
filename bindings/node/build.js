'use strict';
// The npm install script: builds the addon with node-gyp (npm's own, which
// it names in npm_config_node_gyp for lifecycle scripts).  node-addon-api, the C++ headers
// the addon is written against, is a dependency; but npm installs none of
// the dependencies of a package installed by path (`npm install
// /path/to/checkout` makes a link), so when it cannot be found from here it
// is fetched from the registry into build/addon-api/ first.
//
//   node bindings/node/build.js                 fetch if needed, configure, build
//   node bindings/node/build.js --include-dir   print node-addon-api's include dir (binding.gyp)
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const ROOT = path.join(__dirname, '..', '..');
const LOCAL = path.join(ROOT, 'build', 'addon-api');

function addonApi() {
  for (const paths of [[ROOT], [LOCAL]]) {
    try {
      return require(require.resolve('node-addon-api', { paths }));
    } catch (e) { /* try the next place */ }
  }
  return null;
}

function fetchAddonApi() {
  const range = require(path.join(ROOT, 'package.json')).dependencies['node-addon-api'];
  const npm = process.env.npm_execpath;
  fs.mkdirSync(LOCAL, { recursive: true });
  console.log(`pgatomic: node-addon-api not installed beside the package; fetching node-addon-api@${range} into build/addon-api`);
  const args = ['install', '--prefix', LOCAL, '--no-save', '--no-package-lock', '--ignore-scripts',
    '--no-audit', '--no-fund', `node-addon-api@${range}`];
  if (npm && /\.[cm]?js$/.test(npm)) execFileSync(process.execPath, [npm, ...args], { stdio: 'inherit' });
  else execFileSync(npm || 'npm', args, { stdio: 'inherit' });
}

if (process.argv[2] === '--include-dir') {
  const api = addonApi();
  if (!api) {
    console.error('pgatomic: node-addon-api not found (run `npm install` in the package root)');
    process.exit(1);
  }
  console.log(api.include_dir);
} else {
  if (!addonApi()) fetchAddonApi();
  // npm names its bundled node-gyp in npm_config_node_gyp; outside npm, PATH.
  const gyp = process.env.npm_config_node_gyp;
  if (gyp) execFileSync(process.execPath, [gyp, 'configure', 'build'], { cwd: ROOT, stdio: 'inherit' });
  else execFileSync('node-gyp', ['configure', 'build'], { cwd: ROOT, stdio: 'inherit' });
}
