/**
 * #/datasets: upload a dataset (IDX or NPY files, multipart) and the list of stored datasets with
 * a preview of their first samples. Errors are the server's: the message appears next to the file
 * field it names (wrong magic number, truncated file, count mismatch, …).
 */
import { api, ApiError, datasetPreviewUrl, type Dataset } from '../api.js';
import { dateTime, h, int } from '../util.js';
import type { View } from './view.js';

const fileFields = [
  { name: 'trainImages', label: 'Training images', help: 'IDX (…-idx3-ubyte) or .npy, uint8 or float32, [N, H, W] or [N, H·W]. Required (unless event streams are uploaded below).' },
  { name: 'trainLabels', label: 'Training labels', help: 'IDX (…-idx1-ubyte) or .npy integers [N]. Optional: without labels there is no accuracy.' },
  { name: 'testImages', label: 'Test images', help: 'Same format and size as the training images. Optional.' },
  { name: 'testLabels', label: 'Test labels', help: 'Required when training labels and test images are given.' },
] as const;

const eventFields = [
  { name: 'trainEvents', label: 'Training events', help: 'NumPy [E, 4] integers (x, y, t µs from the sample start, polarity 0/1) or N-MNIST binary (.bin).' },
  { name: 'trainOffsets', label: 'Training offsets', help: 'NumPy/IDX integers: the first event of each sample, [N] or [N+1].' },
  { name: 'testEvents', label: 'Test events', help: 'Optional; as the training events.' },
  { name: 'testOffsets', label: 'Test offsets', help: 'Required with test events.' },
] as const;

export function datasetsView(): View {
  let destroyed = false;
  const errors = new Map<string, HTMLElement>();
  const inputs = new Map<string, HTMLInputElement>();
  const summary = h('div', { class: 'error-summary', role: 'alert', tabindex: -1, hidden: true, 'data-testid': 'upload-error' });
  const status = h('p', { class: 'muted', 'aria-live': 'polite', 'data-testid': 'upload-status' });
  const field = (name: string, label: string, input: HTMLInputElement, help?: string) => {
    const error = h('p', { class: 'field-error', id: `ds-${name}-error`, hidden: true });
    errors.set(name, error);
    inputs.set(name, input);
    input.setAttribute('aria-describedby', `ds-${name}-help ds-${name}-error`);
    return h('div', { class: 'field', 'data-field': name }, h('label', { for: input.id }, label), input, help ? h('p', { class: 'help', id: `ds-${name}-help` }, help) : null, error);
  };
  const submit = h('button', { type: 'submit', 'data-testid': 'upload-submit' }, 'Upload');
  const form = h(
    'form',
    { class: 'experiment-form', novalidate: true, 'aria-labelledby': 'upload-title', 'data-testid': 'upload-form' },
    h('h2', { id: 'upload-title' }, 'Upload a dataset'),
    summary,
    h(
      'div',
      { class: 'form-grid' },
      field('name', 'Name', h('input', { id: 'ds-name', name: 'name', type: 'text', maxlength: 200, autocomplete: 'off' }), 'Optional; default: the training images file name.'),
      field('classes', 'Classes', h('input', { id: 'ds-classes', name: 'classes', type: 'number', min: 1, max: 256, step: 1 }), 'Optional; labels must be below it (default: largest label + 1).'),
      ...fileFields.map((f) => field(f.name, f.label, h('input', { id: `ds-${f.name}`, name: f.name, type: 'file', 'data-testid': `file-${f.name}` }), f.help)),
    ),
    h(
      'details',
      { class: 'advanced' },
      h('summary', {}, 'Event streams instead of images (labels above, one per sample)'),
      h('div', { class: 'form-grid' }, ...eventFields.map((f) => field(f.name, f.label, h('input', { id: `ds-${f.name}`, name: f.name, type: 'file', 'data-testid': `file-${f.name}` }), f.help))),
    ),
    h('div', { class: 'actions' }, submit),
    status,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void upload();
  });

  const list = h('div', { class: 'table-wrap', 'data-testid': 'dataset-list' }, h('p', { class: 'muted' }, 'Loading…'));
  const el = h(
    'section',
    { class: 'datasets-view' },
    h('h1', { tabindex: -1 }, 'Datasets'),
    h(
      'p',
      { class: 'muted' },
      'Your own data for the network to learn: MNIST-style IDX files or NumPy arrays of images, or event streams (NumPy [E, 4] or N-MNIST .bin with per-sample offsets; see the README). An experiment names one with {"dataset": {"id": "…"}} or from the New experiment form; the built-in generators (oriented bars, moving bars) need no upload.',
    ),
    h('div', { class: 'card' }, form),
    h('section', { class: 'card', 'aria-labelledby': 'ds-list-title' }, h('h2', { id: 'ds-list-title' }, 'Stored datasets'), list),
  );

  function clearErrors() {
    summary.hidden = true;
    for (const [name, e] of errors) {
      e.hidden = true;
      e.textContent = '';
      inputs.get(name)?.removeAttribute('aria-invalid');
    }
  }

  async function upload() {
    clearErrors();
    const fd = new FormData();
    for (const [name, input] of inputs) {
      if (input.type === 'file') {
        const file = input.files?.[0];
        if (file) fd.append(name, file, file.name);
      } else if (input.value.trim() !== '') fd.append(name, input.value.trim());
    }
    submit.disabled = true;
    status.textContent = 'Uploading…';
    try {
      const d = await api.uploadDataset(fd);
      status.textContent = d.deduplicated ? `Already stored as “${d.name}” (identical content).` : `Stored “${d.name}”: ${d.shape.height}×${d.shape.width}, ${int(d.train.count)} training samples.`;
      form.reset();
      await refresh();
    } catch (err) {
      status.textContent = '';
      if (!(err instanceof ApiError)) throw err;
      const e = err.body.field ? errors.get(err.body.field) : undefined;
      if (e) {
        e.hidden = false;
        e.textContent = err.body.message;
        const input = inputs.get(err.body.field!)!;
        input.setAttribute('aria-invalid', 'true');
        input.focus();
      } else {
        summary.hidden = false;
        summary.replaceChildren(h('p', {}, h('strong', {}, `${err.body.statusCode} ${err.body.code}`), ': ', err.body.message));
        summary.focus();
      }
    } finally {
      submit.disabled = false;
    }
  }

  function row(d: Dataset) {
    const del = h('button', { type: 'button', class: 'secondary small', onclick: () => void remove(d, del) }, 'Delete');
    return h(
      'tr',
      { 'data-dataset-id': d.id },
      h('td', {}, h('img', { src: datasetPreviewUrl(d.id, 8), alt: `First samples of ${d.name}`, class: 'ds-preview', loading: 'lazy' })),
      h('td', {}, h('strong', {}, d.name), h('br'), h('span', { class: 'mono small muted', title: d.sha256 }, d.sha256.slice(0, 12))),
      h('td', {}, `${d.shape.height}×${d.shape.width}${d.shape.channels > 1 ? `×${d.shape.channels}` : ''}`),
      h('td', {}, d.labelled ? String(d.classes) : 'unlabelled'),
      h('td', {}, `${int(d.train.count)} / ${int(d.test.count)}`),
      h('td', { class: 'small' }, dateTime(d.createdAt)),
      h('td', {}, h('a', { class: 'button small', href: `#/new?dataset=${encodeURIComponent(d.id)}` }, 'Train on it'), ' ', del),
    );
  }

  async function remove(d: Dataset, btn: HTMLButtonElement) {
    btn.disabled = true;
    try {
      await api.removeDataset(d.id);
      await refresh();
    } catch (err) {
      btn.disabled = false;
      status.textContent = err instanceof ApiError ? err.body.message : String(err);
    }
  }

  async function refresh() {
    try {
      const page = await api.datasets();
      if (destroyed) return;
      list.replaceChildren(
        page.items.length === 0
          ? h('p', { class: 'muted' }, 'No datasets yet.')
          : h(
              'table',
              { class: 'table' },
              h('thead', {}, h('tr', {}, ...['Preview', 'Name', 'Size', 'Classes', 'Train / test', 'Uploaded', ''].map((t) => h('th', { scope: 'col' }, t)))),
              h('tbody', {}, ...page.items.map(row)),
            ),
      );
    } catch (err) {
      if (!destroyed) list.replaceChildren(h('p', { class: 'error' }, err instanceof ApiError ? err.body.message : String(err)));
    }
  }
  void refresh();

  return {
    title: 'Datasets',
    el,
    destroy() {
      destroyed = true;
    },
  };
}
