// Summarises a V8 .cpuprofile (from `node bench/proxy.mjs --profile`): self and inclusive time per
// function, and self time per package, as % of the busy (non-idle) time.
//
//   node bench/profile-summary.mjs bench/profiles/CPU.….cpuprofile [--top 30] [--requests N]
//
// With --requests (how many requests the process served while profiled, printed by
// `proxy.mjs --profile`), every line also shows µs per request.
// With --baseline OTHER.cpuprofile --baseline-requests M (e.g. the bare proxy's profile), it also
// lists the functions whose self time per request grew most against the baseline.
import { readFileSync } from 'node:fs';
import { parseArgs } from './common.mjs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node bench/profile-summary.mjs FILE.cpuprofile [--top N]');
  process.exit(1);
}
const args = parseArgs(process.argv.slice(3));
const TOP = Number(args.top ?? 30);
const REQUESTS = Number(args.requests ?? 0);
function analyse(profile) {

  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const selfUs = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }

  const shortUrl = (url) => {
    if (!url) return '';
    const nm = url.lastIndexOf('node_modules/');
    if (nm !== -1) return url.slice(nm + 'node_modules/'.length);
    const dist = url.indexOf('/dist/');
    if (dist !== -1) return `llmlb${url.slice(dist)}`;
    const bench = url.indexOf('/bench/');
    if (bench !== -1) return url.slice(bench + 1);
    return url.replace(/^file:\/\//, '');
  };
  const keyOf = (n) => {
    const cf = n.callFrame;
    const name = cf.functionName || '(anonymous)';
    return cf.url ? `${name}  ${shortUrl(cf.url)}:${cf.lineNumber + 1}` : name;
  };
  const pkgOf = (n) => {
    const url = n.callFrame.url;
    const name = n.callFrame.functionName;
    if (!url) return name.startsWith('(') ? name : '(native / V8 builtins)';
    if (url.startsWith('node:')) return 'node core';
    const nm = url.lastIndexOf('node_modules/');
    if (nm !== -1) {
      const rest = url.slice(nm + 'node_modules/'.length).split('/');
      return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
    }
    if (url.includes('/dist/')) return 'llmlb (dist)';
    if (url.includes('/bench/')) return 'bench script';
    return url;
  };

  const IDLE = new Set(['(idle)', '(program)']);
  let busy = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (IDLE.has(n.callFrame.functionName)) idle += us;
    else busy += us;
  }

  const self = new Map();
  const pkg = new Map();
  const incl = new Map();
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (IDLE.has(n.callFrame.functionName)) continue;
    const k = keyOf(n);
    self.set(k, (self.get(k) ?? 0) + us);
    const p = pkgOf(n);
    pkg.set(p, (pkg.get(p) ?? 0) + us);
    // Inclusive: every distinct function on the stack gets the sample once.
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const ck = keyOf(byId.get(cur));
      if (seen.has(ck)) continue;
      seen.add(ck);
      incl.set(ck, (incl.get(ck) ?? 0) + us);
    }
  }


  return { busy, idle, self, pkg, incl };
}

const { busy, idle, self, pkg, incl } = analyse(JSON.parse(readFileSync(file, 'utf8')));
const pct = (us) => `${((100 * us) / busy).toFixed(1).padStart(5)} %`;
const ms = (us) => `${(us / 1000).toFixed(0).padStart(7)} ms` + (REQUESTS > 0 ? `  ${(us / REQUESTS).toFixed(2).padStart(7)} µs/req` : '');
console.log(`${file}\nbusy ${ms(busy)}, idle/program ${ms(idle)} — percentages are of busy time\n`);
console.log('Self time by package');
for (const [k, us] of [...pkg].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${pct(us)}  ${ms(us)}  ${k}`);
console.log(`\nTop ${TOP} functions by self time`);
for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`  ${pct(us)}  ${ms(us)}  ${k}`);
console.log(`\nTop ${TOP} functions by inclusive time`);
for (const [k, us] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`  ${pct(us)}  ${ms(us)}  ${k}`);

const dist = [...incl].filter(([k]) => k.includes('llmlb/dist/'));
if (dist.length > 0) {
  console.log('\nllmlb functions by inclusive time');
  for (const [k, us] of dist.sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`  ${pct(us)}  ${ms(us)}  ${k}`);
}

if (args.baseline) {
  const baseRequests = Number(args['baseline-requests'] ?? 0);
  if (!(REQUESTS > 0 && baseRequests > 0)) {
    console.error('--baseline needs --requests and --baseline-requests');
    process.exit(1);
  }
  const base = analyse(JSON.parse(readFileSync(args.baseline, 'utf8')));
  const perReq = (m, n) => new Map([...m].map(([k, us]) => [k.replace(/:\d+$/, ''), us / n]));
  const diff = (a, b) => {
    const keys = new Set([...a.keys(), ...b.keys()]);
    return [...keys].map((k) => [k, (a.get(k) ?? 0) - (b.get(k) ?? 0), a.get(k) ?? 0, b.get(k) ?? 0]).sort((x, y) => y[1] - x[1]);
  };
  const line = ([k, d, a, b]) => `  ${d.toFixed(2).padStart(7)}  ${a.toFixed(2).padStart(7)}  ${b.toFixed(2).padStart(7)}  ${k}`;
  console.log(`\nAgainst ${args.baseline}: busy ${(busy / REQUESTS).toFixed(1)} vs ${(base.busy / baseRequests).toFixed(1)} µs/req`);
  console.log('  Δ µs/req  this  baseline  (self time by package)');
  for (const row of diff(perReq(pkg, REQUESTS), perReq(base.pkg, baseRequests)).slice(0, 10)) console.log(line(row));
  console.log(`  Δ µs/req  this  baseline  (self time by function, top ${TOP})`);
  for (const row of diff(perReq(self, REQUESTS), perReq(base.self, baseRequests)).slice(0, TOP)) console.log(line(row));
}
