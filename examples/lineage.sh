#!/usr/bin/env bash
# A small model family in a throwaway lineage registry: the bundled tiny model as the base, a
# fine-tune, a second base, a merge of the two and a quantisation of the merge, all signed. Then
# the ancestry of the quantised model, its verification, and the family graph in Mermaid.
set -euo pipefail
cd "$(dirname "$0")/.."

source examples/build-modelprov.bash
work=$target/lineage-demo
rm -rf "$work" && mkdir -p "$work"
export MODELPROV_REGISTRY=$work/registry.sqlite

variant() { # variant NAME: a copy of the tiny model whose bytes differ by one file
    cp -r examples/tiny-model "$work/$1"
    printf '%s\n' "$1" > "$work/$1/variant.txt"
}
show() { printf '\n$ %s\n' "$*"; "$@"; }

"$modelprov" keygen --private-key "$work/signer.key" >/dev/null
for name in tuned other merged merged-q4; do variant "$name"; done

show "$modelprov" lineage record --name tiny-linear --model-version 1.0.0 --model examples/tiny-model \
    --trainer modelprov-maintainers --key "$work/signer.key"
show "$modelprov" lineage record --name tiny-tuned --model-version 1.1.0 --model "$work/tuned" \
    --parent finetune=tiny-linear@1.0.0 --dataset imdb=https://huggingface.co/datasets/stanfordnlp/imdb \
    --method SFT --metric accuracy=0.81 --key "$work/signer.key"
show "$modelprov" lineage record --name tiny-other --model-version 2.0.0 --model "$work/other" --key "$work/signer.key"
show "$modelprov" lineage record --name tiny-merged --model-version 1.0.0 --model "$work/merged" \
    --parent merge=tiny-tuned@1.1.0 --parent merge=tiny-other@2.0.0 --key "$work/signer.key"
show "$modelprov" lineage record --name tiny-merged-q4 --model-version 1.0.0 --model "$work/merged-q4" \
    --parent quantized=tiny-merged@1.0.0 --key "$work/signer.key"

show "$modelprov" lineage trace tiny-merged-q4@1.0.0
show "$modelprov" lineage verify tiny-merged-q4@1.0.0 --key "$work/signer.key.pub" --model "$work/merged-q4"
show "$modelprov" lineage graph --format mermaid
