/** A recording WebSocket client for the stream. */
import WebSocket from 'ws';
import { parseFrameHeader, type FrameHeader } from '../../src/api/stream-frames.js';

export type Frame = { kind: 'text'; msg: any; at: number } | { kind: 'binary'; header: FrameHeader; bytes: Buffer; at: number };

export interface StreamClient {
  ws: WebSocket;
  frames: Frame[];
  /** Resolves when the server closes the socket. */
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves with the HTTP status if the upgrade was refused. */
  refused: Promise<number>;
  bytesReceived(): number;
}

export function openStream(url: string, headers: Record<string, string> = {}): StreamClient {
  const ws = new WebSocket(url, { headers });
  const frames: Frame[] = [];
  let bytes = 0;
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    bytes += data.byteLength;
    if (isBinary) frames.push({ kind: 'binary', header: parseFrameHeader(data), bytes: data, at: Date.now() });
    else frames.push({ kind: 'text', msg: JSON.parse(data.toString('utf8')), at: Date.now() });
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  const refused = new Promise<number>((resolve) => ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
  ws.on('error', () => {});
  return { ws, frames, closed, refused, bytesReceived: () => bytes };
}

export const texts = (frames: Frame[]) => frames.flatMap((f) => (f.kind === 'text' ? [f.msg] : []));
export const binaries = (frames: Frame[]) => frames.flatMap((f) => (f.kind === 'binary' ? [f] : []));
