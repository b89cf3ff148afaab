/**
 * What the CLI prints: human tables by default, the broker's JSON as is with `--json` (one document on
 * stdout, for scripts). Messages and progress go to stderr, so stdout stays parseable.
 */

export interface Column<Row> {
  header: string;
  value: (row: Row) => unknown;
  /** Numbers line up on the right. */
  align?: 'left' | 'right';
}

/**
 * Rows under upper-case headers, columns two spaces apart; an absent value is `-`, times are shown as
 * `2026-12-01 09:30:00Z`. No trailing spaces.
 * @example renderTable([{ header: 'TOKEN', value: (t) => t.tokenId }], tokens)
 */
export function renderTable<Row>(columns: ReadonlyArray<Column<Row>>, rows: readonly Row[]): string {
  const cells = rows.map((row) => columns.map((column) => cell(column.value(row))));
  const widths = columns.map((column, i) =>
    Math.max(column.header.length, ...cells.map((line) => line[i]!.length)),
  );
  const line = (values: string[]) =>
    values
      .map((value, i) =>
        columns[i]!.align === 'right' ? value.padStart(widths[i]!) : value.padEnd(widths[i]!),
      )
      .join('  ')
      .trimEnd();
  return [line(columns.map((column) => column.header.toUpperCase())), ...cells.map(line)].join('\n');
}

/** `key  value` lines, keys aligned, absent values left out. */
export function renderFields(fields: ReadonlyArray<[string, unknown]>): string {
  const shown = fields.filter(([, value]) => value !== undefined && value !== null && value !== '');
  const width = Math.max(0, ...shown.map(([key]) => key.length));
  return shown.map(([key, value]) => `${key.padEnd(width)}  ${cell(value)}`).join('\n');
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** One value as table text: times shortened, objects as compact JSON, control characters made visible. */
export function cell(value: unknown): string {
  if (value === undefined || value === null || value === '') return '-';
  if (typeof value === 'string') return visible(ISO.test(value) ? formatTime(value) : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return visible(JSON.stringify(value));
}

/** `2026-12-01T09:30:00.123Z` (or epoch ms) → `2026-12-01 09:30:00Z`. */
export function formatTime(value: string | number): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return `${date.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/**
 * Values come from clients (app names, platforms): a newline or an escape sequence must not break a row or
 * drive the operator's terminal.
 */
function visible(text: string): string {
  return text.replace(
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001f\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Where a command writes; the tests and the console pass their own. */
export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

export function printJson(io: Io, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLine(io: Io, text: string): void {
  io.stdout.write(`${text}\n`);
}

/** A note for the operator (stderr), which `--json` output never contains. */
export function note(io: Io, text: string): void {
  io.stderr.write(`${text}\n`);
}
