package lingua.client;

import com.google.protobuf.Any;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.Metadata;
import io.grpc.Status;
import java.io.IOException;
import lingua.v1.Common;

/**
 * A failed call or session. {@link #code()} is the {@code lingua.v1.ErrorCode} (UNAUTHENTICATED, NO_AVAILABLE_NODE,
 * UNSUPPORTED_LANGUAGE, ...): the one the server packed into the status details ({@code grpc-status-details-bin}, a
 * {@code google.rpc.Status} whose details hold a {@code lingua.v1.Error}), else one standing for the plain gRPC
 * status. {@link #error()} is the server's {@code lingua.v1.Error} when it sent one; {@link #grpcCode()} the gRPC
 * status of a failed call (null for an error sent in a session's stream); {@link #retryAfterMs()} &gt; 0 when
 * retrying later may succeed.
 *
 * <p>A failed utterance of a session is not an exception: it is an {@link Outcome} holding its {@code Error}.
 */
public final class ClientError extends RuntimeException {
  private static final long serialVersionUID = 1L;

  static final Metadata.Key<byte[]> STATUS_DETAILS =
      Metadata.Key.of("grpc-status-details-bin", Metadata.BINARY_BYTE_MARSHALLER);

  private final Common.ErrorCode code;
  private final String detail;
  private final long retryAfterMs;
  private final transient Common.Error error;
  private final Status.Code grpcCode;

  public ClientError(Common.ErrorCode code, String message) {
    this(code, message, 0, null, null);
  }

  ClientError(Common.ErrorCode code, String message, long retryAfterMs, Common.Error error, Status.Code grpcCode) {
    super(code.name() + ": " + message);
    this.code = code;
    this.detail = message;
    this.retryAfterMs = retryAfterMs;
    this.error = error;
    this.grpcCode = grpcCode;
  }

  /** The lingua.v1.ErrorCode (UNRECOGNIZED for a code newer than this SDK: see {@link #error()}). */
  public Common.ErrorCode code() {
    return code;
  }

  /** What the server said was wrong (without the code). */
  public String detail() {
    return detail;
  }

  public long retryAfterMs() {
    return retryAfterMs;
  }

  /** The lingua.v1.Error the server sent, or null when the failure carried none. */
  public Common.Error error() {
    return error;
  }

  /** The gRPC status code of a failed call, or null for an error the server sent inside a session's stream. */
  public Status.Code grpcCode() {
    return grpcCode;
  }

  /** From a lingua.v1.Error (in a stream, or unpacked from a status). */
  public static ClientError fromError(Common.Error error, Status.Code grpcCode) {
    return new ClientError(error.getCode(), error.getMessage(), error.getRetryAfterMs(), error, grpcCode);
  }

  /** From a failed call: the lingua.v1.Error in its status details, or one named after its plain status. */
  public static ClientError fromThrowable(Throwable failure) {
    if (failure instanceof ClientError) {
      return (ClientError) failure;
    }
    Status status = Status.fromThrowable(failure);
    Common.Error carried = errorInTrailers(Status.trailersFromThrowable(failure));
    if (carried != null) {
      return fromError(carried, status.getCode());
    }
    String message = status.getDescription() != null ? status.getDescription() : String.valueOf(failure);
    return new ClientError(codeOfStatus(status.getCode()), message, 0, null, status.getCode());
  }

  /** The ErrorCode that stands for a plain gRPC status (the same mapping as the Python SDK's lingua.rpc). */
  static Common.ErrorCode codeOfStatus(Status.Code status) {
    switch (status) {
      case UNAUTHENTICATED:
        return Common.ErrorCode.UNAUTHENTICATED;
      case UNAVAILABLE:
        return Common.ErrorCode.NO_AVAILABLE_NODE;
      case RESOURCE_EXHAUSTED:
        return Common.ErrorCode.RATE_LIMITED;
      case DEADLINE_EXCEEDED:
        return Common.ErrorCode.RESULT_TIMEOUT;
      default:
        return Common.ErrorCode.INTERNAL;
    }
  }

  /**
   * The lingua.v1.Error inside {@code grpc-status-details-bin}: a google.rpc.Status (1: code, 2: message, 3: repeated
   * google.protobuf.Any details), read field by field so that the SDK needs no googleapis jar.
   */
  static Common.Error errorInTrailers(Metadata trailers) {
    byte[] details = trailers == null ? null : trailers.get(STATUS_DETAILS);
    if (details == null) {
      return null;
    }
    try {
      CodedInputStream in = CodedInputStream.newInstance(details);
      for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
        if (tag == ((3 << 3) | 2)) {
          Any detail = Any.parseFrom(in.readBytes());
          if (detail.is(Common.Error.class)) {
            return detail.unpack(Common.Error.class);
          }
        } else if (!in.skipField(tag)) {
          break;
        }
      }
    } catch (InvalidProtocolBufferException e) {
      return null; // unreadable details: treated as none
    } catch (IOException e) {
      return null;
    }
    return null;
  }
}
