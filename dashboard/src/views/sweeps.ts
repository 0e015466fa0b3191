/**
 * #/sweeps: the list of parameter sweeps and a form that starts one (sweep-form.ts);
 * #/sweeps/:id: one sweep — its trials in a sortable table (click a header), the objective
 * against each parameter (one dot per trial, the best larger), learning curves of up to 6
 * selected trials overlaid (the best ones at first), the best trial with its test accuracy, CSV
 * download and cancel. Refreshes every 2 s while the sweep runs.
 */
import { api, ApiError, withKey, type SweepDetail, type SweepTrial, type WindowMetrics } from '../api.js';
import { LineChart } from '../charts.js';
import { append, clear, dateTime, h, pct } from '../util.js';
import { sweepForm } from './sweep-form.js';
import type { View } from './view.js';

const REFRESH_MS = 2000;
const SVG = 'http://www.w3.org/2000/svg';

const fmt = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : JSON.stringify(v));

function badge(s: string): HTMLElement {
  return h('span', { class: `badge badge-${s}`, 'data-status': s }, s);
}

export function sweepListView(): View {
  let destroyed = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const body = h('div', { class: 'table-wrap', 'data-testid': 'sweep-list' }, h('p', { class: 'muted' }, 'Loading…'));
  const el = h(
    'section',
    { class: 'list-view' },
    h('h1', { tabindex: -1 }, 'Sweeps'),
    h('p', { class: 'muted' }, 'Parameter sweeps: many experiments that differ in some parameters and seeds, scored on a validation split. Start one below, or with POST /v1/sweeps (see the README).'),
    body,
    sweepForm(),
  );
  async function refresh() {
    try {
      const page = await api.sweeps();
      if (destroyed) return;
      clear(body);
      if (page.items.length === 0) {
        body.append(h('p', { class: 'muted' }, 'No sweeps yet.'));
      } else {
        body.append(
          h(
            'table',
            { class: 'list' },
            h('thead', {}, h('tr', {}, ...['Sweep', 'Status', 'Trials', 'Best objective', 'Best test', 'Created'].map((t) => h('th', { scope: 'col' }, t)))),
            h(
              'tbody',
              {},
              ...page.items.map((s) =>
                h(
                  'tr',
                  {},
                  h('td', {}, h('a', { href: `#/sweeps/${encodeURIComponent(s.id)}` }, s.name || s.id.slice(0, 8))),
                  h('td', {}, badge(s.status)),
                  h('td', {}, `${s.trials.completed}/${s.trials.total}${s.trials.stopped ? ` (${s.trials.stopped} stopped)` : ''}`),
                  h('td', {}, pct(s.best?.pointObjective)),
                  h('td', {}, pct(s.best?.testAccuracy?.allActivity)),
                  h('td', {}, dateTime(s.createdAt)),
                ),
              ),
            ),
          ),
        );
      }
    } catch (err) {
      if (destroyed) return;
      clear(body);
      body.append(h('p', { class: 'error', role: 'alert' }, (err as Error).message));
    }
    if (!destroyed) timer = setTimeout(() => void refresh(), REFRESH_MS);
  }
  void refresh();
  return {
    el,
    title: 'Sweeps',
    destroy() {
      destroyed = true;
      if (timer) clearTimeout(timer);
    },
  };
}

type SortKey = 'point' | 'seed' | 'stage' | 'status' | 'objective' | 'samplesPerSec' | `p:${string}`;

function scatter(sweep: SweepDetail, path: string): SVGSVGElement {
  const W = 320;
  const H = 200;
  const pad = 36;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `objective against ${path}`);
  svg.setAttribute('data-testid', 'sweep-scatter');
  const pts = sweep.items.filter((t) => t.objective !== null);
  const xs = pts.map((t) => t.parameters[path]);
  const numeric = xs.every((x) => typeof x === 'number');
  const categories = numeric ? [] : [...new Set(xs.map((x) => JSON.stringify(x)))];
  const xv = (x: unknown) => (numeric ? (x as number) : categories.indexOf(JSON.stringify(x)));
  const xsN = pts.map((t) => xv(t.parameters[path]));
  const ys = pts.map((t) => t.objective!);
  const [x0, x1] = xsN.length ? [Math.min(...xsN), Math.max(...xsN)] : [0, 1];
  const [y0, y1] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  const sx = (x: number) => pad + ((x - x0) / (x1 - x0 || 1)) * (W - 2 * pad);
  const sy = (y: number) => H - pad - ((y - y0) / (y1 - y0 || 1)) * (H - 2 * pad);
  const text = (x: number, y: number, s: string, anchor = 'middle') => {
    const t = document.createElementNS(SVG, 'text');
    t.setAttribute('x', String(x));
    t.setAttribute('y', String(y));
    t.setAttribute('text-anchor', anchor);
    t.setAttribute('font-size', '10');
    t.setAttribute('fill', 'currentColor');
    t.textContent = s;
    svg.append(t);
  };
  const axis = document.createElementNS(SVG, 'path');
  axis.setAttribute('d', `M${pad},${pad / 2} V${H - pad} H${W - pad / 2}`);
  axis.setAttribute('stroke', 'currentColor');
  axis.setAttribute('fill', 'none');
  axis.setAttribute('opacity', '0.5');
  svg.append(axis);
  text(W / 2, H - 6, path);
  text(pad - 4, sy(y1) + 3, pct(y1), 'end');
  text(pad - 4, sy(y0) + 3, pct(y0), 'end');
  text(sx(x0), H - pad + 12, numeric ? fmt(x0) : (categories[0] ?? ''));
  if (x1 !== x0) text(sx(x1), H - pad + 12, numeric ? fmt(x1) : (categories[categories.length - 1] ?? ''));
  pts.forEach((t, i) => {
    const c = document.createElementNS(SVG, 'circle');
    c.setAttribute('cx', String(sx(xsN[i]!)));
    c.setAttribute('cy', String(sy(ys[i]!)));
    const best = t.experimentId === sweep.best?.experimentId;
    c.setAttribute('r', best ? '5' : '3');
    c.setAttribute('fill', t.stopped ? 'none' : 'currentColor');
    c.setAttribute('stroke', 'currentColor');
    c.setAttribute('opacity', t.stage === sweep.stages.length - 1 ? '0.9' : '0.45');
    const title = document.createElementNS(SVG, 'title');
    title.textContent = `${path} = ${fmt(t.parameters[path])}, seed ${t.seed}, rung ${t.stage}: ${pct(t.objective)}${t.stopped ? ' (stopped)' : ''}`;
    c.append(title);
    svg.append(c);
  });
  return svg;
}

export function sweepView(id: string): View {
  let destroyed = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let sort: { key: SortKey; desc: boolean } = { key: 'objective', desc: true };
  let last: SweepDetail | null = null;
  const title = h('h1', { tabindex: -1 }, 'Sweep');
  const head = h('div', { 'data-testid': 'sweep-head' });
  const charts = h('div', { class: 'sweep-charts' });
  const table = h('div', { class: 'table-wrap', 'data-testid': 'sweep-trials' });
  const curvesBox = h('div', { 'data-testid': 'sweep-curves' });
  const selected = new Set<string>();
  let selectionTouched = false;
  let chart: LineChart | null = null;
  const metricsCache = new Map<string, WindowMetrics[]>();
  const palette = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];
  let curvesKey = '';
  const errorBox = h('p', { class: 'error', role: 'alert', hidden: true });
  const el = h(
    'section',
    { class: 'list-view' },
    title,
    errorBox,
    head,
    h('div', { class: 'card' }, charts),
    h('div', { class: 'card' }, h('h2', {}, 'Learning curves of the selected trials'), curvesBox),
    h('div', { class: 'card' }, table),
  );

  async function drawCurves(s: SweepDetail) {
    const trials = s.items.filter((t) => t.experimentId && selected.has(t.experimentId));
    const key = trials.map((t) => `${t.experimentId}:${t.status}`).join(',') + (s.status === 'running' ? `@${Date.now()}` : '');
    if (key === curvesKey) return;
    curvesKey = key;
    const series = await Promise.all(
      trials.map(async (t) => {
        const id = t.experimentId!;
        let items = metricsCache.get(id);
        if (!items) {
          items = (await api.metrics(id)).items;
          if (t.status === 'completed' || t.status === 'failed' || t.status === 'cancelled') metricsCache.set(id, items);
        }
        return { t, items };
      }),
    );
    if (destroyed) return;
    chart?.destroy();
    chart = null;
    clear(curvesBox);
    if (series.length === 0) {
      curvesBox.append(h('p', { class: 'muted' }, 'Select trials in the table (up to 6).'));
      return;
    }
    const xs = [...new Set(series.flatMap((x) => x.items.map((m) => m.samplesSeen)))].sort((a, b) => a - b);
    const paths = s.request.parameters.map((p) => p.path);
    chart = new LineChart(curvesBox, {
      title: 'Accuracy of each labelling window (all-activity)',
      xLabel: 'training samples',
      yLabel: 'accuracy',
      yRange: [0, 1],
      yValues: (v) => `${Math.round(v * 100)}%`,
      series: series.map(({ t }, i) => ({
        label: `#${t.point} ${paths.map((p) => fmt(t.parameters[p])).join(' ')} s${t.seed} r${t.stage}`,
        stroke: palette[i % palette.length]!,
        points: true,
      })),
    });
    chart.setData([xs, ...series.map(({ items }) => {
      const at = new Map(items.map((m) => [m.samplesSeen, m.accuracy.allActivity]));
      return xs.map((x) => at.get(x) ?? null);
    })]);
  }

  const value = (t: SweepTrial, key: SortKey): number | string => {
    if (key.startsWith('p:')) {
      const v = t.parameters[key.slice(2)];
      return typeof v === 'number' ? v : JSON.stringify(v);
    }
    const v = t[key as keyof SweepTrial];
    return typeof v === 'number' ? v : v === null ? -Infinity : String(v);
  };

  function render(s: SweepDetail) {
    title.textContent = `Sweep ${s.name || s.id.slice(0, 8)}`;
    clear(head);
    const best = s.best;
    append(head, [
      h(
        'p',
        {},
        badge(s.status),
        ` ${s.trials.completed}/${s.trials.total} trials completed`,
        s.trials.stopped ? `, ${s.trials.stopped} stopped by successive halving` : '',
        ` · objective ${s.objective}`,
        s.stages.length > 1 ? ` · rung ${s.stage + 1} of ${s.stages.length}` : '',
      ),
      best
        ? h(
            'p',
            { 'data-testid': 'sweep-best' },
            'Best: ',
            h('a', { href: `#/experiments/${encodeURIComponent(best.experimentId)}` }, Object.entries(best.parameters).map(([k, v]) => `${k} = ${fmt(v)}`).join(', ') + `, seed ${best.seed}`),
            ` — validation ${pct(best.objective)} (mean over seeds ${pct(best.pointObjective)}), test ${pct(best.testAccuracy?.allActivity)}`,
          )
        : null,
      s.error ? h('p', { class: 'error' }, s.error) : null,
      h(
        'p',
        {},
        h('a', { href: withKey(`/v1/sweeps/${encodeURIComponent(s.id)}/trials.csv`), download: '' }, 'Trials (CSV)'),
        ' ',
        s.status === 'running'
          ? h(
              'button',
              {
                type: 'button',
                class: 'secondary',
                onclick: () => void api.cancelSweep(s.id).then(() => refresh(), (err: Error) => showError(err)),
              },
              'Cancel sweep',
            )
          : null,
      ),
    ]);
    clear(charts);
    const paths = s.request.parameters.map((p) => p.path);
    const compareIds = [...selected];
    if (compareIds.length >= 2) {
      charts.append(h('p', {}, h('a', { href: `#/compare?ids=${compareIds.map(encodeURIComponent).join(',')}`, 'data-testid': 'compare-link' }, `Compare the ${compareIds.length} selected trials`)));
    }
    charts.append(h('h2', {}, 'Objective against each parameter'), h('div', { class: 'sweep-scatter-row' }, ...paths.map((p) => scatter(s, p))));

    if (!selectionTouched) {
      selected.clear();
      const ranked = s.items.filter((t) => t.experimentId && t.objective !== null).sort((a, b) => b.objective! - a.objective!);
      for (const t of ranked.slice(0, 3)) selected.add(t.experimentId!);
    }
    void drawCurves(s).catch((err: Error) => showError(err));
    const rows = [...s.items].sort((a, b) => {
      const va = value(a, sort.key);
      const vb = value(b, sort.key);
      const c = typeof va === 'number' && typeof vb === 'number' ? va - vb : String(va).localeCompare(String(vb));
      return (sort.desc ? -c : c) || a.point - b.point || a.seed - b.seed || a.stage - b.stage;
    });
    const cols: [SortKey, string][] = [
      ['point', 'Point'],
      ...paths.map((p) => [`p:${p}`, p] as [SortKey, string]),
      ['seed', 'Seed'],
      ['stage', 'Rung'],
      ['status', 'Status'],
      ['objective', 'Objective'],
      ['samplesPerSec', 'Samples/s'],
    ];
    const th = ([key, label]: [SortKey, string]) =>
      h(
        'th',
        { scope: 'col', 'aria-sort': sort.key === key ? (sort.desc ? 'descending' : 'ascending') : null },
        h(
          'button',
          {
            type: 'button',
            class: 'link',
            'data-sort': key,
            onclick: () => {
              sort = { key, desc: sort.key === key ? !sort.desc : key === 'objective' };
              if (last) render(last);
            },
          },
          label,
          sort.key === key ? (sort.desc ? ' ▼' : ' ▲') : '',
        ),
      );
    clear(table);
    table.append(
      h(
        'table',
        { class: 'list' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Curve'), ...cols.map(th))),
        h(
          'tbody',
          {},
          ...rows.map((t) =>
            h(
              'tr',
              { 'data-best': t.experimentId !== null && t.experimentId === best?.experimentId ? 'true' : null },
              h(
                'td',
                {},
                t.experimentId
                  ? h('input', {
                      type: 'checkbox',
                      'aria-label': `learning curve of trial ${t.point}, seed ${t.seed}, rung ${t.stage}`,
                      checked: selected.has(t.experimentId),
                      disabled: !selected.has(t.experimentId) && selected.size >= 6,
                      onchange: (ev: Event) => {
                        selectionTouched = true;
                        if ((ev.target as HTMLInputElement).checked) selected.add(t.experimentId!);
                        else selected.delete(t.experimentId!);
                        if (last) render(last);
                      },
                    })
                  : null,
              ),
              h('td', {}, t.experimentId ? h('a', { href: `#/experiments/${encodeURIComponent(t.experimentId)}` }, String(t.point)) : String(t.point)),
              ...paths.map((p) => h('td', {}, fmt(t.parameters[p]))),
              h('td', {}, String(t.seed)),
              h('td', {}, `${t.stage}${t.trainSamples !== null ? ` (${t.trainSamples})` : ''}`),
              h('td', {}, badge(t.status), t.stopped ? ' stopped' : ''),
              h('td', {}, pct(t.objective)),
              h('td', {}, t.samplesPerSec === null ? '—' : Math.round(t.samplesPerSec).toLocaleString('en-US')),
            ),
          ),
        ),
      ),
    );
  }

  function showError(err: Error) {
    errorBox.hidden = false;
    errorBox.textContent = err instanceof ApiError && err.status === 404 ? `Sweep ${id} not found.` : err.message;
  }

  async function refresh() {
    if (timer) clearTimeout(timer);
    try {
      const s = await api.sweep(id);
      if (destroyed) return;
      errorBox.hidden = true;
      last = s;
      render(s);
      if (s.status === 'running') timer = setTimeout(() => void refresh(), REFRESH_MS);
    } catch (err) {
      if (!destroyed) showError(err as Error);
    }
  }
  void refresh();
  return {
    el,
    title: 'Sweep',
    destroy() {
      destroyed = true;
      if (timer) clearTimeout(timer);
      chart?.destroy();
    },
  };
}
