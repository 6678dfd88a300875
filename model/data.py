"""
Training data for ECG12Net: simulated ECGs and real ECGs with K+ effects imposed on their beats, both
prepared for the network by the C++ core (kalium_core), exactly as the app prepares a dropped file.

Usage (from /work/main, with /usr/bin/python3, after the native build made build/native/python):

    from model.data import Backgrounds, TrainingBatches, detect_beats, impose_k
    bg = Backgrounds.load()                    # the 1,095 unlabelled hmc ECGs (never the 100 validation ones)
    batches = TrainingBatches(seed=1, batch_size=32, real_fraction=0.5, backgrounds=bg)
    x, k = batches[0]                          # x (32, 12, 1250) float32 mV, k (32,) mEq/L; batch i depends on (seed, i)

WHERE THE REAL ECGs COME FROM. ../shared/ecg/hmc holds 1,195 ECGs of one emergency department. The 100 of
labels/dyskalemia-validation-label.csv are the only ECGs with known K+ and are for validation only:
Backgrounds refuses them by hash, and a test checks that none is ever loaded. The other 1,095 (and the
12-lead records of ../shared/ecg/samples, when asked for) are the backgrounds.

IMPOSING K+ ON A REAL ECG (impose_k). Beats are found on all leads (detect_beats); per beat the P wave, QRS
complex and ST-T-U segment are located from the RR interval (Fridericia QT, typical PR). Each wave's
component is what lies above the straight line joining the segment's ends. The changes are the simulator's
own (simulate.k_effects), taken for a synthetic patient's sensitivity and applied as the change from the
background's assumed K+ (k_ref) to the target K+:
    T: amplitude x ratio (inversion when the ratio goes negative), narrowed or broadened about its peak by
       the ratio of the T widths, left and right limbs separately (peaked, symmetric T in hyperkalemia)
    ST depression and U wave (hypokalemia): subtracted in proportion to each lead's T amplitude / added
       as a 40 ms Gaussian after T end with the U direction's projection on the 12 leads
    P: amplitude x ratio (flattening, loss); QRS: amplitude x ratio
    intervals: a monotone time warp lengthens PR, widens QRS and moves T end (QTc), taking the time from
       the T-P segment so the RR intervals stay as recorded
WHAT K+ THE BACKGROUND HAS. Unknown: in this population about 1 in 5 is hypokalemic and 1 in 50
hyperkalemic. Each use of a background draws k_ref ~ N(4.0, 0.3) and imposes the change from k_ref to the
target; the label is the target. A background that was in truth hypokalemic therefore carries label noise
(it looks lower than its label says), the same kind of noise the paper's labels have (K+ drawn within an
hour of the ECG): we accept it, and the simulated half of the data has exact labels.
"""
import csv
import math
import os
import sys
from pathlib import Path

import numpy as np
from scipy import signal as sps
from scipy.interpolate import CubicSpline

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import ed_signs  # noqa: E402
import simulate as sim  # noqa: E402

FS_HZ = 500.0
SHARED_DIR = Path(os.environ.get("KALIUM_SHARED_DIR", ROOT.parent / "shared"))
HMC_LABELS_DIR = SHARED_DIR / "ecg" / "hmc" / "labels"
HMC_ECG_DIR = Path(os.environ.get("KALIUM_HMC_DIR", ROOT / "build" / "data" / "hmc" / "ecg"))
VALIDATION_LABELS = HMC_LABELS_DIR / "dyskalemia-validation-label.csv"


def core():
    """The C++ core's Python module, from build/native/python (or $KALIUM_PYTHON_DIR)."""
    path = os.environ.get("KALIUM_PYTHON_DIR", str(ROOT / "build" / "native" / "python"))
    if path not in sys.path:
        sys.path.insert(0, path)
    try:
        import kalium_core
    except ImportError as e:
        raise ImportError(f"kalium_core not found in {path}: build it with "
                          "'cmake --preset native && cmake --build --preset native'") from e
    return kalium_core


def ensure_hmc_unpacked():
    """The hmc archive unpacked into build/data/hmc (the native configure step does this too)."""
    if (HMC_ECG_DIR / ".." / ".unpacked").exists() or any(HMC_ECG_DIR.glob("*.csv")):
        return
    import tarfile
    HMC_ECG_DIR.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(SHARED_DIR / "ecg" / "hmc" / "ecg.tar.xz") as tar:
        tar.extractall(HMC_ECG_DIR.parent)


def validation_hashes():
    """The hashes of the 100 dyskalemia validation ECGs: never training data."""
    with open(VALIDATION_LABELS, newline="") as f:
        return {row["hash_id"] for row in csv.DictReader(f)}


def validation_set():
    """The 100 validation ECGs: list of (hash, true group 0-4), in the label file's order."""
    out = []
    with open(VALIDATION_LABELS, newline="") as f:
        for row in csv.DictReader(f):
            onehot = [int(v) for k, v in row.items() if k.startswith("LABEL[")]
            out.append((row["hash_id"], int(np.argmax(onehot))))
    return out


def read_prepared(path):
    """One ECG file through the core: (network input (12, 1250) mV, record dict)."""
    kc = core()
    rec = kc.read(str(path))
    x = kc.prepare_input(rec["samples_uv"], rec["fs_hz"], rec["lead_names"])
    return x["values_mv"], rec


class Backgrounds:
    """Real 12-lead, 10 s, 500 Hz ECGs in microvolts (n, 12, 5000), read by the core."""

    def __init__(self, signals_uv, names, k_estimate=None):
        self.signals_uv = signals_uv
        self.names = names
        # each background's own K+, as estimated before any imposition (background_k); None: unknown
        self.k_estimate = k_estimate if k_estimate is not None else load_background_k(names)
        # the backgrounds in atrial fibrillation or flutter (their rhythm label): an "af" sign is shown by
        # drawing one of them, since fibrillation cannot be imposed on a record in sinus rhythm
        af_names = rhythm_names(AF_RHYTHMS)
        self.af_indices = [i for i, n in enumerate(names) if n in af_names]
        self._delineations = {}

    def __len__(self):
        return len(self.names)

    def delineation(self, i):
        """delineate() of background i, computed once."""
        if i not in self._delineations:
            self._delineations[i] = delineate(self.signals_uv[i])
        return self._delineations[i]

    def pick(self, rng, signs):
        """The background a patient with these signs (ed_signs.sample_signs) is imposed on: an AF background for
        the "af" sign; for visible hypokalemia the faster of two draws (KILDEGAARD: the heart rate rises as K+
        falls; a real record's rate cannot be raised without record that is not there); else any."""
        if signs.get("af") and self.af_indices:
            return int(self.af_indices[int(rng.integers(len(self.af_indices)))])
        i = int(rng.integers(len(self)))
        if signs.get("hypo_visible"):
            j = int(rng.integers(len(self)))
            if self.hr_bpm(j) > self.hr_bpm(i):
                i = j
        return i

    def hr_bpm(self, i):
        """Background i's measured heart rate (0 when it cannot be delineated)."""
        d = self.delineation(i)
        return float(d["hr_bpm"]) if d is not None and d["hr_bpm"] else 0.0

    def k_ref(self, i, rng):
        """The K+ a use of background i starts from: its own estimate (BACKGROUND_K_FILE) with a spread of
        K_REF_SD_MEQ_L, or the population's N(4.0, 0.3) where no estimate exists."""
        est = self.k_estimate[i] if self.k_estimate is not None else math.nan
        if math.isfinite(est):
            return float(rng.normal(est, K_REF_SD_MEQ_L))
        return float(rng.normal(4.0, 0.3))

    @classmethod
    def load(cls, limit=None, include_samples=False):
        ensure_hmc_unpacked()
        kc = core()
        excluded = validation_hashes()
        files = sorted(p for p in HMC_ECG_DIR.glob("*.csv") if p.stem not in excluded)
        if limit:
            files = files[:limit]
        signals, names = [], []
        for p in files:
            rec = kc.read(str(p))
            x = _standard_10s(rec)
            if x is not None:
                signals.append(x)
                names.append(p.stem)
        if include_samples:
            for p in sorted((SHARED_DIR / "ecg" / "samples").rglob("*")):
                if p.suffix.lower() in (".xml", ".hea", ".scp", ".dcm") and p.is_file():
                    try:
                        rec = kc.read(str(p))
                    except ValueError:
                        continue
                    if rec["fs_hz"] != FS_HZ:
                        samples = np.stack([kc.resample(l, rec["fs_hz"], FS_HZ) for l in rec["samples_uv"]])
                        rec = dict(rec, samples_uv=samples, fs_hz=FS_HZ)
                    x = _standard_10s(rec)
                    if x is not None:
                        signals.append(x)
                        names.append(p.name)
        assert not excluded.intersection(names), "a validation ECG got into the backgrounds"
        return cls(np.stack(signals), names)


# Rhythm labels of the unlabelled ECGs (the arrhythmia competition's, no K+): which backgrounds are in atrial
# fibrillation or flutter.
ARRHYTHMIA_LABELS = HMC_LABELS_DIR / "arrhythmia.csv"
AF_RHYTHMS = ("LABEL[Atrial fibrillation]", "LABEL[Atrial flutter (Typical/atypical)]")


def rhythm_names(columns, path=ARRHYTHMIA_LABELS):
    """The hashes labelled with any of these rhythm columns (an empty set when the label file is missing)."""
    if not Path(path).exists():
        return set()
    with open(path, newline="") as f:
        return {row["hash_id"] for row in csv.DictReader(f) if any(row.get(c) == "1" for c in columns)}


# WHAT K+ EACH BACKGROUND HAS. Unknown, so estimated: by the generated-only network (never fitted on any
# labelled ECG; model/background_k.py), its rank among the 1,095 mapped to an emergency population's K+
# spread and shrunk by the estimate's reliability: k = 4.0 + ED_K_SD * RELIABILITY * z, z the normal score of
# the rank. The estimate separates the groups weakly (AUC about 0.8), so it moves the starting point by
# +-0.5 mEq/L at most for 9 backgrounds in 10; a background it calls hypokalemic then gets less hypokalemia
# imposed on top, one it calls hyperkalemic less hyperkalemia.
BACKGROUND_K_FILE = ROOT / "build" / "model" / "background-k.npz"
ED_K_SD_MEQ_L = 0.6        # spread of K+ among ED patients (ED_PRIOR in kdist.py: 22.7 % <= 3.5 around 4.0)
RELIABILITY = 0.5          # correlation assumed between the estimate and the true K+
K_REF_SD_MEQ_L = 0.2       # spread of one use's starting K+ around the estimate


def load_background_k(names, path=BACKGROUND_K_FILE):
    """(n,) estimated K+ per background name (NaN where none), or None when the file is missing."""
    if not Path(path).exists():
        return None
    d = np.load(path)
    by_name = dict(zip(d["hash"].tolist(), d["k_ref"].tolist()))
    return np.array([by_name.get(n, math.nan) for n in names], float)


def _standard_10s(rec):
    """(12, 5000) float32 of the 12 standard leads' first 10 s at 500 Hz, or None."""
    if rec["fs_hz"] != FS_HZ or rec["samples_uv"].shape[1] < 5000:
        return None
    names = rec["lead_names"]
    try:
        rows = [names.index(l) for l in sim.LEADS]
    except ValueError:
        return None
    x = rec["samples_uv"][rows, :5000]
    if not np.isfinite(x).all():
        return None
    return x.astype(np.float32)


# ------------------------------------------------------------------------------------------------ beats
def detect_beats(x_uv, fs_hz=FS_HZ):
    """QRS centres (sample indices) of a 12-lead record: peaks of the 5-25 Hz band energy summed over leads,
    at least 250 ms apart and above a third of the record's 98th percentile energy."""
    b, a = sps.butter(2, [5.0 / (fs_hz / 2), 25.0 / (fs_hz / 2)], "band")
    y = sps.filtfilt(b, a, np.nan_to_num(x_uv), axis=-1)
    energy = (y ** 2).sum(0)
    width = max(1, int(0.08 * fs_hz))
    energy = np.convolve(energy, np.ones(width) / width, mode="same")
    height = np.percentile(energy, 98) / 3.0
    peaks, _ = sps.find_peaks(energy, height=height, distance=int(0.25 * fs_hz))
    return peaks


SMOOTH_CUTOFF_HZ = 40.0     # imposition changes the ECG below this; the recorded noise above it stays as recorded
WAVE_CUTOFF_HZ = 15.0       # P, U and ST are changed below this (their band), so noise above it is not scaled
T_CUTOFF_HZ = 10.0          # the T wave is reshaped below this
T_NARROWEST = 0.6           # the T wave's limbs are narrowed to no less than this share of their recorded width


def delineate(x_uv, fs_hz=FS_HZ):
    """Per beat of a 12-lead record, the sample indices of its waves from the core's own delineation
    (kalium_core.measure, as `kalium measure` and the app measure): each beat's QRS fiducial, with the median
    beat's P onset, QRS onset and offset, T peak and T end placed around it; the T peak and end scaled by
    Fridericia's (RR / median RR)^(1/3). -> dict with "beats" (list of dicts p_on (or None), qrs_on, qrs_off,
    t_peak, t_end, next_on: where the next beat's first wave starts, or None for the last beat) and the
    record's measured "pr_ms", "qrs_ms", "hr_bpm" (None when not measurable); None when the core cannot
    delineate the record (fewer than 2 beats, no QRS boundaries)."""
    try:
        m = core().measure(np.ascontiguousarray(x_uv, np.float32), float(fs_hz), list(sim.LEADS))
    except ValueError:
        return None
    centres = np.asarray(m["qrs_samples_500hz"], float) * fs_hz / 500.0
    f = m["fiducials_ms"]
    if len(centres) < 2 or f["qrs_onset"] is None or f["qrs_offset"] is None:
        return None
    ms = fs_hz / 1000.0
    qon, qoff = f["qrs_onset"] * ms, f["qrs_offset"] * ms
    t_end_ms = f["t_end"] if f["t_end"] is not None else f["qrs_onset"] + 400.0
    t_peak_ms = f["t_peak"] if f["t_peak"] is not None else f["qrs_offset"] + 0.7 * (t_end_ms - f["qrs_offset"])
    t_end, t_peak = t_end_ms * ms, t_peak_ms * ms
    p_on = f["p_onset"] * ms if f["p_onset"] is not None else None
    rr = np.diff(centres)
    rr_med = float(np.median(rr))
    beats = []
    for i, c in enumerate(centres):
        rr_prev = rr[i - 1] if i > 0 else rr_med
        qt_scale = (rr_prev / rr_med) ** (1.0 / 3.0)
        b = {"qrs_on": c + qon, "qrs_off": c + qoff,
             "t_peak": c + qoff + (t_peak - qoff) * qt_scale, "t_end": c + qoff + (t_end - qoff) * qt_scale,
             "p_on": None if p_on is None else c + p_on}
        if i + 1 < len(centres):
            nc = centres[i + 1]
            first = nc + (p_on if p_on is not None else qon - 30.0 * ms)
            # P buried in the T wave (fast rates): the next beat starts at its QRS
            b["next_on"] = first if first > b["t_end"] + 20.0 * ms else nc + qon - 20.0 * ms
        else:
            b["next_on"] = None
        # T never runs into the next beat
        if b["next_on"] is not None:
            b["t_end"] = min(b["t_end"], b["next_on"] - 10.0 * ms)
            b["t_peak"] = min(b["t_peak"], b["t_end"] - 10.0 * ms)
        beats.append(b)
    return {"beats": beats, "pr_ms": m["pr_ms"], "qrs_ms": m["qrs_ms"], "hr_bpm": m["hr_bpm"]}


def source_resolution_uv(x_uv):
    """The record's amplitude step (uV): the smallest gap between its distinct values, or None when the values
    are not on a grid coarser than 0.1 uV."""
    u = np.unique(np.round(np.asarray(x_uv, np.float64), 3))
    if len(u) < 2:
        return None
    step = float(np.min(np.diff(u)))
    if step < 0.1 or np.max(np.abs(u / step - np.round(u / step))) > 1e-3:
        return None
    return step


def _component(x, a, b):
    """The wave over [a, b): x minus the straight line through its end values (averaged over 4 ms)."""
    lo, hi = x[:, max(a - 2, 0):a + 2].mean(1), x[:, max(b - 2, a):b + 2].mean(1)
    ramp = np.linspace(0.0, 1.0, b - a)
    line = lo[:, None] + (hi - lo)[:, None] * ramp[None, :]
    return x[:, a:b] - line


def _taper(n, edge):
    """Raised-cosine edges of `edge` samples on a window of n ones: changes start and end smoothly."""
    w = np.ones(n)
    e = min(edge, n // 2)
    if e > 0:
        ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(e) / e)
        w[:e], w[n - e:] = ramp, ramp[::-1]
    return w


def _reshape_about(comp, peak, left, right):
    """comp (leads, m) with its left limb `left` times and its right limb `right` times as wide about sample `peak`.
    Broadening (factor > 1) resamples time about the peak (cubic; comp is low-passed), which stays inside the
    window. Narrowing (< 1) keeps time and sharpens the wave instead: each lead's wave, normalised to its largest
    value, is raised to the power 1/factor^2 (a Gaussian's width times the factor), sign kept. Compressing time
    would pull the ST level into a step at the window's start and carry the recorded noise up in frequency."""
    m = comp.shape[1]
    t = np.arange(m, dtype=float)
    blend = 0.5 * (1.0 + np.tanh((t - peak) / 5.0))      # left limb -> right limb over about +-10 ms
    out = comp
    wide_l, wide_r = max(left, 1.0), max(right, 1.0)
    if wide_l > 1.0 or wide_r > 1.0:
        slope = (1.0 - blend) / wide_l + blend / wide_r
        src = peak + np.cumsum(slope) - np.cumsum(slope)[int(peak)]
        out = CubicSpline(t, comp, axis=1)(np.clip(src, 0.0, m - 1.0))
    gamma = (1.0 - blend) / min(left, 1.0) ** 2 + blend / min(right, 1.0) ** 2
    if np.any(gamma > 1.0):
        scale = np.abs(out).max(1, keepdims=True) + 1e-9
        u = out / scale
        out = scale * np.sign(u) * np.abs(u) ** gamma[None, :]
    return out


def _smooth_step(n, rise, fall_from, fall_to):
    """0 -> 1 over [0, rise), 1 until fall_from, 1 -> 0 over [fall_from, fall_to), then 0; raised cosines."""
    t = np.arange(n, dtype=float)
    up = np.clip(t / max(rise, 1), 0.0, 1.0)
    down = 1.0 - np.clip((t - fall_from) / max(fall_to - fall_from, 1), 0.0, 1.0)
    return (0.5 - 0.5 * np.cos(np.pi * up)) * (0.5 - 0.5 * np.cos(np.pi * down))


# Projection of the simulator's U direction onto the 12 leads (Dower's matrix, Goldberger's relations):
# U waves are largest in V2-V3.
_U8 = sim.DOWER @ sim.U_DIR
U_LEAD_WEIGHTS = np.r_[_U8[0], _U8[1], np.ravel(sim.limb_leads(np.array([_U8[0]]), np.array([_U8[1]]))), _U8[2:]]
U_LEAD_WEIGHTS = U_LEAD_WEIGHTS / np.abs(U_LEAD_WEIGHTS).max()


class Imposed:
    """What impose_k made: the record, how many of its beats were changed and how many it has, the signs."""

    def __init__(self, x_uv, beats_changed, beats_total, signs):
        self.x_uv, self.beats_changed, self.beats_total, self.signs = x_uv, beats_changed, beats_total, signs

    @property
    def every_beat(self):
        return self.beats_total >= 2 and self.beats_changed == self.beats_total


def impose_k(x_uv, k_target, k_ref, patient, signs=None, fs_hz=FS_HZ, delineation=None):
    """The record x_uv (12, n) uV with the K+ effects of going from k_ref to k_target imposed on every beat.

    `patient` (simulate.sample_patient) gives the graded sensitivity to K+; `signs` (ed_signs.sample_signs, for
    k_target) the visible signs this patient shows: their responsiveness (ed_signs.responsiveness) and their
    targets: QRS width, PR, heart rate (bradycardia), QTc added, P flattening. Atrial fibrillation and the faster
    heart rate of hypokalemia are not imposed on a real ECG (they would need atrial activity or record that is not
    there): Backgrounds.pick draws a background that shows them, and the simulated half of the data has them.

    The changes are made on the record's smooth part (below SMOOTH_CUTOFF_HZ): the recorded noise above it stays
    as it was, not scaled with the T wave nor moved by the time warp, and the result is requantised to the
    record's own amplitude step (source_resolution_uv), so untouched samples stay exactly as recorded.
    Windows come from the core's delineation (delineate; pass it to reuse one). Returns Imposed, whose
    every_beat is False when the record cannot be delineated."""
    signs = signs if signs is not None else {"band": ed_signs.band_of(k_target)}
    d = delineation if delineation is not None else delineate(x_uv, fs_hz)
    x_in = np.asarray(x_uv, np.float64)
    if d is None:
        return Imposed(np.asarray(x_uv, np.float32), 0, 0, signs)
    n = x_in.shape[1]
    ms = fs_hz / 1000.0
    b_lp, a_lp = sps.butter(4, SMOOTH_CUTOFF_HZ / (fs_hz / 2))
    smooth = sps.filtfilt(b_lp, a_lp, x_in, axis=-1)
    # P, T, U and ST are changed on the part below WAVE_CUTOFF_HZ alone, so the noise between that and
    # SMOOTH_CUTOFF_HZ is not scaled with them; the QRS (wider band) is scaled on both parts
    b_w, a_w = sps.butter(4, WAVE_CUTOFF_HZ / (fs_hz / 2))
    s = sps.filtfilt(b_w, a_w, x_in, axis=-1)
    # the band between WAVE_CUTOFF_HZ and SMOOTH_CUTOFF_HZ is moved by the time warp only inside the QRS complexes
    # (their own content); elsewhere it is noise and stays where it was recorded
    qrs_mask = np.zeros(n)
    for bt in d["beats"]:
        # +-40 ms: the QRS's own content in this band (its onset and offset are not sharp) moves as a whole
        qa, qb = int(round(bt["qrs_on"] - 40 * ms)), int(round(bt["qrs_off"] + 40 * ms))
        lo, hi = max(qa, 0), min(qb, n)
        if hi - lo > 2:
            qrs_mask[lo:hi] = np.maximum(qrs_mask[lo:hi], _taper(qb - qa, int(15 * ms))[lo - qa:hi - qa])
    mid = (smooth - s) * qrs_mask
    moved_before = s + mid              # what the warp moves, as recorded
    # the T wave is reshaped (narrowed) from its part below T_CUTOFF_HZ: narrowing compresses time, and would carry
    # the noise just below WAVE_CUTOFF_HZ up above SMOOTH_CUTOFF_HZ
    b_t, a_t = sps.butter(4, T_CUTOFF_HZ / (fs_hz / 2))
    s_t = sps.filtfilt(b_t, a_t, x_in, axis=-1)
    # the patient's responsiveness given its signs; a peaked T also moves its T onset (apply_to_patient)
    p = (ed_signs.apply_to_patient(patient, signs, k_target) if "peaked_t" in signs
         else ed_signs.responsiveness(patient, signs))
    e1, e0 = sim.k_effects(k_target, p), sim.k_effects(k_ref, p)
    t_ratio = e1["t_amp_factor"] / max(e0["t_amp_factor"], 0.2)
    # narrowing at most to T_NARROWEST of the recorded width: a peaked T is tented, not a spike (k_effects couples
    # the width to the T rise, which for a 2.5x rise would narrow it 4x)
    left = max(e1["t_sigma_l_factor"] / e0["t_sigma_l_factor"], T_NARROWEST)
    right = max(e1["t_sigma_r_factor"] / e0["t_sigma_r_factor"], T_NARROWEST)
    p_ratio = e1["p_amp_factor"] / max(e0["p_amp_factor"], 1e-3) * signs.get("flat_p", 1.0)
    p_add_uv = 1000.0 * (e1["p_amp_add_mv"] - e0["p_amp_add_mv"])
    qrs_ratio = e1["qrs_amp_factor"] / e0["qrs_amp_factor"]
    u_add_uv = 1000.0 * (e1["u_add_mv"] - e0["u_add_mv"])
    st_uv = 1000.0 * (e1["st_depression_mv"] - e0["st_depression_mv"])
    tu_gap = patient.get("tu_gap_ms", 90.0) * ms
    # the visible signs' targets against the record's own measurements
    pr_add_ms = e1["pr_add_ms"] - e0["pr_add_ms"]
    if "long_pr" in signs and d["pr_ms"] is not None:
        pr_add_ms = max(pr_add_ms, signs["long_pr"] - d["pr_ms"])
    qrs_add_sign_ms = signs.get("hypo_qrs_add", 0.0)
    if "wide_qrs" in signs and d["qrs_ms"] is not None:
        qrs_add_sign_ms = max(qrs_add_sign_ms, signs["wide_qrs"] - d["qrs_ms"])
    qt_add_ms = e1["qtc_add_ms"] - e0["qtc_add_ms"] + signs.get("long_qtc", 0.0)
    rr_factor = 1.0
    if "bradycardia" in signs and d["hr_bpm"]:
        rr_factor = max(1.0, d["hr_bpm"] / signs["bradycardia"])

    beats = d["beats"]
    changed = total = 0
    knots_in, knots_out = [0.0], [0.0]
    base_shift = 0.0                                   # time added by a slower rate, cumulative
    for i, bt in enumerate(beats):
        r = lambda v: int(round(v))
        qa, qb = r(bt["qrs_on"]), r(bt["qrs_off"])
        end = n if bt["next_on"] is None else r(bt["next_on"])
        done = t_done = False
        # --- ST-T: T amplitude and shape, ST depression (smooth: rises after J, falls to 0 at the T peak)
        a, b = max(qb + r(10 * ms), 0), min(r(bt["t_end"] + 30 * ms), end - r(10 * ms), n)
        if b - a >= r(40 * ms):
            comp = _component(s_t, a, b)
            peak = int(np.clip(r(bt["t_peak"]) - a, 1, b - a - 2))
            if b == n:          # the record ends inside this T wave: its peak is where the wave is largest
                peak = int(np.argmax(np.sqrt((comp ** 2).sum(0))[:max(peak, 2)]))
            taper = _taper(b - a, r(15 * ms))
            s[:, a:b] += (_reshape_about(comp, peak, left, right) * t_ratio - comp) * taper
            t_amp_lead = comp[:, peak]                     # each lead's T at its peak, uV (signed)
            scale = np.abs(t_amp_lead).max() + 1e-6
            st = _smooth_step(b - a, r(20 * ms), 0.5 * peak, peak)
            s[:, a:b] -= st_uv * (t_amp_lead / scale)[:, None] * st[None, :]
            done = t_done = True
        # --- U wave after T end: a whole Gaussian, faded out before the next beat starts
        u_c = bt["t_end"] + tu_gap
        ua, ub = max(r(u_c - 120 * ms), 0), min(r(u_c + 120 * ms), end - r(10 * ms), n)
        if ub - ua > 2 and u_add_uv != 0.0:
            idx = np.arange(ua, ub)
            u_shape = np.exp(-0.5 * ((idx - u_c) / (40 * ms)) ** 2)
            fade = np.clip((end - r(10 * ms) - idx) / (40 * ms), 0.0, 1.0)
            s[:, ua:ub] += u_add_uv * U_LEAD_WEIGHTS[:, None] * (u_shape * (0.5 - 0.5 * np.cos(np.pi * fade)))[None, :]
        # --- P amplitude (P flattening, loss; the small rise of hypokalemia)
        if bt["p_on"] is not None:
            pa, pb = max(r(bt["p_on"]), 0), min(qa - r(20 * ms), n)
            if pb - pa > r(20 * ms):
                comp = _component(s, pa, pb)
                gain = (p_ratio - 1.0) + p_add_uv / (np.abs(comp).max() + 1e-6)
                s[:, pa:pb] += gain * comp * _taper(pb - pa, r(10 * ms))
        # --- QRS amplitude
        if qb - qa > 4 and qa >= 0 and qb <= n:
            taper = _taper(qb - qa, r(5 * ms))
            s[:, qa:qb] += (qrs_ratio - 1.0) * _component(s, qa, qb) * taper
            mid[:, qa:qb] *= 1.0 + (qrs_ratio - 1.0) * taper
            done = True
        # a fragment at an end of the record (QRS cut off and no T wave left to change) is not a beat of it
        fragment = (qa < 0 or qb > n) and not t_done
        changed += done
        total += not fragment
        # --- intervals: knots of the time warp (input time -> output time). PR, QRS and QT additions are taken
        # back in the T-P segment (the RR stays), a slower rate (bradycardia) is added there and carried on.
        pr_add = pr_add_ms * ms if bt["p_on"] is not None else 0.0
        qrs_add = (e1["qrs_widen_factor"] / e0["qrs_widen_factor"] - 1.0) * (qb - qa) + qrs_add_sign_ms * ms
        qt_add = qt_add_ms * ms
        if rr_factor > 1.0:                             # QT follows the slower rate (Fridericia)
            qt_add += (bt["t_end"] - bt["qrs_on"]) * (rr_factor ** (1.0 / 3.0) - 1.0)
        rr_add = 0.0
        if i + 1 < len(beats):
            rr_add = (rr_factor - 1.0) * (beats[i + 1]["qrs_on"] - bt["qrs_on"])
        tp = (end if bt["next_on"] is not None else n) - bt["t_end"]
        added = pr_add + qrs_add + qt_add
        if added > 0.0 and added > 0.7 * tp + rr_add:                   # never squeeze the T-P segment below 30 %
            f = (0.7 * tp + rr_add) / added
            pr_add, qrs_add, qt_add = pr_add * f, qrs_add * f, qt_add * f
        shift = base_shift
        mid_pr = (bt["p_on"] + 60 * ms) if bt["p_on"] is not None else bt["qrs_on"] - 20 * ms
        for pt, add in ((mid_pr, 0.0), (bt["qrs_on"], pr_add), (bt["qrs_off"], qrs_add), (bt["t_end"], qt_add)):
            shift += add
            if knots_in[-1] < pt < n:
                knots_in.append(float(pt))
                knots_out.append(float(pt) + shift)
        base_shift += rr_add
        if bt["next_on"] is not None and knots_in[-1] < bt["next_on"] < n:
            knots_in.append(float(bt["next_on"]))
            knots_out.append(float(bt["next_on"]) + base_shift)
    knots_in.append(float(n - 1))
    knots_out.append(float(n - 1) + base_shift)
    ki, ko = np.array(knots_in), np.array(knots_out)
    keep = np.r_[True, (np.diff(ki) > 0) & (np.diff(ko) > 0)]
    src = np.interp(np.arange(n, dtype=float), ko[keep], ki[keep])
    warped = CubicSpline(np.arange(n, dtype=float), s + mid, axis=1)(src)
    # the change is that of the waves; the recorded noise stays where it was recorded
    delta = warped - moved_before
    step = source_resolution_uv(x_in)
    if step is not None:
        delta = np.round(delta / step) * step
    return Imposed((x_in + delta).astype(np.float32), changed, total, signs)


# ------------------------------------------------------------------------------------ ECG measurements
# ECG12Net-2's 8 inputs: the EMPs the C++ core measures (kalium_core.measure, as `kalium measure` and the app
# do), standardised by fixed adult reference values from the literature, not fitted to any data: (value -
# centre) / spread, clipped to +-4. An axis is first wrapped into centre +- 180 degrees. A value the core
# cannot measure (None) becomes 0, the reference centre. The engine reads the same constants from the
# weights file's header ("emp_standardisation").
EMP_KEYS = ("hr_bpm", "pr_ms", "qrs_ms", "qt_ms", "qtc_ms", "p_axis_deg", "qrs_axis_deg", "t_axis_deg")
EMP_STANDARDISATION = {            # key: (centre, spread)
    "hr_bpm": (75.0, 20.0),        # normal sinus 60-100
    "pr_ms": (160.0, 30.0),        # normal 120-200
    "qrs_ms": (95.0, 15.0),        # normal < 110-120
    "qt_ms": (400.0, 40.0),
    "qtc_ms": (420.0, 30.0),       # Bazett; prolonged > 450-470
    "p_axis_deg": (50.0, 30.0),    # normal 0-75
    "qrs_axis_deg": (45.0, 45.0),  # normal -30 to 90
    "t_axis_deg": (45.0, 45.0),
}
EMP_CLIP = 4.0


def emp_vector(measurements):
    """A measure() dict -> (8,) float32 standardised EMPs (see EMP_STANDARDISATION)."""
    out = np.zeros(len(EMP_KEYS), np.float32)
    for i, key in enumerate(EMP_KEYS):
        value = measurements.get(key)
        if value is None or not math.isfinite(value):
            continue
        centre, spread = EMP_STANDARDISATION[key]
        if key.endswith("_axis_deg"):
            value = centre + (value - centre + 180.0) % 360.0 - 180.0
        out[i] = np.clip((value - centre) / spread, -EMP_CLIP, EMP_CLIP)
    return out


def measured_emps(x_uv, fs_hz=FS_HZ, lead_names=sim.LEADS):
    """(8,) standardised EMPs of a 12-lead record in uV, measured by the core; zeros if it cannot be measured."""
    try:
        return emp_vector(core().measure(np.ascontiguousarray(x_uv, np.float32), float(fs_hz), list(lead_names)))
    except ValueError:
        return np.zeros(len(EMP_KEYS), np.float32)


# ---------------------------------------------------------------------------------------------- batches
class TrainingBatches:
    """Deterministic training batches: batch i depends only on (seed, i), so training resumes exactly and
    DistributedDataParallel ranks take disjoint batches. Each example is a simulated ECG (probability
    1 - real_fraction) or a real background with K+ imposed; K+ is drawn by simulate.sample_k (the 5 groups
    equally often, 1.5-8.0). Both go through the core's prepare_input (baseline removal, Philips windows)."""

    def __init__(self, seed, batch_size, real_fraction=0.5, backgrounds=None, amplitude_jitter=0.15, emp=False,
                 sign_matched=False):
        self.seed, self.batch_size, self.real_fraction = seed, batch_size, real_fraction
        self.sign_matched = sign_matched    # Backgrounds.pick; False: any background (the data of steps 1-1c)
        self.backgrounds = backgrounds
        self.amplitude_jitter = amplitude_jitter
        self.emp = emp
        if real_fraction > 0 and (backgrounds is None or len(backgrounds) == 0):
            raise ValueError("real_fraction > 0 needs backgrounds")

    def example(self, rng, k):
        """One prepared (12, 1250) mV input for K+ = k, and with emp=True its (8,) measured EMPs (else None).
        The patient shows the visible signs of an emergency patient at this K+ (ed_signs.sample_signs). A real
        background (with sign_matched, one showing the patient's AF or faster rate: Backgrounds.pick) is used only
        when every one of its beats was changed (up to 4 draws; then a simulated ECG),
        so no label is attached to a trace it does not describe. The EMPs are measured on the whole 10 s record,
        as the app measures a dropped file; measuring draws no random numbers."""
        kc = core()
        signs = ed_signs.sample_signs(k, rng)
        x = None
        if rng.random() < self.real_fraction:
            for _ in range(4):
                i = (self.backgrounds.pick(rng, signs) if self.sign_matched
                     else int(rng.integers(len(self.backgrounds))))
                patient = sim.sample_patient(rng)
                imposed = impose_k(self.backgrounds.signals_uv[i], k, self.backgrounds.k_ref(i, rng), patient,
                                   signs=signs, delineation=self.backgrounds.delineation(i))
                if imposed.every_beat:
                    x = imposed.x_uv
                    break
        if x is None:
            patient = ed_signs.apply_to_patient(sim.sample_patient(rng), signs, k)
            x, _ = sim.simulate(k, rng, params=patient)
        x = np.ascontiguousarray(x * float(np.exp(self.amplitude_jitter * rng.standard_normal())), np.float32)
        emps = measured_emps(x) if self.emp else None
        return kc.prepare_input(x, FS_HZ)["values_mv"], emps

    def __getitem__(self, i):
        """Batch i: (inputs (B, 12, 1250), K+ (B,)), or with emp=True (inputs, EMPs (B, 8), K+)."""
        sim.tune_malloc()
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(int(i),)))
        ks = sim.sample_k(rng, self.batch_size)
        examples = [self.example(rng, k) for k in ks]
        xs = np.stack([x for x, _ in examples]).astype(np.float32)
        if self.emp:
            return xs, np.stack([e for _, e in examples]), ks.astype(np.float32)
        return xs, ks.astype(np.float32)

    def with_emp_slot(self, i):
        """Batch i always as (inputs, EMPs or None, K+), whichever emp is: one shape for every consumer."""
        batch = self[i]
        return batch if self.emp else (batch[0], None, batch[1])
