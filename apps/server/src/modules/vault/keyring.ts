import type { MasterKey } from '../../config/index.js';

/**
 * The instance master keys in memory. `current` wraps new data keys; any key in the ring can
 * unwrap. When a wrapped key names an id the ring lacks (another process rotated), `reload`
 * is asked once for a fresher ring (embedded mode re-reads its key file).
 */
export class Keyring {
  private keys: MasterKey[];

  constructor(
    keys: MasterKey[],
    private readonly reload: () => MasterKey[] | undefined = () => undefined,
  ) {
    if (!keys[0]) throw new Error('a keyring needs at least one master key');
    this.keys = keys;
  }

  get current(): MasterKey {
    return this.keys[0]!;
  }

  ids(): string[] {
    return this.keys.map((k) => k.id);
  }

  find(id: string): MasterKey | undefined {
    let k = this.keys.find((m) => m.id === id);
    if (!k) {
      const fresh = this.reload();
      if (fresh?.length) {
        this.keys = fresh;
        k = this.keys.find((m) => m.id === id);
      }
    }
    return k;
  }

  /** Makes `key` current, keeping the others for unwrapping. */
  promote(key: MasterKey): void {
    this.keys = [key, ...this.keys.filter((k) => k.id !== key.id)];
  }
}
