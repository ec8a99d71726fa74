#!/usr/bin/env bash
# Builds modelprov and runs its main job on the bundled example model: hash it into a manifest,
# verify it, then verify a tampered copy to show what a failed verification reports; last, check
# the model card and that it describes these bytes.
set -euo pipefail
cd "$(dirname "$0")/.."

source examples/build-modelprov.bash
work=$target/demo
rm -rf "$work" && mkdir -p "$work"

show() { printf '\n$ %s\n' "$*"; "$@"; }

show "$modelprov" hash examples/tiny-model --output "$work/tiny-model.manifest.json"
show "$modelprov" verify examples/tiny-model --manifest "$work/tiny-model.manifest.json"

cp -r examples/tiny-model "$work/tampered-model"
printf '\x7f' | dd of="$work/tampered-model/model.safetensors" bs=1 seek=200 conv=notrunc status=none
echo '{"injected": true}' > "$work/tampered-model/extra.json"
if show "$modelprov" verify "$work/tampered-model" --manifest "$work/tiny-model.manifest.json"; then
    echo "error: the tampered copy verified" >&2
    exit 1
fi
echo "(exit code 1: the tampered copy is not the model the manifest describes)"

show "$modelprov" card validate examples/tiny-model/README.md --model examples/tiny-model
