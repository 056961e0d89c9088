// Screen Wake Lock while a session runs, where the browser has the API: a phone's screen must not dim and lock in
// the middle of a conversation (the microphone and the subtitles would stop with it). The browser releases the lock
// whenever the page is hidden; it is requested again when the page is visible and a session still wants it.

export type WakeLockState = "off" | "held" | "released" | "unsupported" | "failed";

export class ScreenWakeLock {
  #wanted = false;
  #sentinel: WakeLockSentinel | null = null;
  #requesting: Promise<void> | null = null;
  #state: WakeLockState = "off";

  /** `changed` hears every state, e.g. "held", "released" (the page was hidden), "held" again. */
  constructor(readonly changed: (state: WakeLockState, detail: string) => void = () => undefined) {
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") void this.#request();
    });
  }

  get state(): WakeLockState {
    return this.#state;
  }

  /** A session started: keep the screen on from now on (whenever the page is visible). */
  acquire(): Promise<void> {
    this.#wanted = true;
    return this.#request();
  }

  /** The session ended: let the screen sleep again. */
  release(): void {
    this.#wanted = false;
    const sentinel = this.#sentinel;
    this.#sentinel = null;
    if (sentinel && !sentinel.released) void sentinel.release().catch(() => undefined);
    if (this.#state === "held") this.#set("off", "session ended");
  }

  #request(): Promise<void> {
    if (!this.#wanted || document.visibilityState !== "visible") return Promise.resolve();
    if (this.#sentinel && !this.#sentinel.released) return Promise.resolve();
    if (!("wakeLock" in navigator)) {
      if (this.#state !== "unsupported") this.#set("unsupported", "no Screen Wake Lock API in this browser");
      return Promise.resolve();
    }
    this.#requesting ??= this.#requestNow().finally(() => {
      this.#requesting = null;
    });
    return this.#requesting;
  }

  async #requestNow(): Promise<void> {
    try {
      const sentinel = await navigator.wakeLock.request("screen");
      if (!this.#wanted) {
        await sentinel.release();
        return;
      }
      this.#sentinel = sentinel;
      sentinel.addEventListener("release", () => {
        if (this.#sentinel !== sentinel) return;
        this.#sentinel = null;
        this.#set("released", "released by the browser (page hidden)");
      });
      this.#set("held", "");
    } catch (err) {
      // Not allowed (battery saver, no user activation yet, a permissions policy): the session works without it.
      this.#set("failed", String(err));
    }
  }

  #set(state: WakeLockState, detail: string): void {
    this.#state = state;
    this.changed(state, detail);
  }
}
