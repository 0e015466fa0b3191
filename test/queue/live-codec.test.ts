/** The binary encoding of live events on Redis pub/sub, and the Redis URL parsing of distributed mode. */
import { describe, expect, it } from 'vitest';
import { decodeLiveMessage, encodeLiveMessage, redactUrl, redisOptionsFromUrl, type LiveMessage } from '../../src/queue/redis.js';

describe('live message codec', () => {
  it('round-trips events with typed arrays bit-exactly, including views into larger buffers', () => {
    const big = new Float32Array(100).map((_, i) => Math.fround(Math.sin(i)));
    const view = big.subarray(3, 10); // offset view: only its 7 elements travel
    const msgs: LiveMessage[] = [
      { kind: 'started', id: 'a', resumedFrom: 500 },
      { kind: 'end', id: 'a' },
      { kind: 'event', id: 'a', event: { type: 'weights', sampleIndex: 1000, shape: [784, 3], data: Float32Array.from({ length: 2352 }, (_, i) => i / 3) } },
      {
        kind: 'event',
        id: 'b',
        event: { type: 'spikes', phase: 'train', sampleIndex: 7, label: 3, layer: 'excitatory', steps: 250, neurons: 10, data: Uint32Array.of(0, 1, 5, 9, 249, 2) },
      },
      { kind: 'event', id: 'c', event: { type: 'voltage', phase: 'test', sampleIndex: 1, steps: 7, neurons: [0], voltage: view, threshold: Float32Array.of(1.5) } },
      {
        kind: 'event',
        id: 'd',
        event: {
          type: 'metrics',
          phase: 'train',
          epoch: 0,
          samplesSeen: 250,
          accuracy: { allActivity: null, proportionWeighting: 0.5 },
          spikesPerSample: { input: 1, excitatory: 2 },
          samplesPerSec: 1000.5,
          thetaMean: 0.1,
        },
      },
    ];
    // Several events of one job in one message keep their order and their arrays.
    msgs.push({ kind: 'events', id: 'e', events: msgs.slice(2, 6).map((m) => (m as Extract<LiveMessage, { kind: 'event' }>).event) });
    for (const msg of msgs) {
      const decoded = decodeLiveMessage(encodeLiveMessage(msg));
      expect(decoded).toEqual(msg);
    }
    const v = decodeLiveMessage(encodeLiveMessage(msgs[4]!)) as any;
    expect(v.event.voltage).toBeInstanceOf(Float32Array);
    expect(v.event.voltage.byteOffset).toBe(0);
    expect(Array.from(v.event.voltage)).toEqual(Array.from(view));
    // Binary, not JSON numbers: a 784×3 weight matrix costs its bytes plus a small header.
    expect(encodeLiveMessage(msgs[2]!).byteLength).toBeLessThan(2352 * 4 + 300);
  });

  it('rejects bytes that are not a live message', () => {
    expect(() => decodeLiveMessage(Buffer.from('{"kind":"end"}'))).toThrow(/not a live message/);
  });
});

describe('REDIS_URL', () => {
  it('parses host, port, credentials, database and TLS', () => {
    expect(redisOptionsFromUrl('redis://127.0.0.1:6380/2')).toEqual({ host: '127.0.0.1', port: 6380, db: 2, username: undefined, password: undefined, tls: undefined });
    expect(redisOptionsFromUrl('rediss://user:p%40ss@cache.example')).toMatchObject({ host: 'cache.example', port: 6379, username: 'user', password: 'p@ss', db: 0, tls: {} });
    expect(() => redisOptionsFromUrl('http://x')).toThrow(/redis:\/\//);
    expect(() => redisOptionsFromUrl('redis://x/abc')).toThrow(/database/);
    expect(redactUrl('redis://:secret@h:1')).not.toContain('secret');
  });
});
