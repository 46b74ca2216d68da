// Reads a Spark ML ALSModel saved with `model.save(DIR)` (Spark 2.x–4.x, pyspark.ml.recommendation):
//
//   DIR/metadata/part-00000       one JSON line (DefaultParamsWriter): class, timestamp, sparkVersion,
//                                 uid, paramMap, defaultParamMap, and `rank` (ALSModelWriter's extra metadata)
//   DIR/userFactors/part-*.parquet  columns id: int32, features: array<float> (a Parquet LIST of FLOAT)
//   DIR/itemFactors/part-*.parquet  the same for items
//
// plus the files Hadoop writes beside them (`_SUCCESS`, `.part-….crc`), which are ignored like every
// name starting with `_` or `.` (Spark's own reader does the same). Parquet is read with hyparquet
// (pure JavaScript, SNAPPY and UNCOMPRESSED built in, GZIP through node:zlib).
import { closeSync, fstatSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { RatingMatrix } from '@recsys/data';
import { AsyncBuffer, ColumnData, FileMetaData, parquetMetadataAsync, parquetRead, parquetSchema, SchemaTree } from 'hyparquet';
import { ArtifactError } from '../../artifact';
import { trainableModelKinds } from '../../model-kinds';
import { SPARK_ALS_DEFAULTS, SPARK_ALS_MAX_RANK, SparkAlsFactors, SparkAlsMatch, SparkAlsModel } from '../spark-als-model';

/** The class name DefaultParamsWriter records for an ALSModel. */
export const SPARK_ALS_CLASS = 'org.apache.spark.ml.recommendation.ALSModel';

/** What the import keeps of `DIR/metadata/part-00000`. */
export interface SparkAlsMetadata {
  sparkVersion: string;
  uid: string;
  /** Milliseconds since 1970 when Spark saved the model. */
  timestamp: number | null;
  rank: number;
  /** paramMap (or defaultParamMap) values: the DataFrame columns the model was trained with. */
  userCol: string;
  itemCol: string;
  coldStartStrategy: string | null;
  /** paramMap.regParam when the saved model carries it (ALSModel itself does not: see importSparkAlsModel). */
  regParam: number | null;
}

/** The Parquet files read from one factor folder and its row count. */
export interface SparkModelFolder {
  dir: string;
  files: string[];
  rows: number;
}

/** A Spark model read from its folders. */
export interface SparkAlsRead {
  metadata: SparkAlsMetadata;
  factors: SparkAlsFactors;
  users: SparkModelFolder;
  items: SparkModelFolder;
}

/** An imported model with what the import found (see {@link importSparkAlsModel}). */
export interface SparkAlsImport {
  model: SparkAlsModel;
  metadata: SparkAlsMetadata;
  match: SparkAlsMatch;
  users: SparkModelFolder;
  items: SparkModelFolder;
  /** The fold-in λ used and where it came from. */
  regParam: { value: number; from: 'option' | 'metadata' | 'default' };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Data files of a Hadoop output folder: every regular file whose name starts with neither `_` nor `.`, sorted. */
function dataFiles(dir: string, what: string): string[] {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new ArtifactError(dir, 'not a folder');
    entries = readdirSync(dir);
  } catch (e) {
    if (e instanceof ArtifactError) throw e;
    throw new ArtifactError(dir, `missing (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): ALSModel.save(DIR) writes DIR/${what}; is the path the DIR it was given?`);
  }
  const files = entries.filter((name) => !name.startsWith('_') && !name.startsWith('.') && statSync(join(dir, name)).isFile()).sort();
  if (files.length === 0) throw new ArtifactError(dir, `the folder holds no data file (${entries.length === 0 ? 'it is empty' : `only ${entries.join(', ')}`}): ALSModel.save writes ${what} as part-* files`);
  return files.map((name) => join(dir, name));
}

/** The model's metadata, checked: an ALSModel's class, a rank in 1..SPARK_ALS_MAX_RANK. */
export function readSparkAlsMetadata(dir: string): SparkAlsMetadata {
  const [file] = dataFiles(join(dir, 'metadata'), 'metadata');
  const text = readFileSync(file, 'utf8').trim();
  if (text.includes('\n')) throw new ArtifactError(file, 'expected one JSON line (DefaultParamsWriter writes one), found several lines');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ArtifactError(file, `not JSON: ${(e as Error).message}`);
  }
  if (!isObject(json)) throw new ArtifactError(file, 'not a JSON object');
  if (json.class !== SPARK_ALS_CLASS) throw new ArtifactError(file, `class is ${JSON.stringify(json.class)}, expected "${SPARK_ALS_CLASS}" (an ALSModel saved with model.save(DIR), not the ALS estimator or another model)`);
  const rank = json.rank;
  if (typeof rank !== 'number' || !Number.isInteger(rank) || rank < 1 || rank > SPARK_ALS_MAX_RANK) {
    throw new ArtifactError(file, `rank must be an integer in 1..${SPARK_ALS_MAX_RANK}, got ${JSON.stringify(rank)}`);
  }
  const params = isObject(json.paramMap) ? json.paramMap : {};
  const defaults = isObject(json.defaultParamMap) ? json.defaultParamMap : {};
  const param = (name: string): unknown => params[name] ?? defaults[name];
  const text_ = (name: string, fallback: string): string => (typeof param(name) === 'string' ? (param(name) as string) : fallback);
  const reg = param('regParam');
  if (reg !== undefined && !(typeof reg === 'number' && reg > 0 && Number.isFinite(reg))) throw new ArtifactError(file, `paramMap.regParam must be a number > 0, got ${JSON.stringify(reg)}`);
  return {
    sparkVersion: typeof json.sparkVersion === 'string' ? json.sparkVersion : 'unknown',
    uid: typeof json.uid === 'string' ? json.uid : 'unknown',
    timestamp: typeof json.timestamp === 'number' ? json.timestamp : null,
    rank,
    userCol: text_('userCol', 'user'),
    itemCol: text_('itemCol', 'item'),
    coldStartStrategy: typeof param('coldStartStrategy') === 'string' ? (param('coldStartStrategy') as string) : null,
    regParam: typeof reg === 'number' ? reg : null,
  };
}

const COMPRESSORS = { GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)) };

/** A file opened for hyparquet: byte ranges read on demand (a factor file is never held whole). */
interface OpenFile {
  buffer: AsyncBuffer;
  close(): void;
}

function openFile(file: string): OpenFile {
  const fd = openSync(file, 'r');
  const size = fstatSync(fd).size;
  const buffer: AsyncBuffer = {
    byteLength: size,
    slice(start: number, end = size): ArrayBuffer {
      const bytes = new Uint8Array(Math.max(0, end - start));
      readSync(fd, bytes, 0, bytes.length, start);
      return bytes.buffer;
    },
  };
  return { buffer, close: () => closeSync(fd) };
}

/** The Parquet footer of an opened file, or an error saying it is not Parquet. */
async function footer(file: string, open: OpenFile): Promise<FileMetaData> {
  const bytes = open.buffer.byteLength;
  if (bytes < 12) throw new ArtifactError(file, `not a Parquet file (${bytes} bytes; a Parquet file starts and ends with "PAR1")`);
  const magic = (b: ArrayBuffer) => String.fromCharCode(...new Uint8Array(b));
  const head = magic(await open.buffer.slice(0, 4));
  const tail = magic(await open.buffer.slice(bytes - 4, bytes));
  if (head !== 'PAR1' || tail !== 'PAR1') throw new ArtifactError(file, `not a Parquet file (starts with ${JSON.stringify(head)}, ends with ${JSON.stringify(tail)}; expected "PAR1")`);
  try {
    return await parquetMetadataAsync(open.buffer);
  } catch (e) {
    throw new ArtifactError(file, `unreadable Parquet footer: ${(e as Error).message}`);
  }
}

/** Checks the columns Spark writes for factors: `id` int32 and `features` a LIST of FLOAT. */
function checkFactorSchema(file: string, metadata: FileMetaData): void {
  const root = parquetSchema(metadata);
  const child = (name: string): SchemaTree | undefined => root.children.find((c) => c.element.name === name);
  const id = child('id');
  if (!id) throw new ArtifactError(file, `no column "id" (columns: ${root.children.map((c) => c.element.name).join(', ')})`);
  if (id.element.type !== 'INT32') throw new ArtifactError(file, `column "id" has type ${id.element.type}, expected INT32 (Spark's int)`);
  const features = child('features');
  if (!features) throw new ArtifactError(file, `no column "features" (columns: ${root.children.map((c) => c.element.name).join(', ')})`);
  let leaf: SchemaTree = features;
  while (leaf.children.length === 1) leaf = leaf.children[0];
  const isList = features.element.converted_type === 'LIST' || features.element.logical_type?.type === 'LIST';
  if (!isList || leaf.children.length !== 0 || leaf.element.type !== 'FLOAT') {
    throw new ArtifactError(file, `column "features" must be a list of FLOAT (Spark's array<float>), found ${features.element.converted_type ?? features.element.type ?? 'a group'} of ${leaf.element.type ?? 'a group'}`);
  }
}

/**
 * Reads one factor folder: every data file, row group by row group; each row's id must be a
 * non-null int and its features `rank` finite floats (no null list, no null element, no NaN or
 * infinity); ids must be unique across the folder's files.
 */
async function readFactorFolder(dir: string, what: string, rank: number): Promise<{ ids: Int32Array; factors: Float32Array; folder: SparkModelFolder }> {
  const files = dataFiles(dir, what);
  const parts: Array<{ file: string; open: OpenFile; metadata: FileMetaData }> = [];
  try {
    let total = 0;
    for (const file of files) {
      const open = openFile(file);
      parts.push({ file, open, metadata: await footer(file, open) });
      checkFactorSchema(file, parts[parts.length - 1].metadata);
      total += Number(parts[parts.length - 1].metadata.num_rows);
    }
    const ids = new Int32Array(total);
    const factors = new Float32Array(total * rank);
    let row = 0;
    for (const { file, open, metadata } of parts) row = await readFactorRows(file, open.buffer, metadata, rank, ids, factors, row);
    const duplicate = firstDuplicate(ids);
    if (duplicate !== null) throw new ArtifactError(dir, `id ${duplicate} appears more than once (${files.length} file(s)); a saved ALSModel has one row per id`);
    return { ids, factors, folder: { dir, files, rows: total } };
  } finally {
    for (const p of parts) p.open.close();
  }
}

/**
 * Reads one file's rows, row group by row group (columnar: hyparquet's chunks, no object per row),
 * into ids and factors from row `row`; returns the next row.
 */
async function readFactorRows(file: string, buffer: AsyncBuffer, metadata: FileMetaData, rank: number, ids: Int32Array, factors: Float32Array, row: number): Promise<number> {
  let start = 0;
  for (const group of metadata.row_groups) {
    const end = start + Number(group.num_rows);
    const chunks: ColumnData[] = [];
    try {
      await parquetRead({ file: buffer, metadata, columns: ['id', 'features'], rowStart: start, rowEnd: end, compressors: COMPRESSORS, onChunk: (c) => chunks.push(c) });
    } catch (e) {
      const codec = /compression codec/.test((e as Error).message) ? ' (write the factors with SNAPPY, GZIP or no compression: spark.sql.parquet.compression.codec)' : '';
      throw new ArtifactError(file, `cannot read rows ${start}..${end - 1}: ${(e as Error).message}${codec}`);
    }
    const base = row - start;
    for (const column of ['id', 'features']) {
      const covered = chunks.filter((c) => c.columnName === column).reduce((n, c) => n + Math.max(0, Math.min(c.rowEnd, end) - Math.max(c.rowStart, start)), 0);
      if (covered !== end - start) throw new ArtifactError(file, `rows ${start}..${end - 1}: column "${column}" holds ${covered} of the row group's ${end - start} values`);
    }
    // Ids first (the messages about features name the row's id), then the features.
    for (const c of chunks) {
      if (c.columnName !== 'id') continue;
      for (let r = Math.max(c.rowStart, start); r < Math.min(c.rowEnd, end); r++) {
        const id = c.columnData[r - c.rowStart];
        if (typeof id !== 'number' || !Number.isInteger(id)) throw new ArtifactError(file, `row ${r}: id is ${id === null || id === undefined ? 'null' : JSON.stringify(id)}, expected an int`);
        ids[base + r] = id;
      }
    }
    for (const c of chunks) {
      if (c.columnName !== 'features') continue;
      for (let r = Math.max(c.rowStart, start); r < Math.min(c.rowEnd, end); r++) {
        const f = c.columnData[r - c.rowStart] as unknown;
        const where = `row ${r} (id ${ids[base + r]})`;
        if (!Array.isArray(f)) throw new ArtifactError(file, `${where}: features is null`);
        if (f.length !== rank) throw new ArtifactError(file, `${where}: features has ${f.length} values, the metadata's rank is ${rank}`);
        const offset = (base + r) * rank;
        for (let j = 0; j < rank; j++) {
          const v = f[j];
          if (typeof v !== 'number' || !Number.isFinite(v)) throw new ArtifactError(file, `${where}: features[${j}] is ${v === null || v === undefined ? 'null' : String(v)}, expected a finite float`);
          factors[offset + j] = v;
        }
      }
    }
    row += end - start;
    start = end;
  }
  return row;
}

function firstDuplicate(ids: Int32Array): number | null {
  const sorted = ids.slice().sort();
  for (let i = 1; i < sorted.length; i++) if (sorted[i] === sorted[i - 1]) return sorted[i];
  return null;
}

/** Reads and checks a saved ALSModel (see the file's head for the layout; every refusal names the file and the fault). */
export async function readSparkAlsModel(dir: string): Promise<SparkAlsRead> {
  const metadata = readSparkAlsMetadata(dir);
  const users = await readFactorFolder(join(dir, 'userFactors'), 'userFactors', metadata.rank);
  const items = await readFactorFolder(join(dir, 'itemFactors'), 'itemFactors', metadata.rank);
  return {
    metadata,
    factors: { rank: metadata.rank, userIds: users.ids, userFactors: users.factors, itemIds: items.ids, itemFactors: items.factors },
    users: users.folder,
    items: items.folder,
  };
}

/**
 * A saved ALSModel as a servable `spark-als` model over `data` (the ratings it was trained from,
 * e.g. those `recsys export --format parquet` wrote): rows are matched by raw id (user ids to the
 * data's users, item ids to its movies); ids absent from the data are skipped and counted. The
 * fold-in λ is `options.regParam`, else the metadata's paramMap.regParam (an ALSModel does not
 * record it, but a hand-edited or future one may), else Spark's default 0.1.
 */
export async function importSparkAlsModel(dir: string, data: RatingMatrix, options: { regParam?: number } = {}): Promise<SparkAlsImport> {
  const read = await readSparkAlsModel(dir);
  const regParam =
    options.regParam !== undefined
      ? { value: options.regParam, from: 'option' as const }
      : read.metadata.regParam !== null
        ? { value: read.metadata.regParam, from: 'metadata' as const }
        : { value: SPARK_ALS_DEFAULTS.regParam, from: 'default' as const };
  const { model, match } = SparkAlsModel.fromFactors(read.factors, data, { regParam: regParam.value }, trainableModelKinds);
  if (match.usersMatched === 0 || match.moviesMatched === 0) {
    throw new ArtifactError(dir, `none of the model's ${match.usersMatched === 0 ? `${read.factors.userIds.length} user ids` : `${read.factors.itemIds.length} item ids`} is in the data: was it trained on other data?`);
  }
  const m = read.metadata;
  model.importMeta = { source: 'spark', sparkVersion: m.sparkVersion, uid: m.uid, savedAt: m.timestamp === null ? null : new Date(m.timestamp).toISOString(), regParamFrom: regParam.from, ...match };
  return { model, metadata: m, match, users: read.users, items: read.items, regParam };
}
