/**
 * SpikeLab dashboard: hash routes #/experiments, #/new and #/experiments/:id over the public
 * HTTP/WebSocket API, plus the API-key dialog (the key is kept in localStorage and sent as a
 * Bearer header, or as ?api_key= where headers cannot be set: WebSockets and download links).
 */
import './style.css';
import { api, getApiKey, onApiKeyChange, onUnauthorized, setApiKey } from './api.js';
import { h, setText } from './util.js';
import { experimentView } from './views/experiment.js';
import { datasetsView } from './views/datasets.js';
import { sweepListView, sweepView } from './views/sweeps.js';
import { compareView } from './views/compare.js';
import { listView } from './views/list.js';
import { newView } from './views/new.js';
import type { View } from './views/view.js';

const main = document.getElementById('main')!;
const nav = document.getElementById('nav')!;
const keyButton = document.getElementById('api-key-button') as HTMLButtonElement;
const keyDialog = document.getElementById('api-key-dialog') as HTMLDialogElement;
const keyForm = document.getElementById('api-key-form') as HTMLFormElement;
const keyInput = document.getElementById('api-key-input') as HTMLInputElement;
const keyMessage = document.getElementById('api-key-message')!;
const health = document.getElementById('health')!;

let current: View | null = null;

function route(): void {
  const hash = location.hash || '#/experiments';
  const [path, query = ''] = hash.slice(1).split('?');
  const params = new URLSearchParams(query);
  const parts = (path ?? '').split('/').filter(Boolean);
  let next: View;
  if (parts[0] === 'new') next = newView(params);
  else if (parts[0] === 'datasets') next = datasetsView();
  else if (parts[0] === 'compare') next = compareView(params);
  else if (parts[0] === 'sweeps') next = parts[1] ? sweepView(decodeURIComponent(parts[1])) : sweepListView();
  else if (parts[0] === 'experiments' && parts[1]) next = experimentView(decodeURIComponent(parts[1]));
  else next = listView(params);

  current?.destroy();
  current = next;
  main.replaceChildren(next.el);
  document.title = `${next.title} · SpikeLab`;
  for (const a of nav.querySelectorAll('a')) {
    const page = parts[0] === 'new' || parts[0] === 'datasets' || parts[0] === 'sweeps' ? `#/${parts[0]}` : '#/experiments';
    const active = a.getAttribute('href') === page;
    if (active) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  // Move focus to the new page's heading so keyboard and screen-reader users land on it.
  const heading = next.el.querySelector<HTMLElement>('h1');
  heading?.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

// Re-rendering the same experiment when only the query changed (list filters) is avoided by
// the list view, which uses history.replaceState for its own query.
window.addEventListener('hashchange', route);

// The skip link must not change the hash (that is the router's); it only moves focus.
document.querySelector('.skip-link')?.addEventListener('click', (ev) => {
  ev.preventDefault();
  main.focus();
});

function openKeyDialog(message = ''): void {
  keyInput.value = getApiKey();
  keyMessage.textContent = message;
  keyMessage.hidden = !message;
  if (!keyDialog.open) keyDialog.showModal();
  keyInput.focus();
}

function updateKeyButton(): void {
  setText(keyButton, getApiKey() ? 'API key ✓' : 'API key');
}

keyButton.addEventListener('click', () => openKeyDialog());
keyForm.addEventListener('submit', (ev) => {
  const submitter = (ev as SubmitEvent).submitter as HTMLButtonElement | null;
  if (submitter?.value === 'cancel') return;
  setApiKey(submitter?.value === 'clear' ? '' : keyInput.value.trim());
});
onApiKeyChange(() => {
  updateKeyButton();
  route();
});
let lastPrompt = 0;
onUnauthorized((message) => {
  // One prompt per burst of 401s (the list polls).
  if (Date.now() - lastPrompt < 5000 || keyDialog.open) return;
  lastPrompt = Date.now();
  openKeyDialog(`The server requires an API key: ${message}`);
});

async function pollHealth(): Promise<void> {
  try {
    const hl = await api.health();
    health.dataset.state = hl.status === 'ok' ? 'ok' : 'bad';
    health.title = `server ${hl.status}: ${hl.queue.running} running, ${hl.queue.queued} queued, ${hl.queue.workers} workers`;
    setText(health, `${hl.queue.running} running · ${hl.queue.queued} queued`);
  } catch {
    health.dataset.state = 'bad';
    health.title = 'server unreachable';
    setText(health, 'server unreachable');
  }
  setTimeout(() => void pollHealth(), 3_000);
}

updateKeyButton();
route();
void pollHealth();

// Exposed for debugging in the browser console.
(window as unknown as { spikelab: object }).spikelab = { api, h };
