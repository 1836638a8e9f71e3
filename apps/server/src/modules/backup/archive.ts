import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, renameSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import readline from 'node:readline';
import { createGunzip, createGzip } from 'node:zlib';
import { backupErrors } from './backup.errors.js';

/**
 * The archive: gzip of JSON lines. Line 1 is the header; each table starts with a `$meta: table`
 * line (name, columns, row count) followed by one JSON object per row; the last line is the
 * trailer with the SHA-256 of every line before it. Model field names cannot start with "$", so a
 * row never looks like a meta line.
 */
export const FORMAT = 'infinity-backup';
export const FORMAT_VERSION = 1;

export interface Header {
  $meta: 'header';
  format: typeof FORMAT;
  version: number;
  createdAt: string;
  infinity: string;
  source: { kind: 'pglite' | 'postgres'; vector: boolean };
  scope: { orgId: string | null };
  migrations: string[];
}

export interface TableMeta {
  $meta: 'table';
  /** "public" for system tables; an organization's schema for its model tables. */
  schema: string;
  name: string;
  /** For model tables: the organization they belong to. */
  orgId?: string;
  rows: number;
}

export interface Trailer {
  $meta: 'end';
  tables: number;
  rows: number;
  sha256: string;
}

export type Line = Header | TableMeta | Trailer | Record<string, unknown>;

/** Writes to FILE.partial and renames on success, so a failed backup never leaves a file that looks whole. */
export class ArchiveWriter {
  private readonly gz = createGzip({ level: 6 });
  private readonly out;
  private readonly hash = createHash('sha256');
  private readonly done: Promise<void>;
  private tables = 0;
  private rows = 0;

  constructor(private readonly file: string) {
    this.out = createWriteStream(`${file}.partial`, { mode: 0o600 });
    this.gz.pipe(this.out);
    this.done = new Promise((resolve, reject) => {
      this.out.on('finish', resolve);
      this.out.on('error', reject);
      this.gz.on('error', reject);
    });
  }

  /** Writes one line given as JSON text (rows come from the database already serialized). */
  async writeText(json: string): Promise<void> {
    const line = `${json}\n`;
    this.hash.update(line);
    if (!this.gz.write(line)) await once(this.gz, 'drain');
  }

  async header(h: Omit<Header, '$meta' | 'format' | 'version'>): Promise<void> {
    await this.writeText(JSON.stringify({ $meta: 'header', format: FORMAT, version: FORMAT_VERSION, ...h }));
  }

  async table(t: Omit<TableMeta, '$meta'>): Promise<void> {
    this.tables++;
    await this.writeText(JSON.stringify({ $meta: 'table', ...t }));
  }

  async row(json: string): Promise<void> {
    this.rows++;
    await this.writeText(json);
  }

  async finish(): Promise<{ tables: number; rows: number; sha256: string }> {
    const sha256 = this.hash.copy().digest('hex');
    const trailer: Trailer = { $meta: 'end', tables: this.tables, rows: this.rows, sha256 };
    this.gz.end(`${JSON.stringify(trailer)}\n`);
    await this.done;
    renameSync(`${this.file}.partial`, this.file);
    return { tables: this.tables, rows: this.rows, sha256 };
  }

  async abort(): Promise<void> {
    this.gz.destroy();
    this.out.destroy();
    rmSync(`${this.file}.partial`, { force: true });
  }
}

/** Every line of an archive in order, parsed. A gzip or JSON error is a damaged archive. */
export async function* readLines(file: string): AsyncGenerator<{ text: string; value: Line }> {
  const raw = createReadStream(file);
  const input = raw.pipe(createGunzip());
  // pipe() does not pass the file's own errors (ENOENT) on: without this the reader waits forever.
  raw.on('error', (err) => input.destroy(err));
  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const text of lines) {
      n++;
      let value: Line;
      try {
        value = JSON.parse(text) as Line;
      } catch {
        throw backupErrors.BACKUP_ARCHIVE_INVALID(`Line ${n} of the archive is not JSON: the file is damaged.`);
      }
      yield { text, value };
    }
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') throw backupErrors.BACKUP_ARCHIVE_INVALID(`No such file: ${file}`);
    if ((err as { code?: string }).code?.startsWith('Z_') || /unexpected end of file|incorrect header check|invalid/i.test((err as Error).message ?? '')) {
      throw backupErrors.BACKUP_ARCHIVE_INVALID(`The archive cannot be decompressed (${(err as Error).message}): it is truncated or altered.`);
    }
    throw err;
  } finally {
    lines.close();
    input.destroy();
    raw.destroy();
  }
}

const isMeta = (v: Line, kind: string): boolean => typeof v === 'object' && v !== null && (v as { $meta?: unknown }).$meta === kind;
export const isHeader = (v: Line): v is Header => isMeta(v, 'header');
export const isTable = (v: Line): v is TableMeta => isMeta(v, 'table');
export const isTrailer = (v: Line): v is Trailer => isMeta(v, 'end');

export interface Verified {
  header: Header;
  trailer: Trailer;
  tables: TableMeta[];
}

/**
 * Reads the whole archive once: the header must come first, every table must hold the rows it
 * announces, the trailer must come last and its checksum must match. Nothing is trusted before this.
 */
export async function verifyArchive(file: string): Promise<Verified> {
  const hash = createHash('sha256');
  let header: Header | undefined;
  let trailer: Trailer | undefined;
  const tables: TableMeta[] = [];
  let current: TableMeta | undefined;
  let seen = 0;
  let rows = 0;
  const closeTable = () => {
    if (current && seen !== current.rows)
      throw backupErrors.BACKUP_ARCHIVE_INVALID(
        `Table ${current.schema}.${current.name} announces ${current.rows} rows but holds ${seen}: the archive is damaged.`,
      );
  };
  for await (const { text, value } of readLines(file)) {
    if (trailer) throw backupErrors.BACKUP_ARCHIVE_INVALID('The archive has data after its end: it is altered.');
    if (!header) {
      if (!isHeader(value) || value.format !== FORMAT) throw backupErrors.BACKUP_ARCHIVE_INVALID('This is not an Infinity backup (no header).');
      header = value;
    } else if (isTrailer(value)) {
      closeTable();
      trailer = value;
      continue;
    } else if (isTable(value)) {
      closeTable();
      current = value;
      tables.push(value);
      seen = 0;
    } else {
      if (!current) throw backupErrors.BACKUP_ARCHIVE_INVALID('A row comes before any table: the archive is altered.');
      seen++;
      rows++;
    }
    hash.update(`${text}\n`);
  }
  if (!header) throw backupErrors.BACKUP_ARCHIVE_INVALID('The archive is empty.');
  if (!trailer) throw backupErrors.BACKUP_ARCHIVE_INVALID('The archive has no end: it is truncated.');
  if (hash.digest('hex') !== trailer.sha256) throw backupErrors.BACKUP_ARCHIVE_INVALID('The archive checksum does not match: it is altered.');
  if (trailer.rows !== rows || trailer.tables !== tables.length)
    throw backupErrors.BACKUP_ARCHIVE_INVALID('The archive totals do not match its content: it is altered.');
  if (header.version > FORMAT_VERSION)
    throw backupErrors.BACKUP_VERSION_UNSUPPORTED(
      `The archive has format ${header.version}; this Infinity reads format ${FORMAT_VERSION}. Restore with a newer Infinity.`,
    );
  return { header, trailer, tables };
}
