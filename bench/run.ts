/**
 * `pnpm bench` — runs every bench/cases/*.ts in one process, so that ratios (to the crypto floor, to
 * peers) are measured in the same run on the same machine. `pnpm bench -- --json` prints one JSON object per
 * line: {"case", "medianMs", "samples", "budgetMs"?, "withinBudget"?, "ratios"?}. `--filter SUBSTR[,SUBSTR…]` runs the
 * cases whose name contains any of them.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import type { BenchCase } from './types.js';

const args = process.argv.slice(2).filter((a) => a !== '--');
const json = args.includes('--json');
const filterAt = args.indexOf('--filter');
const filter = filterAt >= 0 ? args[filterAt + 1] : undefined;
const time = Number(process.env['BENCH_TIME_MS'] ?? 1500);

const here = dirname(fileURLToPath(import.meta.url));
const files = readdirSync(join(here, 'cases')).filter((f) => f.endsWith('.ts')).sort();
const cases: BenchCase[] = [];
for (const f of files) {
  const mod = (await import(pathToFileURL(join(here, 'cases', f)).href)) as { cases?: () => Promise<BenchCase[]> | BenchCase[] };
  if (mod.cases) cases.push(...(await mod.cases()));
}
const filters = filter?.split(',').filter(Boolean);
const selected = cases.filter((c) => !filters?.length || filters.some((f) => c.name.includes(f)));
const results = new Map<string, number>();
const rows: Record<string, unknown>[] = [];

for (const c of selected) {
  if (c.measure) {
    const { value, unit, ratios, details } = await c.measure();
    const row = { case: c.name, value, unit, ...(ratios ? { ratios } : {}), title: c.title, ...(details ? { details } : {}) };
    rows.push(row);
    const ratio = Object.entries(ratios ?? {}).map(([k, v]) => `  ${v}× ${k}`).join('');
    if (!json) console.error(`  ${c.name.padEnd(34)} ${String(value).padStart(10)} ${unit}${ratio}   ${c.title}`);
    else console.log(JSON.stringify(row));
    continue;
  }
  const bench = new Bench({ time, warmupTime: 200, warmupIterations: 5, iterations: 20 });
  bench.add(c.name, c.fn!);
  await bench.run();
  const r = bench.tasks[0]!.result;
  if (r.state !== 'completed') {
    console.error(`${c.name}: ${r.state}${'error' in r ? ` ${(r as { error: Error }).error?.stack}` : ''}`);
    process.exitCode = 1;
    continue;
  }
  const median = r.latency.p50;
  results.set(c.name, median);
  const row: Record<string, unknown> = { case: c.name, medianMs: Number(median.toFixed(4)), samples: r.latency.samplesCount, title: c.title };
  if (c.budgetMs !== undefined) Object.assign(row, { budgetMs: c.budgetMs, withinBudget: median <= c.budgetMs });
  const ratios: Record<string, number> = {};
  for (const other of c.compareTo ?? []) {
    const m = results.get(other);
    if (m !== undefined) ratios[other] = Number((median / m).toFixed(3));
  }
  if (Object.keys(ratios).length) row['ratios'] = ratios;
  rows.push(row);
  if (json) console.log(JSON.stringify(row));
  else {
    const budget = c.budgetMs !== undefined ? `  budget ${c.budgetMs} ms ${median <= c.budgetMs ? 'OK' : 'OVER'}` : '';
    const ratio = Object.entries(ratios).map(([k, v]) => `  ${v}× ${k}`).join('');
    console.error(`  ${c.name.padEnd(34)} ${median.toFixed(3).padStart(10)} ms${budget}${ratio}   ${c.title}`);
  }
}
