/**
 * Orientation / direction tuning of the excitatory neurons as small polar plots, one per neuron:
 * the radius at each stimulus angle is the neuron's mean test response there, normalised to the
 * neuron's own maximum; a line marks its preferred angle and the caption gives its OSI/DSI.
 * Orientations (0–180°) are drawn at θ and θ + 180°, so a bar-selective cell looks like a bar.
 */
export interface TuningData {
  kind: 'orientation' | 'direction';
  anglesDeg: number[];
  curves: number[][];
  preferredDeg: (number | null)[];
  selectivity: number[];
  spikes: number[];
}

const CELL = 64;

export function drawTuning(canvas: HTMLCanvasElement, t: TuningData, maxNeurons = 100): void {
  const n = Math.min(t.curves.length, maxNeurons);
  const cols = Math.max(1, Math.min(10, Math.ceil(Math.sqrt(n))));
  const rows = Math.max(1, Math.ceil(n / cols));
  const dpr = Math.min(2, window.devicePixelRatio || 1);
  canvas.width = cols * CELL * dpr;
  canvas.height = rows * (CELL + 12) * dpr;
  canvas.style.width = `${cols * CELL}px`;
  canvas.style.aspectRatio = `${cols * CELL} / ${rows * (CELL + 12)}`;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, cols * CELL, rows * (CELL + 12));
  const mirror = t.kind === 'orientation';
  for (let j = 0; j < n; j++) {
    const cx = (j % cols) * CELL + CELL / 2;
    const cy = Math.floor(j / cols) * (CELL + 12) + CELL / 2;
    const r0 = CELL / 2 - 4;
    const curve = t.curves[j]!;
    const max = Math.max(...curve);
    ctx.strokeStyle = '#d4d4d8';
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.arc(cx, cy, r0, 0, 2 * Math.PI);
    ctx.stroke();
    if (max > 0) {
      const pts: [number, number][] = [];
      const copies = mirror ? [0, 180] : [0];
      for (const off of copies) curve.forEach((v, k) => pts.push([t.anglesDeg[k]! + off, v / max]));
      pts.sort((a, b) => a[0] - b[0]);
      ctx.fillStyle = 'rgba(37, 99, 235, 0.35)';
      ctx.strokeStyle = '#2563eb';
      ctx.beginPath();
      pts.forEach(([deg, v], k) => {
        // Image coordinates: angles counter-clockwise with y pointing down, as the generators use them.
        const a = (deg * Math.PI) / 180;
        const x = cx + Math.cos(a) * v * r0;
        const y = cy + Math.sin(a) * v * r0;
        if (k === 0) ctx.moveTo(x, y);
        else ctx.lineTo(x, y);
      });
      ctx.closePath();
      ctx.fill();
      ctx.stroke();
      const pref = t.preferredDeg[j];
      if (pref !== null && pref !== undefined) {
        const a = (pref * Math.PI) / 180;
        ctx.strokeStyle = '#dc2626';
        ctx.beginPath();
        ctx.moveTo(mirror ? cx - Math.cos(a) * r0 : cx, mirror ? cy - Math.sin(a) * r0 : cy);
        ctx.lineTo(cx + Math.cos(a) * r0, cy + Math.sin(a) * r0);
        ctx.stroke();
      }
    }
    ctx.fillStyle = '#3f3f46';
    ctx.font = '10px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.fillText(`#${j} ${t.selectivity[j]!.toFixed(2)}`, cx, cy + CELL / 2 + 9);
  }
}

/** One line of numbers: how many responsive neurons are clearly selective. */
export function tuningSummary(t: TuningData): string {
  const index = t.kind === 'orientation' ? 'OSI' : 'DSI';
  const responsive = t.selectivity.filter((_, j) => (t.spikes[j] ?? 0) > 0).sort((a, b) => a - b);
  if (responsive.length === 0) return 'No neuron responded to the test stimuli.';
  const clear = responsive.filter((s) => s >= 0.8).length;
  const median = responsive[Math.floor(responsive.length / 2)]!;
  return `${clear} of ${responsive.length} responsive neurons have ${index} ≥ 0.8 · median ${index} ${median.toFixed(2)} · ${t.anglesDeg.length} ${t.kind}s`;
}
