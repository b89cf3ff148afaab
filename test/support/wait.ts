/** Waiting in tests for what another process does: a CLI's output, a broker's log line. */

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `what` every 50 ms until it holds or `ms` have passed; the last answer either way.
 * @example expect(await waitFor(() => batches() === 2)).toBe(true);
 */
export async function waitFor(what: () => boolean | Promise<boolean>, ms = 10_000): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(50)) {
    if (await what()) return true;
  }
  return what();
}
