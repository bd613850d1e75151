import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from '../logger.js';
import { parseKeyFile, verifySecret, type ApiKey } from './api-keys.js';

/**
 * The keys in force, loaded from `API_KEYS_FILE` at start (a bad file stops start-up) and
 * reloaded without a restart when the file changes or on SIGHUP. A reload that fails (the file
 * half-written, invalid) keeps the keys in force and logs why; the next change tries again.
 * The directory is watched rather than the file, so a file replaced by rename (what editors
 * and `feature-store keys` do) is seen too.
 */
export class KeyRing {
  readonly #path: string;
  readonly #logger: Logger;
  #keys: ReadonlyMap<string, ApiKey>;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #reloading: Promise<void> | undefined;
  readonly #onHup = (): void => void this.reload();

  private constructor(path: string, keys: ReadonlyMap<string, ApiKey>, logger: Logger) {
    this.#path = path;
    this.#keys = keys;
    this.#logger = logger;
  }

  static async load(path: string, logger: Logger): Promise<KeyRing> {
    const ring = new KeyRing(path, await readKeys(path), logger);
    logger.info({ file: path, keys: ring.#keys.size }, 'API keys loaded');
    return ring;
  }

  /** The key a bearer secret belongs to, or undefined. */
  verify(secret: string): ApiKey | undefined {
    return verifySecret(this.#keys, secret);
  }

  /** Ids of the keys in force (bounded by the file: metrics may label by them). */
  ids(): string[] {
    return [...this.#keys.keys()];
  }

  /** Starts following changes of the file and SIGHUP. */
  watch(): void {
    if (this.#watcher !== undefined) return;
    const name = basename(this.#path);
    this.#watcher = watch(dirname(this.#path), (_event, file) => {
      if (file !== null && file !== name) return;
      // Editors write in several steps: reload once the burst is over.
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => void this.reload(), 100);
    });
    this.#watcher.unref();
    process.on('SIGHUP', this.#onHup);
  }

  /** Re-reads the file; keeps the keys in force if it cannot be used. */
  reload(): Promise<void> {
    this.#reloading ??= readKeys(this.#path)
      .then(
        (keys) => {
          this.#keys = keys;
          this.#logger.info({ file: this.#path, keys: keys.size }, 'API keys reloaded');
        },
        (err: unknown) =>
          this.#logger.error({ file: this.#path, reason: err instanceof Error ? err.message : String(err) }, 'API keys file not reloaded; the keys in force stay'),
      )
      .finally(() => {
        this.#reloading = undefined;
      });
    return this.#reloading;
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#watcher?.close();
    this.#watcher = undefined;
    process.off('SIGHUP', this.#onHup);
  }
}

async function readKeys(path: string): Promise<ReadonlyMap<string, ApiKey>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  let keys: readonly ApiKey[];
  try {
    keys = parseKeyFile(text).keys;
  } catch (err) {
    throw new Error(`${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return new Map(keys.map((k) => [k.id, k]));
}
