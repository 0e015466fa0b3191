/**
 * #/new: a form over the server's presets and a raw-JSON editor for full definitions.
 * Validation is the server's: a 4xx names the offending field, and the message is shown next to
 * that field (or above the form when the field is not on it).
 */
import { api, ApiError, type Definition, type Preset } from '../api.js';
import { stdpParams, StdpWindow } from '../draw/stdp.js';
import { showErrorSummary } from '../error-summary.js';
import { jsonEditor } from '../json-editor.js';
import { h } from '../util.js';
import type { View } from './view.js';

type Kind = 'int' | 'number' | 'text' | 'select' | 'intList';

interface FieldSpec {
  /** Path in the preset request, e.g. `stream.weightsEvery`. */
  path: string;
  label: string;
  kind: Kind;
  help?: string;
  options?: string[];
  step?: string;
  min?: number;
  initial: (d: Definition) => string;
  advanced?: boolean;
}

const dense = (d: Definition) => d.connections.find((c) => c.type === 'dense');
/** The learning rates nuPre/nuPost of the dense connection's rule, where it has them. */
const rates = (d: Definition): { nuPre?: number; nuPost?: number } => {
  const r = dense(d)?.plasticity;
  return r && 'nuPre' in r ? r : {};
};
const exc = (d: Definition) => d.layers.find((l) => l.type !== 'input');

const fields: FieldSpec[] = [
  { path: 'name', label: 'Name', kind: 'text', help: 'Optional; shown in the list.', initial: () => '' },
  { path: 'neurons', label: 'Excitatory neurons', kind: 'int', min: 1, help: 'Also the inhibitory layer size.', initial: (d) => String(exc(d)?.size ?? 100) },
  { path: 'train', label: 'Training samples per epoch', kind: 'int', min: 0, initial: (d) => String(d.dataset.train) },
  { path: 'test', label: 'Test samples', kind: 'int', min: 0, initial: (d) => String(d.dataset.test) },
  { path: 'epochs', label: 'Epochs', kind: 'int', min: 1, initial: (d) => String(d.epochs) },
  { path: 'seed', label: 'Seed', kind: 'int', min: 0, initial: (d) => String(d.seed) },
  {
    path: 'encoder',
    label: 'Input encoder',
    kind: 'select',
    options: ['bindsnet-poisson', 'poisson', 'latency'],
    initial: (d) => d.encoder.type,
  },
  { path: 'nuPost', label: 'Potentiation rate nuPost', kind: 'number', step: 'any', min: 0, help: 'w += nuPost · pre-trace on a post spike.', initial: (d) => String(rates(d).nuPost ?? 0.01) },
  { path: 'nuPre', label: 'Depression rate nuPre', kind: 'number', step: 'any', min: 0, help: 'w −= nuPre · post-trace on a pre spike.', initial: (d) => String(rates(d).nuPre ?? 0.0001) },
  { path: 'stream.weightsEvery', label: 'Weight snapshot every (samples)', kind: 'int', min: 0, help: 'Receptive fields update this often; 0 = never.', initial: (d) => String(d.stream.weightsEvery) },
  { path: 'validation', label: 'Validation samples', kind: 'int', min: 0, advanced: true, initial: (d) => String(d.dataset.validation) },
  { path: 'maxRateHz', label: 'Max input rate (Hz)', kind: 'number', step: 'any', min: 0, advanced: true, initial: (d) => String(d.encoder.maxRateHz) },
  { path: 'timePerSampleMs', label: 'Time per sample (ms)', kind: 'number', step: 'any', min: 0, advanced: true, initial: (d) => String(d.timePerSampleMs) },
  {
    path: 'labelUpdateInterval',
    label: 'Labelling window (samples)',
    kind: 'int',
    min: 1,
    advanced: true,
    help: 'Labels are re-assigned and running accuracy is scored per window.',
    initial: (d) => String(d.evaluation.labelUpdateInterval),
  },
  { path: 'stream.spikesEvery', label: 'Spike raster every (samples)', kind: 'int', min: 0, advanced: true, initial: (d) => String(d.stream.spikesEvery) },
  { path: 'stream.progressEvery', label: 'Progress every (samples)', kind: 'int', min: 1, advanced: true, initial: (d) => String(d.stream.progressEvery) },
  {
    path: 'stream.voltageNeurons',
    label: 'Neurons with recorded voltage',
    kind: 'intList',
    advanced: true,
    help: 'Comma-separated excitatory neuron indices (at most 16).',
    initial: (d) => d.stream.voltageNeurons.join(', '),
  },
];

const inputId = (path: string) => `f-${path.replace(/\./g, '-')}`;

interface Bound {
  spec: FieldSpec;
  input: HTMLInputElement | HTMLSelectElement;
  error: HTMLElement;
}

export function newView(params: URLSearchParams = new URLSearchParams()): View {
  let preset: Preset | null = null;
  const wantedDataset = params.get('dataset');
  let destroyed = false;
  const bound: Bound[] = [];
  const stdp = new StdpWindow();

  // ---- form over the preset ----
  const summary = h('div', { class: 'error-summary', role: 'alert', tabindex: -1, hidden: true });
  const basic = h('div', { class: 'form-grid' });
  const advanced = h('div', { class: 'form-grid' });
  for (const spec of fields) {
    const id = inputId(spec.path);
    const error = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
    const helpEl = spec.help ? h('p', { class: 'help', id: `${id}-help` }, spec.help) : null;
    const describedBy = [helpEl ? `${id}-help` : null, `${id}-error`].filter(Boolean).join(' ');
    let input: HTMLInputElement | HTMLSelectElement;
    if (spec.kind === 'select') {
      input = h('select', { id, name: spec.path, 'aria-describedby': describedBy }, ...(spec.options ?? []).map((o) => h('option', { value: o }, o)));
    } else {
      input = h('input', {
        id,
        name: spec.path,
        type: spec.kind === 'int' || spec.kind === 'number' ? 'number' : 'text',
        step: spec.kind === 'int' ? '1' : spec.step,
        min: spec.min,
        inputmode: spec.kind === 'int' ? 'numeric' : spec.kind === 'number' ? 'decimal' : undefined,
        autocomplete: 'off',
        'aria-describedby': describedBy,
      });
    }
    input.addEventListener('input', () => {
      setFieldError(b, null);
      if (spec.path === 'nuPre' || spec.path === 'nuPost') updateStdp();
    });
    const b: Bound = { spec, input, error };
    bound.push(b);
    (spec.advanced ? advanced : basic).append(h('div', { class: 'field', 'data-field': spec.path }, h('label', { for: id }, spec.label), input, helpEl, error));
  }
  let presets: Preset[] = [];
  const presetSelect = h('select', { id: 'preset-name', name: 'preset', 'aria-describedby': 'preset-description' });
  presetSelect.addEventListener('change', () => {
    preset = presets.find((p) => p.name === presetSelect.value) ?? preset;
    showPreset();
  });
  // ---- data: MNIST, a built-in generator or an uploaded dataset ----
  const datasetSelect = h(
    'select',
    // Not name="dataset": a form control of that name would shadow form.dataset.
    { id: 'dataset-select', name: 'data-source', 'aria-describedby': 'dataset-help' },
    h('option', { value: 'mnist' }, 'MNIST (28×28, 10 digits)'),
    h('option', { value: 'oriented-bars' }, 'Oriented bars (16×16, 8 orientations, generated)'),
    h('option', { value: 'moving-bars' }, 'Moving bars (16×16 ON/OFF events, 8 directions, generated)'),
  );
  datasetSelect.addEventListener('change', () => {
    // Another dataset has its own sizes: leave train/test empty so its defaults apply.
    for (const b of bound) if (b.spec.path === 'train' || b.spec.path === 'test') b.input.value = datasetSelect.value === 'mnist' && preset ? b.spec.initial(preset.definition) : '';
  });
  const datasetField = h(
    'div',
    { class: 'field', 'data-field': 'dataset' },
    h('label', { for: 'dataset-select' }, 'Dataset'),
    datasetSelect,
    h('p', { class: 'help', id: 'dataset-help' }, 'Upload your own on the Datasets page. The input layer follows the data’s height × width.'),
  );
  const submitBtn = h('button', { type: 'submit' }, 'Start experiment');
  const resetBtn = h('button', { type: 'button', class: 'secondary', onclick: () => fillDefaults() }, 'Reset to preset defaults');
  const form = h(
    'form',
    { class: 'experiment-form', novalidate: true, 'aria-labelledby': 'form-title' },
    h('h2', { id: 'form-title' }, 'Preset'),
    h('div', { class: 'field' }, h('label', { for: 'preset-name' }, 'Preset'), presetSelect),
    h('p', { class: 'muted', id: 'preset-description' }, 'Loading presets…'),
    summary,
    datasetField,
    basic,
    h('details', { class: 'advanced' }, h('summary', {}, 'More settings'), advanced),
    h('div', { class: 'actions' }, submitBtn, resetBtn),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void submitForm();
  });

  // ---- raw JSON editor ----
  const { form: jsonForm, textarea } = jsonEditor({
    id: 'raw-json',
    name: 'definition',
    rows: 24,
    title: 'Raw JSON definition',
    label: 'Experiment definition or preset request (JSON)',
    help: 'A full definition (layers, connections, encoder, dataset, stream…) or {"preset": "diehl-cook-2015", …}. Unknown fields are rejected; see /openapi.yaml.',
    submitLabel: 'Submit JSON',
    buttons: [
      h('button', { type: 'button', class: 'secondary', onclick: () => loadDefinitionIntoEditor() }, 'Load full preset definition'),
      h('button', { type: 'button', class: 'secondary', onclick: () => (textarea.value = JSON.stringify(formBody().body, null, 2)) }, 'Copy form as preset request'),
    ],
    async submit(text) {
      const created = await api.submit(text);
      location.hash = `#/experiments/${encodeURIComponent(created.id)}`;
    },
  });

  // ---- tabs ----
  const tabForm = h('button', { type: 'button', role: 'tab', id: 'tab-form', 'aria-controls': 'panel-form', 'aria-selected': 'true' }, 'Preset form');
  const tabJson = h('button', { type: 'button', role: 'tab', id: 'tab-json', 'aria-controls': 'panel-json', 'aria-selected': 'false', tabindex: -1 }, 'Raw JSON');
  const panelForm = h('div', { role: 'tabpanel', id: 'panel-form', 'aria-labelledby': 'tab-form' }, h('div', { class: 'form-layout' }, form, h('aside', { class: 'card stdp-preview' }, stdp.el)));
  const panelJson = h('div', { role: 'tabpanel', id: 'panel-json', 'aria-labelledby': 'tab-json', hidden: true }, jsonForm);
  const select = (which: 'form' | 'json', focus = false) => {
    const isForm = which === 'form';
    tabForm.setAttribute('aria-selected', String(isForm));
    tabJson.setAttribute('aria-selected', String(!isForm));
    tabForm.tabIndex = isForm ? 0 : -1;
    tabJson.tabIndex = isForm ? -1 : 0;
    panelForm.hidden = !isForm;
    panelJson.hidden = isForm;
    if (focus) (isForm ? tabForm : tabJson).focus();
    if (!isForm && !textarea.value) loadDefinitionIntoEditor();
  };
  tabForm.addEventListener('click', () => select('form'));
  tabJson.addEventListener('click', () => select('json'));
  const tablist = h('div', { role: 'tablist', 'aria-label': 'How to define the experiment', class: 'tabs' }, tabForm, tabJson);
  tablist.addEventListener('keydown', (ev) => {
    if (ev.key === 'ArrowRight' || ev.key === 'ArrowLeft' || ev.key === 'Home' || ev.key === 'End') {
      ev.preventDefault();
      const toJson = ev.key === 'End' || ((ev.key === 'ArrowRight' || ev.key === 'ArrowLeft') && tabForm.getAttribute('aria-selected') === 'true');
      select(toJson ? 'json' : 'form', true);
    }
  });

  const el = h('section', { class: 'new-view' }, h('h1', { tabindex: -1 }, 'New experiment'), tablist, panelForm, panelJson);

  // ---- behaviour ----
  function showPreset() {
    const desc = el.querySelector('#preset-description')!;
    desc.textContent = preset ? preset.description : 'The server lists no presets; use the raw JSON editor.';
    fillDefaults();
  }

  function fillDefaults() {
    if (!preset) return;
    for (const b of bound) {
      b.input.value = b.spec.initial(preset.definition);
      setFieldError(b, null);
    }
    summary.hidden = true;
    updateStdp();
  }

  function updateStdp() {
    if (!preset) return;
    const p = stdpParams(preset.definition);
    if (!p) return stdp.update(null);
    const num = (path: string, fallback: number) => {
      const b = bound.find((x) => x.spec.path === path);
      const v = b ? Number(b.input.value) : NaN;
      return b && b.input.value !== '' && Number.isFinite(v) && v >= 0 ? v : fallback;
    };
    const r = p.rule;
    // The form's rates override the preset's rule where the rule has them (post-pre family, diehl-cook).
    if ('nuPre' in r) stdp.update({ ...p, rule: { ...r, nuPre: num('nuPre', r.nuPre), nuPost: num('nuPost', r.nuPost) } });
    else stdp.update(p);
  }

  function setFieldError(b: Bound, message: string | null) {
    b.error.hidden = message === null;
    b.error.textContent = message ?? '';
    if (message === null) b.input.removeAttribute('aria-invalid');
    else b.input.setAttribute('aria-invalid', 'true');
  }

  /** The preset request from the form; fields left empty are omitted (the server's defaults apply). */
  function formBody(): { body: Record<string, unknown>; local: { b: Bound; message: string }[] } {
    const body: Record<string, unknown> = { preset: preset?.name ?? 'diehl-cook-2015' };
    const ds = datasetSelect.value;
    if (ds === 'oriented-bars' || ds === 'moving-bars') body.dataset = { name: ds };
    else if (ds.startsWith('upload:')) body.dataset = { id: ds.slice('upload:'.length) };
    const local: { b: Bound; message: string }[] = [];
    for (const b of bound) {
      const raw = b.input.value.trim();
      if (b.input instanceof HTMLInputElement && b.input.validity.badInput) {
        local.push({ b, message: 'Enter a number.' });
        continue;
      }
      if (raw === '') continue;
      let value: unknown = raw;
      if (b.spec.kind === 'int' || b.spec.kind === 'number') value = Number(raw);
      else if (b.spec.kind === 'intList') value = raw.split(/[\s,]+/).filter(Boolean).map((x) => (/^-?\d+(\.\d+)?$/.test(x) ? Number(x) : x));
      const parts = b.spec.path.split('.');
      let target = body;
      for (const p of parts.slice(0, -1)) target = (target[p] ??= {}) as Record<string, unknown>;
      target[parts.at(-1)!] = value;
    }
    return { body, local };
  }

  async function submitForm() {
    for (const b of bound) setFieldError(b, null);
    summary.hidden = true;
    const { body, local } = formBody();
    if (local.length > 0) {
      for (const { b, message } of local) setFieldError(b, message);
      local[0]!.b.input.focus();
      return;
    }
    submitBtn.disabled = true;
    try {
      const created = await api.submit(body);
      location.hash = `#/experiments/${encodeURIComponent(created.id)}`;
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const field = err.body.field;
      // The most specific field on the form whose path is a prefix of the error's.
      const b = field
        ? bound.filter((x) => field === x.spec.path || field.startsWith(`${x.spec.path}.`)).sort((a, c) => c.spec.path.length - a.spec.path.length)[0]
        : undefined;
      if (b) {
        if (b.spec.advanced) (advanced.closest('details') as HTMLDetailsElement).open = true;
        setFieldError(b, err.body.message);
        b.input.focus();
      } else {
        showErrorSummary(summary, err.body);
        summary.focus();
      }
    } finally {
      submitBtn.disabled = false;
    }
  }

  function loadDefinitionIntoEditor() {
    if (preset) textarea.value = JSON.stringify(preset.definition, null, 2);
  }

  api.presets().then(
    (res) => {
      if (destroyed) return;
      presets = res.items;
      presetSelect.replaceChildren(...presets.map((p) => h('option', { value: p.name }, p.name)));
      preset = presets.find((p) => p.name === 'diehl-cook-2015') ?? presets[0] ?? null;
      if (preset) presetSelect.value = preset.name;
      showPreset();
      if (datasetSelect.value !== 'mnist') datasetSelect.dispatchEvent(new Event('change'));
      form.dataset.ready = 'true';
    },
    (err: unknown) => {
      if (destroyed) return;
      showErrorSummary(summary, err instanceof ApiError ? err.body : String(err));
    },
  );

  api.datasets().then(
    (page) => {
      if (destroyed) return;
      for (const d of page.items) {
        datasetSelect.append(h('option', { value: `upload:${d.id}` }, `${d.name} (${d.shape.height}×${d.shape.width}${d.kind === 'events' ? ' events' : ''}, uploaded)`));
      }
      if (wantedDataset && page.items.some((d) => d.id === wantedDataset)) {
        datasetSelect.value = `upload:${wantedDataset}`;
        datasetSelect.dispatchEvent(new Event('change'));
      }
      datasetSelect.dataset.ready = 'true';
    },
    () => {
      // No dataset list (e.g. no key yet): MNIST and the generators remain.
    },
  );

  return {
    title: 'New experiment',
    el,
    destroy() {
      destroyed = true;
      stdp.destroy();
    },
  };
}
