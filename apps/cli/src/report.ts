import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import type { ReportDocument } from '@recsys/charts';
import { RunFailedError, UsageError } from './errors';

/**
 * `--report FILE.html`: one self-contained HTML page (the charts' script and the data inlined)
 * that can load nothing from anywhere, for sharing a command's results as pictures.
 */
export function withReportOption(cmd: Command): Command {
  return cmd.option('--report <file.html>', 'also write the results as one self-contained HTML page with charts (opens offline; nothing is loaded from anywhere)', reportArgument);
}

/**
 * commander's parser of --report's value: refuses a second --report (commander would keep the
 * last one silently) and a value that is the next option (`--report --json` would write a file
 * named --json and print no JSON); a file so named is still written as ./--json.
 */
function reportArgument(value: string, previous: string | undefined): string {
  if (previous !== undefined) throw new InvalidArgumentError(`--report given twice ("${previous}" and "${value}"): give one file`);
  if (value.startsWith('-')) throw new InvalidArgumentError(`--report needs a file name, got the option ${value} (for a file so named write ./${value})`);
  return value;
}

/** The id the report script reads the document from (libs/charts/src/report.ts). */
const REPORT_DATA_ID = 'report-data';

/** Nothing but the inlined script and styles and data: URLs; no request can leave the file. */
export const REPORT_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";

/** Where the built report script lives: @recsys/charts's dist/web/report.js (tools/build-web.js). */
export function reportScriptPath(): string {
  return path.join(path.dirname(require.resolve('@recsys/charts/package.json')), 'dist', 'web', 'report.js');
}

/** A checked --report destination and the script to inline, both settled before the work starts. */
export interface ReportTarget {
  file: string;
  script: string;
}

/**
 * Checks, before any data is read or model fitted, that `file` can be written (its folder exists
 * and takes a new file, the path is not a folder) and that the report script is built: a bad path
 * is a UsageError (exit 2) naming it; a missing script is a RunFailedError saying how to build it.
 * Undefined when no --report was given.
 */
export function prepareReport(file: string | undefined, scriptFile = reportScriptPath()): ReportTarget | undefined {
  if (file === undefined) return undefined;
  if (file.trim() === '') throw new UsageError('--report needs a file name, got ""');
  const full = path.resolve(file);
  if (fs.existsSync(full) && fs.statSync(full).isDirectory()) throw new UsageError(`--report ${file}: is a folder, not a file`);
  // path.resolve drops a trailing separator: `new-folder/` would otherwise be written as a file.
  if (file.endsWith('/') || file.endsWith(path.sep)) throw new UsageError(`--report ${file}: names a folder (it ends with a path separator), not a file`);
  const dir = path.dirname(full);
  if (!fs.existsSync(dir)) throw new UsageError(`--report ${file}: the folder ${dir} does not exist`);
  // The real test of writability (permissions, read-only mounts): make and remove a file there.
  const probe = tempName(full);
  try {
    fs.writeFileSync(probe, '');
    fs.rmSync(probe);
  } catch (e) {
    throw new UsageError(`--report ${file}: cannot write in ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (!fs.existsSync(scriptFile)) throw new RunFailedError(`--report needs the report script ${scriptFile}, which is not built: run npm run build`);
  return { file: full, script: fs.readFileSync(scriptFile, 'utf8') };
}

function tempName(full: string): string {
  return path.join(path.dirname(full), `.${path.basename(full)}.${process.pid}.tmp`);
}

const escapeHtml = (s: string): string => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The page: CSP meta, the document as JSON in `<script type="application/json" id="report-data">`
 * (every `<` written `\u003c`, so no text in the data can end the script element), then the report
 * script (any `</script` in it written `<\/script`).
 */
export function reportHtml(report: ReportDocument, script: string): string {
  const json = JSON.stringify(report).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(report.title)}</title>`,
    '</head>',
    '<body>',
    '<main></main>',
    `<script type="application/json" id="${REPORT_DATA_ID}">${json}</script>`,
    `<script>${script.replace(/<\/(script)/gi, '<\\/$1')}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** Writes the report atomically (a temp file beside it, then a rename): never a partial page. Returns its size in bytes. */
export function writeReport(target: ReportTarget, report: ReportDocument): number {
  const html = reportHtml(report, target.script);
  const temp = tempName(target.file);
  try {
    fs.writeFileSync(temp, html);
    fs.renameSync(temp, target.file);
  } catch (e) {
    fs.rmSync(temp, { force: true });
    throw new RunFailedError(`--report ${target.file}: could not write it (${(e as Error).message})`);
  }
  process.stderr.write(`wrote the report ${target.file} (${Buffer.byteLength(html).toLocaleString('en-US')} bytes)\n`);
  return Buffer.byteLength(html);
}

/** The command line as typed, for the report's header: `recsys evaluate --folds 5 …` (commander keeps it as the program's rawArgs). */
export function commandLine(cmd: Command): string {
  let root = cmd;
  while (root.parent) root = root.parent;
  const argv = (root as unknown as { rawArgs?: string[] }).rawArgs ?? process.argv;
  return ['recsys', ...argv.slice(2)].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
