// The generated TypeScript SDK on its own, outside the browser: one WAV through the gateway's grpc-web
// endpoint, as in generated/ts/README.md, then the same WAV as a streamed session (open, push, subscribe).
//
//   node --preserve-symlinks examples/sdk-translate.mjs GATEWAY_URL API_KEY FILE.wav [SRC TGT]
//
// (--preserve-symlinks: here @lingua/sdk is a link to generated/ts, whose imports resolve from this folder.)
// Prints one JSON line with both results; tests/service/test_ts_sdk.py runs it against a real mesh.
import { readFile } from "node:fs/promises";
import { createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { AudioEncoding, ErrorSchema } from "@lingua/sdk/v1/common_pb";
import { SessionService } from "@lingua/sdk/v1/session_pb";

const [baseUrl, apiKey, file, srcLang = "en", tgtLang = "fr"] = process.argv.slice(2);
const transport = createGrpcWebTransport({
  baseUrl,
  interceptors: [(next) => (req) => { req.header.set("authorization", `Bearer ${apiKey}`); return next(req); }],
});
const lingua = createClient(SessionService, transport);
const wav = new Uint8Array(await readFile(file));

try {
  const one = await lingua.translate({ audio: { data: wav, encoding: AudioEncoding.WAV }, srcLang, tgtLang });

  // A session: the WAV's samples as two chunks, the second one final.
  const opened = await lingua.openSession({ srcLang, tgtLang, streamingAsr: true, platform: "sdk-example" });
  const abort = new AbortController();
  const messages = lingua.subscribe({ sessionId: opened.sessionId, resumeToken: opened.resumeToken },
    { signal: abort.signal });
  const pcm = wav.subarray(44); // a canonical 44-byte WAV header, as Piper writes it
  const rate = new DataView(wav.buffer, wav.byteOffset).getUint32(24, true);
  const half = Math.floor(pcm.length / 4) * 2;
  for (const [seq, part] of [pcm.subarray(0, half), pcm.subarray(half)].entries()) {
    await lingua.pushAudio({ kind: { case: "audioChunk", value: {
      sessionId: opened.sessionId, seq: BigInt(seq), isFinal: seq === 1,
      audio: { data: part, encoding: AudioEncoding.PCM16, sampleRateHz: rate, channels: 1 },
    } } });
  }
  const partials = [];
  let streamed;
  for await (const msg of messages) {
    if (msg.kind.case === "asrPartial") partials.push(msg.kind.value.text);
    if (msg.kind.case === "result" || msg.kind.case === "error") { streamed = msg.kind; break; }
  }
  abort.abort();
  await lingua.closeSession({ sessionId: opened.sessionId });

  // A typed error: a bad language pair.
  let typed = null;
  try {
    await lingua.translate({ audio: { data: wav, encoding: AudioEncoding.WAV }, srcLang, tgtLang: "xx" });
  } catch (err) {
    const [detail] = err.findDetails(ErrorSchema);
    typed = { grpcCode: err.code, linguaCode: detail?.code, message: detail?.message };
  }
  console.log(JSON.stringify({
    translate: { asr: one.textAsr, translated: one.textTranslated, ttsBytes: one.ttsAudio?.data.length ?? 0,
      ttsRate: one.ttsAudio?.sampleRateHz ?? 0 },
    session: { id: opened.sessionId, partials, kind: streamed?.case, index: String(streamed?.value.utteranceIndex),
      asr: streamed?.value.textAsr, translated: streamed?.value.textTranslated,
      ttsBytes: streamed?.value.ttsAudio?.data.length ?? 0 },
    typed,
  }));
} catch (err) {
  console.error(String(err?.stack ?? err));
  process.exit(1);
}
