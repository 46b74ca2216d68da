import * as Plot from '@observablehq/plot';
import type { BarChartSpec, ChartSpec, GraphChartSpec, LineChartSpec, ScatterChartSpec } from './spec';

/**
 * Okabe & Ito's eight colours ("Color Universal Design", 2008): told apart with every common
 * colour-vision deficiency. {@link PALETTE} is the order series take them in.
 */
export const OKABE_ITO = {
  black: '#000000',
  orange: '#E69F00',
  skyBlue: '#56B4E9',
  bluishGreen: '#009E73',
  yellow: '#F0E442',
  blue: '#0072B2',
  vermillion: '#D55E00',
  reddishPurple: '#CC79A7',
} as const;

/** Series colours in order: blue first (the single-series colour), yellow late (weak on white). */
export const PALETTE: readonly string[] = [
  OKABE_ITO.blue,
  OKABE_ITO.orange,
  OKABE_ITO.bluishGreen,
  OKABE_ITO.vermillion,
  OKABE_ITO.skyBlue,
  OKABE_ITO.reddishPurple,
  OKABE_ITO.yellow,
  OKABE_ITO.black,
];

/** The colour of the i-th series (cycling after eight). */
export const seriesColour = (i: number): string => PALETTE[i % PALETTE.length];

/** Emphasis (highlighted bars, the graph's centre) and rules. */
const INK = OKABE_ITO.black;

export interface RenderOptions {
  /** Width in CSS pixels (default 640). */
  width?: number;
}

/** Above this many points a scatter carries no per-point tooltip (17,770 `<title>`s cost more than the points). */
const MAX_TOOLTIP_POINTS = 2000;

/**
 * Above this many points a scatter draws its points as one `<path>` per colour (a circle subpath
 * per point, `data-points` = their number) instead of a `<circle>` each: 17,770 circles cost
 * chromium about 1 s to build, lay out and paint on this machine, one path a small fraction (npm run bench:charts).
 */
export const PATH_SCATTER_THRESHOLD = 5000;

/**
 * Draws a {@link ChartSpec} as `<figure class="recsys-chart">`: a `<figcaption>` (title, caption,
 * legend when there is more than one series) and the SVG from Observable Plot, whose `aria-label`
 * is the title. Bars with `href` are SVG links (`<a>`: reached by Tab, followed by Enter); marks
 * carry their figures as tooltips (`<title>`). A chart with no data is a short note, not an error;
 * a malformed spec (unknown type, a graph link to a missing node, a bad date) throws saying where.
 */
export function renderChart(spec: ChartSpec, options: RenderOptions = {}): HTMLElement {
  const width = Math.max(160, Math.round(options.width ?? 640));
  const figure = document.createElement('figure');
  figure.className = 'recsys-chart';
  figure.dataset['chartType'] = spec.type;
  const caption = document.createElement('figcaption');
  const title = document.createElement('strong');
  title.className = 'recsys-chart-title';
  title.textContent = spec.title;
  caption.append(title);
  if (spec.caption) {
    const text = document.createElement('span');
    text.className = 'recsys-chart-caption';
    text.textContent = ` ${spec.caption}`;
    caption.append(text);
  }
  figure.append(caption);

  const drawer = DRAWERS[spec.type] as ((s: ChartSpec, width: number) => Drawn | null) | undefined;
  if (!drawer) throw new Error(`renderChart: unknown chart type '${(spec as { type?: unknown }).type}' in chart '${(spec as { title?: unknown }).title}' (expected bar, line, scatter or graph)`);
  const drawn = drawer(spec, width);
  if (!drawn) {
    const note = document.createElement('p');
    note.className = 'recsys-chart-empty';
    note.textContent = 'No data to show.';
    figure.append(note);
    return figure;
  }
  if (drawn.legend && drawn.legend.length > 1) caption.append(legend(drawn.legend));
  drawn.svg.setAttribute('aria-label', spec.title);
  drawn.svg.setAttribute('role', 'img');
  if (spec.caption) drawn.svg.setAttribute('aria-description', spec.caption);
  figure.append(drawn.svg);
  return figure;
}

/** What a drawer returns: Plot's SVG and the legend entries (shown when more than one). */
interface Drawn {
  svg: Element;
  legend?: Array<{ name: string; colour: string; dashed?: boolean }>;
}

const DRAWERS: { [K in ChartSpec['type']]: (spec: Extract<ChartSpec, { type: K }>, width: number) => Drawn | null } = {
  bar: (spec, width) => drawBars(spec, width),
  line: (spec, width) => drawLines(spec, width),
  scatter: (spec, width) => drawScatter(spec, width),
  graph: (spec, width) => drawGraph(spec, width),
};

function legend(items: Array<{ name: string; colour: string; dashed?: boolean }>): HTMLElement {
  const box = document.createElement('div');
  box.className = 'recsys-chart-legend';
  box.setAttribute('role', 'list');
  box.style.cssText = 'display:flex;flex-wrap:wrap;gap:.25em 1em;font-size:.85em;margin-top:.25em';
  const ns = 'http://www.w3.org/2000/svg';
  for (const item of items) {
    const entry = document.createElement('span');
    entry.setAttribute('role', 'listitem');
    entry.style.cssText = 'display:inline-flex;align-items:center;gap:.35em';
    const swatch = document.createElementNS(ns, 'svg');
    swatch.setAttribute('width', '22');
    swatch.setAttribute('height', '10');
    swatch.setAttribute('aria-hidden', 'true');
    const line = document.createElementNS(ns, 'line');
    for (const [k, v] of Object.entries({ x1: '1', y1: '5', x2: '21', y2: '5', stroke: item.colour, 'stroke-width': item.dashed ? '2.5' : '6' })) line.setAttribute(k, v);
    if (item.dashed) line.setAttribute('stroke-dasharray', '4 3');
    swatch.append(line);
    entry.append(swatch, document.createTextNode(item.name));
    box.append(entry);
  }
  return box;
}

const fmt = (v: number): string => (Number.isInteger(v) ? v.toLocaleString('en') : Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4).replace(/\.?0+$/, ''));

/** Category tick labels: long titles shortened, and only some ticks when there are many bands. */
const shorten = (s: string, max: number): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
function bandTicks(domain: string[], room: number): string[] | undefined {
  if (domain.length <= room) return undefined;
  const step = Math.ceil(domain.length / room);
  return domain.filter((_, i) => i % step === 0);
}

function unique(values: Iterable<string>): string[] {
  return [...new Set(values)];
}

function checkFinite(chart: string, where: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`renderChart: chart '${chart}': ${where} is ${JSON.stringify(v)}, not a finite number`);
}

function drawBars(spec: BarChartSpec, width: number) {
  if (spec.bars.length === 0) return null;
  spec.bars.forEach((b, i) => {
    checkFinite(spec.title, `bars[${i}].value`, b.value);
    if (b.error != null) checkFinite(spec.title, `bars[${i}].error`, b.error);
  });
  const horizontal = spec.orientation === 'horizontal';
  const data = spec.sort === 'descending' ? [...spec.bars].sort((a, b) => b.value - a.value) : spec.bars;
  const categories = unique(data.map((b) => b.category));
  const groups = unique(data.filter((b) => b.group != null).map((b) => b.group as string));
  const grouped = groups.length > 0;
  const colourOf = new Map(groups.map((g, i) => [g, seriesColour(i)]));
  const fill = (b: BarChartSpec['bars'][number]) => (b.group != null ? (colourOf.get(b.group) as string) : PALETTE[0]);
  const anyHighlight = data.some((b) => b.highlight);
  const tooltip = (b: BarChartSpec['bars'][number]) =>
    `${b.category}${b.group != null ? ` · ${b.group}` : ''}: ${fmt(b.value)}${b.error != null ? ` ± ${fmt(b.error)}` : ''}${b.highlight ? ' (highlighted)' : ''}`;
  // Channels: the category is the band (or the facet, when grouped, with the group as the band
  // within it); colours are literal (identity scale) so the legend and the bars agree by construction.
  const band = horizontal ? 'y' : 'x';
  const value = horizontal ? 'x' : 'y';
  const facet = horizontal ? 'fy' : 'fx';
  const position: Record<string, unknown> = grouped
    ? { [facet]: (b: BarChartSpec['bars'][number]) => b.category, [band]: (b: BarChartSpec['bars'][number]) => b.group ?? '' }
    : { [band]: (b: BarChartSpec['bars'][number]) => b.category };
  const marks: Plot.Markish[] = [];
  const barOptions = {
    ...position,
    [value]: (b: BarChartSpec['bars'][number]) => b.value,
    fill,
    fillOpacity: anyHighlight ? (b: BarChartSpec['bars'][number]) => (b.highlight ? 1 : 0.6) : 1,
    stroke: (b: BarChartSpec['bars'][number]) => (b.highlight ? INK : 'none'),
    strokeWidth: 2,
    title: tooltip,
    href: (b: BarChartSpec['bars'][number]) => b.href ?? null,
    className: 'recsys-bar',
  };
  marks.push(horizontal ? Plot.barX(data, barOptions) : Plot.barY(data, barOptions));
  const withError = data.filter((b) => b.error != null && b.error > 0);
  if (withError.length > 0) {
    const ruleOptions = {
      ...position,
      [`${value}1`]: (b: BarChartSpec['bars'][number]) => b.value - (b.error as number),
      [`${value}2`]: (b: BarChartSpec['bars'][number]) => b.value + (b.error as number),
      stroke: INK,
      strokeWidth: 1.5,
      className: 'recsys-error',
    };
    marks.push(horizontal ? Plot.ruleY(withError, ruleOptions) : Plot.ruleX(withError, ruleOptions));
  }
  if (spec.signed || data.some((b) => b.value < 0)) marks.push(horizontal ? Plot.ruleX([0], { stroke: INK }) : Plot.ruleY([0], { stroke: INK }));
  const longest = Math.max(...categories.map((c) => Math.min(c.length, 32)));
  const charWidth = 6.5;
  const options: Plot.PlotOptions = {
    width,
    color: { type: 'identity' },
    marks,
    style: { fontSize: '11px', overflow: 'visible' },
  };
  // xLabel names the horizontal axis and yLabel the vertical one, whichever holds the categories.
  const categoryScale = {
    domain: categories,
    label: (horizontal ? spec.yLabel : spec.xLabel) ?? null,
    tickFormat: (c: string) => shorten(c, 32),
    ticks: bandTicks(categories, horizontal ? 60 : Math.max(2, Math.floor(width / (longest * charWidth * 0.75 + 6)))),
  };
  const valueScale = { label: (horizontal ? spec.xLabel : spec.yLabel) ?? null, grid: true, nice: true, zero: true };
  const groupScale = { domain: groups, axis: null, paddingInner: 0.05 };
  if (horizontal) {
    const rows = categories.length * Math.max(1, groups.length);
    options.height = Math.min(4000, Math.max(120, rows * (grouped ? 12 : 22) + 50));
    options.marginLeft = Math.min(240, Math.max(40, longest * charWidth + 10));
    Object.assign(options, grouped ? { fy: categoryScale, y: groupScale, x: valueScale } : { y: categoryScale, x: valueScale });
  } else {
    const rotate = categories.length * (longest * charWidth + 8) > width - 60;
    options.height = 300 + (rotate ? Math.min(140, longest * 4.5) : 0);
    if (rotate) {
      options.marginBottom = Math.min(160, 30 + longest * 4.5);
      Object.assign(categoryScale, { tickRotate: -40 });
    }
    Object.assign(options, grouped ? { fx: { ...categoryScale, padding: 0.15 }, x: groupScale, y: valueScale } : { x: categoryScale, y: valueScale });
  }
  if (grouped) options.facet = { label: null };
  return { svg: Plot.plot(options), legend: groups.map((g) => ({ name: g, colour: colourOf.get(g) as string })) };
}

const DATE = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/;
function parseDate(chart: string, where: string, x: number | string): Date {
  const m = typeof x === 'string' ? DATE.exec(x) : null;
  const month = m ? Number(m[2]) : 0;
  const day = m?.[3] ? Number(m[3]) : 1;
  if (!m || month < 1 || month > 12 || day < 1 || day > 31) throw new Error(`renderChart: chart '${chart}': ${where} is ${JSON.stringify(x)}, not a 'YYYY-MM' or 'YYYY-MM-DD' date`);
  return new Date(Date.UTC(Number(m[1]), month - 1, day));
}

/** Points a log axis can show (positive); the rest are left out. */
const positive = (type: string | undefined, v: number) => type !== 'log' || v > 0;

function drawLines(spec: LineChartSpec, width: number) {
  const series = spec.series.map((s, si) => {
    const points = s.points.map((p, pi) => {
      const where = `series[${si}] ('${s.name}') points[${pi}]`;
      checkFinite(spec.title, `${where}.y`, p.y);
      if (spec.xType !== 'time') checkFinite(spec.title, `${where}.x`, p.x);
      const x = spec.xType === 'time' ? parseDate(spec.title, `${where}.x`, p.x) : (p.x as number);
      return { x, y: p.y, series: s.name };
    });
    return { ...s, colour: seriesColour(si), points: points.filter((p) => positive(spec.xType, p.x as number) && positive(spec.yType, p.y)) };
  });
  if (series.every((s) => s.points.length === 0)) return null;
  const total = series.reduce((n, s) => n + s.points.length, 0);
  const marks: Plot.Markish[] = [];
  for (const s of series) {
    marks.push(Plot.line(s.points, { x: 'x', y: 'y', stroke: s.colour, strokeWidth: 2, strokeDasharray: s.dashed ? '6 4' : undefined, className: 'recsys-line' }));
    // Markers with the values as tooltips while there are few enough points to tell apart.
    if (total <= 400) {
      marks.push(
        Plot.dot(s.points, {
          x: 'x',
          y: 'y',
          r: 2.5,
          fill: s.colour,
          title: (p: { x: number | Date; y: number }) => `${s.name}: ${p.x instanceof Date ? p.x.toISOString().slice(0, 10) : fmt(p.x)} → ${fmt(p.y)}`,
          className: 'recsys-points',
        }),
      );
    }
  }
  const svg = Plot.plot({
    width,
    height: 300,
    marginLeft: 50,
    style: { fontSize: '11px', overflow: 'visible' },
    x: { type: spec.xType === 'time' ? 'utc' : spec.xType ?? 'linear', label: spec.xLabel ?? null, grid: spec.xType === 'log' },
    y: { type: spec.yType ?? 'linear', label: spec.yLabel ?? null, grid: true, nice: true },
    marks,
  });
  return { svg, legend: series.map((s) => ({ name: s.name, colour: s.colour, dashed: s.dashed })) };
}

function drawScatter(spec: ScatterChartSpec, width: number) {
  spec.points.forEach((p, i) => {
    checkFinite(spec.title, `points[${i}].x`, p.x);
    checkFinite(spec.title, `points[${i}].y`, p.y);
  });
  const points = spec.points.filter((p) => positive(spec.xType, p.x) && positive(spec.yType, p.y));
  if (points.length === 0) return null;
  const names = unique(points.filter((p) => p.series != null).map((p) => p.series as string));
  const colourOf = new Map(names.map((n, i) => [n, seriesColour(i)]));
  const tooltips = points.length <= MAX_TOOLTIP_POINTS || points.some((p) => p.label != null);
  const svg = Plot.plot({
    width,
    height: Math.min(420, Math.round(width * 0.6)),
    marginLeft: 55,
    style: { fontSize: '11px', overflow: 'visible' },
    color: { type: 'identity' },
    // Inset: a point at the domain's edge is drawn whole.
    x: { type: spec.xType ?? 'linear', label: spec.xLabel ?? null, grid: true, inset: 6 },
    y: { type: spec.yType ?? 'linear', label: spec.yLabel ?? null, grid: true, inset: 6 },
    marks: [
      Plot.dot(points, {
        x: 'x',
        y: 'y',
        r: points.length > 2000 ? 1.5 : 2.5,
        fill: (p: ScatterChartSpec['points'][number]) => (p.series != null ? (colourOf.get(p.series) as string) : PALETTE[0]),
        fillOpacity: 0.8,
        title: tooltips ? (p: ScatterChartSpec['points'][number]) => p.label ?? `${p.series != null ? `${p.series}: ` : ''}(${fmt(p.x)}, ${fmt(p.y)})` : undefined,
        className: 'recsys-point',
        render: points.length > PATH_SCATTER_THRESHOLD && !tooltips ? dotsAsPaths : undefined,
      }),
    ],
  });
  return { svg, legend: names.map((n) => ({ name: n, colour: colourOf.get(n) as string })) };
}

/** A dot mark's points as one `<path>` per fill colour, each point a circle subpath (a Plot render function). */
function dotsAsPaths(index: number[], _scales: Plot.ScaleFunctions, values: Plot.ChannelValues, _dimensions: Plot.Dimensions, context: Plot.Context): SVGElement {
  const doc = context.document;
  const ns = 'http://www.w3.org/2000/svg';
  const g = doc.createElementNS(ns, 'g');
  g.setAttribute('class', 'recsys-point');
  g.setAttribute('fill-opacity', '0.8');
  const X = values.x as ArrayLike<number>;
  const Y = values.y as ArrayLike<number>;
  const R = values.r as ArrayLike<number> | undefined;
  const F = values.fill as ArrayLike<string> | undefined;
  const byColour = new Map<string, string[]>();
  for (const i of index) {
    const x = X[i];
    const y = Y[i];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    const r = R ? R[i] : 1.5;
    const colour = F ? F[i] : PALETTE[0];
    let parts = byColour.get(colour);
    if (!parts) byColour.set(colour, (parts = []));
    parts.push(`M${(x - r).toFixed(1)},${y.toFixed(1)}a${r},${r} 0 1,0 ${2 * r},0a${r},${r} 0 1,0 ${-2 * r},0`);
  }
  for (const [colour, parts] of byColour) {
    const path = doc.createElementNS(ns, 'path');
    path.setAttribute('fill', colour);
    path.setAttribute('d', parts.join(''));
    path.setAttribute('data-points', String(parts.length));
    g.append(path);
  }
  return g;
}

/** Nearer than this to the centre a neighbour would sit on it (similarity ≥ 0.9). */
const MIN_RADIUS = 0.1;

function drawGraph(spec: GraphChartSpec, width: number) {
  if (spec.nodes.length === 0) return null;
  const index = new Map(spec.nodes.map((n, i) => [n.id, i]));
  spec.links.forEach((l, i) => {
    for (const end of ['source', 'target'] as const) {
      if (!index.has(l[end])) throw new Error(`renderChart: chart '${spec.title}': links[${i}].${end} is '${l[end]}', which is not the id of any node`);
    }
    checkFinite(spec.title, `links[${i}].value`, l.value);
  });
  const centre = spec.nodes[0].id;
  // Distance from the centre: 1 − similarity of the node's link to the centre (1 when unlinked).
  const toCentre = new Map<string, number>();
  for (const l of spec.links) {
    const other = l.source === centre ? l.target : l.target === centre ? l.source : null;
    if (other != null && other !== centre) toCentre.set(other, Math.max(toCentre.get(other) ?? -Infinity, l.value));
  }
  const around = spec.nodes.length - 1;
  const placed = spec.nodes.map((n, i) => {
    if (i === 0) return { ...n, x: 0, y: 0, centre: true, angle: undefined as number | undefined, r: undefined as number | undefined };
    const r = Math.max(MIN_RADIUS, Math.min(1, 1 - (toCentre.get(n.id) ?? 0)));
    const angle = -Math.PI / 2 + (2 * Math.PI * (i - 1)) / around;
    return { ...n, x: r * Math.cos(angle), y: r * Math.sin(angle), centre: false, angle, r };
  });
  // Labels outside their node, away from the centre: right of the nodes on the right, left of
  // those on the left, centred above and below.
  const side = (n: { angle?: number }) => {
    const c = Math.cos(n.angle ?? Math.PI / 2);
    return c > 0.25 ? 'start' : c < -0.25 ? 'end' : 'middle';
  };
  const LABEL_GAP = 0.08;
  const labelled = placed.map((n) => ({ ...n, lx: n.centre ? 0 : (n.r! + LABEL_GAP) * Math.cos(n.angle!), ly: n.centre ? 0.1 : (n.r! + LABEL_GAP) * Math.sin(n.angle!) }));
  const at = (id: string) => placed[index.get(id) as number];
  const links = spec.links.map((l) => ({ ...l, from: at(l.source), to: at(l.target) }));
  const size = Math.min(width, 640);
  const marginX = Math.min(130, Math.round(size * 0.2));
  type Placed = (typeof placed)[number];
  type Link = (typeof links)[number];
  const svg = Plot.plot({
    // The plotting area square, with room at the sides for the labels.
    width: size,
    height: size - 2 * marginX + 60,
    marginLeft: marginX,
    marginRight: marginX,
    marginTop: 30,
    marginBottom: 30,
    style: { fontSize: '11px', overflow: 'visible' },
    color: { type: 'identity' },
    x: { axis: null, domain: [-1, 1] },
    y: { axis: null, domain: [-1, 1] },
    marks: [
      Plot.link(links, {
        x1: (l: Link) => l.from.x,
        y1: (l: Link) => l.from.y,
        x2: (l: Link) => l.to.x,
        y2: (l: Link) => l.to.y,
        stroke: OKABE_ITO.skyBlue,
        strokeOpacity: 0.8,
        strokeWidth: (l: Link) => 1 + 6 * Math.max(0, Math.min(1, l.value)),
        title: (l: Link) => l.label ?? `${l.from.label} – ${l.to.label}: ${fmt(l.value)}`,
        className: 'recsys-link',
      }),
      Plot.dot(placed, {
        x: 'x',
        y: 'y',
        r: (n: Placed) => (n.centre ? 9 : 6),
        fill: (n: Placed) => (n.centre ? OKABE_ITO.vermillion : OKABE_ITO.blue),
        stroke: 'white',
        title: (n: Placed) => n.label,
        href: (n: Placed) => n.href ?? null,
        className: 'recsys-node',
      }),
      ...(['centre', 'start', 'end', 'middle'] as const).map((group) =>
        Plot.text(
          labelled.filter((n) => (group === 'centre' ? n.centre : !n.centre && side(n) === group)),
          {
            x: 'lx',
            y: 'ly',
            text: (n: Placed) => shorten(n.label, 28),
            textAnchor: group === 'centre' ? 'middle' : group,
            fontWeight: group === 'centre' ? 'bold' : 'normal',
            stroke: 'white',
            strokeWidth: 3,
            fill: INK,
            className: 'recsys-label',
          },
        ),
      ),
    ],
  });
  return { svg };
}
