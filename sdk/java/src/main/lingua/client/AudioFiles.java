package lingua.client;

import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import lingua.v1.Common;

/** Audio for a request: an encoded file as it is (the server decodes it), or raw 16-bit mono PCM. */
public final class AudioFiles {
  private AudioFiles() {}

  /**
   * A file's bytes; its encoding from the suffix (.wav .flac .mp3 .ogg .opus .webm; .pcm and .raw are mono PCM16 at
   * {@code sampleRateHz}).
   */
  public static Common.Audio fromFile(Path path, int sampleRateHz) throws IOException {
    String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
    String suffix = name.contains(".") ? name.substring(name.lastIndexOf('.')) : "";
    Common.AudioEncoding encoding = encodingOfSuffix(suffix);
    if (encoding == null) {
      throw new IllegalArgumentException(
          "unknown audio file type '" + suffix + "' (use .wav .flac .mp3 .ogg .opus .webm .pcm .raw)");
    }
    byte[] data = Files.readAllBytes(path);
    if (encoding == Common.AudioEncoding.PCM16) {
      return pcm16(data, sampleRateHz);
    }
    return Common.Audio.newBuilder().setData(ByteString.copyFrom(data)).setEncoding(encoding).setChannels(1).build();
  }

  public static Common.Audio fromFile(Path path) throws IOException {
    return fromFile(path, 16000);
  }

  /**
   * An encoded audio file's bytes (WAV, FLAC, Ogg/Opus, WebM/Opus, MP3), its encoding read from the header. Raw PCM16
   * has no header: use {@link #pcm16(byte[], int)}.
   */
  public static Common.Audio fromBytes(byte[] data) {
    Common.AudioEncoding encoding = encodingOfHeader(data);
    if (encoding == null) {
      throw new IllegalArgumentException("not a WAV, FLAC, Ogg/Opus, WebM/Opus or MP3 file; send raw PCM16 with "
          + "AudioFiles.pcm16(data, sampleRateHz)");
    }
    return Common.Audio.newBuilder().setData(ByteString.copyFrom(data)).setEncoding(encoding).setChannels(1).build();
  }

  /** Mono 16-bit little-endian PCM at {@code sampleRateHz} (e.g. what Android's AudioRecord gives). */
  public static Common.Audio pcm16(byte[] data, int sampleRateHz) {
    return Common.Audio.newBuilder().setData(ByteString.copyFrom(data)).setEncoding(Common.AudioEncoding.PCM16)
        .setSampleRateHz(sampleRateHz).setChannels(1).build();
  }

  /**
   * Speech to save or play: WAV, FLAC, ... as they are; PCM16 (what the translators' voices produce) wrapped in a WAV
   * header.
   */
  public static byte[] toWav(Common.Audio audio) {
    byte[] data = audio.getData().toByteArray();
    if (audio.getEncoding() != Common.AudioEncoding.PCM16) {
      return data;
    }
    int channels = Math.max(1, audio.getChannels());
    int rate = audio.getSampleRateHz();
    byte[] wav = new byte[44 + data.length];
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(wav).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    b.put(new byte[] {'R', 'I', 'F', 'F'}).putInt(36 + data.length).put(new byte[] {'W', 'A', 'V', 'E'});
    b.put(new byte[] {'f', 'm', 't', ' '}).putInt(16).putShort((short) 1).putShort((short) channels).putInt(rate)
        .putInt(rate * channels * 2).putShort((short) (channels * 2)).putShort((short) 16);
    b.put(new byte[] {'d', 'a', 't', 'a'}).putInt(data.length).put(data);
    return wav;
  }

  static Common.AudioEncoding encodingOfSuffix(String suffix) {
    switch (suffix) {
      case ".wav":
        return Common.AudioEncoding.WAV;
      case ".flac":
        return Common.AudioEncoding.FLAC;
      case ".mp3":
        return Common.AudioEncoding.MP3;
      case ".ogg":
      case ".opus":
        return Common.AudioEncoding.OGG_OPUS;
      case ".webm":
        return Common.AudioEncoding.WEBM_OPUS;
      case ".pcm":
      case ".raw":
        return Common.AudioEncoding.PCM16;
      default:
        return null;
    }
  }

  /** The same magic bytes as the Python SDK's lingua.formats (a bare MP3 frame sync trusted: a file is expected). */
  static Common.AudioEncoding encodingOfHeader(byte[] d) {
    if (starts(d, "RIFF") && d.length >= 12 && d[8] == 'W' && d[9] == 'A' && d[10] == 'V' && d[11] == 'E') {
      return Common.AudioEncoding.WAV;
    }
    if (starts(d, "fLaC")) {
      return Common.AudioEncoding.FLAC;
    }
    if (starts(d, "OggS")) {
      return Common.AudioEncoding.OGG_OPUS;
    }
    if (d.length >= 4 && (d[0] & 0xff) == 0x1a && (d[1] & 0xff) == 0x45 && (d[2] & 0xff) == 0xdf
        && (d[3] & 0xff) == 0xa3) {
      return Common.AudioEncoding.WEBM_OPUS;
    }
    if (starts(d, "ID3") || (d.length > 1 && (d[0] & 0xff) == 0xff && (d[1] & 0xe0) == 0xe0)) {
      return Common.AudioEncoding.MP3;
    }
    return null;
  }

  private static boolean starts(byte[] data, String magic) {
    if (data.length < magic.length()) {
      return false;
    }
    for (int i = 0; i < magic.length(); i++) {
      if (data[i] != (byte) magic.charAt(i)) {
        return false;
      }
    }
    return true;
  }
}
