/**
 * Draws the Teams app icons into appPackage/: color.png (192×192, full-bleed accent background, white shield with a
 * lightning bolt cut out) and outline.png (32×32, the same mark in white on transparent, as Teams requires).
 * Run with `npm run icons`. Deterministic: the same code always writes the same bytes.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PNG } from 'pngjs';

type Point = readonly [number, number];
type Rgba = readonly [number, number, number, number];

export const ACCENT_HEX = '#4B3F9E';
const ACCENT: Rgba = [0x4b, 0x3f, 0x9e, 255];
const WHITE: Rgba = [255, 255, 255, 255];
const CLEAR: Rgba = [0, 0, 0, 0];

/** Shield and bolt in unit coordinates (0..1, y down). */
const SHIELD: Point[] = [
  [0.5, 0.1],
  [0.82, 0.22],
  [0.8, 0.52],
  [0.5, 0.9],
  [0.2, 0.52],
  [0.18, 0.22],
];
const BOLT: Point[] = [
  [0.58, 0.2],
  [0.34, 0.55],
  [0.48, 0.55],
  [0.41, 0.8],
  [0.68, 0.43],
  [0.53, 0.43],
  [0.62, 0.2],
];

function inside(x: number, y: number, polygon: readonly Point[]): boolean {
  let hit = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i] as Point;
    const [xj, yj] = polygon[j] as Point;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) hit = !hit;
  }
  return hit;
}

/** Renders with 4×4 supersampling; `paint` says which colour a point of the unit square has. */
function render(size: number, paint: (x: number, y: number) => Rgba): PNG {
  const png = new PNG({ width: size, height: size, colorType: 6 });
  const samples = 4;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const [cr, cg, cb, ca] = paint((px + (sx + 0.5) / samples) / size, (py + (sy + 0.5) / samples) / size);
          // Premultiplied accumulation keeps edge colours right where coverage is partial.
          r += cr * ca;
          g += cg * ca;
          b += cb * ca;
          a += ca;
        }
      }
      const offset = (py * size + px) * 4;
      png.data[offset] = a === 0 ? 0 : Math.round(r / a);
      png.data[offset + 1] = a === 0 ? 0 : Math.round(g / a);
      png.data[offset + 2] = a === 0 ? 0 : Math.round(b / a);
      png.data[offset + 3] = Math.round(a / (samples * samples));
    }
  }
  return png;
}

function mark(x: number, y: number): 'shield' | 'bolt' | 'none' {
  if (!inside(x, y, SHIELD)) return 'none';
  return inside(x, y, BOLT) ? 'bolt' : 'shield';
}

export function renderColorIcon(): PNG {
  return render(192, (x, y) => (mark(x, y) === 'shield' ? WHITE : ACCENT));
}

export function renderOutlineIcon(): PNG {
  // The 32 px outline is scaled up slightly so the bolt stays legible.
  return render(32, (x, y) => (mark(0.5 + (x - 0.5) * 0.92, 0.5 + (y - 0.5) * 0.92) === 'shield' ? WHITE : CLEAR));
}

export function writeIcons(folder: string): void {
  writeFileSync(join(folder, 'color.png'), PNG.sync.write(renderColorIcon()));
  writeFileSync(join(folder, 'outline.png'), PNG.sync.write(renderOutlineIcon()));
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  const folder = join(dirname(fileURLToPath(import.meta.url)), '..', 'appPackage');
  writeIcons(folder);
  console.log(`wrote ${join(folder, 'color.png')} and ${join(folder, 'outline.png')}`);
}
