/**
 * The public HTTP API as the dashboard uses it (see openapi.yaml). Everything the dashboard shows
 * comes from these routes and the WebSocket stream, so this file doubles as a small reference
 * client. Types mirror the server's JSON; only the fields the dashboard reads are spelled out.
 */

export const statuses = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type Status = (typeof statuses)[number];
export const finishedStatuses: readonly Status[] = ['completed', 'failed', 'cancelled'];

export interface Accuracy {
  allActivity: number | null;
  proportionWeighting: number | null;
}

export interface Progress {
  phase: 'train' | 'test';
  epoch: number;
  done: number;
  total: number;
  samplesPerSec: number;
  etaSec: number;
}

export interface Layer {
  id: string;
  type: 'input' | 'lif' | 'adaptive-lif';
  size: number;
  traceTauMs: number;
  [key: string]: unknown;
}

/** The learning rules of a definition (openapi.yaml, docs/models.md). */
export type Plasticity =
  | { rule: 'post-pre'; nuPre: number; nuPost: number }
  | { rule: 'weight-dependent-post-pre'; nuPre: number; nuPost: number }
  | { rule: 'stdp'; aPlus: number; aMinus: number; tauPlusMs: number; tauMinusMs: number; pairing: 'nearest' | 'all-to-all' }
  | { rule: 'diehl-cook'; nuPre: number; nuPost: number; tauPreMs: number; tauPost1Ms: number; tauPost2Ms: number }
  | { rule: 'power-law'; nu: number; xTarget: number; mu: number; tauPreMs: number };

export interface Connection {
  from: string;
  to: string;
  type: 'dense' | 'one-to-one' | 'all-but-self';
  plasticity?: Plasticity | null;
  wMin?: number;
  wMax?: number;
  [key: string]: unknown;
}

export interface Definition {
  name: string;
  seed: number;
  dtMs: number;
  timePerSampleMs: number;
  epochs: number;
  dataset: DatasetRef;
  encoder: { type: string; maxRateHz: number };
  layers: Layer[];
  connections: Connection[];
  evaluation: { labelUpdateInterval: number };
  stream: { progressEvery: number; spikesEvery: number; weightsEvery: number; voltageNeurons: number[] };
  [key: string]: unknown;
}

/** What a definition trains on (see ExperimentDefinition.dataset in openapi.yaml). */
export type DatasetRef = { train: number; test: number; validation: number; shuffle: boolean } & (
  | { name: 'mnist' }
  | { name: 'oriented-bars' | 'moving-bars'; side: number; [key: string]: unknown }
  | { name: 'upload'; id: string; resolved?: { height: number; width: number; channels: number; classes: number } }
);

export interface TuningResult {
  kind: 'orientation' | 'direction';
  anglesDeg: number[];
  curves: number[][];
  preferredDeg: (number | null)[];
  selectivity: number[];
  spikes: number[];
}

/** An uploaded dataset (GET /v1/datasets). */
export interface Dataset {
  id: string;
  name: string;
  sha256: string;
  kind: 'images' | 'events';
  shape: { height: number; width: number; channels: number };
  classes: number;
  labelled: boolean;
  train: { count: number; classCounts: number[] | null };
  test: { count: number; classCounts: number[] | null };
  bytes: number;
  createdAt: string;
  deduplicated?: boolean;
}

export interface Result {
  accuracy: Accuracy;
  confusion: number[][];
  confusionProportion: number[][];
  assignments: number[];
  proportions: number[];
  train: { samples: number; samplesPerSec: number; seconds: number };
  test: { samples: number; samplesPerSec: number; seconds: number };
  validation: { samples: number; accuracy: { allActivity: number; proportionWeighting: number } | null };
  spikesPerTestSample: number;
  thetaMean: number;
  neurons: number;
  wallSeconds: number;
  cancelled: boolean;
  tuning?: TuningResult | null;
  classes?: number;
}

export interface ExperimentSummary {
  id: string;
  name: string;
  status: Status;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  progress: Progress | null;
  accuracy: Accuracy | null;
  error: string | null;
}

export interface ExperimentDetail extends ExperimentSummary {
  definition: Definition;
  result: Result | null;
  checkpoint: { samplesDone: number; savedAt: string } | null;
  resumedFrom: number | null;
  attempts: number;
}

export interface WindowMetrics {
  type: 'metrics';
  phase: 'train';
  epoch: number;
  samplesSeen: number;
  accuracy: Accuracy;
  spikesPerSample: { input: number; excitatory: number };
  samplesPerSec: number;
  thetaMean: number;
  seq?: number;
}

export interface Preset {
  name: string;
  description: string;
  definition: Definition;
}

/** The server's one error shape. */
export interface ErrorBody {
  statusCode: number;
  code: string;
  message: string;
  field?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(body.message);
  }
}

const KEY_STORAGE = 'spikelab.apiKey';
const keyListeners = new Set<() => void>();

export function getApiKey(): string {
  try {
    return localStorage.getItem(KEY_STORAGE) ?? '';
  } catch {
    return '';
  }
}

export function setApiKey(key: string): void {
  try {
    if (key) localStorage.setItem(KEY_STORAGE, key);
    else localStorage.removeItem(KEY_STORAGE);
  } catch {
    // Storage disabled (private mode): the key lasts until the page is closed.
  }
  for (const f of keyListeners) f();
}

export function onApiKeyChange(f: () => void): () => void {
  keyListeners.add(f);
  return () => keyListeners.delete(f);
}

/** Listeners told when the server answers 401 (the UI asks for a key). */
const unauthorizedListeners = new Set<(message: string) => void>();
export function onUnauthorized(f: (message: string) => void): () => void {
  unauthorizedListeners.add(f);
  return () => unauthorizedListeners.delete(f);
}

/** Adds `api_key` to a URL, for links (downloads) and WebSockets, which cannot send headers. */
export function withKey(path: string): string {
  const key = getApiKey();
  if (!key) return path;
  return `${path}${path.includes('?') ? '&' : '?'}api_key=${encodeURIComponent(key)}`;
}

async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const key = getApiKey();
  if (key) headers.authorization = `Bearer ${key}`;
  let payload: string | FormData | undefined;
  if (body instanceof FormData) {
    // The browser sets multipart/form-data with its boundary.
    payload = body;
  } else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = typeof body === 'string' ? body : JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: payload, signal });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, { statusCode: 0, code: 'network_error', message: `cannot reach the server: ${(err as Error).message}` });
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const b = json as Partial<ErrorBody> | undefined;
    const err: ErrorBody = {
      statusCode: res.status,
      code: typeof b?.code === 'string' ? b.code : 'http_error',
      message: typeof b?.message === 'string' ? b.message : `${res.status} ${res.statusText}`,
      ...(typeof b?.field === 'string' ? { field: b.field } : {}),
    };
    if (res.status === 401) for (const f of unauthorizedListeners) f(err.message);
    throw new ApiError(res.status, err);
  }
  return json as T;
}

export interface ListPage {
  items: ExperimentSummary[];
  total: number;
  limit: number;
  offset: number;
}

export interface SweepTrial {
  experimentId: string | null;
  point: number;
  seed: number;
  stage: number;
  trainSamples: number | null;
  parameters: Record<string, unknown>;
  status: string;
  stopped: boolean;
  objective: number | null;
  samplesPerSec: number | null;
}

export interface SweepBest {
  point: number;
  seed: number;
  experimentId: string;
  parameters: Record<string, unknown>;
  objective: number;
  pointObjective: number;
  testAccuracy: Accuracy | null;
}

export interface SweepSummary {
  id: string;
  name: string;
  status: 'running' | 'completed' | 'failed' | 'cancelled';
  createdAt: string;
  finishedAt: string | null;
  objective: string;
  stage: number;
  stages: (number | null)[];
  trials: Record<'total' | 'pending' | 'queued' | 'running' | 'completed' | 'failed' | 'cancelled' | 'stopped', number>;
  best: SweepBest | null;
  error: string | null;
}

export interface SweepDetail extends SweepSummary {
  request: { parameters: { type: string; path: string }[] };
  items: SweepTrial[];
}

export const api = {
  sweeps: (signal?: AbortSignal) => request<{ items: SweepSummary[]; total: number }>('GET', '/v1/sweeps?limit=100', undefined, signal),
  sweep: (id: string, signal?: AbortSignal) => request<SweepDetail>('GET', `/v1/sweeps/${encodeURIComponent(id)}`, undefined, signal),
  cancelSweep: (id: string) => request<SweepDetail>('POST', `/v1/sweeps/${encodeURIComponent(id)}/cancel`),
  /** `body` is a sweep request object or raw JSON text (sent as is, so the server judges it). */
  createSweep: (body: unknown) => request<SweepDetail>('POST', '/v1/sweeps', body),
  presets: () => request<{ items: Preset[] }>('GET', '/v1/presets'),
  list: (q: { status?: Status[]; limit?: number; offset?: number }, signal?: AbortSignal) => {
    const p = new URLSearchParams();
    if (q.status && q.status.length > 0) p.set('status', q.status.join(','));
    if (q.limit) p.set('limit', String(q.limit));
    if (q.offset) p.set('offset', String(q.offset));
    const qs = p.toString();
    return request<ListPage>('GET', `/v1/experiments${qs ? `?${qs}` : ''}`, undefined, signal);
  },
  get: (id: string, signal?: AbortSignal) => request<ExperimentDetail>('GET', `/v1/experiments/${encodeURIComponent(id)}`, undefined, signal),
  /** `body` is a preset request object or raw JSON text (sent as is, so the server judges it). */
  submit: (body: unknown) => request<ExperimentDetail>('POST', '/v1/experiments', body),
  cancel: (id: string) => request<ExperimentDetail>('POST', `/v1/experiments/${encodeURIComponent(id)}/cancel`),
  remove: (id: string) => request<void>('DELETE', `/v1/experiments/${encodeURIComponent(id)}`),
  metrics: (id: string, signal?: AbortSignal) =>
    request<{ id: string; status: Status; items: WindowMetrics[] }>('GET', `/v1/experiments/${encodeURIComponent(id)}/metrics`, undefined, signal),
  datasets: (signal?: AbortSignal) => request<{ items: Dataset[]; total: number }>('GET', '/v1/datasets?limit=100', undefined, signal),
  removeDataset: (id: string) => request<void>('DELETE', `/v1/datasets/${encodeURIComponent(id)}`),
  /** multipart/form-data: the browser streams the chosen files. */
  uploadDataset: (form: FormData) => request<Dataset>('POST', '/v1/datasets', form),
  health: () => request<{ status: string; queue: { running: number; queued: number; workers: number } }>('GET', '/health'),
};

export const weightsUrl = (id: string, format: 'npy' | 'png' | 'json') =>
  withKey(`/v1/experiments/${encodeURIComponent(id)}/weights?format=${format}`);

/** Parses a little-endian float32 .npy (the weights route's format): shape and data. */
export function parseNpyFloat32(buf: ArrayBuffer): { shape: number[]; data: Float32Array } {
  const bytes = new Uint8Array(buf);
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
  if (bytes.length < 10 || magic.some((b, k) => bytes[k] !== b)) throw new Error('not a .npy file');
  const major = bytes[6]!;
  const view = new DataView(buf);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder('latin1').decode(bytes.subarray(start, start + headerLen));
  if (!/'descr':\s*'<f4'/.test(header)) throw new Error(`unsupported .npy dtype: ${header}`);
  if (/'fortran_order':\s*True/.test(header)) throw new Error('Fortran-ordered .npy is not supported');
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '';
  const shape = shapeText
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .map(Number);
  const offset = start + headerLen;
  const count = shape.reduce((a, b) => a * b, 1);
  // Copy when the payload is not 4-byte aligned in the buffer.
  const data = offset % 4 === 0 ? new Float32Array(buf, offset, count) : new Float32Array(buf.slice(offset, offset + count * 4));
  return { shape, data };
}

export async function fetchWeights(id: string): Promise<{ shape: number[]; data: Float32Array }> {
  const headers: Record<string, string> = {};
  const key = getApiKey();
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await fetch(`/v1/experiments/${encodeURIComponent(id)}/weights?format=npy`, { headers });
  if (!res.ok) {
    let body: ErrorBody = { statusCode: res.status, code: 'http_error', message: `${res.status} ${res.statusText}` };
    try {
      body = (await res.json()) as ErrorBody;
    } catch {
      // not JSON
    }
    throw new ApiError(res.status, body);
  }
  return parseNpyFloat32(await res.arrayBuffer());
}

export const datasetPreviewUrl = (id: string, count = 16) => withKey(`/v1/datasets/${encodeURIComponent(id)}/preview.png?count=${count}&scale=2`);
