package lingua.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Clients talk to the scheduler (directly, or through the gateway which adds tenant and auth).
 * </pre>
 */
@javax.annotation.Generated(
    value = "by gRPC proto compiler",
    comments = "Source: lingua/v1/session.proto")
@io.grpc.stub.annotations.GrpcGenerated
public final class SessionServiceGrpc {

  private SessionServiceGrpc() {}

  public static final String SERVICE_NAME = "lingua.v1.SessionService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<lingua.v1.Session.ClientMessage,
      lingua.v1.Session.ServerMessage> getConverseMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Converse",
      requestType = lingua.v1.Session.ClientMessage.class,
      responseType = lingua.v1.Session.ServerMessage.class,
      methodType = io.grpc.MethodDescriptor.MethodType.BIDI_STREAMING)
  public static io.grpc.MethodDescriptor<lingua.v1.Session.ClientMessage,
      lingua.v1.Session.ServerMessage> getConverseMethod() {
    io.grpc.MethodDescriptor<lingua.v1.Session.ClientMessage, lingua.v1.Session.ServerMessage> getConverseMethod;
    if ((getConverseMethod = SessionServiceGrpc.getConverseMethod) == null) {
      synchronized (SessionServiceGrpc.class) {
        if ((getConverseMethod = SessionServiceGrpc.getConverseMethod) == null) {
          SessionServiceGrpc.getConverseMethod = getConverseMethod =
              io.grpc.MethodDescriptor.<lingua.v1.Session.ClientMessage, lingua.v1.Session.ServerMessage>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.BIDI_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Converse"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  lingua.v1.Session.ClientMessage.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  lingua.v1.Session.ServerMessage.getDefaultInstance()))
              .setSchemaDescriptor(new SessionServiceMethodDescriptorSupplier("Converse"))
              .build();
        }
      }
    }
    return getConverseMethod;
  }

  private static volatile io.grpc.MethodDescriptor<lingua.v1.Session.OpenSessionRequest,
      lingua.v1.Session.OpenSessionResponse> getOpenSessionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "OpenSession",
      requestType = lingua.v1.Session.OpenSessionRequest.class,
      responseType = lingua.v1.Session.OpenSessionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<lingua.v1.Session.OpenSessionRequest,
      lingua.v1.Session.OpenSessionResponse> getOpenSessionMethod() {
    io.grpc.MethodDescriptor<lingua.v1.Session.OpenSessionRequest, lingua.v1.Session.OpenSessionResponse> getOpenSessionMethod;
    if ((getOpenSessionMethod = SessionServiceGrpc.getOpenSessionMethod) == null) {
      synchronized (SessionServiceGrpc.class) {
        if ((getOpenSessionMethod = SessionServiceGrpc.getOpenSessionMethod) == null) {
          SessionServiceGrpc.getOpenSessionMethod = getOpenSessionMethod =
              io.grpc.MethodDescriptor.<lingua.v1.Session.OpenSessionRequest, lingua.v1.Session.OpenSessionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "OpenSession"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  lingua.v1.Session.OpenSessionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  lingua.v1.Session.OpenSessionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SessionServiceMethodDescriptorSupplier("OpenSession"))
              .build();
        }
      }
    }
    return getOpenSessionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<lingua.v1.Session.PushAudioRequest,
      lingua.v1.Session.PushAudioResponse> getPushAudioMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "PushAudio",
      requestType = lingua.v1.Session.PushAudioRequest.class,
      responseType = lingua.v1.Session.PushAudioResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<lingua.v1.Session.PushAudioRequest,
      lingua.v1.Session.PushAudioResponse> getPushAudioMethod() {
    io.grpc.MethodDescriptor<lingua.v1.Session.PushAudioRequest, lingua.v1.Session.PushAudioResponse> getPushAudioMethod;
    if ((getPushAudioMethod = SessionServiceGrpc.getPushAudioMethod) == null) {
      synchronized (SessionServiceGrpc.class) {
        if ((getPushAudioMethod = SessionServiceGrpc.getPushAudioMethod) == null) {
          SessionServiceGrpc.getPushAudioMethod = getPushAudioMethod =
              io.grpc.MethodDescriptor.<lingua.v1.Session.PushAudioRequest, lingua.v1.Session.PushAudioResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "PushAudio"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  lingua.v1.Session.PushAudioRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  lingua.v1.Session.PushAudioResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SessionServiceMethodDescriptorSupplier("PushAudio"))
              .build();
        }
      }
    }
    return getPushAudioMethod;
  }

  private static volatile io.grpc.MethodDescriptor<lingua.v1.Session.SubscribeRequest,
      lingua.v1.Session.ServerMessage> getSubscribeMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Subscribe",
      requestType = lingua.v1.Session.SubscribeRequest.class,
      responseType = lingua.v1.Session.ServerMessage.class,
      methodType = io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
  public static io.grpc.MethodDescriptor<lingua.v1.Session.SubscribeRequest,
      lingua.v1.Session.ServerMessage> getSubscribeMethod() {
    io.grpc.MethodDescriptor<lingua.v1.Session.SubscribeRequest, lingua.v1.Session.ServerMessage> getSubscribeMethod;
    if ((getSubscribeMethod = SessionServiceGrpc.getSubscribeMethod) == null) {
      synchronized (SessionServiceGrpc.class) {
        if ((getSubscribeMethod = SessionServiceGrpc.getSubscribeMethod) == null) {
          SessionServiceGrpc.getSubscribeMethod = getSubscribeMethod =
              io.grpc.MethodDescriptor.<lingua.v1.Session.SubscribeRequest, lingua.v1.Session.ServerMessage>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Subscribe"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  lingua.v1.Session.SubscribeRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  lingua.v1.Session.ServerMessage.getDefaultInstance()))
              .setSchemaDescriptor(new SessionServiceMethodDescriptorSupplier("Subscribe"))
              .build();
        }
      }
    }
    return getSubscribeMethod;
  }

  private static volatile io.grpc.MethodDescriptor<lingua.v1.Session.CloseSessionRequest,
      lingua.v1.Session.CloseSessionResponse> getCloseSessionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CloseSession",
      requestType = lingua.v1.Session.CloseSessionRequest.class,
      responseType = lingua.v1.Session.CloseSessionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<lingua.v1.Session.CloseSessionRequest,
      lingua.v1.Session.CloseSessionResponse> getCloseSessionMethod() {
    io.grpc.MethodDescriptor<lingua.v1.Session.CloseSessionRequest, lingua.v1.Session.CloseSessionResponse> getCloseSessionMethod;
    if ((getCloseSessionMethod = SessionServiceGrpc.getCloseSessionMethod) == null) {
      synchronized (SessionServiceGrpc.class) {
        if ((getCloseSessionMethod = SessionServiceGrpc.getCloseSessionMethod) == null) {
          SessionServiceGrpc.getCloseSessionMethod = getCloseSessionMethod =
              io.grpc.MethodDescriptor.<lingua.v1.Session.CloseSessionRequest, lingua.v1.Session.CloseSessionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CloseSession"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  lingua.v1.Session.CloseSessionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  lingua.v1.Session.CloseSessionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SessionServiceMethodDescriptorSupplier("CloseSession"))
              .build();
        }
      }
    }
    return getCloseSessionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<lingua.v1.Session.TranslateRequest,
      lingua.v1.Session.TranslateResponse> getTranslateMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Translate",
      requestType = lingua.v1.Session.TranslateRequest.class,
      responseType = lingua.v1.Session.TranslateResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<lingua.v1.Session.TranslateRequest,
      lingua.v1.Session.TranslateResponse> getTranslateMethod() {
    io.grpc.MethodDescriptor<lingua.v1.Session.TranslateRequest, lingua.v1.Session.TranslateResponse> getTranslateMethod;
    if ((getTranslateMethod = SessionServiceGrpc.getTranslateMethod) == null) {
      synchronized (SessionServiceGrpc.class) {
        if ((getTranslateMethod = SessionServiceGrpc.getTranslateMethod) == null) {
          SessionServiceGrpc.getTranslateMethod = getTranslateMethod =
              io.grpc.MethodDescriptor.<lingua.v1.Session.TranslateRequest, lingua.v1.Session.TranslateResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Translate"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  lingua.v1.Session.TranslateRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  lingua.v1.Session.TranslateResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SessionServiceMethodDescriptorSupplier("Translate"))
              .build();
        }
      }
    }
    return getTranslateMethod;
  }

  private static volatile io.grpc.MethodDescriptor<lingua.v1.Session.ListLanguagesRequest,
      lingua.v1.Session.ListLanguagesResponse> getListLanguagesMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListLanguages",
      requestType = lingua.v1.Session.ListLanguagesRequest.class,
      responseType = lingua.v1.Session.ListLanguagesResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<lingua.v1.Session.ListLanguagesRequest,
      lingua.v1.Session.ListLanguagesResponse> getListLanguagesMethod() {
    io.grpc.MethodDescriptor<lingua.v1.Session.ListLanguagesRequest, lingua.v1.Session.ListLanguagesResponse> getListLanguagesMethod;
    if ((getListLanguagesMethod = SessionServiceGrpc.getListLanguagesMethod) == null) {
      synchronized (SessionServiceGrpc.class) {
        if ((getListLanguagesMethod = SessionServiceGrpc.getListLanguagesMethod) == null) {
          SessionServiceGrpc.getListLanguagesMethod = getListLanguagesMethod =
              io.grpc.MethodDescriptor.<lingua.v1.Session.ListLanguagesRequest, lingua.v1.Session.ListLanguagesResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListLanguages"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  lingua.v1.Session.ListLanguagesRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  lingua.v1.Session.ListLanguagesResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SessionServiceMethodDescriptorSupplier("ListLanguages"))
              .build();
        }
      }
    }
    return getListLanguagesMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static SessionServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<SessionServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<SessionServiceStub>() {
        @java.lang.Override
        public SessionServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new SessionServiceStub(channel, callOptions);
        }
      };
    return SessionServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static SessionServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<SessionServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<SessionServiceBlockingStub>() {
        @java.lang.Override
        public SessionServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new SessionServiceBlockingStub(channel, callOptions);
        }
      };
    return SessionServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static SessionServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<SessionServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<SessionServiceFutureStub>() {
        @java.lang.Override
        public SessionServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new SessionServiceFutureStub(channel, callOptions);
        }
      };
    return SessionServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Clients talk to the scheduler (directly, or through the gateway which adds tenant and auth).
   * </pre>
   */
  public static abstract class SessionServiceImplBase implements io.grpc.BindableService {

    /**
     * <pre>
     * Native clients: one bidirectional stream per session. The first ClientMessage must be `open`.
     * </pre>
     */
    public io.grpc.stub.StreamObserver<lingua.v1.Session.ClientMessage> converse(
        io.grpc.stub.StreamObserver<lingua.v1.Session.ServerMessage> responseObserver) {
      return io.grpc.stub.ServerCalls.asyncUnimplementedStreamingCall(getConverseMethod(), responseObserver);
    }

    /**
     * <pre>
     * grpc-web clients (no bidi streams): open, push audio, subscribe, close.
     * </pre>
     */
    public void openSession(lingua.v1.Session.OpenSessionRequest request,
        io.grpc.stub.StreamObserver<lingua.v1.Session.OpenSessionResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getOpenSessionMethod(), responseObserver);
    }

    /**
     */
    public void pushAudio(lingua.v1.Session.PushAudioRequest request,
        io.grpc.stub.StreamObserver<lingua.v1.Session.PushAudioResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getPushAudioMethod(), responseObserver);
    }

    /**
     */
    public void subscribe(lingua.v1.Session.SubscribeRequest request,
        io.grpc.stub.StreamObserver<lingua.v1.Session.ServerMessage> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getSubscribeMethod(), responseObserver);
    }

    /**
     */
    public void closeSession(lingua.v1.Session.CloseSessionRequest request,
        io.grpc.stub.StreamObserver<lingua.v1.Session.CloseSessionResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCloseSessionMethod(), responseObserver);
    }

    /**
     * <pre>
     * One utterance in, its full result out.
     * </pre>
     */
    public void translate(lingua.v1.Session.TranslateRequest request,
        io.grpc.stub.StreamObserver<lingua.v1.Session.TranslateResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getTranslateMethod(), responseObserver);
    }

    /**
     * <pre>
     * The language pairs the mesh can serve right now (online nodes), with tier, engine and voice.
     * </pre>
     */
    public void listLanguages(lingua.v1.Session.ListLanguagesRequest request,
        io.grpc.stub.StreamObserver<lingua.v1.Session.ListLanguagesResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListLanguagesMethod(), responseObserver);
    }

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
          .addMethod(
            getConverseMethod(),
            io.grpc.stub.ServerCalls.asyncBidiStreamingCall(
              new MethodHandlers<
                lingua.v1.Session.ClientMessage,
                lingua.v1.Session.ServerMessage>(
                  this, METHODID_CONVERSE)))
          .addMethod(
            getOpenSessionMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                lingua.v1.Session.OpenSessionRequest,
                lingua.v1.Session.OpenSessionResponse>(
                  this, METHODID_OPEN_SESSION)))
          .addMethod(
            getPushAudioMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                lingua.v1.Session.PushAudioRequest,
                lingua.v1.Session.PushAudioResponse>(
                  this, METHODID_PUSH_AUDIO)))
          .addMethod(
            getSubscribeMethod(),
            io.grpc.stub.ServerCalls.asyncServerStreamingCall(
              new MethodHandlers<
                lingua.v1.Session.SubscribeRequest,
                lingua.v1.Session.ServerMessage>(
                  this, METHODID_SUBSCRIBE)))
          .addMethod(
            getCloseSessionMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                lingua.v1.Session.CloseSessionRequest,
                lingua.v1.Session.CloseSessionResponse>(
                  this, METHODID_CLOSE_SESSION)))
          .addMethod(
            getTranslateMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                lingua.v1.Session.TranslateRequest,
                lingua.v1.Session.TranslateResponse>(
                  this, METHODID_TRANSLATE)))
          .addMethod(
            getListLanguagesMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                lingua.v1.Session.ListLanguagesRequest,
                lingua.v1.Session.ListLanguagesResponse>(
                  this, METHODID_LIST_LANGUAGES)))
          .build();
    }
  }

  /**
   * <pre>
   * Clients talk to the scheduler (directly, or through the gateway which adds tenant and auth).
   * </pre>
   */
  public static final class SessionServiceStub extends io.grpc.stub.AbstractAsyncStub<SessionServiceStub> {
    private SessionServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected SessionServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new SessionServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Native clients: one bidirectional stream per session. The first ClientMessage must be `open`.
     * </pre>
     */
    public io.grpc.stub.StreamObserver<lingua.v1.Session.ClientMessage> converse(
        io.grpc.stub.StreamObserver<lingua.v1.Session.ServerMessage> responseObserver) {
      return io.grpc.stub.ClientCalls.asyncBidiStreamingCall(
          getChannel().newCall(getConverseMethod(), getCallOptions()), responseObserver);
    }

    /**
     * <pre>
     * grpc-web clients (no bidi streams): open, push audio, subscribe, close.
     * </pre>
     */
    public void openSession(lingua.v1.Session.OpenSessionRequest request,
        io.grpc.stub.StreamObserver<lingua.v1.Session.OpenSessionResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getOpenSessionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     */
    public void pushAudio(lingua.v1.Session.PushAudioRequest request,
        io.grpc.stub.StreamObserver<lingua.v1.Session.PushAudioResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getPushAudioMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     */
    public void subscribe(lingua.v1.Session.SubscribeRequest request,
        io.grpc.stub.StreamObserver<lingua.v1.Session.ServerMessage> responseObserver) {
      io.grpc.stub.ClientCalls.asyncServerStreamingCall(
          getChannel().newCall(getSubscribeMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     */
    public void closeSession(lingua.v1.Session.CloseSessionRequest request,
        io.grpc.stub.StreamObserver<lingua.v1.Session.CloseSessionResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCloseSessionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * One utterance in, its full result out.
     * </pre>
     */
    public void translate(lingua.v1.Session.TranslateRequest request,
        io.grpc.stub.StreamObserver<lingua.v1.Session.TranslateResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getTranslateMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * The language pairs the mesh can serve right now (online nodes), with tier, engine and voice.
     * </pre>
     */
    public void listLanguages(lingua.v1.Session.ListLanguagesRequest request,
        io.grpc.stub.StreamObserver<lingua.v1.Session.ListLanguagesResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListLanguagesMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * <pre>
   * Clients talk to the scheduler (directly, or through the gateway which adds tenant and auth).
   * </pre>
   */
  public static final class SessionServiceBlockingStub extends io.grpc.stub.AbstractBlockingStub<SessionServiceBlockingStub> {
    private SessionServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected SessionServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new SessionServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * grpc-web clients (no bidi streams): open, push audio, subscribe, close.
     * </pre>
     */
    public lingua.v1.Session.OpenSessionResponse openSession(lingua.v1.Session.OpenSessionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getOpenSessionMethod(), getCallOptions(), request);
    }

    /**
     */
    public lingua.v1.Session.PushAudioResponse pushAudio(lingua.v1.Session.PushAudioRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getPushAudioMethod(), getCallOptions(), request);
    }

    /**
     */
    public java.util.Iterator<lingua.v1.Session.ServerMessage> subscribe(
        lingua.v1.Session.SubscribeRequest request) {
      return io.grpc.stub.ClientCalls.blockingServerStreamingCall(
          getChannel(), getSubscribeMethod(), getCallOptions(), request);
    }

    /**
     */
    public lingua.v1.Session.CloseSessionResponse closeSession(lingua.v1.Session.CloseSessionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCloseSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * One utterance in, its full result out.
     * </pre>
     */
    public lingua.v1.Session.TranslateResponse translate(lingua.v1.Session.TranslateRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getTranslateMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * The language pairs the mesh can serve right now (online nodes), with tier, engine and voice.
     * </pre>
     */
    public lingua.v1.Session.ListLanguagesResponse listLanguages(lingua.v1.Session.ListLanguagesRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListLanguagesMethod(), getCallOptions(), request);
    }
  }

  /**
   * <pre>
   * Clients talk to the scheduler (directly, or through the gateway which adds tenant and auth).
   * </pre>
   */
  public static final class SessionServiceFutureStub extends io.grpc.stub.AbstractFutureStub<SessionServiceFutureStub> {
    private SessionServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected SessionServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new SessionServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * grpc-web clients (no bidi streams): open, push audio, subscribe, close.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<lingua.v1.Session.OpenSessionResponse> openSession(
        lingua.v1.Session.OpenSessionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getOpenSessionMethod(), getCallOptions()), request);
    }

    /**
     */
    public com.google.common.util.concurrent.ListenableFuture<lingua.v1.Session.PushAudioResponse> pushAudio(
        lingua.v1.Session.PushAudioRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getPushAudioMethod(), getCallOptions()), request);
    }

    /**
     */
    public com.google.common.util.concurrent.ListenableFuture<lingua.v1.Session.CloseSessionResponse> closeSession(
        lingua.v1.Session.CloseSessionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCloseSessionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * One utterance in, its full result out.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<lingua.v1.Session.TranslateResponse> translate(
        lingua.v1.Session.TranslateRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getTranslateMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * The language pairs the mesh can serve right now (online nodes), with tier, engine and voice.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<lingua.v1.Session.ListLanguagesResponse> listLanguages(
        lingua.v1.Session.ListLanguagesRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListLanguagesMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_OPEN_SESSION = 0;
  private static final int METHODID_PUSH_AUDIO = 1;
  private static final int METHODID_SUBSCRIBE = 2;
  private static final int METHODID_CLOSE_SESSION = 3;
  private static final int METHODID_TRANSLATE = 4;
  private static final int METHODID_LIST_LANGUAGES = 5;
  private static final int METHODID_CONVERSE = 6;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final SessionServiceImplBase serviceImpl;
    private final int methodId;

    MethodHandlers(SessionServiceImplBase serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_OPEN_SESSION:
          serviceImpl.openSession((lingua.v1.Session.OpenSessionRequest) request,
              (io.grpc.stub.StreamObserver<lingua.v1.Session.OpenSessionResponse>) responseObserver);
          break;
        case METHODID_PUSH_AUDIO:
          serviceImpl.pushAudio((lingua.v1.Session.PushAudioRequest) request,
              (io.grpc.stub.StreamObserver<lingua.v1.Session.PushAudioResponse>) responseObserver);
          break;
        case METHODID_SUBSCRIBE:
          serviceImpl.subscribe((lingua.v1.Session.SubscribeRequest) request,
              (io.grpc.stub.StreamObserver<lingua.v1.Session.ServerMessage>) responseObserver);
          break;
        case METHODID_CLOSE_SESSION:
          serviceImpl.closeSession((lingua.v1.Session.CloseSessionRequest) request,
              (io.grpc.stub.StreamObserver<lingua.v1.Session.CloseSessionResponse>) responseObserver);
          break;
        case METHODID_TRANSLATE:
          serviceImpl.translate((lingua.v1.Session.TranslateRequest) request,
              (io.grpc.stub.StreamObserver<lingua.v1.Session.TranslateResponse>) responseObserver);
          break;
        case METHODID_LIST_LANGUAGES:
          serviceImpl.listLanguages((lingua.v1.Session.ListLanguagesRequest) request,
              (io.grpc.stub.StreamObserver<lingua.v1.Session.ListLanguagesResponse>) responseObserver);
          break;
        default:
          throw new AssertionError();
      }
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public io.grpc.stub.StreamObserver<Req> invoke(
        io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_CONVERSE:
          return (io.grpc.stub.StreamObserver<Req>) serviceImpl.converse(
              (io.grpc.stub.StreamObserver<lingua.v1.Session.ServerMessage>) responseObserver);
        default:
          throw new AssertionError();
      }
    }
  }

  private static abstract class SessionServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    SessionServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return lingua.v1.Session.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("SessionService");
    }
  }

  private static final class SessionServiceFileDescriptorSupplier
      extends SessionServiceBaseDescriptorSupplier {
    SessionServiceFileDescriptorSupplier() {}
  }

  private static final class SessionServiceMethodDescriptorSupplier
      extends SessionServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final String methodName;

    SessionServiceMethodDescriptorSupplier(String methodName) {
      this.methodName = methodName;
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.MethodDescriptor getMethodDescriptor() {
      return getServiceDescriptor().findMethodByName(methodName);
    }
  }

  private static volatile io.grpc.ServiceDescriptor serviceDescriptor;

  public static io.grpc.ServiceDescriptor getServiceDescriptor() {
    io.grpc.ServiceDescriptor result = serviceDescriptor;
    if (result == null) {
      synchronized (SessionServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new SessionServiceFileDescriptorSupplier())
              .addMethod(getConverseMethod())
              .addMethod(getOpenSessionMethod())
              .addMethod(getPushAudioMethod())
              .addMethod(getSubscribeMethod())
              .addMethod(getCloseSessionMethod())
              .addMethod(getTranslateMethod())
              .addMethod(getListLanguagesMethod())
              .build();
        }
      }
    }
    return result;
  }
}
