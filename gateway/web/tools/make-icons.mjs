// Draws the app icons (src/icon-*.png) from the favicon's geometry: the blue rounded square with the white
// "L→A" strokes of src/favicon.svg (viewBox 32×32), rasterized with 8×8 supersampling. No dependencies; the PNGs
// are committed, so only run this after changing the design:   node tools/make-icons.mjs
//
//   icon-192.png, icon-512.png     "any" purpose: the rounded square, as in the favicon
//   icon-maskable-512.png          "maskable": full-bleed background, strokes inside the 80 % safe zone
//   apple-touch-icon.png (180)     iOS home screen (iOS rounds the corners itself: full-bleed too)
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { deflateSync } from "node:zlib";

const here = path.dirname(fileURLToPath(import.meta.url));
const BLUE = [0x2f, 0x6f, 0xde];
const WHITE = [0xff, 0xff, 0xff];
// The favicon's strokes as segments (round caps and joins: capsules), stroke width 2.4.
const SEGMENTS = [
  [9, 8, 9, 24], [9, 24, 16, 24], [17, 12, 23, 12], [20, 9, 20, 12], [18, 20, 23, 12], [23, 12, 28, 20],
];
const HALF_STROKE = 1.2;

function segmentDistance(px, py, [x1, y1, x2, y2]) {
  const dx = x2 - x1, dy = y2 - y1;
  const t = Math.max(0, Math.min(1, ((px - x1) * dx + (py - y1) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - (x1 + t * dx), py - (y1 + t * dy));
}

function insideRoundedSquare(x, y, radius) {
  const cx = Math.min(Math.max(x, radius), 32 - radius), cy = Math.min(Math.max(y, radius), 32 - radius);
  return x >= 0 && y >= 0 && x <= 32 && y <= 32 && Math.hypot(x - cx, y - cy) <= radius;
}

// `radius`: the background's corner (0: full bleed); `scale`: the strokes' size around the centre.
function draw(size, { radius, scale }) {
  const rgba = Buffer.alloc(size * size * 4);
  const n = 8;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let bg = 0, fg = 0;
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const u = ((x + (sx + 0.5) / n) / size) * 32, v = ((y + (sy + 0.5) / n) / size) * 32;
          if (!insideRoundedSquare(u, v, radius)) continue;
          bg++;
          const gu = 16 + (u - 16) / scale, gv = 16 + (v - 16) / scale;
          if (SEGMENTS.some((s) => segmentDistance(gu, gv, s) <= HALF_STROKE)) fg++;
        }
      }
      const o = (y * size + x) * 4;
      for (let c = 0; c < 3; c++) rgba[o + c] = bg ? Math.round((BLUE[c] * (bg - fg) + WHITE[c] * fg) / bg) : 0;
      rgba[o + 3] = Math.round((255 * bg) / (n * n));
    }
  }
  return png(size, rgba);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, k) => {
  let c = k;
  for (let i = 0; i < 8; i++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "ascii");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}
function png(size, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) rgba.copy(rows, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk("IHDR", ihdr), chunk("IDAT", deflateSync(rows, { level: 9 })),
    chunk("IEND", Buffer.alloc(0))]);
}

const icons = {
  "icon-192.png": draw(192, { radius: 7, scale: 1 }),
  "icon-512.png": draw(512, { radius: 7, scale: 1 }),
  "icon-maskable-512.png": draw(512, { radius: 0, scale: 0.72 }),
  "apple-touch-icon.png": draw(180, { radius: 0, scale: 0.85 }),
};
for (const [name, data] of Object.entries(icons)) {
  writeFileSync(path.join(here, "..", "src", name), data);
  console.log(`src/${name}: ${data.length} bytes`);
}
