import { FSWatcher, readFileSync, unwatchFile, watch, watchFile } from 'node:fs';
import { basename, dirname } from 'node:path';
import { ConfigLocation, Loaded, loadFrom } from '../config';

export interface WatchHandlers {
  onChange(loaded: Loaded): void;
  onError(err: Error): void;
}

/**
 * Watches the config file for edits: fs.watch on its directory (an atomic save
 * replaces the file, which a watch on the file itself would miss) plus stat polling,
 * because fs.watch is not delivered on every file system (network mounts, some containers).
 */
export class ConfigWatcher {
  private dirWatcher?: FSWatcher;
  private lastText?: string;
  private timer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly location: ConfigLocation,
    private readonly pollMs: number,
    private readonly handlers: WatchHandlers,
  ) {}

  start(initialText: string): void {
    this.lastText = initialText;
    const name = basename(this.location.path);
    try {
      this.dirWatcher = watch(dirname(this.location.path), { persistent: false }, (_event, file) => {
        if (!file || file.toString() === name) this.schedule();
      });
      this.dirWatcher.on('error', () => this.dirWatcher?.close());
    } catch {
      /* polling below still covers it */
    }
    watchFile(this.location.path, { interval: this.pollMs, persistent: false }, () => this.schedule());
  }

  close(): void {
    this.closed = true;
    this.dirWatcher?.close();
    unwatchFile(this.location.path);
    if (this.timer) clearTimeout(this.timer);
  }

  /** Editors write in several steps; read once things settle. */
  private schedule(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.check(), 50);
  }

  private check(): void {
    let text: string;
    try {
      text = readFileSync(this.location.path, 'utf8');
    } catch {
      return; // mid-rename or deleted: keep the keys in force, look again on the next event
    }
    if (text === this.lastText) return;
    this.lastText = text;
    try {
      this.handlers.onChange(loadFrom({ ...this.location, exists: true }));
    } catch (err) {
      this.handlers.onError(err as Error);
    }
  }
}
