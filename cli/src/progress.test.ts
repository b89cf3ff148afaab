import { PassThrough } from 'node:stream';
import { progressBar, renderBar } from './progress';

function stream(isTTY: boolean): PassThrough & { isTTY: boolean; text(): string } {
  const out = Object.assign(new PassThrough(), { isTTY });
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return Object.assign(out, { text: () => text });
}

describe('Function: progressBar', () => {
  it('draws the bar on a terminal and clears it when finished', () => {
    const out = stream(true);
    const bar = progressBar(out, 'revoking');
    bar.update(1, 4, 'revoked 1');
    bar.finish();
    expect(out.text()).toBe(`\r\u001b[2K${renderBar('revoking', 1, 4)}  revoked 1\r\u001b[2K`);
  });

  it('writes nothing when the stream is not a terminal (a log gets no carriage returns)', () => {
    const out = stream(false);
    const bar = progressBar(out, 'revoking');
    bar.update(1, 4);
    bar.finish();
    expect(out.text()).toBe('');
  });
});

describe('Function: renderBar', () => {
  it('fills in proportion and shows the count and percentage', () => {
    expect(renderBar('revoking', 1, 4)).toBe(`revoking [${'#'.repeat(8)}${'-'.repeat(22)}] 1/4  25%`);
    expect(renderBar('revoking', 0, 0)).toBe(`revoking [${'#'.repeat(30)}] 0/0  100%`);
  });
});
