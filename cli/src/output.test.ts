import { cell, renderFields, renderTable } from './output';

describe('Function: renderTable', () => {
  const rows = [
    { id: 'tok_a', status: 'active', count: 7, seen: '2026-12-01T09:30:00.123Z' },
    { id: 'tok_longer', status: 'paused', count: 1234, seen: undefined },
  ];
  const columns = [
    { header: 'token', value: (r: (typeof rows)[number]) => r.id },
    { header: 'status', value: (r: (typeof rows)[number]) => r.status },
    { header: 'count', value: (r: (typeof rows)[number]) => r.count, align: 'right' as const },
    { header: 'last seen', value: (r: (typeof rows)[number]) => r.seen },
  ];

  it('aligns columns under upper-case headers, numbers on the right, a dash for a missing value', () => {
    expect(renderTable(columns, rows).split('\n')).toEqual([
      'TOKEN       STATUS  COUNT  LAST SEEN',
      'tok_a       active      7  2026-12-01 09:30:00Z',
      'tok_longer  paused   1234  -',
    ]);
  });

  it('prints only the headers for no rows', () => {
    expect(renderTable(columns, [])).toBe('TOKEN  STATUS  COUNT  LAST SEEN');
  });

  it('shows control characters from client-supplied values escaped, so a row stays one line', () => {
    const table = renderTable(
      [{ header: 'app', value: (r: { app: string }) => r.app }],
      [{ app: 'evil\n\u001b[2J' }],
    );
    expect(table.split('\n')).toEqual(['APP', 'evil\\u000a\\u001b[2J']);
  });
});

describe('Function: renderFields', () => {
  it('aligns the keys and leaves out absent values', () => {
    expect(
      renderFields([
        ['token', 'tok_a'],
        ['reason', undefined],
        ['last seen', 3],
      ]),
    ).toBe('token      tok_a\nlast seen  3');
  });
});

describe('Function: cell', () => {
  it('shows objects as compact JSON', () => {
    expect(cell({ count: 2 })).toBe('{"count":2}');
  });
});
