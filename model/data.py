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

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
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

    def __init__(self, signals_uv, names):
        self.signals_uv = signals_uv
        self.names = names

    def __len__(self):
        return len(self.names)

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


def beat_segments(peaks, n, fs_hz=FS_HZ):
    """Per beat: dict of sample indices p_on, qrs_on, qrs_off, t_end, next_p_on (or None when the beat's
    segments do not fit inside the record). Located from the RR interval: QRS +-50 ms around the energy
    peak, P onset 200 ms before QRS onset, T end by Fridericia (QT = 400 ms x RR^(1/3))."""
    segs = []
    if len(peaks) < 2:
        return segs
    rr_med = float(np.median(np.diff(peaks))) / fs_hz
    for i, c in enumerate(peaks):
        rr = (peaks[i + 1] - c) / fs_hz if i + 1 < len(peaks) else rr_med
        rr_prev = (c - peaks[i - 1]) / fs_hz if i > 0 else rr_med
        qrs_on = c - int(0.05 * fs_hz)
        qrs_off = c + int(0.05 * fs_hz)
        qt = 0.40 * rr_prev ** (1.0 / 3.0)
        t_end = qrs_on + int(qt * fs_hz)
        p_on = qrs_on - int(0.20 * fs_hz)
        next_qrs_on = c + int(rr * fs_hz) - int(0.05 * fs_hz)
        next_p_on = next_qrs_on - int(0.20 * fs_hz)
        if p_on < 0 or next_p_on + int(0.2 * fs_hz) > n or t_end + int(0.06 * fs_hz) >= next_p_on:
            segs.append(None)
            continue
        segs.append({"p_on": p_on, "qrs_on": qrs_on, "qrs_off": qrs_off, "t_end": t_end,
                     "next_p_on": next_p_on})
    return segs


def _component(x, a, b):
    """The wave over [a, b): x minus the straight line through its end values (averaged over 4 ms)."""
    lo, hi = x[:, max(a - 2, 0):a + 2].mean(1), x[:, b - 2:b + 2].mean(1)
    ramp = np.linspace(0.0, 1.0, b - a)
    line = lo[:, None] + (hi - lo)[:, None] * ramp[None, :]
    return x[:, a:b] - line


def _taper(n, edge):
    w = np.ones(n)
    e = min(edge, n // 2)
    if e > 0:
        ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(e) / e)
        w[:e], w[n - e:] = ramp, ramp[::-1]
    return w


def _warp_about(comp, peak, left, right):
    """comp (leads, m) resampled about sample `peak` so its left limb is `left` times and its right limb
    `right` times as wide (values beyond the ends are 0)."""
    m = comp.shape[1]
    t = np.arange(m, dtype=float)
    src = np.where(t < peak, peak + (t - peak) / left, peak + (t - peak) / right)
    out = np.empty_like(comp)
    for l in range(comp.shape[0]):
        out[l] = np.interp(src, t, comp[l], left=0.0, right=0.0)
    return out


# Projection of the simulator's U direction onto the 12 leads (Dower's matrix, Goldberger's relations):
# U waves are largest in V2-V3.
_U8 = sim.DOWER @ sim.U_DIR
U_LEAD_WEIGHTS = np.r_[_U8[0], _U8[1], np.ravel(sim.limb_leads(np.array([_U8[0]]), np.array([_U8[1]]))), _U8[2:]]
U_LEAD_WEIGHTS = U_LEAD_WEIGHTS / np.abs(U_LEAD_WEIGHTS).max()


def impose_k(x_uv, k_target, k_ref, patient, fs_hz=FS_HZ):
    """The record x_uv (12, n) with the K+ effects of going from k_ref to k_target imposed on every beat
    whose segments can be located; `patient` (simulate.sample_patient) gives the sensitivity to K+.
    Returns (new record (12, n) float32, number of beats changed)."""
    x = x_uv.astype(np.float64).copy()
    n = x.shape[1]
    e1, e0 = sim.k_effects(k_target, patient), sim.k_effects(k_ref, patient)
    segs = beat_segments(detect_beats(x_uv, fs_hz), n, fs_hz)
    ms = fs_hz / 1000.0
    t_ratio = e1["t_amp_factor"] / max(e0["t_amp_factor"], 0.2)
    left = e1["t_sigma_l_factor"] / e0["t_sigma_l_factor"]
    right = e1["t_sigma_r_factor"] / e0["t_sigma_r_factor"]
    p_ratio = (e1["p_amp_factor"] / max(e0["p_amp_factor"], 1e-3))
    qrs_ratio = e1["qrs_amp_factor"] / e0["qrs_amp_factor"]
    u_add_uv = 1000.0 * (e1["u_add_mv"] - e0["u_add_mv"])
    st_uv = 1000.0 * (e1["st_depression_mv"] - e0["st_depression_mv"])
    changed = 0
    knots_in, knots_out = [0.0], [0.0]
    for s in segs:
        if s is None:
            continue
        changed += 1
        # --- ST-T: T amplitude and shape, ST depression
        a, b = s["qrs_off"] + int(20 * ms), min(s["t_end"] + int(40 * ms), s["next_p_on"] - int(10 * ms))
        comp = _component(x, a, b)
        rms = np.sqrt((comp ** 2).sum(0))
        peak = int(np.argmax(rms))
        new = _warp_about(comp, peak, left, right) * t_ratio
        taper = _taper(b - a, int(15 * ms))
        x[:, a:b] += (new - comp) * taper
        t_amp_lead = comp[:, peak]                       # each lead's T at the T peak, uV (signed)
        scale = np.abs(t_amp_lead).max() + 1e-6
        st = np.zeros(b - a)
        st_end = max(peak, 1)
        st[:st_end] = 1.0
        x[:, a:b] -= st_uv * (t_amp_lead / scale)[:, None] * (st * taper)[None, :]
        # --- U wave after T end
        u_c = s["t_end"] + int(90 * ms)
        u_idx = np.arange(max(u_c - int(100 * ms), 0), min(u_c + int(100 * ms), n))
        u_shape = np.exp(-0.5 * ((u_idx - u_c) / (40 * ms)) ** 2)
        x[:, u_idx] += u_add_uv * U_LEAD_WEIGHTS[:, None] * u_shape[None, :]
        # --- P and QRS amplitude
        pa, pb = s["p_on"], s["qrs_on"] - int(30 * ms)
        if pb - pa > 10:
            comp = _component(x, pa, pb)
            x[:, pa:pb] += (p_ratio - 1.0) * comp * _taper(pb - pa, int(10 * ms))
        qa, qb = s["qrs_on"], s["qrs_off"]
        comp = _component(x, qa, qb)
        x[:, qa:qb] += (qrs_ratio - 1.0) * comp * _taper(qb - qa, int(5 * ms))
        # --- intervals: knots of the time warp (input time -> output time), same RR
        pr_add = (e1["pr_add_ms"] - e0["pr_add_ms"]) * ms
        qrs_add = (e1["qrs_widen_factor"] / e0["qrs_widen_factor"] - 1.0) * (s["qrs_off"] - s["qrs_on"])
        qt_add = (e1["qtc_add_ms"] - e0["qtc_add_ms"]) * ms
        tp = s["next_p_on"] - s["t_end"]
        total = pr_add + qrs_add + qt_add
        if total > 0.7 * tp:                             # never squeeze the T-P segment below 30 %
            f = 0.7 * tp / total
            pr_add, qrs_add, qt_add = pr_add * f, qrs_add * f, qt_add * f
        shift = 0.0
        mid_pr = s["p_on"] + int(60 * ms)                # the stretch of PR happens in the PR segment
        for pt, add in ((mid_pr, 0.0), (s["qrs_on"], pr_add), (s["qrs_off"], qrs_add), (s["t_end"], qt_add)):
            shift += add
            if pt > knots_in[-1]:
                knots_in.append(float(pt))
                knots_out.append(float(pt) + shift)
        shift = 0.0
        knots_in.append(float(s["next_p_on"]))
        knots_out.append(float(s["next_p_on"]))
    knots_in.append(float(n - 1))
    knots_out.append(float(n - 1))
    ki, ko = np.array(knots_in), np.array(knots_out)
    keep = np.r_[True, (np.diff(ki) > 0) & (np.diff(ko) > 0)]
    src = np.interp(np.arange(n, dtype=float), ko[keep], ki[keep])
    t = np.arange(n, dtype=float)
    out = np.stack([np.interp(src, t, lead) for lead in x])
    return out.astype(np.float32), changed


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

    def __init__(self, seed, batch_size, real_fraction=0.5, backgrounds=None, amplitude_jitter=0.15, emp=False):
        self.seed, self.batch_size, self.real_fraction = seed, batch_size, real_fraction
        self.backgrounds = backgrounds
        self.amplitude_jitter = amplitude_jitter
        self.emp = emp
        if real_fraction > 0 and (backgrounds is None or len(backgrounds) == 0):
            raise ValueError("real_fraction > 0 needs backgrounds")

    def example(self, rng, k):
        """One prepared (12, 1250) mV input for K+ = k, and with emp=True its (8,) measured EMPs (else None).
        The EMPs are measured on the whole 10 s record, as the app measures a dropped file; measuring draws no
        random numbers, so the ECGs are the same with and without emp."""
        kc = core()
        if rng.random() < self.real_fraction:
            x = self.backgrounds.signals_uv[rng.integers(len(self.backgrounds))]
            patient = sim.sample_patient(rng)
            x, _ = impose_k(x, k, rng.normal(4.0, 0.3), patient)
        else:
            x, _ = sim.simulate(k, rng)
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
