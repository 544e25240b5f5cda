/**
 * Reads daily price CSVs: first column the date, one column per asset. Accepts `,` or `;` separators,
 * ISO (YYYY-MM-DD) or day-first (DD/MM/YYYY) dates, an empty first header cell, empty/NaN cells as
 * missing values, and gzip-compressed files (`.gz`).
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DataError, type PriceTable } from '../risk/timeseries';

export function readPriceFile(path: string): PriceTable {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (err) {
    throw new DataError(`cannot read price file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const text = path.endsWith('.gz') ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
  return parsePriceCsv(text, path);
}

export function parsePriceCsv(text: string, source = 'input'): PriceTable {
  const lines = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
  if (lines.length < 2) throw new DataError(`${source}: expected a header and at least one row of prices`);
  const sep = detectSeparator(lines[0]);
  const header = splitRow(lines[0], sep);
  const assets = header.slice(1).map((h) => h.trim());
  if (assets.length === 0) throw new DataError(`${source}: no asset columns after the date column`);
  const dupe = assets.find((a, i) => assets.indexOf(a) !== i);
  if (dupe !== undefined) throw new DataError(`${source}: duplicate column "${dupe}"`);

  const rows: { date: string; values: number[] }[] = [];
  for (let i = 1; i < lines.length; i++) {
    const cells = splitRow(lines[i], sep);
    const date = parseDate(cells[0], `${source}:${i + 1}`);
    const values = assets.map((_, j) => parseCell(cells[j + 1], `${source}:${i + 1}`, assets[j]));
    rows.push({ date, values });
  }
  rows.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  for (let i = 1; i < rows.length; i++) {
    if (rows[i].date === rows[i - 1].date) throw new DataError(`${source}: duplicate date ${rows[i].date}`);
  }
  const series = assets.map((_, j) => Float64Array.from(rows, (r) => r.values[j]));
  return { dates: rows.map((r) => r.date), assets, series };
}

function detectSeparator(headerLine: string): ',' | ';' {
  return (headerLine.match(/;/g)?.length ?? 0) > (headerLine.match(/,/g)?.length ?? 0) ? ';' : ',';
}

function splitRow(line: string, sep: string): string[] {
  return line.split(sep).map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
}

function parseDate(cell: string | undefined, where: string): string {
  const s = (cell ?? '').trim();
  let m = /^(\d{4})-(\d{2})-(\d{2})/.exec(s);
  if (m) return `${m[1]}-${m[2]}-${m[3]}`;
  m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(s);
  if (m) return `${m[3]}-${m[2].padStart(2, '0')}-${m[1].padStart(2, '0')}`;
  throw new DataError(`${where}: unreadable date "${s}" (expected YYYY-MM-DD or DD/MM/YYYY)`);
}

function parseCell(cell: string | undefined, where: string, asset: string): number {
  const s = (cell ?? '').trim();
  if (s === '' || /^(nan|null|na|n\/a)$/i.test(s)) return Number.NaN;
  const x = Number(s);
  if (!Number.isFinite(x)) throw new DataError(`${where}: column ${asset}: not a number "${s}"`);
  if (x <= 0) throw new DataError(`${where}: column ${asset}: price must be positive, got ${s}`);
  return x;
}
