import type { ChartSpec } from '@recsys/charts';
import { h } from './dom';

/**
 * Draws one chart. Until `renderChart` of @recsys/charts lands, a figure with the spec's title,
 * caption and its marks as a table (one row per bar, point or link).
 */
export function drawChart(spec: ChartSpec, options: { width?: number } = {}): HTMLElement {
  void options;
  const rows: Array<Array<string | number>> = [];
  let columns: string[];
  switch (spec.type) {
    case 'bar':
      columns = ['category', 'group', 'value'];
      for (const b of spec.bars) rows.push([b.category, b.group ?? '', b.value]);
      break;
    case 'line':
      columns = ['series', 'x', 'y'];
      for (const s of spec.series) for (const p of s.points) rows.push([s.name, p.x, p.y]);
      break;
    case 'scatter':
      columns = ['x', 'y'];
      for (const p of spec.points) rows.push([p.x, p.y]);
      break;
    case 'graph':
      columns = ['source', 'target', 'value'];
      for (const l of spec.links) rows.push([l.source, l.target, l.value]);
      break;
  }
  return h(
    'figure',
    { class: 'chart placeholder', 'data-chart-type': spec.type },
    h('figcaption', {}, h('strong', {}, spec.title), spec.caption ? ` ${spec.caption}` : ''),
    h('table', {}, h('thead', {}, h('tr', {}, columns.map((c) => h('th', {}, c)))), h('tbody', {}, rows.map((r) => h('tr', { class: 'mark' }, r.map((c) => h('td', {}, String(c))))))),
  );
}
