/** Cursor pagination of the list routes: one page (`--limit`, `--cursor`) or every page (`--all`). */
import type { Context } from '../context';
import { UsageError } from '../errors';
import { note } from '../output';
import type { Paged } from '../api/types';

export interface PageOptions {
  limit?: string;
  cursor?: string;
  all?: boolean;
}

/** `--limit` as a number in 1–500, or undefined for the broker's default. */
export function pageLimit(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 500) {
    throw new UsageError('--limit: a whole number from 1 to 500.');
  }
  return Number(text);
}

/**
 * Fetches one page, or with `--all` every page, and concatenates the items under `key`.
 * @example const { tokens } = await fetchPages(context, options, 'tokens', (cursor) => client.request('GET', 'tokens', …));
 */
export async function fetchPages<Key extends string, Page extends Paged & Record<Key, unknown[]>>(
  context: Context,
  options: PageOptions,
  key: Key,
  fetchPage: (cursor: string | undefined, limit: number | undefined) => Promise<Page>,
): Promise<Page> {
  const limit = pageLimit(options.limit);
  let page = await fetchPage(options.cursor, limit);
  if (!options.all) {
    if (page.nextCursor && !context.json)
      note(context.io, `more: add --cursor ${page.nextCursor} (or --all)`);
    return page;
  }
  const items = [...page[key]];
  while (page.nextCursor) {
    page = await fetchPage(page.nextCursor, limit);
    items.push(...page[key]);
  }
  return { ...page, [key]: items, nextCursor: undefined };
}
