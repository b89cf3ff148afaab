/** The token list: the admin API's filters, page by page, and bulk pause or revoke of what the filter matches. */
import { useState } from 'preact/hooks';
import { api, cleanFilter } from '../api';
import { ErrorBox, PageButtons, Section, StatusBadge, useLoad, when } from '../components/common';
import { TOKEN_FILTER_KEYS, type TokenFilter, type TokenList } from '../types';
import { BulkPanel } from './bulk';

const STATUSES = ['', 'active', 'paused', 'rotate', 'revoked', 'expired', 'superseded'];

const FIELDS: Array<{ key: keyof TokenFilter; label: string; hint: string; type?: string }> = [
  { key: 'app', label: 'App', hint: 'hello' },
  { key: 'version', label: 'Version range', hint: '<2.0.0' },
  { key: 'install', label: 'Install id', hint: '' },
  { key: 'network', label: 'Source network (CIDR)', hint: '203.0.113.0/24' },
  { key: 'createdAfter', label: 'Created after', hint: '2026-01-31T00:00:00Z' },
  { key: 'createdBefore', label: 'Created before', hint: '' },
  { key: 'seenAfter', label: 'Seen after', hint: '' },
  { key: 'seenBefore', label: 'Seen before', hint: '' },
];

export function Tokens({ query }: { query: URLSearchParams }) {
  const filter = cleanFilter(Object.fromEntries(TOKEN_FILTER_KEYS.map((key) => [key, query.get(key) ?? ''])));
  const filterKey = JSON.stringify(filter);
  // Cursors of the pages before this one, so "Previous page" can go back.
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const [seenKey, setSeenKey] = useState(filterKey);
  if (seenKey !== filterKey) {
    setSeenKey(filterKey);
    setCursors([undefined]);
  }
  const cursor = cursors[cursors.length - 1];
  const list = useLoad(
    () => api<TokenList>('GET', 'tokens', { query: { ...filter, cursor, limit: 50 } }),
    `${filterKey}|${cursor ?? ''}`,
  );

  return (
    <>
      <h1>Tokens</h1>
      <FilterForm filter={filter} />
      <ErrorBox error={list.error} />
      <Section title="Matching tokens" id="matching">
        <p class="note" aria-live="polite">
          {list.loading
            ? 'Loading…'
            : `Page ${cursors.length}: ${list.data?.tokens.length ?? 0} tokens${list.data?.nextCursor ? ', more on the next page' : ''}`}
        </p>
        <TokenTable list={list.data} />
        <PageButtons cursors={cursors} setCursors={setCursors} nextCursor={list.data?.nextCursor} />
      </Section>
      <BulkPanel filter={filter} onDone={list.reload} />
    </>
  );
}

function FilterForm({ filter }: { filter: TokenFilter }) {
  return (
    <form
      class="card filters"
      aria-label="Filter tokens"
      onSubmit={(event) => {
        event.preventDefault();
        const data = new FormData(event.currentTarget);
        const query = new URLSearchParams();
        for (const key of TOKEN_FILTER_KEYS) {
          const value = String(data.get(key) ?? '').trim();
          if (value) query.set(key, value);
        }
        location.hash = `#/tokens${query.size ? `?${query}` : ''}`;
      }}
    >
      <div class="field">
        <label for="filter-status">Status</label>
        <select id="filter-status" name="status" value={filter.status ?? ''}>
          {STATUSES.map((status) => (
            <option key={status} value={status}>
              {status || 'any'}
            </option>
          ))}
        </select>
      </div>
      {FIELDS.map(({ key, label, hint }) => (
        <div class="field" key={`${key}:${filter[key] ?? ''}`}>
          <label for={`filter-${key}`}>{label}</label>
          <input id={`filter-${key}`} name={key} defaultValue={filter[key] ?? ''} placeholder={hint} />
        </div>
      ))}
      <div class="buttons">
        <button type="submit" class="primary">
          Apply filter
        </button>
        <a class="button" href="#/tokens">
          Clear
        </a>
      </div>
    </form>
  );
}

function TokenTable({ list }: { list: TokenList | undefined }) {
  if (!list) return null;
  if (list.tokens.length === 0) return <p class="note">No token matches.</p>;
  return (
    <div class="scroll">
      <table class="tokens">
        <thead>
          <tr>
            <th scope="col">Token</th>
            <th scope="col">Status</th>
            <th scope="col">App</th>
            <th scope="col">Install</th>
            <th scope="col">Source network</th>
            <th scope="col">Created</th>
            <th scope="col">Last seen</th>
          </tr>
        </thead>
        <tbody>
          {list.tokens.map((token) => (
            <tr key={token.tokenId} data-token-id={token.tokenId}>
              <td>
                <a href={`#/tokens/${encodeURIComponent(token.tokenId)}`}>{token.tokenId}</a>
              </td>
              <td>
                <StatusBadge status={token.status} />
              </td>
              <td>
                {token.app.name} {token.app.version}
              </td>
              <td class="mono">{token.installId}</td>
              <td>{token.sourceNetwork ?? '—'}</td>
              <td>{when(token.createdAt)}</td>
              <td>{when(token.lastSeenAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
