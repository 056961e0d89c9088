package lingua.client;

import lingua.v1.Common;

/**
 * What one utterance of a session ends as: its {@code TranslationResult}, or an {@code Error} naming it. Sessions hand
 * them out in utterance order, exactly one per utterance. An error without an utterance index concerns the session
 * (e.g. a broken audio-chunk stream); {@link #utteranceIndex()} is then -1.
 */
public final class Outcome {
  private final Common.TranslationResult result;
  private final Common.Error error;

  private Outcome(Common.TranslationResult result, Common.Error error) {
    this.result = result;
    this.error = error;
  }

  static Outcome of(Common.TranslationResult result) {
    return new Outcome(result, null);
  }

  static Outcome of(Common.Error error) {
    return new Outcome(null, error);
  }

  public boolean isResult() {
    return result != null;
  }

  /** The translation (null when this outcome is an error). */
  public Common.TranslationResult result() {
    return result;
  }

  /** The error (null when this outcome is a result). */
  public Common.Error error() {
    return error;
  }

  public long utteranceIndex() {
    if (result != null) {
      return result.getUtteranceIndex();
    }
    return error.hasUtteranceIndex() ? error.getUtteranceIndex() : -1;
  }

  @Override
  public String toString() {
    if (result != null) {
      return "#" + result.getUtteranceIndex() + " " + result.getTextAsr() + " -> " + result.getTextTranslated();
    }
    return "#" + utteranceIndex() + " " + error.getCode() + ": " + error.getMessage();
  }
}
