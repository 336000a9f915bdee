/**
 * Output of a run: the stdout table, the generated part of docs/performance.md and the SVG chart
 * (hand-written SVG, no library). Pure functions of `Results`.
 */
import { DISTURBED_PCT, type LoadSummary, type Results, type Target } from './results';

const LABELS: Record<string, string> = {
  baseline: 'baseline (hello world)',
  introspect_hit: 'introspect_hit (L1)',
  introspect_hit_sampled: 'introspect_hit_sampled (L1, LOG_SAMPLE_HITS=1)',
  introspect_kv_hit: 'introspect_kv_hit (KV)',
  forward_auth_hit: 'forward_auth_hit',
  forward_auth_hit_sampled: 'forward_auth_hit_sampled (LOG_SAMPLE_HITS=1)',
  introspect_miss: 'introspect_miss',
  emulator_direct: 'emulator direct (miss reference)',
  peer: 'peer (@octokit/oauth-app)',
};

const ORDER = [
  'baseline',
  'introspect_hit',
  'introspect_hit_sampled',
  'forward_auth_hit',
  'forward_auth_hit_sampled',
  'introspect_kv_hit',
  'introspect_miss',
  'emulator_direct',
  'peer',
  'required_introspect',
  'required_forward_auth',
] as const;

function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function fmtN(n: number | null): string {
  return n === null ? '?' : fmtInt(n);
}

function fmtMs(n: number): string {
  return Number.isFinite(n) ? n.toFixed(n < 10 ? 2 : 1) : '—';
}

function fmtBytes(n: number): string {
  return n >= 1024 ? `${(n / 1024).toFixed(1)} KiB (${fmtInt(n)} B)` : `${n} B`;
}

function pct(a: number, b: number | undefined): string {
  return b === undefined || b === 0 ? '' : `${Math.round((a / b) * 100)} %`;
}

function composition(r: Results): string {
  if (r.bundle_composition.length === 0) return 'not measured';
  return r.bundle_composition
    .slice(0, 6)
    .map((c) => `${c.source} ${(c.bytes / 1024).toFixed(0)} KiB`)
    .join(', ');
}

function fmtValue(t: Target): string {
  if (t.value === null) return '—';
  if (t.id.endsWith('_vs_baseline')) return t.value.toFixed(3);
  if (t.id.endsWith('_vs_peer')) return t.value.toFixed(1);
  if (t.id.endsWith('_ms')) return t.value.toFixed(2);
  // A ratio against a threshold such as ≤ 1.15: as an integer, 1.26 would read as 1.
  if (/_vs_/.test(t.id)) return t.value.toFixed(2);
  return fmtInt(t.value);
}

function statusWord(t: Target): string {
  return t.status === 'pass' ? 'PASS' : t.status === 'fail' ? 'FAIL' : 'NOT MEASURED';
}

function ordered(scenarios: readonly LoadSummary[]): LoadSummary[] {
  return ORDER.flatMap((id) => scenarios.filter((s) => s.id === id));
}

/** Per-run req/s; `†` marks a run during which other processes took a large share of the CPU. */
function runsCell(s: LoadSummary): string {
  return s.runs
    .map(
      (x) =>
        `${fmtInt(x.rps)}${x.otherCpuPercent !== null && x.otherCpuPercent > DISTURBED_PCT ? '†' : ''}`,
    )
    .join(' / ');
}

function disturbedNote(r: Results): string | undefined {
  const n = r.scenarios
    .flatMap((s) => s.runs)
    .filter((x) => (x.otherCpuPercent ?? 0) > DISTURBED_PCT).length;
  return n === 0
    ? undefined
    : `† ${n} run(s) disturbed: processes outside the bench used more than ${DISTURBED_PCT} % of all CPUs meanwhile.`;
}

function disturbedShort(r: Results): string {
  const runs = r.scenarios.flatMap((s) => s.runs);
  const n = runs.filter((x) => (x.otherCpuPercent ?? 0) > DISTURBED_PCT).length;
  return n === 0 ? '' : ` · ${n} of ${runs.length} runs disturbed by other work`;
}

function callsCell(s: LoadSummary): string {
  if (s.upstream === 'n/a') return '—';
  const calls = s.runs.map((r) => (r.upstreamCalls === null ? '?' : String(r.upstreamCalls)));
  return calls.join(' / ');
}

function padTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r, ri) => {
      const line = r
        .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
        .join('  ');
      return ri === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}

function otherFigures(r: Results): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  const add = (label: string, v: number | null, fmt: (n: number) => string) =>
    rows.push([label, v === null ? 'not measured' : fmt(v)]);
  add('gateway bundle, gzip', r.bundle_gzip_bytes, fmtBytes);
  add('gateway bundle, raw', r.bundle_raw_bytes, fmtBytes);
  add('peer bundle, gzip', r.peer_bundle_gzip_bytes, fmtBytes);
  add(
    'startup of a gateway isolate in workerd, beyond the baseline’s',
    r.startup_ms,
    (n) => `${fmtMs(n)} ms`,
  );
  rows.push([
    'startup profile (fresh V8 context in Node): gateway',
    r.startup_node_ms === null
      ? 'not measured'
      : `${fmtMs(r.startup_node_ms)} ms (compile ${fmtMs(r.startup_node_compile_ms ?? NaN)}, evaluate ${fmtMs(r.startup_node_evaluate_ms ?? NaN)})`,
  ]);
  add(
    'startup profile (fresh V8 context in Node): baseline',
    r.baseline_startup_node_ms,
    (n) => `${fmtMs(n)} ms`,
  );
  add('first answer of a cold isolate: gateway', r.first_request_ms, (n) => `${fmtMs(n)} ms`);
  add(
    'first answer of a cold isolate: baseline',
    r.baseline_first_request_ms,
    (n) => `${fmtMs(n)} ms`,
  );
  add(
    'cold isolate answers later than the baseline by',
    r.cold_first_answer_extra_ms,
    (n) => `${fmtMs(n)} ms`,
  );
  const perBaseline = (rps: number | null): number | null =>
    rps === null || r.baseline_rps === null || r.baseline_rps <= 0 ? null : rps / r.baseline_rps;
  for (const [label, rps] of [
    [
      'the required work alone over HTTP ÷ hello world: introspection (target for the gateway ≥ 0.65)',
      r.required_introspect_rps,
    ],
    [
      'the required work alone over HTTP ÷ hello world: forward auth (target for the gateway ≥ 0.75)',
      r.required_forward_auth_rps,
    ],
    ['introspect hit with LOG_SAMPLE_HITS=1 ÷ hello world, HTTP', r.introspect_hit_sampled_rps],
    ['forward auth hit with LOG_SAMPLE_HITS=1 ÷ hello world, HTTP', r.forward_auth_hit_sampled_rps],
  ] as const)
    add(label, perBaseline(rps), (n) => n.toFixed(3));
  add('introspect_miss p50', r.introspect_miss_p50_ms, (n) => `${fmtMs(n)} ms`);
  add('emulator direct p50 (same latency)', r.emulator_direct_p50_ms, (n) => `${fmtMs(n)} ms`);
  add(
    'gateway added latency on a miss (p50)',
    r.introspect_miss_added_p50_ms,
    (n) => `${fmtMs(n)} ms`,
  );
  const b = r.miss_breakdown;
  if (b !== null)
    rows.push([
      `a miss in the gateway's own clock (p50 of ${fmtN(b.answers)} answers)`,
      `${fmtMs(b.latency_p50_ms)} ms = KV read ${fmtMs(b.kv_p50_ms)} + GHES ${fmtMs(b.ghes_p50_ms)} + other ${fmtMs(b.other_p50_ms)}`,
    ]);
  add(
    `burst: GHES calls for ${r.settings.burst_size} concurrent introspections (worst run)`,
    r.burst_upstream_calls,
    fmtInt,
  );
  add(
    `L1 entries after ${fmtN(r.l1_entries_pushed)} distinct tokens (cap ${fmtN(r.l1_cap)})`,
    r.l1_size_after,
    fmtInt,
  );
  add('L1 heap at the default cap', r.l1_heap_bytes, (n) => `${(n / 2 ** 20).toFixed(1)} MiB`);
  add(
    `L1 heap with ${fmtN(r.l1_entries_pushed)} entries cached (cap raised)`,
    r.l1_full_heap_bytes,
    (n) => `${(n / 2 ** 20).toFixed(1)} MiB`,
  );
  add('L1 bytes per entry', r.l1_bytes_per_entry, fmtInt);
  return rows;
}

function fmtKiB(n: number | null): string {
  return n === null ? '—' : `${(n / 1024).toFixed(1)} KiB`;
}

function fmtOpt(n: number | null, fmt: (n: number) => string): string {
  return n === null ? '—' : fmt(n);
}

const FLOOR_HEAD = ['worker', 'cold answer later than baseline (ms)', 'gzip size'];

/**
 * The gateway's cold start beside minimal workers of the mandated stack (bench/floor/), from the
 * same trials: what the stack costs before any of our code, and what our code adds on top.
 */
function floorRows(r: Results): string[][] {
  const ms = (n: number | null) => fmtOpt(n, fmtMs);
  const beyond =
    r.cold_first_answer_extra_ms === null || r.floor_zod_openapi_jose_cold_extra_ms === null
      ? null
      : r.cold_first_answer_extra_ms - r.floor_zod_openapi_jose_cold_extra_ms;
  return [
    FLOOR_HEAD,
    [
      'hello world (baseline)',
      r.baseline_first_request_ms === null ? '—' : '0 (reference)',
      fmtKiB(r.baseline_bundle_gzip_bytes),
    ],
    ['hono (one route)', ms(r.floor_hono_cold_extra_ms), fmtKiB(r.floor_hono_gzip_bytes)],
    [
      '@hono/zod-openapi (one route)',
      ms(r.floor_zod_openapi_cold_extra_ms),
      fmtKiB(r.floor_zod_openapi_gzip_bytes),
    ],
    [
      '+ jose',
      ms(r.floor_zod_openapi_jose_cold_extra_ms),
      fmtKiB(r.floor_zod_openapi_jose_gzip_bytes),
    ],
    ['the gateway', ms(r.cold_first_answer_extra_ms), fmtKiB(r.bundle_gzip_bytes)],
    ['gateway beyond its stack floor (ms)', ms(beyond), ''],
  ];
}

/**
 * The schema-stack candidates of issue 14 (bench/floor/schema-*), from the same trials as the
 * floors above; `undefined` when none was built.
 */
function candidateRows(r: Results): string[][] | undefined {
  if (r.schema_candidates.length === 0) return undefined;
  const ms = (n: number | null) => fmtOpt(n, fmtMs);
  const hono = r.floor_hono_startup_node_ms;
  return [
    [
      `candidate (hono floor: ${ms(r.floor_hono_cold_extra_ms)} ms, Node ${ms(hono)} ms)`,
      'cold answer later than baseline (ms)',
      '÷ hono floor',
      'then GET /openapi.json (ms)',
      'module startup in Node (ms)',
      '÷ hono floor (Node)',
      'gzip size',
    ],
    ...r.schema_candidates.map((c) => [
      c.label,
      ms(c.cold_extra_ms),
      c.vs_hono_floor === null ? '—' : `${c.vs_hono_floor.toFixed(1)}×`,
      ms(c.doc_first_ms),
      ms(c.startup_node_ms),
      c.node_vs_hono_floor === null ? '—' : `${c.node_vs_hono_floor.toFixed(1)}×`,
      fmtKiB(c.gzip_bytes),
    ]),
  ];
}

const HOT_HEAD = [
  'mode',
  'µs per request (median)',
  'min µs',
  'µs beyond hello',
  '÷ hello',
  'runtime calls',
];

/** Per-request cost inside one gateway isolate, no HTTP (probe `hot_path`). */
function hotRows(r: Results): string[][] {
  const us = (n: number | null) => fmtOpt(n, fmtMs);
  const hello = r.hot_hello_us;
  const beyond = (n: number | null) => (n === null || hello === null ? '—' : fmtMs(n - hello));
  const times = (n: number | null) =>
    n === null || hello === null || hello <= 0 ? '—' : `${(n / hello).toFixed(2)}×`;
  const row = (
    label: string,
    median: number | null,
    min: number | null,
    calls?: number | null,
  ): string[] => [
    label,
    us(median),
    us(min),
    beyond(median),
    times(median),
    calls === undefined ? '' : fmtOpt(calls, fmtInt),
  ];
  return [
    HOT_HEAD,
    ['hello (the loop’s own cost)', us(hello), us(r.hot_hello_min_us), '', '', ''],
    row(
      'introspect (L1 hit)',
      r.hot_introspect_us,
      r.hot_introspect_min_us,
      r.hot_introspect_calls,
    ),
    row(
      'introspect (L1 hit), `LOG_SAMPLE_HITS=1`',
      r.hot_introspect_sampled_us,
      r.hot_introspect_sampled_min_us,
    ),
    row(
      'forward auth (L1 hit)',
      r.hot_forward_auth_us,
      r.hot_forward_auth_min_us,
      r.hot_forward_auth_calls,
    ),
    row(
      'introspect: the required work alone, no gateway',
      r.hot_required_introspect_us,
      r.hot_required_introspect_min_us,
      r.hot_required_introspect_calls,
    ),
    row(
      'forward auth: the required work alone, no gateway',
      r.hot_required_forward_auth_us,
      r.hot_required_forward_auth_min_us,
      r.hot_required_forward_auth_calls,
    ),
  ];
}

function hotSettings(r: Results): string {
  const s = r.settings;
  return `${s.hot_path_rounds} interleaved rounds × ${fmtInt(s.hot_path_requests)} requests per mode, median and best round`;
}

function busyLine(r: Results): string {
  const b = r.machine.busyPercentBeforeLoad;
  if (b === null) return 'CPU used by other processes before the load: not measured.';
  return `CPU used by other processes before the load: ${b} %${b > 10 ? ' — figures are low and noisy' : ''}.`;
}

export function renderText(r: Results): string {
  const base = r.scenarios.find((s) => s.id === 'baseline')?.rps;
  const loadRows = [
    [
      'scenario',
      'req/s (median)',
      'vs baseline',
      'p50 ms',
      'p99 ms',
      'runs req/s',
      'GHES calls/run',
    ],
    ...ordered(r.scenarios).map((s) => [
      LABELS[s.id] ?? s.id,
      fmtInt(s.rps),
      pct(s.rps, base),
      fmtMs(s.p50Ms),
      fmtMs(s.p99Ms),
      runsCell(s),
      callsCell(s),
    ]),
  ];
  const targetRows = [
    ['target', 'value', 'threshold', 'result'],
    ...r.targets.map((t) => [t.description, fmtValue(t), t.threshold, statusWord(t)]),
  ];
  const s = r.settings;
  const lines = [
    '',
    `Benchmark ${r.quick ? '(quick) ' : ''}— ${r.date}`,
    `${r.machine.cpus} CPUs (${r.machine.cpuModel}), ${r.machine.memoryGiB} GiB, node ${r.machine.node}, ${r.machine.workerd}, miniflare ${r.machine.miniflare}`,
    `${s.connections} connections, ${s.runs} runs × ${s.duration_s} s after ${s.warmup_s} s warm-up, GHES emulator +${s.latency_ms} ms, via ${s.via} socket`,
    busyLine(r),
    '',
    padTable(loadRows),
    ...(disturbedNote(r) === undefined ? [] : [disturbedNote(r)!]),
    '',
    padTable([['figure', 'value'], ...otherFigures(r)]),
    `gateway bundle by package (raw): ${composition(r)}`,
    '',
    `Cold start: the stack's floor (${s.startup_trials} trials × ${s.startup_copies} isolates each)`,
    padTable(floorRows(r)),
    '',
    ...(candidateRows(r) === undefined
      ? []
      : [
          'Cold start: schema-stack candidates (same trials; first request a valid POST /check)',
          padTable(candidateRows(r)!),
          '',
        ]),
    `Inside the isolate (no HTTP): ${hotSettings(r)}`,
    padTable(hotRows(r)),
    '',
    padTable(targetRows),
  ];
  if (r.not_run.length > 0) {
    lines.push('', 'NOT RUN — no figure was produced for these, so the run is incomplete:');
    for (const n of r.not_run) lines.push(`  - ${n.scenario}: ${n.reason}`);
  }
  lines.push('');
  return lines.join('\n');
}

function mdEscape(s: string): string {
  return s.replace(/\|/g, '\\|');
}

function mdTable(rows: string[][]): string {
  const [head, ...body] = rows;
  return [
    `| ${head!.map(mdEscape).join(' | ')} |`,
    `|${head!.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...body.map((r) => `| ${r.map(mdEscape).join(' | ')} |`),
  ].join('\n');
}

export const DOC_BEGIN =
  '<!-- bench:results:begin (generated by npm run bench; edits here are overwritten) -->';
export const DOC_END = '<!-- bench:results:end -->';

export function renderMarkdown(r: Results, chartFile: string): string {
  const base = r.scenarios.find((s) => s.id === 'baseline')?.rps;
  const m = r.machine;
  const s = r.settings;
  const parts = [
    DOC_BEGIN,
    '',
    `Run of ${r.date} (${r.quick ? 'quick' : 'full'} run, ${r.complete ? 'every scenario ran' : '**incomplete: see "Not run"**'}).`,
    '',
    `**Machine:** ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB RAM, ${m.os}; Node ${m.node}; ${m.workerd}; miniflare ${m.miniflare}; wrangler ${m.wrangler}; autocannon ${m.autocannon}. ${busyLine(r)}`,
    '',
    `**Settings:** ${s.connections} connections, ${s.runs} measured runs of ${s.duration_s} s per scenario after a ${s.warmup_s} s warm-up (median reported; runs interleaved across scenarios); GHES emulator (version ${s.ghes_version}) with ${s.latency_ms} ms added latency; load sent ${s.via === 'direct' ? 'straight to each worker’s socket' : 'through miniflare’s entry worker'}; introspect_miss: ${s.miss_requests} requests per run; burst: ${s.burst_size} concurrent requests.`,
    '',
    `![Throughput per scenario against the baseline](${chartFile})`,
    '',
    '### Throughput and latency',
    '',
    mdTable([
      [
        'scenario',
        'req/s (median)',
        'vs baseline',
        'p50 ms',
        'p99 ms',
        'runs (req/s)',
        'GHES calls per run',
      ],
      ...ordered(r.scenarios).map((x) => [
        `\`${x.id}\``,
        fmtInt(x.rps),
        pct(x.rps, base),
        fmtMs(x.p50Ms),
        fmtMs(x.p99Ms),
        runsCell(x),
        callsCell(x),
      ]),
    ]),
    ...(disturbedNote(r) === undefined ? [] : ['', disturbedNote(r)!]),
    '',
    '### Other figures',
    '',
    mdTable([['figure', 'value'], ...otherFigures(r)]),
    '',
    `Gateway bundle by package (raw bytes in the bundle): ${composition(r)}.`,
    '',
    '### Cold start: the stack’s floor',
    '',
    `Minimal workers of the mandated stack (\`bench/floor/\`), each answering \`POST /introspect\` with 401 as the gateway answers an introspection without credentials, built and run like the gateway and measured in the same ${s.startup_trials} trials of ${s.startup_copies} isolates each: how much later than a hello world a cold isolate answers its first request (module startup + first answer − the hello world’s first answer), and the bundle’s gzip size.`,
    '',
    mdTable(floorRows(r)),
    '',
    ...(candidateRows(r) === undefined
      ? []
      : [
          'Schema-stack candidates (`bench/floor/schema-*`, issue 14), in the same trials: one route each, a strict JSON body validated and documented by the library named (first request a valid `POST /check`, 200), then the same isolate’s `GET /openapi.json` timed.',
          '',
          mdTable(candidateRows(r)!),
          '',
        ]),
    '### Inside the isolate (no HTTP)',
    '',
    `The gateway’s \`fetch\` called in a loop inside one isolate, no HTTP server and no load generator, the batch timed from Node (${hotSettings(r)}). \`hello\` builds the same introspection request and answers it with a small JSON response instead of calling the gateway: the loop’s own cost. Every answer is checked (200, and \`"active": true\` for an introspection), and no GHES call happens during the loops.`,
    '',
    mdTable(hotRows(r)),
    '',
    '### Targets',
    '',
    mdTable([
      ['target', 'value', 'threshold', 'result'],
      ...r.targets.map((t) => [t.description, fmtValue(t), t.threshold, statusWord(t)]),
    ]),
  ];
  if (r.not_run.length > 0) {
    parts.push('', '### Not run', '', ...r.not_run.map((n) => `- \`${n.scenario}\`: ${n.reason}`));
  }
  parts.push('', DOC_END);
  return parts.join('\n');
}

function xml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** Horizontal bars of req/s per scenario, with the baseline and the 60 % target marked. */
export function renderSvg(r: Results): string {
  const ids = [
    'baseline',
    'introspect_hit',
    'forward_auth_hit',
    'introspect_kv_hit',
    'introspect_miss',
    'peer',
  ];
  const byId = new Map(r.scenarios.map((s) => [s.id as string, s]));
  const base = byId.get('baseline')?.rps;
  const max = Math.max(1, ...r.scenarios.filter((s) => ids.includes(s.id)).map((s) => s.rps));
  const left = 200;
  const plotW = 470;
  const rowH = 34;
  const top = 54;
  const width = left + plotW + 170;
  const height = top + ids.length * rowH + 56;
  const x = (v: number) => left + (v / max) * plotW;
  const colour = (id: string) =>
    id === 'baseline' ? '#8a8f98' : id === 'peer' ? '#d9822b' : '#2b6cb0';
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="13">`,
    `<title>Throughput per scenario against the baseline</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${left}" y="22" font-size="15" font-weight="600">Requests per second (median of ${r.settings.runs} runs, ${r.settings.connections} connections)</text>`,
    `<text x="${left}" y="40" fill="#555">${xml(`${r.date.slice(0, 10)} · ${r.machine.cpus} CPUs · ${r.machine.workerd} · ${r.quick ? 'quick run' : 'full run'}${disturbedShort(r)}`)}</text>`,
  ];
  ids.forEach((id, i) => {
    const y = top + i * rowH;
    const s = byId.get(id);
    out.push(`<text x="${left - 10}" y="${y + 21}" text-anchor="end">${xml(id)}</text>`);
    if (s === undefined) {
      out.push(`<text x="${left + 6}" y="${y + 21}" fill="#b00020">not run</text>`);
      return;
    }
    const w = Math.max(1, x(s.rps) - left);
    out.push(
      `<rect x="${left}" y="${y + 6}" width="${w.toFixed(1)}" height="${rowH - 12}" fill="${colour(id)}" rx="2"/>`,
    );
    const label = `${fmtInt(s.rps)} req/s${base !== undefined && id !== 'baseline' ? ` (${pct(s.rps, base)})` : ''}`;
    out.push(`<text x="${(left + w + 6).toFixed(1)}" y="${y + 21}">${xml(label)}</text>`);
  });
  const bottom = top + ids.length * rowH;
  if (base !== undefined) {
    const lx = x(base * 0.6).toFixed(1);
    out.push(
      `<line x1="${lx}" y1="${top}" x2="${lx}" y2="${bottom}" stroke="#333" stroke-width="1" stroke-dasharray="5,4"/>`,
    );
    out.push(
      `<text x="${lx}" y="${bottom + 16}" text-anchor="middle" fill="#333" font-size="12">60 % of baseline (target)</text>`,
    );
  }
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="#333"/>`);
  const legendY = bottom + 34;
  [
    ['#8a8f98', 'hello-world baseline'],
    ['#2b6cb0', 'gateway'],
    ['#d9822b', 'uncached peer (@octokit/oauth-app)'],
  ].forEach(([fill, label], i) => {
    const lx = left + [0, 165, 255][i]!;
    out.push(`<rect x="${lx}" y="${legendY - 10}" width="12" height="12" fill="${fill}"/>`);
    out.push(`<text x="${lx + 18}" y="${legendY}" font-size="12">${xml(label!)}</text>`);
  });
  out.push('</svg>', '');
  return out.join('\n');
}
