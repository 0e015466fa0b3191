/** Small DOM and formatting helpers (no framework). */

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

/** h('button', {class: 'x', onclick: f}, 'text') — attributes starting with `on` are listeners. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v as EventListener);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

export function append(el: Element, children: (Child | Child[])[]): void {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.firstChild.remove();
}

/** Sets text only when it changed (cheap to call every frame). */
export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

export const pct = (x: number | null | undefined, digits = 1) =>
  x === null || x === undefined || !Number.isFinite(x) ? '—' : `${(x * 100).toFixed(digits)}%`;

export const int = (x: number) => Math.round(x).toLocaleString('en-US');

export function duration(sec: number | null | undefined): string {
  if (sec === null || sec === undefined || !Number.isFinite(sec) || sec < 0) return '—';
  if (sec < 1) return '<1 s';
  if (sec < 90) return `${Math.round(sec)} s`;
  const m = Math.floor(sec / 60);
  if (m < 90) return `${m} min ${Math.round(sec - m * 60)} s`;
  const hh = Math.floor(m / 60);
  return `${hh} h ${m - hh * 60} min`;
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString('en-GB', { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function rate(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  return x >= 100 ? int(x) : x.toFixed(1);
}

/** Triggers a browser download of in-memory data. */
export function downloadBlob(data: BlobPart, type: string, filename: string): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = h('a', { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Runs `f` when the element's width changes (for canvases and charts sized to their box). */
export function observeWidth(el: Element, f: (width: number) => void): () => void {
  let last = -1;
  const ro = new ResizeObserver((entries) => {
    const w = Math.floor(entries[0]!.contentRect.width);
    if (w !== last && w > 0) {
      last = w;
      f(w);
    }
  });
  ro.observe(el);
  return () => ro.disconnect();
}
