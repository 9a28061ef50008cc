#!/usr/bin/env bash
# make real-demo: real structures -> decoys -> graphs + DockQ labels -> the repository's DVC pipeline.
# A scratch DVC project ($REAL_DEMO_DIR, default ${TMPDIR:-/tmp}/graphqa-real-demo; outside the git
# work tree, where DVC would refuse git-ignored stage files; its own git repository) holds copies of the repository's
# dvc.yaml, params/, stages/ and src/ plus this folder as structures/ (whose dvc.yaml adds the
# decoys and graphs stages in front), so one `dvc repro` runs the whole path. The repository's own
# data/, params.yaml and DVC state are not touched. Needs .venv/bin first on PATH (make does that).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
HERE=examples/real_structures
P=${REAL_DEMO_DIR:-${TMPDIR:-/tmp}/graphqa-real-demo}
start=$(date +%s)
rm -rf "$P"
mkdir -p "$P/structures"
cp -r dvc.yaml params stages src "$P/"
cp -r "$HERE/natives" "$HERE/haddock" "$HERE/make_decoys.py" "$HERE/dvc.yaml" "$P/structures/"
cd "$P"
git init -q
dvc init -q
cp "$ROOT/.dvc/config" .dvc/config
graphqa params compose --profile ci_fast --profile cpu data.batch_size=16
git add -A  # DVCLive (training stages) needs a commit to read
git -c user.name=graphqa -c user.email=graphqa@localhost commit -qm "real-demo scratch project"
dvc repro
graphqa data check data
end=$(date +%s)
python "$ROOT/$HERE/summarise.py" --project . --total-seconds $((end - start)) | tee summary.md
