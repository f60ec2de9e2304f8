import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { TomlError, parse, stringify } from 'smol-toml';

type TomlTable = Record<string, unknown>;

/** A config file that cannot be used; the message names the file (and line) and the fix. Never holds a value from the file. */
export class ConfigFileError extends Error {
  constructor(
    readonly path: string,
    message: string,
    readonly line?: number,
  ) {
    super(message);
    this.name = 'ConfigFileError';
  }
}

export interface LoadedFile {
  path: string;
  exists: boolean;
  text: string;
  data: TomlTable;
  /** Permission bits (e.g. 0o600), when the file exists. */
  mode?: number;
}

/** Reads and parses the file. A missing file is an empty config; anything else unreadable or unparsable is an error. */
export function readConfigFile(path: string): LoadedFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { path, exists: false, text: '', data: {} };
    const why =
      code === 'EACCES' || code === 'EPERM'
        ? 'permission denied (fix the owner or run: chmod 600 ' + path + ')'
        : code === 'EISDIR'
          ? 'it is a directory, not a file (point --config or PORTCULLIS_CONFIG at a portcullis.toml file)'
          : `${code ?? 'read error'}`;
    throw new ConfigFileError(path, `cannot read config file ${path}: ${why}`);
  }
  let data: TomlTable;
  try {
    data = parse(text);
  } catch (err) {
    if (err instanceof TomlError) {
      // smol-toml's first message line says what is wrong; its code block would echo file content (maybe a key), so it is dropped.
      const what = err.message.split('\n')[0].replace(/^Invalid TOML document:\s*/, '');
      throw new ConfigFileError(
        path,
        `config file ${path} is not valid TOML: line ${err.line}, column ${err.column}: ${what}. ` +
          'Fix that line (the file was left untouched), or move the file aside to start from defaults.',
        err.line,
      );
    }
    throw err;
  }
  const mode = statSync(path).mode & 0o777;
  return { path, exists: true, text, data, mode };
}

/**
 * Writes text atomically: a temp file in the same directory (so rename cannot cross
 * file systems), fsync, rename over the target, fsync the directory. Readers see the
 * old file or the new one, never a partial one. The result is mode 0600.
 */
export function writeFileAtomic(path: string, text: string): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(tmp);
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw err;
  }
  try {
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    /* some file systems refuse fsync on a directory; the rename is still atomic */
  }
}

const BARE_KEY = /^[A-Za-z0-9_-]+$/;
const q = (s: string): string => JSON.stringify(s);

/**
 * Sets `[section] key = "value"` keeping every other line (and comment) of the file:
 * a line edit when the layout is simple, a full re-serialisation (comments lost,
 * settings kept) only when the edit would not parse back to the intended value.
 * Never called on a file that failed to parse.
 */
export function setStringValue(file: LoadedFile, section: string, key: string, value: string): string {
  if (!BARE_KEY.test(section) || !BARE_KEY.test(key)) throw new Error('section and key must be bare TOML keys');
  const lines = file.text.split('\n');
  const header = lines.findIndex(
    (l) =>
      l.trim().replace(/\s+/g, '') === `[${section}]` ||
      /^\s*\[\s*([A-Za-z0-9_-]+)\s*\]\s*(#.*)?$/.exec(l)?.[1] === section,
  );
  let next: string;
  if (header === -1) {
    const sep = file.text.length === 0 || file.text.endsWith('\n\n') ? '' : file.text.endsWith('\n') ? '\n' : '\n\n';
    next = `${file.text}${sep}[${section}]\n${key} = ${q(value)}\n`;
  } else {
    let end = lines.findIndex((l, i) => i > header && /^\s*\[/.test(l));
    if (end === -1) end = lines.length;
    const keyRe = new RegExp(`^(\\s*)${key}(\\s*)=.*$`);
    const at = lines.findIndex((l, i) => i > header && i < end && keyRe.test(l));
    if (at !== -1) lines[at] = lines[at].replace(keyRe, `$1${key}$2= ${q(value)}`);
    else lines.splice(header + 1, 0, `${key} = ${q(value)}`);
    next = lines.join('\n');
  }
  try {
    const back = parse(next) as TomlTable;
    const sec = back[section] as TomlTable | undefined;
    if (sec && sec[key] === value && sameExcept(back, file.data, section, key)) return next;
  } catch {
    /* fall through to a clean re-serialisation */
  }
  const data = structuredClone(file.data);
  const sec = (data[section] && typeof data[section] === 'object' ? data[section] : (data[section] = {})) as TomlTable;
  sec[key] = value;
  return `${stringify(data)}\n`;
}

function sameExcept(a: TomlTable, b: TomlTable, section: string, key: string): boolean {
  const strip = (t: TomlTable): string => {
    const c = structuredClone(t);
    const s = c[section] as TomlTable | undefined;
    if (s) {
      delete s[key];
      if (Object.keys(s).length === 0) delete c[section];
    }
    return JSON.stringify(sortKeys(c));
  };
  return strip(a) === strip(b);
}

function sortKeys(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as TomlTable)[k])]),
    );
  }
  return v;
}

/** A warning (never an error) for a group/world-readable file that holds a secret. */
export function permissionWarning(file: LoadedFile, holdsSecret: boolean): string | undefined {
  if (!file.exists || file.mode === undefined || !holdsSecret) return undefined;
  if ((file.mode & 0o077) === 0) return undefined;
  return (
    `warning: ${file.path} holds the admin API key but is readable by ${file.mode & 0o007 ? 'everyone' : 'its group'} ` +
    `(mode ${file.mode.toString(8).padStart(4, '0')}). Fix: chmod 600 ${file.path}`
  );
}
