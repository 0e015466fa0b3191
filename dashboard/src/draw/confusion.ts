/** Confusion matrix and per-class counts as accessible HTML tables (rows: true class, columns: predicted). */
import { h } from '../util.js';
import { blues } from './colormap.js';

export function confusionTable(matrix: number[][], caption: string): HTMLTableElement {
  const n = matrix.length;
  const head = h('tr', {}, h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'true class by predicted class'), h('span', { 'aria-hidden': 'true' }, 'true ↓ pred →')));
  for (let c = 0; c < n; c++) head.append(h('th', { scope: 'col' }, String(c)));
  head.append(h('th', { scope: 'col' }, 'recall'));
  const body = h('tbody');
  for (let r = 0; r < n; r++) {
    const row = matrix[r] ?? [];
    const total = row.reduce((a, b) => a + b, 0);
    const tr = h('tr', {}, h('th', { scope: 'row' }, String(r)));
    for (let c = 0; c < n; c++) {
      const v = row[c] ?? 0;
      const f = total > 0 ? v / total : 0;
      const td = h('td', { title: `true ${r}, predicted ${c}: ${v}` }, String(v));
      td.style.background = blues(f);
      if (f > 0.55) td.style.color = '#fff';
      if (r === c) td.classList.add('diag');
      tr.append(td);
    }
    tr.append(h('td', { class: 'recall' }, total > 0 ? `${(((row[r] ?? 0) / total) * 100).toFixed(0)}%` : '—'));
    body.append(tr);
  }
  return h('table', { class: 'confusion', 'data-testid': 'confusion' }, h('caption', {}, caption), h('thead', {}, head), body);
}

/** How many neurons were assigned to each class. */
export function assignmentTable(assignments: number[], classes = 10): HTMLTableElement {
  const counts = new Array<number>(classes).fill(0);
  for (const a of assignments) if (a >= 0 && a < classes) counts[a]!++;
  const max = Math.max(1, ...counts);
  const head = h('tr', {}, h('th', { scope: 'row' }, 'class'));
  const vals = h('tr', {}, h('th', { scope: 'row' }, 'neurons'));
  counts.forEach((c, k) => {
    head.append(h('th', { scope: 'col' }, String(k)));
    const td = h('td', { title: `${c} neurons assigned to ${k}` }, String(c));
    td.style.background = blues(c / max);
    if (c / max > 0.55) td.style.color = '#fff';
    vals.append(td);
  });
  return h('table', { class: 'assignments', 'data-testid': 'assignments' }, h('caption', {}, 'Neurons per assigned label'), h('tbody', {}, head, vals));
}
