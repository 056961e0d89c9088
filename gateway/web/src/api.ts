// One translation session over grpc-web, through the generated SDK (@lingua/sdk) and connect-web.
//
// grpc-web cannot stream from the browser, so a session is the unary + server-streaming split of
// SessionService: OpenSession once, PushAudio per audio chunk, one long-lived Subscribe for everything the
// server says, CloseSession at the end. The Subscribe stream is what must survive a flaky network: when it
// drops, it is resumed with the session's resume token after a backoff; when the server no longer knows the
// session, a new one is opened. Only what needs the user (a rejected key, a bad pairing code) gives up.
//
// A phone that switches networks (Wi-Fi to cellular, a tunnel) can leave the stream on a dead socket that says
// nothing for minutes: the page tells the session (networkChanged) when the browser reports the network going or
// coming back, and the stream is dropped and resumed with the resume token — at once when the network is back.
// What the server produced meanwhile waits in the session and arrives on the resumed stream, in order, once.
import { create } from "@bufbuild/protobuf";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { AudioEncoding, AudioSchema, type Features, FeaturesSchema } from "@lingua/sdk/v1/common_pb";
import {
  type OpenSessionResponse,
  type ServerMessage,
  SessionMode,
  SessionService,
} from "@lingua/sdk/v1/session_pb";
import { int16ToBytes } from "./audio/pcm.js";
import { Backoff, sleep } from "./backoff.js";
import { type ClientError, clientSideError, fromException, isClientError } from "./errors.js";
import { type LanguageMenu, menuFrom } from "./languages.js";

export const CLIENT_VERSION = "1.0.0";
export const SAMPLE_RATE_HZ = 16_000;
const CALL_TIMEOUT_MS = 20_000;
// Chunks arrive every ~100 ms while recording; the final chunk (is_final) is what ends an utterance. A long
// pause only guards against a page that vanished mid-sentence, so a slow network does not cut sentences.
const PAUSE_MS = 5_000;
// A Subscribe that lived this long (or delivered anything) counts as a working connection.
const HEALTHY_STREAM_MS = 10_000;
// The gateway answers a Subscribe with its headers at once; waiting longer means the request is lost.
const HEADER_TIMEOUT_MS = 8_000;
const SETTLE_MS = 250;

export type FeatureName = Exclude<keyof Features, "$typeName" | "$unknown">;

export interface Connection {
  /** Origin of the gateway (grpc-web paths are appended), normally the page's own origin. */
  baseUrl: string;
  apiKey: string;
}

export interface SessionParams {
  /** "auto": the translator detects the spoken language. */
  srcLang: string;
  tgtLang: string;
  /** A two-way session: each sentence is heard as srcLang or tgtLang and translated into the other. */
  twoWay: boolean;
  features: Partial<Record<FeatureName, boolean>>;
  pairingCode: string;
}

export type LinkStatus =
  | { kind: "connected"; sessionId: string; nodeId: string; renewed: boolean }
  | { kind: "reconnecting"; inMs: number; error: ClientError }
  | { kind: "closed" };

export interface SessionHandlers {
  message(msg: ServerMessage): void;
  status(status: LinkStatus): void;
  /** The session cannot go on without the user (bad key, bad pairing code, quota); it is closed. */
  fatal(error: ClientError): void;
}

export function sessionClient(conn: Connection): Client<typeof SessionService> {
  const transport = createGrpcWebTransport({
    baseUrl: conn.baseUrl,
    interceptors: [
      (next) => (req) => {
        req.header.set("authorization", `Bearer ${conn.apiKey}`);
        return next(req);
      },
    ],
  });
  return createClient(SessionService, transport);
}

/** The language pairs the mesh serves now (ListLanguages); rejects with a ClientError. */
export async function listLanguages(conn: Connection): Promise<LanguageMenu> {
  try {
    return menuFrom(await sessionClient(conn).listLanguages({}, { timeoutMs: CALL_TIMEOUT_MS }));
  } catch (err) {
    throw fromException(err);
  }
}

export class LinguaSession {
  readonly #client: Client<typeof SessionService>;
  readonly #abort = new AbortController();
  readonly #backoff = new Backoff();
  #params: SessionParams;
  #opened: OpenSessionResponse | null = null;
  #seq = 0n;
  #pushes: Promise<unknown> = Promise.resolve();
  #up = false; // the Subscribe stream is established
  #renewed = false; // the session was replaced by a new one since the last "connected"
  /** The Subscribe call in flight, and why the page dropped it (null: it did not). */
  #attempt: { abort: AbortController; dropped: ClientError | null } | null = null;
  #wake: AbortController | null = null; // ends the backoff wait early (the network is back)
  #hurry = false; // the network is back: the next retry goes without waiting

  private constructor(
    conn: Connection,
    params: SessionParams,
    readonly handlers: SessionHandlers,
  ) {
    this.#client = sessionClient(conn);
    this.#params = params;
  }

  /** Opens a session and starts listening; rejects with a ClientError when it cannot be opened. */
  static async open(conn: Connection, params: SessionParams, handlers: SessionHandlers): Promise<LinguaSession> {
    const session = new LinguaSession(conn, params, handlers);
    await session.#openSession(false);
    void session.#listen();
    return session;
  }

  get sessionId(): string {
    return this.#opened?.sessionId ?? "";
  }

  get closed(): boolean {
    return this.#abort.signal.aborted;
  }

  /**
   * Sends 16 kHz PCM16 audio of the current utterance; `isFinal` ends the utterance. Pushes go out one at a
   * time, in order (the server requires increasing `seq`). Resolves to the utterance index the server gave
   * the sealed utterance (final chunk only); rejects with a ClientError.
   */
  pushAudio(pcm: Int16Array, isFinal: boolean): Promise<bigint | undefined> {
    const send = async (): Promise<bigint | undefined> => {
      const sessionId = this.sessionId;
      const seq = this.#seq++;
      try {
        const reply = await this.#client.pushAudio(
          {
            kind: {
              case: "audioChunk",
              value: {
                sessionId,
                seq,
                isFinal,
                audio: create(AudioSchema, {
                  data: int16ToBytes(pcm),
                  encoding: AudioEncoding.PCM16,
                  sampleRateHz: SAMPLE_RATE_HZ,
                  channels: 1,
                }),
              },
            },
          },
          { timeoutMs: CALL_TIMEOUT_MS, signal: this.#abort.signal },
        );
        return reply.utteranceIndex;
      } catch (err) {
        throw fromException(err);
      }
    };
    const done = this.#pushes.then(send);
    this.#pushes = done.catch(() => undefined); // a failed push must not wedge the ones after it
    return done;
  }

  /**
   * The device's network went away (`online` false) or came back or changed: the Subscribe stream may sit on a
   * dead connection, so it is dropped and resumed with the resume token — without waiting when the network is
   * back. Safe on a healthy stream too: the server hands a resumed session's undelivered messages to the new
   * stream, and the old one gets nothing more.
   */
  networkChanged(online: boolean): void {
    if (this.closed) return;
    const attempt = this.#attempt;
    if (attempt && !attempt.dropped) {
      attempt.dropped = clientSideError("NETWORK", online ? "the network changed" : "the network went away");
      attempt.abort.abort();
    }
    if (online) {
      this.#backoff.reset();
      this.#hurry = true;
      this.#wake?.abort();
    }
  }

  /** Ends the session: stops listening and tells the server (best effort: the server also times it out). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.#abort.abort();
    const sessionId = this.sessionId;
    this.handlers.status({ kind: "closed" });
    if (!sessionId) return;
    try {
      await this.#client.closeSession({ sessionId, reason: "client closed" }, { timeoutMs: 3_000 });
    } catch {
      // The server drops idle sessions itself; nothing for the user to do.
    }
  }

  async #openSession(renewed: boolean): Promise<void> {
    const p = this.#params;
    try {
      this.#opened = await this.#client.openSession(
        {
          ...(p.twoWay
            ? { mode: SessionMode.TWO_WAY, langA: p.srcLang, langB: p.tgtLang }
            : { mode: SessionMode.ONE_WAY, srcLang: p.srcLang, tgtLang: p.tgtLang }),
          features: create(FeaturesSchema, p.features),
          pairingCode: p.pairingCode,
          clientVersion: CLIENT_VERSION,
          platform: "web",
          streamingAsr: true,
          pauseMs: PAUSE_MS,
        },
        { timeoutMs: CALL_TIMEOUT_MS, signal: this.#abort.signal },
      );
    } catch (err) {
      throw fromException(err);
    }
    this.#seq = 0n;
    this.#renewed = renewed; // told with the next "connected", once the new session's Subscribe is up
  }

  /** The Subscribe stream works (again): tell the page, once per connection. */
  #linkUp(): void {
    if (this.#up || !this.#opened) return;
    this.#up = true;
    this.#hurry = false;
    const { sessionId, assignedNodeId } = this.#opened;
    this.handlers.status({ kind: "connected", sessionId, nodeId: assignedNodeId, renewed: this.#renewed });
    this.#renewed = false;
  }

  /** Subscribe, and keep subscribed until closed. */
  async #listen(): Promise<void> {
    while (!this.closed) {
      const started = Date.now();
      const { delivered, failure } = await this.#subscribeOnce();
      this.#up = false;
      if (this.closed) return;
      if (delivered || Date.now() - started > HEALTHY_STREAM_MS) this.#backoff.reset();
      // A clean end while we still want the session: the server restarted or dropped it; resume.
      const why = failure ?? clientSideError("NETWORK", "the server ended the subscription");
      if (!(await this.#recover(why))) return;
    }
  }

  /** One Subscribe call, to its end: whether it delivered anything, and why it ended (null: cleanly). */
  async #subscribeOnce(): Promise<{ delivered: boolean; failure: ClientError | null }> {
    let delivered = false;
    // A request that gets no response headers went into a dead connection (a half-open socket after a
    // network change): abort it, which also retires that connection.
    const attempt = new AbortController();
    const current = { abort: attempt, dropped: null as ClientError | null };
    this.#attempt = current;
    const stop = (): void => attempt.abort();
    this.#abort.signal.addEventListener("abort", stop, { once: true });
    let silent = false;
    const headerTimer = setTimeout(() => {
      silent = true;
      attempt.abort();
    }, HEADER_TIMEOUT_MS);
    // grpc-web errors arrive as a 200 with trailers, so headers alone do not mean the stream is up: it is
    // once it delivered something or stayed open for a moment.
    let settle: ReturnType<typeof setTimeout> | undefined;
    const onHeader = (): void => {
      clearTimeout(headerTimer);
      settle = setTimeout(() => this.#linkUp(), SETTLE_MS);
    };
    try {
      const request = { sessionId: this.sessionId, resumeToken: this.#opened?.resumeToken ?? "" };
      for await (const msg of this.#client.subscribe(request, { signal: attempt.signal, onHeader })) {
        delivered = true;
        this.#linkUp();
        this.handlers.message(msg);
      }
      return { delivered, failure: null };
    } catch (err) {
      if (current.dropped) return { delivered, failure: current.dropped };
      return { delivered, failure: silent ? clientSideError("TIMEOUT", "no response to Subscribe") : fromException(err) };
    } finally {
      if (this.#attempt === current) this.#attempt = null;
      clearTimeout(headerTimer);
      clearTimeout(settle);
      this.#abort.signal.removeEventListener("abort", stop);
    }
  }

  /** After a failed Subscribe: wait, then resume or reopen. False when it is the user's turn to act. */
  async #recover(failure: ClientError): Promise<boolean> {
    if (failure.code === "INVALID_SESSION" || failure.code === "SESSION_CLOSED") {
      // The server forgot the session (restart, idle timeout): start a new one. A pairing code is single
      // use, so the new session is unpaired.
      this.#params = { ...this.#params, pairingCode: "" };
      return this.#retry(failure, () => this.#openSession(true));
    }
    if (!failure.transient) return this.#giveUp(failure);
    return this.#retry(failure, async () => undefined);
  }

  async #retry(failure: ClientError, attempt: () => Promise<void>): Promise<boolean> {
    for (let error = failure; ; ) {
      const inMs = this.#backoff.next(error.retryAfterMs);
      this.handlers.status({ kind: "reconnecting", inMs, error });
      try {
        await this.#pause(inMs);
        await attempt();
        return true;
      } catch (err) {
        if (this.closed) return false;
        error = isClientError(err) ? err : fromException(err);
        if (!error.transient && error.code !== "INVALID_SESSION") return this.#giveUp(error);
      }
    }
  }

  /** Waits `ms`, or less when the network comes back (networkChanged); rejects once the session is closed. */
  async #pause(ms: number): Promise<void> {
    if (this.#hurry) {
      this.#hurry = false;
      if (this.closed) throw new Error("the session was closed");
      return;
    }
    const wake = new AbortController();
    this.#wake = wake;
    const stop = (): void => wake.abort();
    this.#abort.signal.addEventListener("abort", stop, { once: true });
    try {
      await sleep(ms, wake.signal).catch(() => undefined);
    } finally {
      this.#abort.signal.removeEventListener("abort", stop);
      if (this.#wake === wake) this.#wake = null;
    }
    if (this.closed) throw new Error("the session was closed");
  }

  #giveUp(error: ClientError): boolean {
    this.#abort.abort();
    this.handlers.fatal(error);
    return false;
  }
}
