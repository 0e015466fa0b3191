/**
 * A form around one JSON text area whose text goes to the server as typed, so the server judges
 * it: the error box above it shows the server's 4xx with the field it names (or a local parse
 * error from Format), the text area is marked invalid meanwhile. Used by the raw-JSON editor of
 * #/new and the sweep form of #/sweeps.
 */
import { ApiError, type ErrorBody } from './api.js';
import { showErrorSummary } from './error-summary.js';
import { h } from './util.js';

export interface JsonEditorOptions {
  /** Id of the text area (its help text is `${id}-help`). */
  id: string;
  name: string;
  rows: number;
  title: string;
  label: string;
  help: string;
  submitLabel: string;
  /** Buttons of the page, placed between the submit button and Format. */
  buttons?: HTMLElement[];
  /** Sends the text; an ApiError it throws is shown in the error box. */
  submit: (text: string) => Promise<void>;
  testId?: string;
}

export interface JsonEditor {
  form: HTMLFormElement;
  textarea: HTMLTextAreaElement;
  clearError(): void;
}

export function jsonEditor(o: JsonEditorOptions): JsonEditor {
  const error = h('div', { class: 'error-summary', role: 'alert', tabindex: -1, hidden: true, 'data-testid': o.testId ? `${o.testId}-error` : null });
  const textarea = h('textarea', { id: o.id, name: o.name, rows: o.rows, spellcheck: 'false', 'aria-describedby': `${o.id}-help` });
  const submit = h('button', { type: 'submit' }, o.submitLabel);
  const format = h('button', { type: 'button', class: 'secondary' }, 'Format');
  const form = h(
    'form',
    { class: 'json-form', novalidate: true, 'data-testid': o.testId ?? null },
    h('h2', {}, o.title),
    h('label', { for: o.id }, o.label),
    h('p', { class: 'help', id: `${o.id}-help` }, o.help),
    error,
    textarea,
    h('div', { class: 'actions' }, submit, ...(o.buttons ?? []), format),
  );

  const clearError = () => {
    error.hidden = true;
    delete error.dataset.field;
    textarea.removeAttribute('aria-invalid');
  };
  const showError = (err: ErrorBody | string) => {
    showErrorSummary(error, err);
    if (typeof err !== 'string' && err.field) error.dataset.field = err.field;
    textarea.setAttribute('aria-invalid', 'true');
    error.focus();
  };

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearError();
    submit.disabled = true;
    o.submit(textarea.value)
      .catch((err: unknown) => {
        if (!(err instanceof ApiError)) throw err;
        showError(err.body);
      })
      .finally(() => (submit.disabled = false));
  });
  format.addEventListener('click', () => {
    try {
      textarea.value = JSON.stringify(JSON.parse(textarea.value), null, 2);
      clearError();
    } catch (err) {
      showError(`Not valid JSON: ${(err as Error).message}`);
    }
  });
  return { form, textarea, clearError };
}
