/**
 * #/experiments/:id — the live view of one experiment: receptive fields, the current sample's
 * spike rasters and a neuron's voltage, learning curves, progress/ETA, and when finished the
 * confusion matrix, per-neuron labels and downloads.
 *
 * Data path: one WebSocket (progress, metrics, weights, voltage, and the spikes of the input and
 * excitatory layers) → handlers keep only the latest frame of each kind → a FrameScheduler draws each view at most once per animation
 * frame. Canvases and ImageData are reused between frames.
 */
import { api, ApiError, fetchWeights, finishedStatuses, weightsUrl, type ExperimentDetail, type Progress, type Result, type Status, type WindowMetrics } from '../api.js';
import { LineChart } from '../charts.js';
import { assignmentTable, confusionTable } from '../draw/confusion.js';
import { Raster } from '../draw/raster.js';
import { ReceptiveFieldGrid } from '../draw/receptive-fields.js';
import { stdpParams, StdpWindow } from '../draw/stdp.js';
import { drawTuning, tuningSummary } from '../draw/tuning.js';
import { VoltagePlot } from '../draw/voltage.js';
import { ExperimentStream, FrameScheduler, type Channel, type ConnectionState, type EndMsg, type SpikesFrame, type VoltageFrame, type WeightsFrame } from '../stream.js';
import { dateTime, downloadBlob, duration, h, int, pct, rate, setText } from '../util.js';
import { statusBadge } from './list.js';
import type { View } from './view.js';

const emptyHeader = {
  version: 1,
  kind: 2,
  dtype: 2,
  phase: 'train' as const,
  seq: 0,
  sampleIndex: 0,
  rows: 0,
  cols: 0,
  steps: 0,
  label: null,
  layer: null,
  layerSize: 0,
};

const channelsMain: Channel[] = ['progress', 'metrics', 'weights', 'spikes', 'voltage'];

function metricsCsv(items: WindowMetrics[]): string {
  const head = 'samples_seen,epoch,accuracy_all_activity,accuracy_proportion_weighting,spikes_per_sample_input,spikes_per_sample_excitatory,samples_per_sec,theta_mean_mv';
  const num = (x: number | null) => (x === null || x === undefined ? '' : String(x));
  const rows = items.map((m) =>
    [m.samplesSeen, m.epoch, num(m.accuracy.allActivity), num(m.accuracy.proportionWeighting), m.spikesPerSample.input, m.spikesPerSample.excitatory, m.samplesPerSec, m.thetaMean].join(','),
  );
  return `${[head, ...rows].join('\n')}\n`;
}

/** Height, width and channels of the definition's input (what a receptive-field tile shows). */
function inputShape(def: ExperimentDetail['definition']): { height: number; width: number; channels: number } {
  const ds = def.dataset;
  if (ds.name === 'oriented-bars') return { height: ds.side, width: ds.side, channels: 1 };
  if (ds.name === 'moving-bars') return { height: ds.side, width: ds.side, channels: 2 };
  if (ds.name === 'upload' && ds.resolved) return ds.resolved;
  return { height: 28, width: 28, channels: 1 };
}

function datasetLabel(def: ExperimentDetail['definition']): string {
  const ds = def.dataset;
  if (ds.name === 'upload') return `uploaded dataset ${ds.id}`;
  if (ds.name === 'oriented-bars') return 'oriented bars (generated)';
  if (ds.name === 'moving-bars') return 'moving bars, ON/OFF events (generated)';
  return 'MNIST';
}

export function experimentView(id: string): View {
  let detail: ExperimentDetail | null = null;
  let status: Status | null = null;
  let progress: Progress | null = null;
  let result: Result | null = null;
  let destroyed = false;
  let paused = false;
  let selectedColumn = 0;
  let helloCount = 0;
  let serverDrops: Record<Channel, number> | null = null;
  const metrics = new Map<number, WindowMetrics>();
  const history: { status: Status; at: Date }[] = [];
  const latest: { weights: WeightsFrame | null; input: SpikesFrame | null; exc: SpikesFrame | null; voltage: VoltageFrame | null } = {
    weights: null,
    input: null,
    exc: null,
    voltage: null,
  };
  const scheduler = new FrameScheduler();
  scheduler.throttle('sample', 100);
  scheduler.throttle('curves', 250);
  scheduler.throttle('rf', 150);
  scheduler.throttle('stream', 250);
  scheduler.throttle('progress', 100);
  const disposers: (() => void)[] = [];

  // ---------- header ----------
  const title = h('h1', { tabindex: -1 }, 'Experiment');
  const statusEl = h('span', { 'data-testid': 'status', 'aria-live': 'polite' });
  const timeline = h('ol', { class: 'timeline', 'data-testid': 'status-history', 'aria-label': 'Status history' });
  const progressBar = h('progress', { max: 1, value: 0, 'aria-labelledby': 'progress-text' });
  const progressText = h('span', { id: 'progress-text', 'data-testid': 'progress-text' }, '—');
  const etaText = h('span', { class: 'muted', 'data-testid': 'eta' });
  const streamText = h('span', { 'data-testid': 'stream-state' }, 'connecting…');
  const dropsText = h('span', { 'data-testid': 'dropped', class: 'muted' });
  const errorText = h('p', { class: 'error', role: 'alert', hidden: true });
  const timesText = h('p', { class: 'muted small' });
  const dataText = h('p', { class: 'small', 'data-testid': 'dataset' });
  const cancelBtn = h('button', { type: 'button', class: 'danger', disabled: true, onclick: () => void cancel() }, 'Cancel run');
  const deleteBtn = h('button', { type: 'button', class: 'secondary', onclick: () => void remove() }, 'Delete');
  const reconnectBtn = h('button', { type: 'button', class: 'secondary small', title: 'Drop and re-open the stream', onclick: () => reconnect() }, 'Reconnect');

  const header = h(
    'header',
    { class: 'exp-header card' },
    h('div', { class: 'title-row' }, h('div', {}, title, h('p', { class: 'muted mono small' }, id)), h('div', { class: 'actions' }, cancelBtn, deleteBtn)),
    h('div', { class: 'status-row' }, h('span', {}, 'Status: ', statusEl), timeline),
    h('div', { class: 'progress-row' }, progressBar, progressText, etaText),
    h('div', { class: 'stream-row small' }, h('span', {}, 'Stream: ', streamText), dropsText, reconnectBtn),
    timesText,
    dataText,
    errorText,
  );

  // ---------- receptive fields ----------
  const rfCanvas = h('canvas', { id: 'rf-canvas', class: 'rf', 'data-testid': 'rf-canvas', role: 'img', 'aria-label': 'Receptive fields of the excitatory neurons' });
  rfCanvas.width = 1;
  rfCanvas.height = 1;
  const rf = new ReceptiveFieldGrid(rfCanvas);
  const rfNote = h('p', { class: 'muted small' }, 'Input weights of each excitatory neuron as a 28×28 tile, min-max normalised per neuron.');
  const rfCaption = h('p', { class: 'muted small', 'data-testid': 'rf-caption' }, 'Waiting for the first weight snapshot…');
  const rfHover = h('p', { class: 'small', 'aria-live': 'off' }, '\u00a0');
  const labelsHint = h('p', { class: 'muted small', hidden: true }, 'Too many neurons to label the tiles; hover a tile to see its label.');
  const labelsToggle = h('input', { type: 'checkbox', id: 'show-labels', checked: true, disabled: true });
  labelsToggle.addEventListener('change', () => scheduler.request('rf', drawRf));
  rfCanvas.addEventListener('mousemove', (ev) => {
    const r = rfCanvas.getBoundingClientRect();
    const n = rf.neuronAt(ev.clientX - r.left, ev.clientY - r.top);
    const label = n >= 0 && result ? result.assignments[n] : undefined;
    setText(rfHover, n < 0 ? '\u00a0' : `neuron ${n}${label !== undefined ? ` · assigned label ${label}` : ''}${recordedNeurons().includes(n) ? ' · voltage recorded (click to show)' : ''}`);
  });
  rfCanvas.addEventListener('click', (ev) => {
    const r = rfCanvas.getBoundingClientRect();
    const n = rf.neuronAt(ev.clientX - r.left, ev.clientY - r.top);
    const col = recordedNeurons().indexOf(n);
    if (col >= 0) {
      neuronSelect.value = String(col);
      selectedColumn = col;
      scheduler.request('sample', drawSample);
    }
  });
  const rfCard = h(
    'section',
    { class: 'card rf-card', 'aria-labelledby': 'rf-title' },
    h('h2', { id: 'rf-title' }, 'Receptive fields'),
    rfNote,
    h('div', { class: 'rf-wrap' }, rfCanvas),
    rfCaption,
    rfHover,
    h('label', { class: 'check small' }, labelsToggle, ' show assigned labels (when finished)'),
    labelsHint,
  );

  // ---------- current sample ----------
  const inputCanvas = h('canvas', { class: 'raster', 'data-testid': 'raster-input', role: 'img', 'aria-label': 'Spike raster of the input layer' });
  const excCanvas = h('canvas', { class: 'raster', 'data-testid': 'raster-excitatory', role: 'img', 'aria-label': 'Spike raster of the excitatory layer' });
  const inputRaster = new Raster(inputCanvas, [70, 90, 140]);
  const excRaster = new Raster(excCanvas, [200, 30, 60]);
  const inputCaption = h('figcaption', { class: 'small muted' }, 'Input layer (784)');
  const excCaption = h('figcaption', { class: 'small muted' }, 'Excitatory layer');
  const neuronSelect = h('select', { id: 'voltage-neuron' });
  neuronSelect.addEventListener('change', () => {
    selectedColumn = Number(neuronSelect.value);
    scheduler.request('sample', drawSample);
  });
  const pauseBtn = h('button', { type: 'button', class: 'secondary small', 'aria-pressed': 'false' }, 'Pause');
  pauseBtn.addEventListener('click', () => {
    paused = !paused;
    pauseBtn.setAttribute('aria-pressed', String(paused));
    pauseBtn.textContent = paused ? 'Resume' : 'Pause';
  });
  const voltageBox = h('div', { class: 'chart' });
  const voltageNote = h('p', { class: 'muted small' });
  const sampleNote = h('p', { class: 'muted small' }, 'Spike rasters and voltages are streamed while the experiment runs.');
  const sampleBody = h(
    'div',
    {},
    h('figure', { class: 'raster-fig' }, inputCanvas, inputCaption),
    h('figure', { class: 'raster-fig' }, excCanvas, excCaption),
    h('div', { class: 'inline-field' }, h('label', { for: 'voltage-neuron' }, 'Voltage of neuron'), neuronSelect),
    voltageBox,
    voltageNote,
  );
  const sampleCard = h(
    'section',
    { class: 'card sample-card', 'aria-labelledby': 'sample-title' },
    h('div', { class: 'title-row' }, h('h2', { id: 'sample-title' }, 'Current sample'), pauseBtn),
    sampleNote,
    sampleBody,
  );
  const voltage = new VoltagePlot(voltageBox);

  // ---------- curves ----------
  const accBox = h('div', { class: 'chart' });
  const spsBox = h('div', { class: 'chart' });
  const spikesBox = h('div', { class: 'chart' });
  const curvesCard = h(
    'section',
    { class: 'card curves-card', 'aria-labelledby': 'curves-title' },
    h('h2', { id: 'curves-title' }, 'Learning curves'),
    h('p', { class: 'muted small' }, 'Per labelling window: accuracy of the window under the labels assigned before it.'),
    h('div', { class: 'curves' }, accBox, spsBox, spikesBox),
  );
  const accChart = new LineChart(accBox, {
    title: 'Running accuracy',
    xLabel: 'training samples',
    yLabel: 'accuracy',
    yRange: [0, 1],
    yValues: (v) => `${Math.round(v * 100)}%`,
    series: [
      { label: 'all activity', stroke: '#2563eb', width: 2 },
      { label: 'proportion weighting', stroke: '#16a34a', width: 2 },
    ],
  });
  const spsChart = new LineChart(spsBox, {
    title: 'Speed',
    xLabel: 'training samples',
    yLabel: 'samples / s',
    series: [{ label: 'samples/s', stroke: '#9333ea', width: 2 }],
  });
  const spikesChart = new LineChart(spikesBox, {
    title: 'Spikes per sample',
    xLabel: 'training samples',
    yLabel: 'excitatory',
    y2Label: 'input',
    series: [
      { label: 'excitatory', stroke: '#dc2626', width: 2 },
      { label: 'input', stroke: '#64748b', scale: 'y2', width: 1.5 },
    ],
  });

  // ---------- STDP ----------
  const stdp = new StdpWindow();
  const stdpCard = h('section', { class: 'card', 'aria-labelledby': 'stdp-title' }, h('h2', { id: 'stdp-title' }, 'Plasticity rule'), stdp.el);

  // ---------- results ----------
  const accuracyEl = h('dl', { class: 'accuracy', 'data-testid': 'accuracy' });
  const confusionSelect = h(
    'select',
    { id: 'confusion-method' },
    h('option', { value: 'all' }, 'all activity'),
    h('option', { value: 'prop' }, 'proportion weighting'),
  );
  const confusionBox = h('div', { class: 'table-wrap' });
  const assignBox = h('div', { class: 'table-wrap' });
  confusionSelect.addEventListener('change', () => renderResult());
  const tuningCanvas = h('canvas', { class: 'tuning', 'data-testid': 'tuning-canvas', role: 'img', 'aria-label': 'Tuning curve of each excitatory neuron' });
  const tuningText = h('p', { 'data-testid': 'tuning-summary' });
  const tuningCard = h(
    'section',
    { class: 'card', 'aria-labelledby': 'tuning-title', hidden: true, 'data-testid': 'tuning' },
    h('h2', { id: 'tuning-title' }, 'Tuning'),
    h('p', { class: 'muted small' }, 'Mean test response of each neuron per stimulus angle (polar, normalised per neuron; red: preferred angle; number: selectivity index, 1 = one angle only).'),
    tuningText,
    h('div', { class: 'table-wrap' }, tuningCanvas),
  );
  const resultsCard = h(
    'section',
    { class: 'card results-card', 'aria-labelledby': 'results-title', hidden: true, 'data-testid': 'results' },
    h('h2', { id: 'results-title' }, 'Results'),
    accuracyEl,
    h('div', { class: 'inline-field' }, h('label', { for: 'confusion-method' }, 'Confusion matrix for'), confusionSelect),
    confusionBox,
    assignBox,
  );

  // ---------- downloads ----------
  const npyLink = h('a', { class: 'button secondary', 'data-testid': 'download-npy', download: `${id}-weights.npy` }, 'Weights (.npy)');
  const pngLink = h('a', { class: 'button secondary', 'data-testid': 'download-png', download: `${id}-weights.png` }, 'Weights (.png)');
  const csvBtn = h('button', { type: 'button', class: 'secondary', 'data-testid': 'download-csv', onclick: () => void downloadCsv() }, 'Metrics (.csv)');
  const defBtn = h('button', { type: 'button', class: 'secondary', 'data-testid': 'download-definition', onclick: () => downloadDefinition() }, 'Definition (.json)');
  const weightsNote = h('p', { class: 'muted small' }, 'Trained weights are available when the run has finished.');
  const downloadsCard = h(
    'section',
    { class: 'card', 'aria-labelledby': 'downloads-title' },
    h('h2', { id: 'downloads-title' }, 'Downloads'),
    h('div', { class: 'actions wrap' }, npyLink, pngLink, csvBtn, defBtn),
    weightsNote,
  );
  const definitionPre = h('pre', { class: 'json' });
  const definitionCard = h('details', { class: 'card' }, h('summary', {}, 'Definition (JSON)'), definitionPre);

  const el = h(
    'section',
    { class: 'exp-view' },
    h('p', {}, h('a', { href: '#/experiments' }, '← All experiments')),
    header,
    h('div', { class: 'live-grid' }, rfCard, sampleCard),
    curvesCard,
    h('div', { class: 'two-col' }, resultsCard, h('div', { class: 'stack' }, downloadsCard, stdpCard)),
    tuningCard,
    definitionCard,
  );

  // ---------- rendering ----------
  const recordedNeurons = (): number[] => (latest.voltage ? Array.from(latest.voltage.neurons) : (detail?.definition.stream.voltageNeurons ?? []));

  function setStatus(s: Status) {
    if (s === status) return;
    status = s;
    history.push({ status: s, at: new Date() });
    statusEl.replaceChildren(statusBadge(s));
    statusEl.dataset.status = s;
    timeline.append(h('li', { 'data-status': s }, `${s} `, h('time', { datetime: new Date().toISOString() }, new Date().toLocaleTimeString('en-GB'))));
    timeline.dataset.statuses = history.map((x) => x.status).join(' ');
    const live = !finishedStatuses.includes(s);
    cancelBtn.disabled = !live;
    cancelBtn.hidden = !live;
    const nothingYet = !latest.input && !latest.exc && !latest.voltage;
    sampleBody.hidden = !live && nothingYet;
    pauseBtn.hidden = !live && nothingYet;
    sampleNote.hidden = !(!live && nothingYet);
    if (!live && nothingYet) sampleNote.textContent = `This experiment is ${s}; spike rasters and voltages are only streamed while it runs.`;
    updateDownloads();
  }

  function applyDetail(d: ExperimentDetail) {
    detail = d;
    setText(title, d.name || 'Experiment');
    setStatus(d.status);
    if (d.progress) progress = d.progress;
    if (d.result) result = d.result;
    if (d.error) {
      errorText.hidden = false;
      errorText.textContent = d.error;
    }
    setText(
      timesText,
      `created ${dateTime(d.createdAt)}${d.startedAt ? ` · started ${dateTime(d.startedAt)}` : ''}${d.finishedAt ? ` · finished ${dateTime(d.finishedAt)}` : ''}` +
        `${d.attempts > 1 ? ` · attempt ${d.attempts}` : ''}${d.resumedFrom ? ` · resumed from sample ${int(d.resumedFrom)}` : ''}`,
    );
    const def = JSON.stringify(d.definition, null, 2);
    if (definitionPre.textContent !== def) definitionPre.textContent = def;
    const shape = inputShape(d.definition);
    rf.setShape(shape.height, shape.width);
    setText(dataText, `Data: ${datasetLabel(d.definition)} · input ${shape.channels > 1 ? `${shape.channels}×` : ''}${shape.height}×${shape.width}`);
    setText(rfNote, `Input weights of each excitatory neuron as a ${shape.height}×${shape.width} tile${shape.channels > 1 ? ` per channel (${shape.channels} side by side)` : ''}, min-max normalised per neuron.`);
    stdp.update(stdpParams(d.definition));
    const vn = d.definition.stream.voltageNeurons;
    if (neuronSelect.options.length !== vn.length) {
      neuronSelect.replaceChildren(...vn.map((n, k) => h('option', { value: k }, `#${n}`)));
      neuronSelect.disabled = vn.length === 0;
      voltageNote.textContent =
        vn.length === 0
          ? 'No neuron has its voltage recorded (stream.voltageNeurons is empty).'
          : `Voltage is recorded for neurons ${vn.join(', ')} (stream.voltageNeurons), every ${d.definition.stream.spikesEvery} samples.`;
    }
    if (!latest.exc) excCaption.textContent = `Excitatory layer (${d.definition.layers.find((l) => l.type !== 'input')?.size ?? '?'})`;
    scheduler.request('progress', drawProgress);
    if (result) renderResult();
  }

  function drawProgress() {
    if (!progress) {
      setText(progressText, status === 'queued' ? 'waiting in the queue' : '—');
      return;
    }
    const p = progress;
    const def = detail?.definition;
    progressBar.max = Math.max(1, p.total);
    progressBar.value = p.done;
    const epochs = def ? ` · epoch ${p.epoch + 1}/${def.epochs}` : '';
    setText(progressText, `${p.phase === 'train' ? 'training' : 'testing'}${p.phase === 'train' ? epochs : ''} · ${int(p.done)} / ${int(p.total)} samples · ${rate(p.samplesPerSec)} samples/s`);
    if (status && finishedStatuses.includes(status)) {
      setText(etaText, detail?.result ? `took ${duration(detail.result.wallSeconds)}` : '');
    } else {
      // ETA of the run: the rest of this phase plus the evaluation still to come.
      let eta = p.etaSec;
      if (p.phase === 'train' && def && p.samplesPerSec > 0) eta += (def.dataset.test + def.dataset.validation) / p.samplesPerSec;
      setText(etaText, `ETA ${duration(eta)}`);
    }
  }

  function drawRf() {
    const w = latest.weights;
    if (!w) return;
    const labels = labelsToggle.checked && result ? result.assignments : null;
    rf.draw(w.data, w.rows, w.cols, w.sampleIndex, labels);
    if (result) {
      labelsToggle.disabled = result.assignments.length === 0 || !rf.labelsFit();
      labelsHint.hidden = rf.labelsFit();
    }
    setText(rfCaption, `Snapshot after ${int(w.sampleIndex)} training samples · ${w.cols} neurons${w.seq ? ` · frame ${w.seq}` : ''}`);
  }

  function drawSample() {
    const def = detail?.definition;
    const n = def?.layers.find((l) => l.type !== 'input')?.size ?? 0;
    const vf = latest.voltage;
    const markNeuron = vf && selectedColumn < vf.cols ? vf.neurons[selectedColumn]! : -1;
    const sampleLabel = (f: SpikesFrame) => `${f.phase} sample ${int(f.sampleIndex)}${f.label !== null ? ` (class ${f.label})` : ''} · ${int(f.rows)} spikes`;
    if (latest.input) {
      inputRaster.draw(latest.input.pairs, latest.input.steps, latest.input.layerSize);
      setText(inputCaption, `Input layer (${latest.input.layerSize}) · ${sampleLabel(latest.input)}`);
    }
    if (latest.exc) {
      excRaster.draw(latest.exc.pairs, latest.exc.steps, latest.exc.layerSize || n, markNeuron);
      setText(excCaption, `Excitatory layer (${latest.exc.layerSize || n}) · ${sampleLabel(latest.exc)}${markNeuron >= 0 ? ` · neuron #${markNeuron} in orange` : ''}`);
    }
    if (vf) voltage.draw(vf, Math.min(selectedColumn, vf.cols - 1), def?.dtMs ?? 1, latest.exc, latest.input);
  }

  function drawCurves() {
    const items = [...metrics.values()].sort((a, b) => a.samplesSeen - b.samplesSeen);
    const xs = items.map((m) => m.samplesSeen);
    accChart.setData([xs, items.map((m) => m.accuracy.allActivity), items.map((m) => m.accuracy.proportionWeighting)]);
    spsChart.setData([xs, items.map((m) => m.samplesPerSec)]);
    spikesChart.setData([xs, items.map((m) => m.spikesPerSample.excitatory), items.map((m) => m.spikesPerSample.input)]);
  }

  function drawStream(c?: ConnectionState) {
    if (c) {
      const s =
        c.state === 'live'
          ? 'live'
          : c.state === 'connecting'
            ? c.attempt > 0
              ? `connecting (attempt ${c.attempt + 1})…`
              : 'connecting…'
            : c.state === 'reconnecting'
              ? `${c.reason}; reconnecting in ${(c.inMs / 1000).toFixed(1)} s (attempt ${c.attempt})`
              : c.state === 'ended'
                ? 'closed (experiment finished)'
                : `stopped: ${c.reason}`;
      setText(streamText, s);
      streamText.dataset.state = c.state;
    }
    const main = streams[0]!;
    const gaps: Record<string, number> = {};
    for (const ch of Object.keys(main.seq) as Channel[]) gaps[ch] = main.seq[ch].dropped;
    const total = Object.values(gaps).reduce((a, b) => a + b, 0);
    const parts = Object.entries(gaps)
      .filter(([, v]) => v > 0)
      .map(([k, v]) => `${k} ${v}`);
    const reconnects = main.reconnects;
    let text = `frames dropped: ${total}${parts.length ? ` (${parts.join(', ')})` : ''} · received ${int(main.seq.weights.received)} weight snapshots, ${int(main.seq.spikes.received)} rasters`;
    if (reconnects > 0) {
      const missed = main.missedOffline();
      text += ` · ${reconnects} reconnect${reconnects > 1 ? 's' : ''} (${int(missed)} frames produced while disconnected)`;
    }
    if (serverDrops) {
      const sd = Object.values(serverDrops).reduce((a, b) => a + b, 0);
      const detailParts = Object.entries(serverDrops)
        .filter(([, v]) => v > 0)
        .map(([k, v]) => `${k} ${v}`);
      text += ` · dropped by the server for this view: ${sd}${detailParts.length ? ` (${detailParts.join(', ')})` : ''}`;
    }
    setText(dropsText, text);
    dropsText.dataset.dropped = String(total);
  }

  function renderResult() {
    if (!result) return;
    resultsCard.hidden = false;
    const r = result;
    if (r.tuning) {
      tuningCard.hidden = false;
      setText(tuningText, tuningSummary(r.tuning));
      drawTuning(tuningCanvas, r.tuning);
    }
    const rows: [string, string][] = [
      ['Test accuracy (all activity)', pct(r.accuracy.allActivity, 2)],
      ['Test accuracy (proportion weighting)', pct(r.accuracy.proportionWeighting, 2)],
    ];
    if (r.validation.accuracy) rows.push(['Validation accuracy (all activity)', pct(r.validation.accuracy.allActivity, 2)]);
    rows.push(
      ['Trained on', `${int(r.train.samples)} samples in ${duration(r.train.seconds)} (${rate(r.train.samplesPerSec)}/s)`],
      ['Tested on', `${int(r.test.samples)} samples (${rate(r.test.samplesPerSec)}/s)`],
      ['Spikes per test sample', r.spikesPerTestSample.toFixed(1)],
      ['Mean adaptive threshold θ', `${r.thetaMean.toFixed(2)} mV`],
    );
    if (r.cancelled) rows.unshift(['Note', 'cancelled before finishing: results are partial']);
    accuracyEl.replaceChildren(...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
    const matrix = confusionSelect.value === 'prop' ? r.confusionProportion : r.confusion;
    const hasMatrix = matrix.length > 0 && matrix.some((row) => row.some((v) => v > 0));
    confusionBox.replaceChildren(
      hasMatrix
        ? confusionTable(matrix, `Test confusion matrix (${confusionSelect.value === 'prop' ? 'proportion weighting' : 'all activity'}): rows true class, columns predicted`)
        : h('p', { class: 'muted' }, 'No test samples were classified.'),
    );
    assignBox.replaceChildren(r.assignments.length > 0 ? assignmentTable(r.assignments, r.classes ?? r.confusion.length ?? 10) : h('p', {}, ''));
    labelsToggle.disabled = r.assignments.length === 0 || (rf.cols > 0 && !rf.labelsFit());
    labelsHint.hidden = !(rf.cols > 0 && !rf.labelsFit());
    scheduler.request('rf', drawRf);
    scheduler.request('progress', drawProgress);
  }

  function updateDownloads() {
    const ready = status === 'completed' || (status === 'cancelled' && !!result);
    for (const [a, fmt] of [
      [npyLink, 'npy'],
      [pngLink, 'png'],
    ] as const) {
      if (ready) {
        a.href = weightsUrl(id, fmt);
        a.removeAttribute('aria-disabled');
      } else {
        a.removeAttribute('href');
        a.setAttribute('aria-disabled', 'true');
      }
    }
    weightsNote.hidden = ready;
  }

  // ---------- actions ----------
  function reconnect() {
    main.reconnectNow();
  }

  async function cancel() {
    cancelBtn.disabled = true;
    try {
      applyDetail(await api.cancel(id));
    } catch (err) {
      showError(err);
      cancelBtn.disabled = !!status && finishedStatuses.includes(status);
    }
  }

  async function remove() {
    if (!confirm('Delete this experiment and all its results?')) return;
    try {
      await api.remove(id);
      location.hash = '#/experiments';
    } catch (err) {
      showError(err);
    }
  }

  async function downloadCsv() {
    try {
      const res = await api.metrics(id);
      downloadBlob(metricsCsv(res.items), 'text/csv', `${id}-metrics.csv`);
    } catch (err) {
      showError(err);
    }
  }

  function downloadDefinition() {
    if (detail) downloadBlob(JSON.stringify(detail.definition, null, 2), 'application/json', `${id}-definition.json`);
  }

  function showError(err: unknown) {
    errorText.hidden = false;
    errorText.textContent = err instanceof ApiError ? err.body.message : String(err);
  }

  /**
   * After the end frame: a client that fell behind may have lost the last frames (the server
   * drops for slow clients), so fetch what the stored experiment has — its detail (finishedAt,
   * final progress, result), the full metrics history and, if the snapshot on screen is not the
   * final one, the trained weights.
   */
  async function resync(finalStatus: Status) {
    try {
      const d = await api.get(id);
      if (destroyed) return;
      applyDetail(d);
    } catch {
      // keep what the stream delivered
    }
    await loadMetrics();
    const trained = result?.train.samples;
    if (destroyed || trained === undefined || (finalStatus !== 'completed' && finalStatus !== 'cancelled')) return;
    if (latest.weights && latest.weights.sampleIndex === trained) return;
    try {
      const w = await fetchWeights(id);
      if (destroyed || w.shape.length !== 2) return;
      latest.weights = { ...emptyHeader, rows: w.shape[0]!, cols: w.shape[1]!, sampleIndex: trained, data: w.data };
      scheduler.request('rf', drawRf);
    } catch {
      // no stored weights (e.g. cancelled before the first sample)
    }
  }

  async function loadMetrics() {
    try {
      const res = await api.metrics(id);
      if (destroyed) return;
      for (const m of res.items) metrics.set(m.samplesSeen, m);
      scheduler.request('curves', drawCurves);
    } catch {
      // The stream keeps the curves going; history is filled on the next reconnect.
    }
  }

  // ---------- streams ----------
  const streams: ExperimentStream[] = [];
  const main = new ExperimentStream(
    id,
    { channels: channelsMain, layers: ['input', 'excitatory'], weightsEvery: 0 },
    {
      hello(hl) {
        helloCount++;
        applyDetail(hl.experiment);
        // After a reconnect, fill the curves with the windows missed while disconnected.
        if (helloCount > 1) void loadMetrics();
      },
      status(s) {
        setStatus(s.status);
      },
      progress(p) {
        progress = p;
        scheduler.request('progress', drawProgress);
        scheduler.request('stream', () => drawStream());
      },
      metrics(m) {
        metrics.set(m.samplesSeen, m);
        scheduler.request('curves', drawCurves);
      },
      weights(f) {
        latest.weights = f;
        scheduler.request('rf', drawRf);
        scheduler.request('stream', () => drawStream());
      },
      spikes(f) {
        if (paused) return;
        if (f.layer === 'input') latest.input = f;
        else if (f.layer === 'excitatory') latest.exc = f;
        else return;
        scheduler.request('sample', drawSample);
      },
      voltage(f) {
        if (paused) return;
        latest.voltage = f;
        scheduler.request('sample', drawSample);
      },
      end(e: EndMsg) {
        serverDrops = e.dropped;
        if (e.result) result = e.result;
        if (e.error) showError(e.error);
        setStatus(e.status);
        if (result) renderResult();
        scheduler.request('stream', () => drawStream());
        void resync(e.status);
      },
      connection(c) {
        drawStream(c);
      },
    },
  );
  streams.push(main);

  (async () => {
    try {
      const d = await api.get(id);
      if (destroyed) return;
      applyDetail(d);
      void loadMetrics();
      main.start();
    } catch (err) {
      if (destroyed) return;
      showError(err);
      setText(streamText, 'not started');
    }
  })();

  disposers.push(() => streams.forEach((s) => s.stop()));
  return {
    title: 'Experiment',
    el,
    destroy() {
      destroyed = true;
      for (const d of disposers) d();
      scheduler.dispose();
      voltage.destroy();
      accChart.destroy();
      spsChart.destroy();
      spikesChart.destroy();
      stdp.destroy();
    },
  };
}

