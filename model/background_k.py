"""
Each background ECG's own K+, estimated before any K+ is imposed on it (data.py, "WHAT K+ EACH BACKGROUND HAS").

    /usr/bin/python3 model/background_k.py            # -> build/model/background-k.npz, about 3 min on 2 cores

The estimate is the generated-only network's K+ (ecg12net-1-generated-only.kmodel: trained on generated data
only, never fitted on a labelled ECG, so training data built from it carry nothing of the 100 labelled ECGs).
Its rank among the 1,095 unlabelled ECGs is mapped to an ED population (mean 4.0 mEq/L, spread
data.ED_K_SD_MEQ_L) and shrunk by data.RELIABILITY.
"""
import sys
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))
import data  # noqa: E402
import real_features  # noqa: E402


def k_ref_from_estimates(k_est):
    """Network estimates (n,) -> starting K+ (n,): 4.0 + ED_K_SD * RELIABILITY * normal score of the rank."""
    z = stats.norm.ppf((stats.rankdata(k_est) - 0.5) / len(k_est))
    return 4.0 + data.ED_K_SD_MEQ_L * data.RELIABILITY * z


def main(argv=None):
    feats = real_features.load(real_features.GENERATED_ONLY, log=lambda *a: print(*a, flush=True))
    k_est = feats["unl_k"]
    k_ref = k_ref_from_estimates(k_est)
    data.BACKGROUND_K_FILE.parent.mkdir(parents=True, exist_ok=True)
    np.savez(data.BACKGROUND_K_FILE, hash=feats["unl_hash"], k_est=k_est, k_ref=k_ref)
    q = np.percentile(k_ref, [5, 50, 95])
    print(f"{data.BACKGROUND_K_FILE}: {len(k_ref)} backgrounds; network estimate median {np.median(k_est):.2f}, "
          f"starting K+ 5/50/95 % {q[0]:.2f} / {q[1]:.2f} / {q[2]:.2f} mEq/L")


if __name__ == "__main__":
    main()
