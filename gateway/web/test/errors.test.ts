import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorCode, ErrorSchema } from "@lingua/sdk/v1/common_pb";
import { Backoff } from "../src/backoff.js";
import { fromException, fromLinguaError, humanText } from "../src/errors.js";

test("a typed error in the trailers wins over the gRPC status", () => {
  const detail = create(ErrorSchema, { code: ErrorCode.RATE_LIMITED, message: "slow down", retryAfterMs: 1500 });
  const err = new ConnectError("slow down", Code.ResourceExhausted, undefined, [{ desc: ErrorSchema, value: detail }]);
  const e = fromException(err);
  assert.deepEqual([e.code, e.retryAfterMs, e.transient, e.detail], ["RATE_LIMITED", 1500, true, "slow down"]);
  assert.match(e.text, /Too many requests/);
});

test("transport failures without details, and in-stream errors", () => {
  assert.equal(fromException(new ConnectError("failed to fetch", Code.Unknown)).code, "NETWORK");
  assert.equal(fromException(new TypeError("Failed to fetch")).code, "NETWORK");
  const bad = fromException(new ConnectError("no", Code.Unauthenticated));
  assert.deepEqual([bad.code, bad.transient], ["UNAUTHENTICATED", false]);
  const e = fromLinguaError(create(ErrorSchema, { code: ErrorCode.INVALID_PAIRING_CODE, message: "used", utteranceIndex: 3n }));
  assert.deepEqual([e.code, e.utteranceIndex, e.transient], ["INVALID_PAIRING_CODE", 3n, false]);
});

test("every contract error code has human text", () => {
  for (const code of ["INVALID_MESSAGE", "INVALID_SESSION", "INVALID_AUDIO", "UNSUPPORTED_LANGUAGE", "UNSUPPORTED_FEATURE",
    "INVALID_PAIRING_CODE", "NO_AVAILABLE_NODE", "NODE_OVERLOADED", "MODEL_NOT_AVAILABLE", "JOB_TIMEOUT",
    "RESULT_TIMEOUT", "UNAUTHENTICATED", "RATE_LIMITED", "QUOTA_EXCEEDED", "INTERNAL"]) {
    assert.notEqual(humanText(code), `Error ${code}.`, code);
  }
});

test("backoff doubles up to its cap, honours retry-after, and resets", () => {
  const b = new Backoff(500, 4000, 0, () => 0.5);
  assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next()], [500, 1000, 2000, 4000, 4000]);
  assert.equal(b.next(9000), 9000);
  b.reset();
  assert.equal(b.next(), 500);
  const jittered = new Backoff(1000, 8000, 0.2, () => 1);
  assert.equal(jittered.next(), 1200);
});
