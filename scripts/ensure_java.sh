#!/usr/bin/env bash
# Installs what the Java SDK (sdk/java) needs, when it is missing: the JDK, protoc and the grpc-java plugin (for
# `make proto`), and the grpc-java, protobuf-java, netty, guava and perfmark jars under /usr/share/java that
# sdk/java/build.sh compiles and runs against (Debian packages; nothing from Maven Central). Idempotent: does
# nothing when every package is installed. Needs root (or sudo) to install; `make test` and `make proto` run it.
set -euo pipefail

packages=(
  default-jdk-headless                     # javac, jar, java
  protobuf-compiler                        # protoc (Java output)
  protobuf-compiler-grpc-java-plugin       # grpc_java_plugin (the *Grpc.java stubs)
  libprotobuf-java                         # protobuf.jar
  libgrpc-java                             # grpc-{api,context,core,stub,protobuf,protobuf-lite,netty}.jar
  libnetty-java                            # grpc-netty's transport (libgrpc-java does not depend on it)
  libperfmark-java libguava-java libjsr305-java liberror-prone-java   # what grpc-core needs at run time
  libgeronimo-annotation-1.3-spec-java     # javax.annotation.Generated, which grpc_java_plugin 1.41 writes
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
  echo "ensure_java: no apt-get here; install the Debian packages ${missing[*]} (or their equivalents)" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "ensure_java: need root (or sudo) to apt-get install ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "ensure_java: installing ${missing[*]} (apt)"
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
