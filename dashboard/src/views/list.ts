/** #/experiments: the experiment list with a status filter, paging and auto-refresh. */
import { api, ApiError, statuses, type ExperimentSummary, type Status } from '../api.js';
import { clear, dateTime, h, pct, setText } from '../util.js';
import type { View } from './view.js';

const PAGE = 20;
const REFRESH_MS = 2000;

export function statusBadge(s: Status): HTMLElement {
  return h('span', { class: `badge badge-${s}`, 'data-status': s }, s);
}

export function progressCell(x: ExperimentSummary): HTMLElement {
  const p = x.progress;
  if (!p || p.total === 0) return h('span', { class: 'muted' }, x.status === 'completed' ? 'done' : '—');
  const frac = p.done / p.total;
  return h(
    'span',
    { class: 'progress-cell' },
    h('progress', { max: p.total, value: p.done, 'aria-label': `${p.phase} ${p.done} of ${p.total}` }),
    ` ${p.phase} ${(frac * 100).toFixed(0)}%`,
  );
}

export function listView(params: URLSearchParams): View {
  const selected = new Set((params.get('status') ?? '').split(',').filter((s): s is Status => (statuses as readonly string[]).includes(s)));
  let offset = Math.max(0, Number(params.get('offset')) || 0);
  let timer: ReturnType<typeof setTimeout> | null = null;
  let abort: AbortController | null = null;
  let destroyed = false;

  const tbody = h('tbody');
  const info = h('p', { class: 'muted', 'aria-live': 'polite' });
  const errorBox = h('p', { class: 'error', role: 'alert', hidden: true });
  const prev = h('button', { type: 'button', class: 'secondary', onclick: () => page(-1) }, '← Newer');
  const next = h('button', { type: 'button', class: 'secondary', onclick: () => page(1) }, 'Older →');

  const filters = h(
    'fieldset',
    { class: 'filters' },
    h('legend', {}, 'Show status'),
    ...statuses.map((s) => {
      const cb = h('input', { type: 'checkbox', name: 'status', value: s, checked: selected.has(s) });
      cb.addEventListener('change', () => {
        if (cb.checked) selected.add(s);
        else selected.delete(s);
        offset = 0;
        syncHash();
        void refresh();
      });
      return h('label', { class: 'check' }, cb, ' ', statusBadge(s));
    }),
  );

  const table = h(
    'table',
    { class: 'list', 'data-testid': 'experiment-list' },
    h('caption', { class: 'visually-hidden' }, 'Experiments, newest first'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'Experiment'),
        h('th', { scope: 'col' }, 'Status'),
        h('th', { scope: 'col' }, 'Progress'),
        h('th', { scope: 'col' }, 'Accuracy'),
        h('th', { scope: 'col' }, 'Created'),
      ),
    ),
    tbody,
  );

  const el = h(
    'section',
    { class: 'list-view' },
    h(
      'div',
      { class: 'title-row' },
      h('h1', { tabindex: -1 }, 'Experiments'),
      h('a', { class: 'button', href: '#/new' }, '+ New experiment'),
    ),
    filters,
    errorBox,
    h('div', { class: 'table-wrap' }, table),
    h('div', { class: 'pager' }, prev, info, next),
  );

  function syncHash() {
    const q = new URLSearchParams();
    if (selected.size > 0) q.set('status', [...selected].join(','));
    if (offset > 0) q.set('offset', String(offset));
    const hash = `#/experiments${q.size > 0 ? `?${q}` : ''}`;
    if (location.hash !== hash) history.replaceState(null, '', hash);
  }

  function page(dir: number) {
    offset = Math.max(0, offset + dir * PAGE);
    syncHash();
    void refresh();
  }

  function row(x: ExperimentSummary): HTMLTableRowElement {
    const acc = x.accuracy;
    return h(
      'tr',
      { 'data-id': x.id },
      h('td', { 'data-label': 'Experiment' }, h('a', { href: `#/experiments/${encodeURIComponent(x.id)}` }, x.name || x.id), h('div', { class: 'muted mono small' }, x.id.slice(0, 8))),
      h('td', { 'data-label': 'Status' }, statusBadge(x.status), x.error ? h('div', { class: 'error small' }, x.error) : null),
      h('td', { 'data-label': 'Progress' }, progressCell(x)),
      h('td', { 'data-label': 'Accuracy' }, acc ? h('span', { title: `proportion weighting ${pct(acc.proportionWeighting)}` }, pct(acc.allActivity)) : h('span', { class: 'muted' }, '—')),
      h('td', { 'data-label': 'Created' }, h('time', { datetime: x.createdAt }, dateTime(x.createdAt))),
    );
  }

  let shownIds = '';

  function renderRows(items: ExperimentSummary[]) {
    clear(tbody);
    if (items.length === 0) {
      tbody.append(
        h(
          'tr',
          {},
          h(
            'td',
            { colspan: 5, class: 'muted' },
            selected.size > 0 ? 'No experiments with this status.' : 'No experiments yet. ',
            selected.size > 0 ? null : h('a', { href: '#/new' }, 'Start one.'),
          ),
        ),
      );
    }
    for (const x of items) tbody.append(row(x));
  }

  async function refresh() {
    if (timer) clearTimeout(timer);
    timer = null;
    abort?.abort();
    abort = new AbortController();
    try {
      const res = await api.list({ status: [...selected], limit: PAGE, offset }, abort.signal);
      if (destroyed) return;
      errorBox.hidden = true;
      const ids = res.items.map((x) => x.id).join(',');
      if (ids === shownIds && res.items.length > 0) {
        // Same rows: update the cells in place so keyboard focus on a link survives the refresh.
        res.items.forEach((x, k) => {
          const fresh = row(x);
          const old = tbody.rows[k]!;
          for (let c = 1; c < fresh.cells.length; c++) {
            if (old.cells[c]!.innerHTML !== fresh.cells[c]!.innerHTML) old.cells[c]!.replaceWith(fresh.cells[c]!.cloneNode(true));
          }
        });
      } else {
        shownIds = ids;
        renderRows(res.items);
      }
      const last = Math.min(res.total, offset + res.items.length);
      setText(info, res.total === 0 ? '0 experiments' : `${offset + 1}–${last} of ${res.total}`);
      prev.disabled = offset === 0;
      next.disabled = last >= res.total;
    } catch (err) {
      if ((err as Error).name === 'AbortError' || destroyed) return;
      errorBox.hidden = false;
      errorBox.textContent = err instanceof ApiError ? err.body.message : String(err);
    }
    if (!destroyed) timer = setTimeout(() => void refresh(), REFRESH_MS);
  }

  void refresh();
  return {
    title: 'Experiments',
    el,
    destroy() {
      destroyed = true;
      abort?.abort();
      if (timer) clearTimeout(timer);
    },
  };
}
