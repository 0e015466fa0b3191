/**
 * The sweep-creation form of #/sweeps: a sweep request (POST /v1/sweeps) as JSON, prefilled with
 * the README's example, edited and sent as typed — the server checks it (every trial of every
 * rung, before anything is queued), so its 4xx, with the field it names, is what the form shows.
 * On success the page moves to the new sweep.
 */
import { api } from '../api.js';
import { jsonEditor } from '../json-editor.js';
import { h } from '../util.js';

/** README, "Parameter sweeps": 3 input rates × 2 seeds = 6 trials of 100 neurons. */
export const exampleSweepRequest = {
  name: 'input rate',
  base: { preset: 'diehl-cook-2015-hybrid', neurons: 100, train: 5000, validation: 1000, test: 1000 },
  parameters: [{ type: 'grid', path: '/encoder/maxRateHz', values: [48, 64, 96] }],
  seeds: 2,
};

const example = () => JSON.stringify(exampleSweepRequest, null, 2);

export function sweepForm(): HTMLFormElement {
  const reset = h('button', { type: 'button', class: 'secondary' }, 'Reset to the example');
  const editor = jsonEditor({
    id: 'sweep-json',
    name: 'sweep',
    rows: 14,
    title: 'Start a sweep',
    label: 'Sweep request (JSON)',
    help: 'A base experiment (a preset request or a full definition), the parameters to vary by JSON Pointer into the resolved base (grid, uniform, log-uniform, choice), seeds, and optionally successiveHalving and budget: see the README, "Parameter sweeps", and /openapi.yaml.',
    submitLabel: 'Start sweep',
    buttons: [reset],
    testId: 'sweep-form',
    async submit(text) {
      const created = await api.createSweep(text);
      location.hash = `#/sweeps/${encodeURIComponent(created.id)}`;
    },
  });
  editor.textarea.value = example();
  reset.addEventListener('click', () => {
    editor.textarea.value = example();
    editor.clearError();
  });
  return editor.form;
}
