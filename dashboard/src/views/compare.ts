/**
 * #/compare?ids=a,b,…: 2–6 experiments side by side — their learning curves overlaid, final
 * accuracies, receptive fields (the server's PNG of each, once finished) and the fields in which
 * their definitions differ (every other field is the same). Opened from a sweep's page with the
 * selected trials, or by URL with any experiment ids.
 */
import { api, ApiError, finishedStatuses, weightsUrl, type ExperimentDetail, type WindowMetrics } from '../api.js';
import { LineChart } from '../charts.js';
import { clear, h, pct } from '../util.js';
import type { View } from './view.js';

const palette = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];

/** JSON Pointer → JSON text of every leaf (arrays of numbers count as one leaf). */
function flatten(v: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (v !== null && typeof v === 'object' && !(Array.isArray(v) && v.every((x) => typeof x !== 'object'))) {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) flatten(x, `${prefix}/${k}`, out);
  } else {
    out.set(prefix || '/', JSON.stringify(v));
  }
  return out;
}

export function compareView(params: URLSearchParams): View {
  const ids = (params.get('ids') ?? '').split(',').map((x) => x.trim()).filter(Boolean).slice(0, 6);
  let destroyed = false;
  let chart: LineChart | null = null;
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const el = h('section', { class: 'list-view', 'data-testid': 'compare' }, h('h1', { tabindex: -1 }, `Compare ${ids.length} experiments`), body);

  async function load() {
    if (ids.length < 2) {
      clear(body);
      body.append(h('p', { class: 'error', role: 'alert' }, 'Give 2 to 6 experiment ids: #/compare?ids=ID1,ID2'));
      return;
    }
    try {
      const exps: ExperimentDetail[] = await Promise.all(ids.map((id) => api.get(id)));
      const metrics: WindowMetrics[][] = await Promise.all(ids.map(async (id) => (await api.metrics(id)).items));
      if (destroyed) return;
      clear(body);
      const label = (e: ExperimentDetail, i: number) => `${i + 1}. ${e.name || e.id.slice(0, 8)}`;

      // Definitions: only the fields that differ.
      const flat = exps.map((e) => flatten(e.definition));
      const paths = [...new Set(flat.flatMap((f) => [...f.keys()]))].filter((p) => p !== '/name' && new Set(flat.map((f) => f.get(p))).size > 1).sort();
      body.append(
        h(
          'div',
          { class: 'card' },
          h('h2', {}, 'Results'),
          h(
            'table',
            { class: 'list', 'data-testid': 'compare-results' },
            h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Experiment'), ...['Status', 'Test all-activity', 'Test proportion', 'Validation', 'Train samples/s'].map((t) => h('th', { scope: 'col' }, t)))),
            h(
              'tbody',
              {},
              ...exps.map((e, i) =>
                h(
                  'tr',
                  {},
                  h('td', {}, h('span', { style: `color:${palette[i]}` }, '■ '), h('a', { href: `#/experiments/${encodeURIComponent(e.id)}` }, label(e, i))),
                  h('td', {}, e.status),
                  h('td', {}, pct(e.result?.accuracy.allActivity)),
                  h('td', {}, pct(e.result?.accuracy.proportionWeighting)),
                  h('td', {}, pct((e.result as { validation?: { accuracy: { allActivity: number } | null } } | null)?.validation?.accuracy?.allActivity)),
                  h('td', {}, e.result ? Math.round(e.result.train.samplesPerSec).toLocaleString('en-US') : '—'),
                ),
              ),
            ),
          ),
        ),
        h(
          'div',
          { class: 'card' },
          h('h2', {}, `Definition differences (${paths.length} field${paths.length === 1 ? '' : 's'}; everything else is the same)`),
          h(
            'table',
            { class: 'list', 'data-testid': 'compare-diff' },
            h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Field'), ...exps.map((e, i) => h('th', { scope: 'col' }, label(e, i))))),
            h(
              'tbody',
              {},
              ...paths.map((p) => {
                const values = flat.map((f) => f.get(p) ?? '—');
                const common = values.filter((v) => v === values[0]).length > 1 ? values[0] : undefined;
                return h(
                  'tr',
                  { 'data-path': p },
                  h('th', { scope: 'row' }, p),
                  ...values.map((v) => h('td', { class: v !== common ? 'diff' : null }, v)),
                );
              }),
            ),
          ),
        ),
      );
      const curves = h('div', { 'data-testid': 'compare-curves' });
      body.append(h('div', { class: 'card' }, h('h2', {}, 'Learning curves'), curves));
      const xs = [...new Set(metrics.flatMap((m) => m.map((x) => x.samplesSeen)))].sort((a, b) => a - b);
      chart = new LineChart(curves, {
        title: 'Accuracy of each labelling window (all-activity)',
        xLabel: 'training samples',
        yLabel: 'accuracy',
        yRange: [0, 1],
        yValues: (v) => `${Math.round(v * 100)}%`,
        series: exps.map((e, i) => ({ label: label(e, i), stroke: palette[i]!, points: true })),
      });
      chart.setData([xs, ...metrics.map((m) => {
        const at = new Map(m.map((x) => [x.samplesSeen, x.accuracy.allActivity]));
        return xs.map((x) => at.get(x) ?? null);
      })]);
      body.append(
        h(
          'div',
          { class: 'card' },
          h('h2', {}, 'Receptive fields'),
          h(
            'div',
            { class: 'compare-rf-row', 'data-testid': 'compare-rf' },
            ...exps.map((e, i) =>
              h(
                'figure',
                {},
                finishedStatuses.includes(e.status) && e.result
                  ? h('img', { src: weightsUrl(e.id, 'png'), alt: `receptive fields of ${label(e, i)}` })
                  : h('p', { class: 'muted' }, 'not finished'),
                h('figcaption', {}, label(e, i)),
              ),
            ),
          ),
        ),
      );
    } catch (err) {
      if (destroyed) return;
      clear(body);
      body.append(h('p', { class: 'error', role: 'alert' }, err instanceof ApiError && err.status === 404 ? (err as Error).message : (err as Error).message));
    }
  }
  void load();
  return {
    el,
    title: 'Compare',
    destroy() {
      destroyed = true;
      chart?.destroy();
    },
  };
}
