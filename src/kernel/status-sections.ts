import type { StatusRegistry, StatusSection } from './types.js';

export class StatusSections implements StatusRegistry {
  readonly #reports = new Map<string, () => StatusSection | Promise<StatusSection>>();

  add(section: string, report: () => StatusSection | Promise<StatusSection>): void {
    if (this.#reports.has(section)) throw new Error(`status section "${section}" is added twice`);
    this.#reports.set(section, report);
  }

  /** A failing report shows as `down` with its reason instead of failing the whole status. */
  async collect(): Promise<Record<string, StatusSection>> {
    const entries = await Promise.all(
      [...this.#reports].map(async ([name, report]) => {
        try {
          return [name, await report()] as const;
        } catch (error) {
          return [name, { status: 'down', detail: error instanceof Error ? error.message : String(error) }] as const;
        }
      }),
    );
    return Object.fromEntries(entries);
  }
}
