/**
 * Chat-surface helpers for a negotiation turn in progress: a typing indicator kept alive while the turn runs (where
 * the surface cannot stream), and a coalescer that turns many small model deltas into a few cumulative updates (Teams
 * streaming accepts about one update per second).
 */

/** Sends `sendTyping` now and every `intervalMs` until `work` settles; errors of the indicator never fail the turn. */
export async function keepTyping<T>(
  sendTyping: () => Promise<void> | void,
  work: Promise<T>,
  intervalMs = 3_000,
): Promise<T> {
  const fire = () => {
    try {
      Promise.resolve(sendTyping()).catch(() => undefined);
    } catch {
      // a failed indicator is cosmetic
    }
  };
  fire();
  const timer = setInterval(fire, intervalMs);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

export interface StreamCoalescer {
  /** Pass as `onStreamChunk`. */
  push(text: string): void;
  /** Sends what is pending (call once the turn is done, before the final message). */
  flush(): Promise<void>;
  /** Everything pushed so far. */
  readonly text: string;
}

/**
 * Calls `update(accumulatedText)` at most once per `intervalMs`, always with the whole text so far (Teams streaming
 * replaces the message with each update). Updates are serialised; a failing update is reported to `onError` and the
 * next one still goes out.
 */
export function coalesceStream(
  update: (accumulated: string) => Promise<void>,
  options: { intervalMs?: number; onError?: (error: unknown) => void } = {},
): StreamCoalescer {
  const intervalMs = options.intervalMs ?? 1_000;
  let text = '';
  let sent = '';
  let lastSent = Number.NEGATIVE_INFINITY;
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();

  const send = () => {
    timer = undefined;
    if (text === sent) return chain;
    const snapshot = text;
    sent = snapshot;
    lastSent = performance.now();
    chain = chain.then(() => update(snapshot)).catch((error: unknown) => options.onError?.(error));
    return chain;
  };

  return {
    push(piece: string) {
      if (piece.length === 0) return;
      text += piece;
      if (timer) return;
      const wait = Math.max(0, lastSent + intervalMs - performance.now());
      timer = setTimeout(send, wait);
    },
    async flush() {
      if (timer) clearTimeout(timer);
      await send();
    },
    get text() {
      return text;
    },
  };
}
