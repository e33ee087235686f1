// Squarified treemap layout (Bruls, Huizing, van Wijk 2000): rectangles whose areas are
// proportional to the values, laid out row by row so they stay close to squares (readable
// labels, comparable areas). Pure geometry: inspect-html.ts draws the result.

export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

/** One rectangle per value (same order), filling `rect`; values must be > 0, largest first reads best. */
export function squarify(values: readonly number[], rect: Rect): Rect[] {
  const total = values.reduce((s, v) => s + v, 0);
  const out: Rect[] = new Array<Rect>(values.length);
  if (total <= 0 || rect.w <= 0 || rect.h <= 0) return values.map(() => ({ x: rect.x, y: rect.y, w: 0, h: 0 }));
  const scale = (rect.w * rect.h) / total;
  const areas = values.map((v) => v * scale);
  let free = { ...rect };
  let start = 0;
  while (start < areas.length) {
    const side = Math.min(free.w, free.h);
    let end = start + 1;
    let best = worst(areas, start, end, side);
    while (end < areas.length) {
      const next = worst(areas, start, end + 1, side);
      if (next > best) break;
      best = next;
      end++;
    }
    const rowArea = sum(areas, start, end);
    if (free.w >= free.h) {
      // A column along the left edge.
      const w = rowArea / free.h;
      let y = free.y;
      for (let i = start; i < end; i++) {
        const h = areas[i]! / w;
        out[i] = { x: free.x, y, w, h };
        y += h;
      }
      free = { x: free.x + w, y: free.y, w: free.w - w, h: free.h };
    } else {
      // A row along the top edge.
      const h = rowArea / free.w;
      let x = free.x;
      for (let i = start; i < end; i++) {
        const w = areas[i]! / h;
        out[i] = { x, y: free.y, w, h };
        x += w;
      }
      free = { x: free.x, y: free.y + h, w: free.w, h: free.h - h };
    }
    start = end;
  }
  return out;
}

/** The worst aspect ratio of a row of areas[start..end) laid along a side of length `side`. */
function worst(areas: readonly number[], start: number, end: number, side: number): number {
  const s = sum(areas, start, end);
  let max = 0;
  let min = Infinity;
  for (let i = start; i < end; i++) {
    max = Math.max(max, areas[i]!);
    min = Math.min(min, areas[i]!);
  }
  const s2 = s * s;
  const side2 = side * side;
  return Math.max((side2 * max) / s2, s2 / (side2 * min));
}

function sum(areas: readonly number[], start: number, end: number): number {
  let s = 0;
  for (let i = start; i < end; i++) s += areas[i]!;
  return s;
}
