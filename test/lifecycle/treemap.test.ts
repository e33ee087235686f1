// The squarified layout: areas proportional to values, inside the rectangle, no overlaps,
// and close to square for values that allow it.
import { describe, expect, it } from "vitest";
import { squarify, type Rect } from "../../src/lifecycle/treemap.js";

const area = (r: Rect) => r.w * r.h;
const overlap = (a: Rect, b: Rect) =>
  Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x)) * Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));

describe("squarify", () => {
  const box = { x: 10, y: 20, w: 600, h: 400 };
  const values = [6, 6, 4, 3, 2, 2, 1];
  const rects = squarify(values, box);

  it("gives each value an area proportional to it, filling the rectangle", () => {
    const total = values.reduce((s, v) => s + v, 0);
    rects.forEach((r, i) => expect(area(r)).toBeCloseTo((values[i]! / total) * area(box), 6));
    expect(rects.reduce((s, r) => s + area(r), 0)).toBeCloseTo(area(box), 6);
  });

  it("keeps every rectangle inside the box and apart from the others", () => {
    for (const r of rects) {
      expect(r.x).toBeGreaterThanOrEqual(box.x - 1e-9);
      expect(r.y).toBeGreaterThanOrEqual(box.y - 1e-9);
      expect(r.x + r.w).toBeLessThanOrEqual(box.x + box.w + 1e-9);
      expect(r.y + r.h).toBeLessThanOrEqual(box.y + box.h + 1e-9);
    }
    for (let i = 0; i < rects.length; i++) for (let j = i + 1; j < rects.length; j++) expect(overlap(rects[i]!, rects[j]!)).toBeLessThan(1e-6);
  });

  it("lays out equal values as squares where the box allows (the algorithm's point)", () => {
    const squares = squarify([1, 1, 1, 1], { x: 0, y: 0, w: 200, h: 200 });
    for (const r of squares) expect(r.w / r.h).toBeCloseTo(1, 6);
  });
});
