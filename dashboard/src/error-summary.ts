/** The box above a form that shows the server's error: status, code, message and the field it names. */
import type { ErrorBody } from './api.js';
import { h } from './util.js';

export function showErrorSummary(box: HTMLElement, err: ErrorBody | string): void {
  box.hidden = false;
  box.replaceChildren(
    typeof err === 'string'
      ? h('p', {}, err)
      : h('p', {}, h('strong', {}, `${err.statusCode} ${err.code}`), ': ', err.message, err.field ? h('span', { class: 'mono' }, ` (field ${err.field})`) : null),
  );
}
