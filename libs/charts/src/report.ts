import { renderChart } from './render';
import type { ReportDocument, ReportSection } from './spec';

/** The id of the `<script type="application/json">` holding a report's {@link ReportDocument}. */
export const REPORT_DATA_ID = 'report-data';

const STYLE = `
body { font: 15px/1.45 system-ui, sans-serif; color: #111; background: #fff; margin: 0; }
main { max-width: 960px; margin: 0 auto; padding: 1em 1.25em 3em; }
h1 { font-size: 1.5em; margin: .4em 0 .1em; }
h2 { font-size: 1.2em; margin: 1.6em 0 .3em; border-bottom: 1px solid #ccc; }
.recsys-report-meta { color: #444; font-size: .9em; margin: 0; }
.recsys-report-meta code { background: #f2f2f2; padding: 0 .25em; overflow-wrap: anywhere; }
figure.recsys-chart { margin: 1em 0; }
figure.recsys-chart figcaption { margin-bottom: .3em; }
.recsys-chart-caption { color: #444; }
a:focus-visible, a:focus { outline: 3px solid #0072B2; outline-offset: 2px; }
table { border-collapse: collapse; font-size: .88em; margin: .5em 0; }
th, td { padding: .2em .6em; border-bottom: 1px solid #ddd; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.recsys-report-error { color: #D55E00; font-weight: bold; }
`;

/** A table cell: integers with thousands separators, other numbers to 4 significant decimals. */
export function formatCell(v: string | number | null): string {
  if (v === null) return '–';
  if (typeof v === 'string') return v;
  if (!Number.isFinite(v)) return String(v);
  return Number.isInteger(v) ? v.toLocaleString('en') : Math.abs(v) >= 1000 ? v.toLocaleString('en', { maximumFractionDigits: 1 }) : v.toFixed(4);
}

function table(t: NonNullable<ReportSection['table']>, heading: string): HTMLTableElement {
  const el = document.createElement('table');
  const caption = document.createElement('caption');
  caption.textContent = `${heading}: the figures`;
  caption.style.cssText = 'text-align:left;font-weight:bold;padding:.2em 0';
  const head = el.createTHead().insertRow();
  for (const c of t.columns) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = c;
    head.append(th);
  }
  const body = el.createTBody();
  for (const row of t.rows) {
    const tr = body.insertRow();
    for (const v of row) {
      const td = tr.insertCell();
      td.textContent = formatCell(v);
      if (typeof v === 'number') td.className = 'num';
    }
  }
  el.prepend(caption);
  return el;
}

/** Draws `report` into `container`: title, the command and time, then each section's text, charts and table. */
export function renderReportDocument(report: ReportDocument, container: HTMLElement): void {
  const width = Math.min(920, Math.max(320, container.clientWidth || 920));
  const h1 = document.createElement('h1');
  h1.textContent = report.title;
  const meta = document.createElement('p');
  meta.className = 'recsys-report-meta';
  const code = document.createElement('code');
  code.textContent = report.command;
  meta.append(code, document.createTextNode(` · ${report.generatedAt}`));
  container.append(h1, meta);
  for (const section of report.sections) {
    const el = document.createElement('section');
    const h2 = document.createElement('h2');
    h2.textContent = section.heading;
    el.append(h2);
    if (section.text) {
      const p = document.createElement('p');
      p.textContent = section.text;
      el.append(p);
    }
    for (const chart of section.charts) el.append(renderChart(chart, { width }));
    if (section.table) el.append(table(section.table, section.heading));
    container.append(el);
  }
}

/**
 * The report page's start: the document from `#report-data` drawn into `<main>`. A page without
 * the data, or with data that does not parse, says so in the page instead of staying blank.
 */
export function renderReport(doc: Document): void {
  const style = doc.createElement('style');
  style.textContent = STYLE;
  doc.head.append(style);
  const main = doc.querySelector('main') ?? doc.body.appendChild(doc.createElement('main'));
  const data = doc.getElementById(REPORT_DATA_ID);
  let report: ReportDocument;
  try {
    if (!data?.textContent) throw new Error(`the page has no <script type="application/json" id="${REPORT_DATA_ID}">`);
    report = JSON.parse(data.textContent) as ReportDocument;
    if (!report || !Array.isArray(report.sections)) throw new Error(`#${REPORT_DATA_ID} holds no report (no "sections" list)`);
  } catch (e) {
    const p = doc.createElement('p');
    p.className = 'recsys-report-error';
    p.textContent = `This report cannot be shown: ${(e as Error).message}`;
    main.append(p);
    return;
  }
  doc.title = report.title;
  renderReportDocument(report, main);
}
