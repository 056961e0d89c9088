package lingua.client;

import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import lingua.v1.Common;
import lingua.v1.Session.AudioChunk;
import lingua.v1.Session.ClientMessage;
import lingua.v1.Session.CloseSessionRequest;
import lingua.v1.Session.OpenSessionRequest;
import lingua.v1.Session.OpenSessionResponse;
import lingua.v1.Session.ServerMessage;
import lingua.v1.Session.SessionEvent;
import lingua.v1.Session.Utterance;

/**
 * One Converse stream: send utterances (files, Audio) or streamed PCM16 frames, read the outcomes in order.
 *
 * <p>Sending never blocks on the network. grpc-java's threads read the stream into a queue that {@link #results()}
 * hands out: each utterance's {@link Outcome}, in utterance order, one per utterance, until the session is closed.
 * {@link #close()} (also {@code try}-with-resources) waits until every utterance sent has its outcome, then closes
 * the session on the server, so that {@code results()} ends. Live transcripts (streaming_asr) and sentence-by-sentence
 * speech (stream_tts) go to {@link #onProgress}. Safe to send from one thread while another reads.
 */
public final class LinguaSession implements AutoCloseable {
  private static final Object END = new Object(); // the server's stream is over, after every message it sent

  private final LinguaClient client;
  private final OpenSessionRequest request;
  private final long timeoutMs;
  private final BlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
  private final CountDownLatch ended = new CountDownLatch(1);
  private final Object lock = new Object();
  private final TreeSet<Long> pending = new TreeSet<>(); // sent utterances still without an outcome
  private volatile Consumer<ServerMessage> progress = message -> {};
  private volatile long lastMessageAt = System.nanoTime();
  private ClientCallStreamObserver<ClientMessage> requests;
  private OpenSessionResponse opened;
  private boolean aborted;
  private boolean closing;
  private boolean closeSent;
  private boolean drained;
  private long nextIndex;
  private long seq;
  private int unsealed; // finished AudioChunk streams the server has not yet announced as an utterance

  LinguaSession(LinguaClient client, OpenSessionRequest request) {
    this.client = client;
    this.request = request;
    this.timeoutMs = client.timeoutMs();
  }

  /** Called on grpc-java's thread with each AsrPartial and TtsChunk message, as they come. */
  public LinguaSession onProgress(Consumer<ServerMessage> listener) {
    this.progress = listener;
    return this;
  }

  public String sessionId() {
    synchronized (lock) {
      return opened != null ? opened.getSessionId() : "";
    }
  }

  // ---- lifecycle ------------------------------------------------------------------------------------------

  /** Starts the stream and opens the session; ClientError if the server refuses (or does not answer in time). */
  public OpenSessionResponse open() {
    synchronized (lock) {
      if (requests != null) {
        throw new IllegalStateException("this session was already opened; make a new one with client.session()");
      }
      client.async.converse(new Reader());
      requests.onNext(ClientMessage.newBuilder().setOpen(request).build());
    }
    Object first;
    try {
      first = inbox.poll(timeoutMs, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      abort();
      Thread.currentThread().interrupt();
      throw new ClientError(Common.ErrorCode.INTERNAL, "interrupted while opening the session");
    }
    if (first == null) {
      abort();
      throw new ClientError(Common.ErrorCode.RESULT_TIMEOUT, "the session did not open within " + timeoutMs + " ms");
    }
    if (first instanceof ClientError) {
      abort();
      throw (ClientError) first;
    }
    if (first == END || !((ServerMessage) first).hasOpened()) {
      abort();
      if (first != END && ((ServerMessage) first).hasError()) {
        throw ClientError.fromError(((ServerMessage) first).getError(), null);
      }
      throw new ClientError(Common.ErrorCode.INTERNAL, "the server ended the stream without opening the session");
    }
    synchronized (lock) {
      opened = ((ServerMessage) first).getOpened();
      return opened;
    }
  }

  /**
   * No more audio: closes the session once every utterance sent has its outcome, and waits for that. Waits while
   * outcomes keep arriving; after the client's timeout with none, closes anyway and {@link #results()} throws
   * RESULT_TIMEOUT. Idempotent; never throws for a stream that already failed ({@code results()} reports that).
   */
  public void close() {
    close(false);
  }

  /** {@code cancelPending}: close at once (the server cancels what is still in progress). */
  public void close(boolean cancelPending) {
    synchronized (lock) {
      if (requests == null) {
        return;
      }
      if (ended.getCount() == 0) {
        stopRequests();
        return;
      }
      closing = true;
      if (cancelPending || quiet()) {
        sendClose();
      }
    }
    long since = System.nanoTime();
    try {
      while (!ended.await(Math.min(1000, timeoutMs), TimeUnit.MILLISECONDS)) {
        long quietMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - Math.max(since, lastMessageAt));
        if (quietMs < timeoutMs) {
          continue;
        }
        List<Long> missing;
        boolean sent;
        synchronized (lock) {
          missing = new ArrayList<>(pending);
          sent = closeSent;
          sendClose();
        }
        if (sent) { // `close` got no `closed` either: drop the stream
          abort();
          return;
        }
        inbox.add(new ClientError(Common.ErrorCode.RESULT_TIMEOUT, "no outcome for " + timeoutMs + " ms; closed "
            + "the session without the outcome of utterance(s) " + (missing.isEmpty() ? "being streamed" : missing)));
        since = System.nanoTime();
      }
    } catch (InterruptedException e) {
      abort();
      Thread.currentThread().interrupt();
    }
  }

  /** Ends the stream now (a no-op once it ended); what is in progress is cancelled. */
  public void abort() {
    synchronized (lock) {
      if (requests != null && ended.getCount() != 0) {
        aborted = true;
        requests.cancel("the client aborted the session", null);
      }
    }
  }

  private void stopRequests() {
    try {
      requests.onCompleted();
    } catch (IllegalStateException alreadyDone) {
      // completed or cancelled before: nothing more to end
    }
  }

  private boolean quiet() {
    return pending.isEmpty() && unsealed == 0;
  }

  private void sendClose() {
    if (closeSent) {
      return;
    }
    closeSent = true;
    requests.onNext(ClientMessage.newBuilder()
        .setClose(CloseSessionRequest.newBuilder().setSessionId(opened != null ? opened.getSessionId() : ""))
        .build());
    stopRequests();
  }

  private String openedId() {
    if (opened == null) {
      throw new IllegalStateException("open the session first (open(), or client.session(...).open())");
    }
    return opened.getSessionId();
  }

  private void send(ClientMessage message) {
    if (requests == null) {
      throw new IllegalStateException("open the session first (open(), or client.session(...).open())");
    }
    if (closing || ended.getCount() == 0) {
      throw new ClientError(Common.ErrorCode.SESSION_CLOSED, "this session is closed (or closing); open a new one");
    }
    requests.onNext(message);
  }

  // ---- sending ------------------------------------------------------------------------------------------------

  /** Sends one utterance; returns its utterance_index (0, 1, 2, ... in the order sent). */
  public long sendAudio(Common.Audio audio) {
    synchronized (lock) {
      long index = nextIndex;
      send(ClientMessage.newBuilder().setUtterance(Utterance.newBuilder().setSessionId(openedId())
          .setUtteranceIndex(index).setAudio(audio)).build());
      nextIndex++;
      pending.add(index);
      return index;
    }
  }

  /** Sends an audio file (suffix: its encoding) as one utterance; returns its utterance_index. */
  public long sendFile(Path path) throws IOException {
    return sendAudio(AudioFiles.fromFile(path));
  }

  /**
   * Streams mono PCM16 frames (e.g. 20 ms each from a microphone) as AudioChunks; the last one ends the utterance.
   * The server seals them into one utterance and announces its index. Returns the index the utterance is expected
   * to get, or -1 when {@code frames} was empty (nothing is sent).
   */
  public long streamPcm16(Iterable<byte[]> frames, int sampleRateHz) {
    byte[] previous = null;
    for (byte[] frame : frames) {
      if (previous != null) {
        sendChunk(previous, sampleRateHz, false);
      }
      previous = frame;
    }
    if (previous == null) {
      return -1;
    }
    synchronized (lock) {
      long index = nextIndex;
      sendChunk(previous, sampleRateHz, true);
      nextIndex++;
      unsealed++;
      return index;
    }
  }

  private void sendChunk(byte[] pcm, int sampleRateHz, boolean last) {
    synchronized (lock) {
      send(ClientMessage.newBuilder().setAudioChunk(AudioChunk.newBuilder().setSessionId(openedId())
          .setSeq(seq).setIsFinal(last).setAudio(AudioFiles.pcm16(pcm, sampleRateHz))).build());
      seq++;
    }
  }

  // ---- receiving ----------------------------------------------------------------------------------------------

  /**
   * Each utterance's outcome in utterance order, until the session is closed. Iterating blocks while waiting; it
   * throws ClientError if the stream fails.
   */
  public Iterable<Outcome> results() {
    synchronized (lock) {
      if (requests == null) {
        throw new IllegalStateException("open the session first (open(), or client.session(...).open())");
      }
    }
    return () -> new Iterator<Outcome>() {
      private Outcome next;

      @Override
      public boolean hasNext() {
        while (next == null) {
          Object item;
          synchronized (inbox) {
            if (drained) {
              return false;
            }
            item = take();
            if (item == END) {
              drained = true;
              inbox.add(END); // for any other reader
              return false;
            }
          }
          if (item instanceof ClientError) {
            throw (ClientError) item;
          }
          ServerMessage message = (ServerMessage) item;
          if (message.hasResult()) {
            next = Outcome.of(message.getResult());
          } else if (message.hasError()) {
            next = Outcome.of(message.getError());
          }
        }
        return true;
      }

      @Override
      public Outcome next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        Outcome out = next;
        next = null;
        return out;
      }
    };
  }

  /** Every outcome, once the session is closed: {@link #close()} then {@link #results()} into a list. */
  public List<Outcome> closeAndCollect() {
    close();
    List<Outcome> all = new ArrayList<>();
    for (Outcome outcome : results()) {
      all.add(outcome);
    }
    return Collections.unmodifiableList(all);
  }

  private Object take() {
    try {
      return inbox.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ClientError(Common.ErrorCode.INTERNAL, "interrupted while waiting for the session's outcomes");
    }
  }

  /** Bookkeeping for close(): which utterances still owe an outcome. */
  private void track(ServerMessage message) {
    synchronized (lock) {
      switch (message.getKindCase()) {
        case RESULT:
          pending.remove(message.getResult().getUtteranceIndex());
          break;
        case ERROR:
          if (message.getError().hasUtteranceIndex()) {
            pending.remove(message.getError().getUtteranceIndex());
          } else if (unsealed > 0) { // a broken chunk stream is dropped without becoming an utterance
            unsealed--;
          }
          break;
        case EVENT:
          if (message.getEvent().getKind() == SessionEvent.Kind.KIND_UTTERANCE_SEALED) {
            long index = message.getEvent().getUtteranceIndex();
            unsealed = Math.max(0, unsealed - 1);
            pending.add(index);
            nextIndex = Math.max(nextIndex, index + 1);
          }
          break;
        default:
          break;
      }
      if (closing && quiet()) {
        sendClose();
      }
    }
  }

  /** grpc-java's side of the stream: every message into the inbox, then END. */
  private final class Reader implements ClientResponseObserver<ClientMessage, ServerMessage> {
    @Override
    public void beforeStart(ClientCallStreamObserver<ClientMessage> stream) {
      requests = stream; // under `lock`: open() is starting the call
    }

    @Override
    public void onNext(ServerMessage message) {
      lastMessageAt = System.nanoTime();
      track(message);
      if (message.hasAsrPartial() || message.hasTtsChunk()) {
        progress.accept(message);
      }
      inbox.add(message);
    }

    @Override
    public void onError(Throwable failure) {
      boolean wanted;
      synchronized (lock) {
        wanted = !aborted;
      }
      if (wanted) {
        inbox.add(ClientError.fromThrowable(failure));
      }
      finish();
    }

    @Override
    public void onCompleted() {
      finish();
    }

    private void finish() {
      ended.countDown();
      inbox.add(END);
    }
  }
}
