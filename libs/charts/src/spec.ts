/**
 * What a chart shows, as plain JSON data: the dashboard builds these from GraphQL results, the
 * CLI's `--report FILE.html` writes them into the page, and {@link renderChart} draws either.
 * Keeping the spec free of functions is what lets one report file carry its charts as data.
 */
export type ChartSpec = BarChartSpec | LineChartSpec | ScatterChartSpec | GraphChartSpec;

interface ChartBase {
  /** Shown above the chart and used as its accessible name. */
  title: string;
  /** A sentence under the title: what is shown and how it was measured. */
  caption?: string;
  xLabel?: string;
  yLabel?: string;
}

/** Bars, one per category (grouped side by side when `group` is set): metrics per model, a histogram, contributions. */
export interface BarChartSpec extends ChartBase {
  type: 'bar';
  /** 'horizontal': categories down the y axis (long names: movie titles); default 'vertical'. */
  orientation?: 'vertical' | 'horizontal';
  bars: Array<{
    category: string;
    value: number;
    /** Series within a category (e.g. the fold, the metric); one colour each. */
    group?: string;
    /** ± error bar (e.g. the standard deviation over folds). */
    error?: number;
    /** Drawn emphasised (e.g. the active model). */
    highlight?: boolean;
    /** Where a click (or Enter on the focused bar) goes, e.g. '#/movie/123'. */
    href?: string;
  }>;
  /** Keep the bars in the given order (default: as given). */
  sort?: 'none' | 'descending';
  /** Values may be negative (contributions): draw a zero rule. */
  signed?: boolean;
}

/** Lines over a numeric or time x: learning curves (RMSE per epoch), ratings per month. */
export interface LineChartSpec extends ChartBase {
  type: 'line';
  xType?: 'linear' | 'log' | 'time';
  yType?: 'linear' | 'log';
  /** x of 'time' charts: ISO date strings 'YYYY-MM' or 'YYYY-MM-DD'; numbers otherwise. */
  series: Array<{ name: string; points: Array<{ x: number | string; y: number }>; dashed?: boolean }>;
}

/** Points, e.g. the long tail: number of users (y) having k ratings (x) on log–log axes. */
export interface ScatterChartSpec extends ChartBase {
  type: 'scatter';
  xType?: 'linear' | 'log';
  yType?: 'linear' | 'log';
  points: Array<{ x: number; y: number; series?: string; label?: string }>;
}

/** A small neighbourhood graph: a movie in the centre and its most similar movies around it. */
export interface GraphChartSpec extends ChartBase {
  type: 'graph';
  /** The first node is the centre. */
  nodes: Array<{ id: string; label: string; href?: string }>;
  /** `value` in 0..1 (similarity) sets the link's width; `label` its tooltip. */
  links: Array<{ source: string; target: string; value: number; label?: string }>;
}

/** One self-contained HTML report of a CLI command (`--report FILE.html`). */
export interface ReportDocument {
  title: string;
  /** The command line that produced it, e.g. 'recsys evaluate --folds 5 --model svd,baseline'. */
  command: string;
  /** ISO 8601. */
  generatedAt: string;
  sections: ReportSection[];
}

export interface ReportSection {
  heading: string;
  text?: string;
  charts: ChartSpec[];
  /** The figures behind the charts, shown as a table under them. */
  table?: { columns: string[]; rows: Array<Array<string | number | null>> };
}
