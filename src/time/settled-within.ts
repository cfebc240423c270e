/**
 * Waits for a promise to settle, at most `ms`: true when it settled in time. The timer is cleared
 * when it settles, so a quick answer does not keep the process alive for the whole wait.
 */
export function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    const settled = () => {
      clearTimeout(timer);
      resolve(true);
    };
    promise.then(settled, settled);
  });
}
