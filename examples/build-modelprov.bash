# Sourced by the example scripts (from the checkout's root): builds the release binary and sets
# $modelprov to the executable cargo reports, and $target to the folder it lies in, so
# CARGO_TARGET_DIR and build.target-dir are honoured and a stale binary elsewhere is never run.
# Paths under the checkout are shown relative to it. MODELPROV_BIN, when set, names a binary
# already built to run instead (scripts/test passes the one its test build made).

if [ -n "${MODELPROV_BIN:-}" ]; then
    if [ ! -x "$MODELPROV_BIN" ]; then
        echo "error: MODELPROV_BIN=$MODELPROV_BIN is not an executable" >&2
        exit 1
    fi
    modelprov=${MODELPROV_BIN#"$PWD/"}
    target=$(dirname "$(dirname "$modelprov")")
    return 0
fi
echo "building modelprov (release; the first build takes a few minutes)..." >&2
# The build's messages as JSON on stdout (diagnostics still rendered on stderr); a failed build
# stops the example here (set -e).
artifacts=$(cargo build --release --locked --quiet -p modelprov-cli \
    --message-format=json-render-diagnostics)
modelprov=$(printf '%s\n' "$artifacts" |
    grep '"reason":"compiler-artifact"' | grep '"kind":\["bin"\]' | grep '"name":"modelprov"' |
    sed -n 's/.*"executable":"\([^"\\]*\)".*/\1/p' | tail -n 1)
if [ -z "$modelprov" ] || [ ! -x "$modelprov" ]; then
    echo "error: cargo built modelprov but did not report where (no executable in its JSON messages)" >&2
    exit 1
fi
modelprov=${modelprov#"$PWD/"}
target=$(dirname "$(dirname "$modelprov")")
unset artifacts
