/**
 * A progress bar for bulk jobs, on stderr and only when stderr is a terminal (a log or a pipe gets no
 * carriage returns).
 */

export interface Progress {
  update(done: number, total: number, detail?: string): void;
  /** Clears the bar, so the summary that follows starts on a clean line. */
  finish(): void;
}

const WIDTH = 30;

/**
 * @example const bar = progressBar(process.stderr, 'revoking'); bar.update(40, 100); bar.finish();
 */
export function progressBar(stream: NodeJS.WritableStream & { isTTY?: boolean }, label: string): Progress {
  if (!stream.isTTY) return { update: () => undefined, finish: () => undefined };
  let drawn = false;
  return {
    update(done, total, detail) {
      stream.write(`\r\u001b[2K${renderBar(label, done, total)}${detail ? `  ${detail}` : ''}`);
      drawn = true;
    },
    finish() {
      if (drawn) stream.write('\r\u001b[2K');
      drawn = false;
    },
  };
}

/**
 * One line of the bar: `revoking [##########--------------------] 33/100  33%`.
 * @example renderBar('revoking', 1, 4) // 'revoking [#######-----------------------] 1/4  25%'
 */
export function renderBar(label: string, done: number, total: number): string {
  const ratio = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
  const filled = Math.round(ratio * WIDTH);
  return `${label} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${done}/${total}  ${Math.round(ratio * 100)}%`;
}
