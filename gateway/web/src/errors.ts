// Errors as the user sees them: every lingua.v1.ErrorCode (and transport failure) becomes a sentence that
// says what went wrong and what to do. The server's own message stays available as the detail line.
import { Code, ConnectError } from "@connectrpc/connect";
import { type Error as LinguaError, ErrorCodeSchema, ErrorSchema } from "@lingua/sdk/v1/common_pb";

export interface ClientError {
  /** The ErrorCode name (e.g. "RATE_LIMITED"), or "NETWORK" / "TIMEOUT" / "CANCELLED" for transport failures. */
  code: string;
  /** What the user should read. */
  text: string;
  /** The server's message, for the details line and for bug reports. */
  detail: string;
  retryAfterMs: number;
  utteranceIndex: bigint | undefined;
  /** Trying again (with backoff) may succeed; otherwise the user has to change something first. */
  transient: boolean;
}

const HUMAN: Record<string, string> = {
  INVALID_MESSAGE: "The server did not understand a request from this page. Reload the page and try again.",
  INVALID_SESSION: "The session has ended on the server. Reconnecting starts a new one.",
  INVALID_AUDIO: "The server could not use the recorded audio. Check the microphone and try again.",
  UNSUPPORTED_LANGUAGE: "This language pair is not available. Choose other languages.",
  UNSUPPORTED_FEATURE: "No translator offers one of the selected features. Turn some features off.",
  INVALID_PAIRING_CODE: "The pairing code is unknown, expired or already used. Ask for a new code or leave it empty.",
  NO_AVAILABLE_NODE: "No translator is available right now. Try again in a moment.",
  NODE_OVERLOADED: "The translators are busy. Try again in a moment.",
  MODEL_NOT_AVAILABLE: "The translator lacks a model for these languages. Choose other languages.",
  JOB_TIMEOUT: "The translation took too long and was given up. Please say it again.",
  RESULT_TIMEOUT: "The translation of this sentence was lost on the way. Please say it again.",
  UNAUTHENTICATED: "The API key was not accepted. Check the key (or ask for a new one) and connect again.",
  RATE_LIMITED: "Too many requests for this API key. Wait a moment before speaking again.",
  QUOTA_EXCEEDED: "This API key has used up its quota (sessions or audio time). Close other sessions or try later.",
  INTERNAL: "Something went wrong on the server. Try again; if it keeps happening, report it.",
  SESSION_CLOSED: "The session was closed. Connect again to continue.",
  NODE_UNAVAILABLE: "The translator handling this session went away. Please say it again.",
  MODEL_LOAD_FAILED: "The translator could not load its models. Try again later.",
  MODEL_VERIFY_FAILED: "The translator's models failed verification. Try again later.",
  MODEL_CORRUPTED: "The translator's models are damaged. Try again later.",
  PROCESSING_ERROR: "The translator failed on this sentence. Please say it again.",
  PAYLOAD_TOO_LARGE: "That was too long to translate in one go. Speak shorter sentences.",
  PERMISSION_DENIED: "This API key may not do that.",
  NOT_FOUND: "Not found on the server.",
  JOB_CANCELLED: "The translation was cancelled.",
  PAIRED_NODE_UNAVAILABLE: "The paired translator is not available. Unpair (clear the code) or wait for it.",
  NETWORK: "Cannot reach the server. Check the connection; retrying…",
  TIMEOUT: "The server did not answer in time. Retrying…",
  CANCELLED: "Cancelled.",
};

const TRANSIENT = new Set([
  "NO_AVAILABLE_NODE", "NODE_OVERLOADED", "RATE_LIMITED", "INTERNAL", "NETWORK", "TIMEOUT", "NODE_UNAVAILABLE",
  "RESULT_TIMEOUT", "JOB_TIMEOUT",
]);

export function isClientError(x: unknown): x is ClientError {
  return typeof x === "object" && x !== null && "code" in x && "transient" in x && "text" in x;
}

export function errorCodeName(code: number): string {
  return ErrorCodeSchema.values.find((v) => v.number === code)?.name ?? `ERROR_${code}`;
}

export function humanText(code: string, detail = ""): string {
  return HUMAN[code] ?? (detail || `Error ${code}.`);
}

/** An in-stream lingua.v1.Error (a result that failed, a rejected chunk). */
export function fromLinguaError(e: LinguaError): ClientError {
  const code = errorCodeName(e.code);
  return {
    code,
    text: humanText(code, e.message),
    detail: e.message,
    retryAfterMs: e.retryAfterMs,
    utteranceIndex: e.utteranceIndex,
    transient: TRANSIENT.has(code),
  };
}

/** Anything a call threw: the gateway's typed error when the trailers carry one, else the transport's. */
export function fromException(err: unknown): ClientError {
  const ce = ConnectError.from(err);
  const [typed] = ce.findDetails(ErrorSchema);
  if (typed !== undefined) return fromLinguaError(typed);
  const code = TRANSPORT[ce.code] ?? "INTERNAL";
  return {
    code,
    text: humanText(code),
    detail: ce.rawMessage,
    retryAfterMs: 0,
    utteranceIndex: undefined,
    transient: TRANSIENT.has(code),
  };
}

/** A failure seen by the client itself (a stream that ended early, no answer in time). */
export function clientSideError(code: "NETWORK" | "TIMEOUT", detail: string): ClientError {
  return { code, text: humanText(code), detail, retryAfterMs: 0, utteranceIndex: undefined, transient: true };
}

// Without a typed detail (a proxy answered, the network failed) the gRPC status is all there is.
const TRANSPORT: Partial<Record<Code, string>> = {
  [Code.Unavailable]: "NETWORK",
  [Code.Unknown]: "NETWORK", // fetch() failing surfaces as Unknown
  [Code.DeadlineExceeded]: "TIMEOUT",
  [Code.Canceled]: "CANCELLED",
  [Code.Unauthenticated]: "UNAUTHENTICATED",
  [Code.PermissionDenied]: "PERMISSION_DENIED",
  [Code.ResourceExhausted]: "RATE_LIMITED",
  [Code.InvalidArgument]: "INVALID_MESSAGE",
  [Code.NotFound]: "NOT_FOUND",
};
