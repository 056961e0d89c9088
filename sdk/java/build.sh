#!/usr/bin/env bash
# Builds the Java SDK with javac and jar alone (no Gradle or Maven, nothing downloaded), against the Debian jars in
# /usr/share/java that scripts/ensure_java.sh installs.
#
#   sdk/java/build.sh [OUT]         OUT/lingua-sdk.jar (generated lingua.v1 + the lingua.client SDK),
#                                   OUT/lingua-examples.jar, OUT/lingua-sdk-check.jar   (OUT: sdk/java/build)
#   sdk/java/build.sh --classpath [OUT]   the classpath that runs them (the Debian jars, then OUT's jars)
#   sdk/java/build.sh --missing           what is missing to build and run (prints nothing when ready)
#
# Run the example:  java -cp "$(sdk/java/build.sh --classpath)" lingua.examples.Translate --help
# JAVA_JARS (default /usr/share/java) points at another directory holding the same jars.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
jars="${JAVA_JARS:-/usr/share/java}"

# What the SDK is compiled against (javax.annotation.Generated: grpc_java_plugin 1.41 writes it, source-only).
COMPILE=(grpc-api grpc-context grpc-core grpc-stub grpc-protobuf grpc-protobuf-lite protobuf guava jsr305
         error_prone_annotations geronimo-annotation-1.3-spec)
# What it runs with on a JVM: grpc-netty and its netty modules, perfmark (Android: grpc-okhttp instead, see README).
RUNTIME=(grpc-netty netty-buffer netty-codec netty-codec-http netty-codec-http2 netty-codec-socks netty-common
         netty-handler netty-handler-proxy netty-resolver netty-transport perfmark-api)

path_of() {
  local IFS=:
  local out=()
  for name in "$@"; do out+=("$jars/$name.jar"); done
  echo "${out[*]}"
}

missing() {
  for tool in javac jar java; do command -v "$tool" >/dev/null || echo "$tool (default-jdk-headless)"; done
  for name in "${COMPILE[@]}" "${RUNTIME[@]}"; do [ -f "$jars/$name.jar" ] || echo "$jars/$name.jar"; done
}

case "${1:-}" in
  --missing)
    missing
    exit 0
    ;;
  --classpath)
    out="$(cd "${2:-$here/build}" 2>/dev/null && pwd || echo "${2:-$here/build}")"
    echo "$(path_of "${COMPILE[@]}" "${RUNTIME[@]}"):$out/lingua-sdk.jar:$out/lingua-examples.jar:$out/lingua-sdk-check.jar"
    exit 0
    ;;
  -h|--help)
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
esac

gaps="$(missing)"
if [ -n "$gaps" ]; then
  echo "sdk/java/build.sh: missing (run scripts/ensure_java.sh):" >&2
  echo "$gaps" | sed 's/^/  /' >&2
  exit 3
fi

out="${1:-$here/build}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
classes="$out/classes"
rm -rf "$classes"
mkdir -p "$classes/sdk" "$classes/examples" "$classes/check"
cp="$(path_of "${COMPILE[@]}")"
# Java 8 bytecode and API: what Android's toolchain (D8) and older JVMs take.
javac_opts=(--release 8 -Xlint:-options -encoding UTF-8 -nowarn)

javac "${javac_opts[@]}" -cp "$cp" -d "$classes/sdk" \
  $(find "$here/src/generated" "$here/src/main" -name '*.java' | sort)
jar --create --file "$out/lingua-sdk.jar" -C "$classes/sdk" .
javac "${javac_opts[@]}" -cp "$cp:$out/lingua-sdk.jar" -d "$classes/examples" \
  $(find "$here/examples" -name '*.java' | sort)
jar --create --file "$out/lingua-examples.jar" -C "$classes/examples" .
javac "${javac_opts[@]}" -cp "$cp:$out/lingua-sdk.jar" -d "$classes/check" $(find "$here/test" -name '*.java' | sort)
jar --create --file "$out/lingua-sdk-check.jar" -C "$classes/check" .
echo "built $out/lingua-sdk.jar, lingua-examples.jar, lingua-sdk-check.jar"
