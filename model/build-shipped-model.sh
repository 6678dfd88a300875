#!/usr/bin/env bash
# model/build-shipped-model.sh: the whole recipe of the shipped weights, from nothing to model/ecg12net-1.kmodel.
#
#   ./model/build-shipped-model.sh          # about 2 h on 2 cores (the training is time-boxed, see runs/ecg12net-1.json)
#
# 1. train.py on generated data (simulated ECGs + K+ imposed on the 1,095 unlabelled real ECGs);
# 2. adapt_bn.py: batch-norm statistics re-estimated on the unlabelled real ECGs (no labels, no gradients);
# 3. evaluate.py on both checkpoints (the 100 validation ECGs are only predicted: choosing between these two
#    already-trained models on them is the one use made of them, and MODEL_CARD.md reports it);
# 4. export.py of the chosen checkpoint: fp16 weights, sha256 manifest, golden vectors.
# Then `/usr/bin/python3 model/evaluate.py` reproduces MODEL_CARD.md's tables from the shipped file.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
run=build/model/ecg12net-1
choice="${1:-plain}"    # what step 3 chose for the shipped model (see MODEL_CARD.md): adabn or plain
/usr/bin/python3 model/train.py --config=model/runs/ecg12net-1.json
/usr/bin/python3 model/adapt_bn.py "$run/ckpt.pt" --out="$run/ckpt-adabn.pt"
/usr/bin/python3 model/evaluate.py --checkpoint="$run/ckpt.pt" --synthetic=0 --out="$run/eval-plain"
/usr/bin/python3 model/evaluate.py --checkpoint="$run/ckpt-adabn.pt" --synthetic=0 --out="$run/eval-adabn"
ckpt="$run/ckpt.pt"
[ "$choice" = adabn ] && ckpt="$run/ckpt-adabn.pt"
/usr/bin/python3 model/export.py "$ckpt" --name=ecg12net-1 --out=model
/usr/bin/python3 model/evaluate.py --out=build/model/eval
