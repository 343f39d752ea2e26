// map.js — a map drawn from coordinates alone, without any tile server (the hub's machines and
// many city networks are closed): the results as numbered points on an equirectangular
// projection around their centre, the searcher's own point, a scale bar and north. The list
// beside it carries the same numbers; the map is one image with a text alternative.
import { t } from './i18n.js';

const NS = 'http://www.w3.org/2000/svg';
const WIDTH = 640;
const HEIGHT = 400;
const PAD = 28;
const METERS_PER_DEGREE = 111320;

function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

// The longest of 1, 2 and 5 times a power of ten not above max meters.
function niceLength(max) {
  const power = 10 ** Math.floor(Math.log10(max));
  return [5, 2, 1].map((m) => m * power).find((v) => v <= max) || power;
}

// points: [{latitude, longitude, label, title}]; origin: {latitude, longitude, title} or null.
export function drawMap(points, origin, caption) {
  const all = origin ? [...points, origin] : points;
  const lat0 = all.reduce((s, p) => s + p.latitude, 0) / all.length;
  const cos = Math.cos((lat0 * Math.PI) / 180);
  const xs = all.map((p) => p.longitude * cos * METERS_PER_DEGREE);
  const ys = all.map((p) => p.latitude * METERS_PER_DEGREE);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const spanMeters = Math.max(maxX - minX, maxY - minY, 500);
  const scale = Math.min((WIDTH - 2 * PAD) / Math.max(maxX - minX, 1), (HEIGHT - 2 * PAD - 30) / Math.max(maxY - minY, 1),
    (WIDTH - 2 * PAD) / spanMeters);
  const cx = (minX + maxX) / 2;
  const cy = (minY + maxY) / 2;
  const at = (p) => [WIDTH / 2 + (p.longitude * cos * METERS_PER_DEGREE - cx) * scale,
    (HEIGHT - 30) / 2 - (p.latitude * METERS_PER_DEGREE - cy) * scale];

  const titleId = `map-title-${Math.random().toString(36).slice(2)}`;
  const root = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-labelledby': titleId, class: 'map' });
  root.append(svg('title', { id: titleId }, caption));
  root.append(svg('rect', { x: 0, y: 0, width: WIDTH, height: HEIGHT, class: 'map-bg' }));
  for (const p of points) {
    const [x, y] = at(p);
    const g = svg('g', { class: 'map-point' });
    g.append(svg('title', {}, p.title));
    g.append(svg('circle', { cx: x.toFixed(1), cy: y.toFixed(1), r: 11 }));
    g.append(svg('text', { x: x.toFixed(1), y: (y + 4.5).toFixed(1), 'text-anchor': 'middle' }, String(p.label)));
    root.append(g);
  }
  if (origin) {
    const [x, y] = at(origin);
    const g = svg('g', { class: 'map-origin' });
    g.append(svg('title', {}, origin.title));
    g.append(svg('path', { d: `M${x.toFixed(1)} ${(y - 12).toFixed(1)} l10 20 h-20 z` }));
    g.append(svg('text', { x: (x + 14).toFixed(1), y: (y + 5).toFixed(1) }, origin.title));
    root.append(g);
  }
  // Scale bar: a round length about a quarter of the width.
  const length = niceLength((WIDTH / 4) / scale);
  const barPx = length * scale;
  const y = HEIGHT - 16;
  root.append(svg('path', { d: `M${PAD} ${y - 6} v6 h${barPx.toFixed(1)} v-6`, class: 'map-scale' }));
  root.append(svg('text', { x: PAD + barPx + 8, y: y + 1, class: 'map-label' },
    length >= 1000 ? t('kilometers', { n: length / 1000 }) : t('meters', { n: length })));
  root.append(svg('text', { x: WIDTH - PAD, y: PAD, 'text-anchor': 'end', class: 'map-label' }, `↑ ${t('north')}`));
  return root;
}
