package lingua.examples;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import lingua.client.AudioFiles;
import lingua.client.ClientError;
import lingua.client.LinguaClient;
import lingua.client.LinguaSession;
import lingua.client.Outcome;
import lingua.v1.Common;
import lingua.v1.Session.LanguageOffer;
import lingua.v1.Session.TranslateResponse;

/**
 * The Java SDK's example app: translate audio files through a Lingua gateway (or a scheduler).
 *
 * <pre>
 * java -cp "$(sdk/java/build.sh --classpath)" lingua.examples.Translate --api-key lk_... --to fr hello.wav
 *   one file: one Translate call; prints the transcript, the translation and how it was made; --out saves the speech
 * ... --to fr a.wav b.wav c.wav
 *   several files: one session; prints each outcome in utterance order (--out DIR saves each one's speech)
 * ... --languages
 *   the language pairs the mesh serves now
 * </pre>
 *
 * Exits 0, or 2 with "error CODE: message" when the server refused (the lingua.v1.ErrorCode), 64 on bad usage.
 */
public final class Translate {
  private Translate() {}

  private static final String USAGE = "usage: Translate [--address HOST:PORT] [--api-key KEY] [--from LANG] "
      + "[--to LANG] [--out FILE_OR_DIR] (--languages | FILE...)\n"
      + "  --address   the gateway's public gRPC port (default 127.0.0.1:50053; a scheduler's works without a key)\n"
      + "  --api-key   the tenant's API key (default: $LINGUA_API_KEY)\n"
      + "  --from      the spoken language, or auto (default en); --to the target language (default fr)\n"
      + "  --out       one file: where to write the translated speech (WAV); several: a directory for N.wav";

  public static void main(String[] args) throws Exception {
    String address = "127.0.0.1:50053";
    String apiKey = System.getenv("LINGUA_API_KEY");
    String src = "en";
    String tgt = "fr";
    String out = null;
    boolean languages = false;
    List<Path> files = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("-h") || a.equals("--help")) {
        System.out.println(USAGE);
        return;
      } else if (a.equals("--languages")) {
        languages = true;
      } else if (a.startsWith("--") && i + 1 < args.length) {
        String value = args[++i];
        switch (a) {
          case "--address": address = value; break;
          case "--api-key": apiKey = value; break;
          case "--from": src = value; break;
          case "--to": tgt = value; break;
          case "--out": out = value; break;
          default: usage("unknown option " + a);
        }
      } else if (a.startsWith("--")) {
        usage("option " + a + " needs a value");
      } else {
        files.add(Paths.get(a));
      }
    }
    if (!languages && files.isEmpty()) {
      usage("give one audio file or more (or --languages)");
    }
    try (LinguaClient lingua = LinguaClient.builder(address).apiKey(apiKey).build()) {
      if (languages) {
        for (LanguageOffer pair : lingua.listLanguages().getPairsList()) {
          System.out.printf("%s -> %s  %s  %s%s%n", pair.getSrcLang(), pair.getTgtLang(),
              LinguaClient.tierName(pair.getTier()), pair.getEngine(), pair.getTwoWay() ? "  two-way" : "");
        }
      } else if (files.size() == 1) {
        translateOne(lingua, files.get(0), src, tgt, out);
      } else {
        translateSession(lingua, files, src, tgt, out);
      }
    } catch (ClientError e) {
      System.err.println("error " + e.code() + ": " + e.detail());
      System.exit(2);
    }
  }

  private static void translateOne(LinguaClient lingua, Path file, String src, String tgt, String out)
      throws Exception {
    TranslateResponse r = lingua.translate(file, src, tgt);
    System.out.println("heard:      " + r.getTextAsr());
    System.out.println("translated: " + r.getTextTranslated());
    System.out.printf("how:        %s -> %s, %s (%s)%s, node %s, %.0f ms%n", r.getSrcLang(), r.getTgtLang(),
        r.getMtEngine(), LinguaClient.tierName(r.getTier()),
        r.getDetectedLang().isEmpty() ? "" : ", heard as " + r.getDetectedLang(), r.getNodeId(),
        r.getTimings().getTotalMs());
    if (out != null) {
      Files.write(Paths.get(out), AudioFiles.toWav(r.getTtsAudio()));
      System.out.println("speech:     " + out);
    }
  }

  private static void translateSession(LinguaClient lingua, List<Path> files, String src, String tgt, String out)
      throws Exception {
    try (LinguaSession session = lingua.session(src, tgt)) {
      session.open();
      for (Path file : files) {
        session.sendFile(file);
      }
      session.close(); // no more audio: waits until every utterance has its outcome
      for (Outcome outcome : session.results()) {
        System.out.println(outcome);
        if (out != null && outcome.isResult()) {
          Common.Audio speech = outcome.result().getTtsAudio();
          Path dir = Files.createDirectories(Paths.get(out));
          Files.write(dir.resolve(outcome.utteranceIndex() + ".wav"), AudioFiles.toWav(speech));
        }
      }
    }
  }

  private static void usage(String problem) {
    System.err.println(problem + "\n" + USAGE);
    System.exit(64);
  }
}
