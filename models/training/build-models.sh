#!/usr/bin/env bash
# Rebuilds every bundled model: trains, exports, quantizes, writes the manifest. A training whose output is
# already in .cache/build-models is not run again (delete that folder to start from scratch).
# Needs Debian's bible-kjv, python3-torch, libopenblas0-pthread, python3-sentencepiece and python3-onnx,
# and a built checkout (npm install). Runs in well under an hour on 2 cores.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work="$root/.cache/build-models"
models="$root/models"
py=/usr/bin/python3  # Debian's interpreter, which has Debian's torch
edged="node $root/dist/src/cli/main.js"
mkdir -p "$work" "$models/tokenizer" "$models/data" "$models/reports"

cd "$here"
[ -f "$work/llama/weights.bin" ] || $py train_llama.py "$work/llama"
node "$root/dist/models/training/export-llama.js" "$work/llama" "$models/edged-kjv-F16.gguf"
for type in Q8_0 Q4_K_M Q4_0; do
  $edged quantize "$models/edged-kjv-F16.gguf" "$models/edged-kjv-$type.gguf" --type "$type"
done
cp "$work/llama/vocabulary.json" "$work/llama/tokenizer.model" "$models/tokenizer/"
cp "$work/llama/report.json" "$models/reports/train-llama.json"

[ -f "$work/embedder/embedder-fp32.onnx" ] || $py train_embedder.py "$work/embedder"
cp "$work/embedder/embedder-fp32.onnx" "$models/edged-embed-fp32.onnx"
$py quantize_onnx.py "$models/edged-embed-fp32.onnx" "$models/edged-embed-q4.onnx"
cp "$work/embedder/report.json" "$models/reports/train-embedder.json"
cp "$work/embedder/held-out-pairs.json" "$models/data/heldout-pairs.json"

$py corpus.py "$models/data/heldout.txt"
node "$root/dist/models/training/write-manifest.js" "$models"
$py make_kernels.py "$models/kernels"
