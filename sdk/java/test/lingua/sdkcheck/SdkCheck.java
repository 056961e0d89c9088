package lingua.sdkcheck;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import lingua.client.AudioFiles;
import lingua.client.ClientError;
import lingua.client.LinguaClient;
import lingua.client.LinguaSession;
import lingua.client.Outcome;
import lingua.v1.Common;
import lingua.v1.Session.LanguageOffer;
import lingua.v1.Session.OpenSessionRequest;
import lingua.v1.Session.TranslateResponse;

/**
 * The Java SDK against a real mesh, for tests/service/test_java_sdk.py:
 *
 * <pre>java -cp ... lingua.sdkcheck.SdkCheck ADDRESS API_KEY A.wav B.wav C.wav</pre>
 *
 * Prints one JSON object per check (translate, languages, session, unauthenticated, unsupported_language); the test
 * asserts on them. A session's outcomes are read to the end of its stream. Exits 1 on an unexpected exception.
 */
public final class SdkCheck {
  private SdkCheck() {}

  public static void main(String[] args) throws Exception {
    String address = args[0];
    String key = args[1];
    Path a = Paths.get(args[2]);
    Path b = Paths.get(args[3]);
    Path c = Paths.get(args[4]);
    try (LinguaClient lingua = LinguaClient.builder(address).apiKey(key).build()) {
      translate(lingua, a);
      languages(lingua);
      session(lingua, a, b, c);
      unsupportedLanguage(lingua, a);
    }
    unauthenticated(address, a);
  }

  /** One Translate call with the API key. */
  private static void translate(LinguaClient lingua, Path wav) throws Exception {
    TranslateResponse r = lingua.translate(wav, "en", "fr");
    Map<String, Object> out = check("translate");
    out.put("asr", r.getTextAsr());
    out.put("translated", r.getTextTranslated());
    out.put("ttsBytes", r.getTtsAudio().getData().size());
    out.put("ttsRate", r.getTtsAudio().getSampleRateHz());
    out.put("wavBytes", AudioFiles.toWav(r.getTtsAudio()).length);
    out.put("sessionId", r.getSessionId());
    out.put("nodeId", r.getNodeId());
    out.put("tier", LinguaClient.tierName(r.getTier()));
    out.put("mtEngine", r.getMtEngine());
    print(out);
  }

  private static void languages(LinguaClient lingua) {
    List<Object> pairs = new ArrayList<>();
    for (LanguageOffer p : lingua.listLanguages().getPairsList()) {
      pairs.add(p.getSrcLang() + ">" + p.getTgtLang() + ":" + LinguaClient.tierName(p.getTier()));
    }
    Map<String, Object> out = check("languages");
    out.put("pairs", pairs);
    print(out);
  }

  /**
   * One session: file A, bytes that are no audio, file B, then C streamed as 20 ms PCM16 frames. Four outcomes,
   * in order: a result, INVALID_AUDIO for utterance 1, two results.
   */
  private static void session(LinguaClient lingua, Path a, Path b, Path c) throws Exception {
    AtomicInteger partials = new AtomicInteger();
    List<Object> sent = new ArrayList<>();
    List<Object> outcomes = new ArrayList<>();
    String sessionId;
    try (LinguaSession session = lingua.session(OpenSessionRequest.newBuilder().setSrcLang("en").setTgtLang("fr")
        .setStreamingAsr(true).build())) {
      session.onProgress(message -> {
        if (message.hasAsrPartial()) {
          partials.incrementAndGet();
        }
      });
      session.open();
      sessionId = session.sessionId();
      sent.add(session.sendFile(a));
      sent.add(session.sendAudio(Common.Audio.newBuilder().setEncoding(Common.AudioEncoding.WAV)
          .setData(ByteString.copyFromUtf8("this is not a WAV file")).build()));
      sent.add(session.sendFile(b));
      sent.add(session.streamPcm16(frames(Files.readAllBytes(c)), wavRate(Files.readAllBytes(c))));
      session.close();
      for (Outcome o : session.results()) { // to the end of the stream
        Map<String, Object> item = new LinkedHashMap<>();
        item.put("index", o.utteranceIndex());
        item.put("kind", o.isResult() ? "result" : "error");
        if (o.isResult()) {
          item.put("asr", o.result().getTextAsr());
          item.put("translated", o.result().getTextTranslated());
          item.put("ttsBytes", o.result().getTtsAudio().getData().size());
          item.put("sessionId", o.result().getSessionId());
        } else {
          item.put("code", o.error().getCode().name());
          item.put("message", o.error().getMessage());
        }
        outcomes.add(item);
      }
    }
    Map<String, Object> out = check("session");
    out.put("sessionId", sessionId);
    out.put("sent", sent);
    out.put("outcomes", outcomes);
    out.put("partials", partials.get());
    print(out);
  }

  private static void unsupportedLanguage(LinguaClient lingua, Path wav) throws Exception {
    Map<String, Object> out = check("unsupported_language");
    try {
      lingua.translate(wav, "en", "xx");
      out.put("code", "none: translated");
    } catch (ClientError e) {
      describe(out, e);
    }
    print(out);
  }

  /** A wrong key: refused at Translate and when a session opens. */
  private static void unauthenticated(String address, Path wav) throws Exception {
    Map<String, Object> out = check("unauthenticated");
    try (LinguaClient wrong = new LinguaClient(address, "lk_not-a-real-key")) {
      try {
        wrong.translate(wav, "en", "fr");
        out.put("code", "none: translated");
      } catch (ClientError e) {
        describe(out, e);
      }
      try (LinguaSession session = wrong.session("en", "fr")) {
        session.open();
        out.put("sessionCode", "none: opened");
      } catch (ClientError e) {
        out.put("sessionCode", e.code().name());
      }
    }
    print(out);
  }

  private static void describe(Map<String, Object> out, ClientError e) {
    out.put("code", e.code().name());
    out.put("grpcCode", String.valueOf(e.grpcCode()));
    out.put("fromDetails", e.error() != null);
    out.put("detail", e.detail());
  }

  /** A WAV's PCM16 samples as 20 ms frames. */
  static List<byte[]> frames(byte[] wav) {
    int rate = wavRate(wav);
    byte[] pcm = Arrays.copyOfRange(wav, dataOffset(wav), wav.length);
    int frame = rate / 50 * 2;
    List<byte[]> frames = new ArrayList<>();
    for (int at = 0; at < pcm.length; at += frame) {
      frames.add(Arrays.copyOfRange(pcm, at, Math.min(pcm.length, at + frame)));
    }
    return frames;
  }

  static int wavRate(byte[] wav) {
    return ByteBuffer.wrap(wav).order(ByteOrder.LITTLE_ENDIAN).getInt(24);
  }

  /** Where the samples start: after the "data" chunk header (chunks walked from byte 12). */
  static int dataOffset(byte[] wav) {
    ByteBuffer b = ByteBuffer.wrap(wav).order(ByteOrder.LITTLE_ENDIAN);
    int at = 12;
    while (at + 8 <= wav.length) {
      String id = new String(wav, at, 4, java.nio.charset.StandardCharsets.US_ASCII);
      int size = b.getInt(at + 4);
      if (id.equals("data")) {
        return at + 8;
      }
      at += 8 + size + (size & 1);
    }
    throw new IllegalArgumentException("no data chunk in the WAV");
  }

  private static Map<String, Object> check(String name) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("check", name);
    return out;
  }

  private static void print(Map<String, Object> out) {
    System.out.println(json(out));
    System.out.flush();
  }

  static String json(Object value) {
    if (value == null) {
      return "null";
    }
    if (value instanceof Number || value instanceof Boolean) {
      return value.toString();
    }
    if (value instanceof Map) {
      StringBuilder s = new StringBuilder("{");
      for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
        s.append(s.length() > 1 ? "," : "").append(json(String.valueOf(e.getKey()))).append(':')
            .append(json(e.getValue()));
      }
      return s.append('}').toString();
    }
    if (value instanceof List) {
      StringBuilder s = new StringBuilder("[");
      for (Object item : (List<?>) value) {
        s.append(s.length() > 1 ? "," : "").append(json(item));
      }
      return s.append(']').toString();
    }
    StringBuilder s = new StringBuilder("\"");
    for (char ch : value.toString().toCharArray()) {
      if (ch == '"' || ch == '\\') {
        s.append('\\').append(ch);
      } else if (ch < 0x20) {
        s.append(String.format("\\u%04x", (int) ch));
      } else {
        s.append(ch);
      }
    }
    return s.append('"').toString();
  }
}
