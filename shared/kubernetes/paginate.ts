import { KubernetesCallError, ListRestartError } from '../errors';

export const PAGE_SIZE = 500;
const MAX_RESTARTS = 3;

interface Page<T> {
  readonly items: T[];
  readonly metadata?: { readonly _continue?: string };
}

/**
 * Reads every page of a list with `limit`/`continue`. A 410 Gone (the continue token expired)
 * restarts the list from the beginning, up to three times, so no item is missed or doubled.
 */
export async function listAll<T>(fetchPage: (cont: string | undefined) => Promise<Page<T>>): Promise<T[]> {
  for (let restart = 0; ; restart++) {
    const items: T[] = [];
    let cont: string | undefined;
    try {
      do {
        const page = await fetchPage(cont);
        items.push(...page.items);
        cont = page.metadata?._continue || undefined;
      } while (cont);
      return items;
    } catch (error) {
      if (!(error instanceof KubernetesCallError && error.httpStatus === 410)) throw error;
      if (restart >= MAX_RESTARTS) {
        throw new ListRestartError(`List expired ${MAX_RESTARTS + 1} times while paging`, { cause: error });
      }
    }
  }
}
