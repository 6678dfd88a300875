"""
Synthetic 12-lead ECGs in which serum potassium (K+) acts on the waveform as the literature says:
the training data of kalium's ECG12Net (no labelled ECG-potassium data exists here).

Usage (from /work/main, with /usr/bin/python3; numpy only):

    from model.simulate import simulate, simulate_batch, sample_k, sample_patient, k_group
    rng = np.random.default_rng(0)
    x, info = simulate(6.8, rng)              # x: (12, 5000) float32 in uV, 500 Hz, 10 s
    ks = sample_k(rng, 256)                   # K+ over 1.5-8.0, the 5 groups equally often
    xs, infos = simulate_batch(ks, seed=1)    # (256, 12, 5000); the same seed gives the same ECGs
    patient = sample_patient(rng)             # one synthetic patient, reusable at several K+:
    x5, _ = simulate(5.0, rng, params=patient); x7, _ = simulate(7.0, rng, params=patient)

    /usr/bin/python3 model/simulate.py --plot /tmp/ecg.png     # one ECG per K+ group, lead II and V2

Leads in the order I, II, III, aVR, aVL, aVF, V1-V6 (LEADS).

THE HEART. A 3-D heart vector (Frank axes: x to the left, y to the feet, z to the back, in mV) is the sum
of waves, each an (asymmetric, generalised) Gaussian in time times a fixed 3-D vector:
    v(t) = sum_w a_w * exp(-0.5 * |(t - c_w) / s_w|^p_w),   s_w = s_left before the centre, s_right after.
Per sinus beat: P as two waves (right atrium: inferior-anterior, then left atrium: left-posterior; so
V1 is biphasic), an atrial repolarisation wave Ta (opposite to P, long); QRS as four waves whose
directions rotate like the QRS loop (septal right-anterior -> left-anterior -> main left-inferior-
posterior -> terminal right-superior-posterior), which gives q in I/V5-V6, rS in V1, the R-wave
progression and the transition zone from geometry alone; an ST wave (small anterior J/ST elevation),
T (asymmetric: slow upstroke, faster downstroke), U (more anterior than T: largest in V2-V3), and the
hypokalemic ST depression (a flat-topped p=4 wave opposite to T). PVCs have their own wide QRS with a
discordant T; PACs an early, differently directed P; AF has no P but fibrillatory waves (4-8 Hz).
Each wave class (P, QRS, ST-T-U) is projected onto the 8 independent leads (I, II, V1-V6) with the
patient's own lead matrix: Dower's matrix plus per-patient electrode/torso perturbations (and a smaller
per-class one, the non-dipolar part), scaled for body habitus. III, aVR, aVL, aVF are then computed from
I and II (III = II - I, aVR = -(I + II)/2, aVL = I - II/2, aVF = II - I/2), so Einthoven's and
Goldberger's relations hold exactly. Noise is generated per ELECTRODE (RA, LA, LL, V1-V6) and turned into
the 8 leads as a cart does (I = LA - RA, II = LL - RA, Vi = Ei - (RA + LA + LL)/3), the optional cart
filter is linear and the same for every lead, so the relations hold up to float rounding until the
final per-lead quantisation (then within 1.5 steps).

TIMING. QT of each beat follows the preceding RR (Fridericia: QT = QTc * RR^(1/3)); the T peak sits at
QT minus the tangent distance of the T downstroke (kappa(p) * s_right: 2 s_right for a Gaussian), so QT
is measured the way the tangent method measures it. PR shortens a little at high rates.

POTASSIUM. Every effect is a smooth function of K (softplus ramps sp(x) ~ max(0, x) and logistic
steps), scaled by the patient's own onsets and responsiveness (see k_effects(), which holds the
equations); the population slopes of MODEL-NOTES are the means over patients.

This is a research simulator: the shapes are plausible, not fitted to any real ECG, and no real
ECG with a K+ value has been used to build it.
"""
import argparse
import math

import numpy as np

LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
GROUP_NAMES = ("<=2.5", "2.5-3.5", "3.5-5.5", "5.5-6.5", ">=6.5")    # K+ groups of the paper, mEq/L
K_SAMPLE_RANGE = (1.5, 8.0)
GROUP_RANGES = ((1.5, 2.5), (2.5, 3.5), (3.5, 5.5), (5.5, 6.5), (6.5, 8.0))   # what sample_k draws from

# Dower's matrix (Frank x, y, z in mV -> the 8 independent leads): rows I, II, V1-V6.
DOWER = np.array([
    [0.632, -0.235, 0.059],    # I
    [0.235, 1.066, -0.132],    # II
    [-0.515, 0.157, -0.917],   # V1
    [0.044, 0.164, -1.387],    # V2
    [0.882, 0.098, -1.277],    # V3
    [1.213, 0.127, -0.601],    # V4
    [1.125, 0.127, -0.086],    # V5
    [0.831, 0.076, 0.230],     # V6
])
# Electrodes RA, LA, LL, V1-V6 -> leads I, II, V1-V6 (Wilson's central terminal for the V leads).
ELECTRODES_TO_LEADS = np.zeros((8, 9))
ELECTRODES_TO_LEADS[0, [0, 1]] = (-1.0, 1.0)
ELECTRODES_TO_LEADS[1, [0, 2]] = (-1.0, 1.0)
for _i in range(6):
    ELECTRODES_TO_LEADS[2 + _i, :3] = -1.0 / 3.0
    ELECTRODES_TO_LEADS[2 + _i, 3 + _i] = 1.0

P_CLASS, QRS_CLASS, T_CLASS = 0, 1, 2
PAD_BEFORE_S, PAD_AFTER_S = 1.5, 0.5     # simulated around the record: no edge effects from beats or filters


def unit(v):
    v = np.asarray(v, float)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


# The template heart: directions (unit vectors, Frank axes) of each wave before the patient's rotation.
QRS_DIRS = unit([[-0.45, 0.15, -0.88],    # septal: right, anterior        -> q in I, V5-V6; r in V1
                 [0.60, 0.45, -0.66],     # early free wall: left, anterior -> R in V2-V4
                 [0.78, 0.40, 0.50],      # main: left, inferior, posterior -> R in I, II, V5-V6; S in V1-V2
                 [-0.35, -0.40, 0.85]])   # terminal: right, superior, posterior -> S in V1-V3, s in I, V6
QRS_AMPS_MV = np.array([0.22, 0.65, 1.55, 0.6])
QRS_CENTRES = np.array([0.13, 0.32, 0.50, 0.73])   # fractions of the QRS duration from its onset
QRS_SIGMAS = np.array([0.065, 0.09, 0.105, 0.09])  # fractions of the QRS duration
T_DIR = unit([0.84, 0.42, -0.34])         # T: left, inferior, anterior (upright in I, II, V2-V6; flat V1)
U_DIR = unit([0.45, 0.35, -0.82])         # U: more anterior than T, so largest in V2-V3
ST_DIR = unit([0.10, 0.25, -0.96])        # normal J/ST elevation: anterior (V2-V3)
P_RA_DIR = unit([0.30, 0.80, -0.52])      # right atrium: inferior, anterior
P_LA_DIR = unit([0.90, 0.15, 0.42])       # left atrium: left, posterior (terminal negative P in V1)


def softplus(x, width):
    """Smooth ramp: ~max(0, x), rounded over +-width."""
    return width * np.logaddexp(0.0, np.asarray(x, float) / width)


def logistic(x, width):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, float) / width))


def rotation(frontal_deg, horizontal_deg, sagittal_deg):
    """Rotation of the heart: about z (frontal plane, positive = clockwise seen from the front, i.e.
    towards the feet = towards +90 deg), about y (horizontal plane) and about x (sagittal plane)."""
    a, b, c = np.radians([frontal_deg, horizontal_deg, sagittal_deg])
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rx = np.array([[1, 0, 0], [0, np.cos(c), -np.sin(c)], [0, np.sin(c), np.cos(c)]])
    return rz @ ry @ rx


def tangent_kappa(p):
    """Distance (in units of s_right) from the peak of exp(-0.5 x^p) to where the tangent at its
    steepest downslope meets zero: where the tangent method puts the end of the wave (2 for p = 2)."""
    x = (2.0 * (p - 1.0) / p) ** (1.0 / p)
    return x + 2.0 / (p * x ** (p - 1.0))


def k_group(k_mmol_l):
    """K+ in mEq/L -> group 0-4 with the paper's edges: <=2.5, (2.5, 3.5], (3.5, 5.5), [5.5, 6.5), >=6.5."""
    k = np.asarray(k_mmol_l, float)
    g = (k > 2.5).astype(int) + (k > 3.5) + (k >= 5.5) + (k >= 6.5)
    return int(g) if g.ndim == 0 else g


def sample_k(rng, n):
    """n K+ values: the 5 groups in (shuffled) equal shares (n // 5 each, the rest spread at random),
    uniform within each group's range in GROUP_RANGES (1.5-2.5, 2.5-3.5, 3.5-5.5, 5.5-6.5, 6.5-8.0).
    The overall density is thus 0.2 per mmol/L in the 1-wide groups, 0.1 in 3.5-5.5, 0.13 in 6.5-8.0."""
    groups = (np.arange(n) + rng.integers(5)) % 5
    groups = groups[rng.permutation(n)]
    lo = np.array([r[0] for r in GROUP_RANGES])[groups]
    hi = np.array([r[1] for r in GROUP_RANGES])[groups]
    return lo + (hi - lo) * rng.random(n)


# ---------------------------------------------------------------------------------------------- patients
def _lognormal(rng, median, sd_log, size=None):
    return median * np.exp(sd_log * rng.standard_normal(size))


def sample_patient(rng):
    """One synthetic patient: anatomy, baseline intervals and amplitudes, rhythm, and the patient's own
    sensitivity to K+ (onsets and responsiveness). A dict of floats, bools and small arrays."""
    p = {}
    # --- rhythm
    p["hr_bpm"] = 45.0 + 85.0 * rng.beta(2.2, 2.8)                    # 45-130, mean ~83
    p["resp_hz"] = rng.uniform(0.15, 0.40)
    p["rsa"] = rng.uniform(0.004, 0.06) * (1.25 - 0.6 * (p["hr_bpm"] - 45.0) / 85.0)  # less at high HR
    p["lf_hz"], p["lf_amp"] = rng.uniform(0.05, 0.12), rng.uniform(0.0, 0.03)
    p["rr_jitter"] = rng.uniform(0.002, 0.015)
    p["af"] = bool(rng.random() < 0.04)
    p["pvc_rate"] = rng.uniform(0.03, 0.15) if rng.random() < 0.08 else 0.0
    p["pac_rate"] = rng.uniform(0.03, 0.15) if (rng.random() < 0.08 and not p["af"]) else 0.0
    # --- baseline intervals (at 60 bpm for PR; QTc Fridericia)
    p["pr_ms"] = float(np.clip(rng.normal(155.0, 22.0), 110.0, 250.0))
    p["p_ms"] = float(np.clip(rng.normal(100.0, 10.0), 75.0, 125.0))
    p["qrs_ms"] = float(np.clip(rng.normal(90.0, 9.0), 70.0, 112.0))
    if rng.random() < 0.04:                                            # nonspecific conduction delay
        p["qrs_ms"] = rng.uniform(112.0, 135.0)
    p["qtc_ms"] = float(np.clip(rng.normal(410.0, 18.0), 360.0, 465.0))
    p["tu_gap_ms"] = rng.uniform(70.0, 120.0)                          # T end -> U peak
    # --- anatomy: frontal axis (mostly -30..+90 deg measured), rotation in the horizontal plane
    # (R-wave progression / transition zone) and tilt
    frontal = rng.normal(2.0, 18.0)
    if rng.random() < 0.06:                                            # left / right axis deviation
        frontal += rng.choice([-1.0, 1.0]) * rng.uniform(35.0, 70.0)
    p["rot_deg"] = np.array([frontal, rng.normal(0.0, 14.0), rng.normal(0.0, 10.0)])
    rot = rotation(*p["rot_deg"])
    jitter = lambda n, deg: np.stack([rotation(*rng.normal(0.0, deg, 3)) for _ in range(n)])
    p["qrs_dirs"] = np.einsum("ij,wjk,wk->wi", rot, jitter(4, 12.0), QRS_DIRS)
    p["qrs_amps_mv"] = QRS_AMPS_MV * _lognormal(rng, 1.0, 0.22, 4) * _lognormal(rng, 0.88, 0.22)
    p["qrs_amps_mv"][1] *= _lognormal(rng, 1.0, 0.3)                   # anterior forces: R progression
    # T direction: follows the QRS rotation partly (concordance), plus its own scatter
    conc = rng.uniform(0.5, 1.0)
    p["t_dir"] = rotation(*(conc * p["rot_deg"] + rng.normal(0.0, [12.0, 10.0, 8.0]))) @ T_DIR
    p["u_dir"] = rotation(*(conc * p["rot_deg"] + rng.normal(0.0, 10.0, 3))) @ U_DIR
    p["st_dir"] = rot @ ST_DIR
    p["p_dirs"] = np.stack([rotation(*rng.normal([0.5 * frontal, 0, 0], 12.0)) @ d
                            for d in (P_RA_DIR, P_LA_DIR)])
    # --- amplitudes (heart vector, mV) and shapes
    p["p_amp_mv"] = _lognormal(rng, 0.13, 0.25)
    p["p_la_ratio"] = rng.uniform(0.7, 1.1)
    p["ta_ratio"] = rng.uniform(0.05, 0.2)
    p["peaked_t_baseline"] = bool(rng.random() < 0.2)   # "hyperkalemic-looking" T at normal K+
    p["t_amp_mv"] = _lognormal(rng, 0.34, 0.3) * (1.45 if p["peaked_t_baseline"] else 1.0)
    p["t_sigma_l_ms"] = rng.uniform(55.0, 85.0) * (0.72 if p["peaked_t_baseline"] else 1.0)
    p["t_sigma_r_ms"] = rng.uniform(36.0, 52.0) * (0.85 if p["peaked_t_baseline"] else 1.0)
    p["t_shape_p"] = rng.uniform(1.6, 1.8) if p["peaked_t_baseline"] else rng.uniform(1.85, 2.2)
    p["u_amp_mv"] = rng.uniform(0.01, 0.05)
    p["st_amp_mv"] = rng.uniform(0.0, 0.07)
    # --- lead matrices per wave class: electrode placement and torso (per patient), non-dipolar part
    # (per class), chest-wall and limb gains
    base = DOWER + rng.normal(0.0, 0.12, (8, 3)) * np.r_[0.4, 0.4, np.ones(6)][:, None]
    gains = np.r_[_lognormal(rng, 1.0, 0.15, 2), _lognormal(rng, 1.0, 0.15) * _lognormal(rng, 1.0, 0.08, 6)]
    p["lead_matrix"] = np.stack([(base + rng.normal(0.0, 0.05, (8, 3))) * gains[:, None] for _ in range(3)])
    # --- ectopic foci
    p["pvc_dirs"] = unit(rng.normal(0.0, 1.0, (3, 3)))
    p["pvc_amps_mv"] = rng.uniform(0.8, 1.8, 3)
    p["pvc_qrs_ms"] = rng.uniform(130.0, 170.0)
    p["pac_p_dir"] = unit(rng.normal(0.0, 1.0, 3))
    p["af_dir"] = unit(rng.normal([-0.3, 0.5, -0.8], 0.4))
    p["af_amp_mv"] = rng.uniform(0.02, 0.08)
    p["af_hz"] = rng.uniform(4.5, 8.0)
    # --- sensitivity to K+: individual onsets (mmol/L) and responsiveness (lognormal, mean ~1; the five
    # share a common factor, so some patients show everything and some almost nothing)
    z = 0.6 * rng.standard_normal() + 0.8 * rng.standard_normal(5)
    r = np.exp(0.6 * z - 0.18)
    p["resp_hyper_t"], p["resp_conduction"], p["resp_qrs"], p["resp_hypo"], p["resp_qt"] = r
    p["k_t_onset"] = rng.normal(5.4, 0.35)        # peaked T
    p["k_pr_onset"] = rng.normal(6.5, 0.3)        # PR prolongation, P flattening
    p["k_qrs_onset"] = rng.uniform(6.5, 8.0)      # QRS widening
    p["k_p_loss"] = rng.normal(8.0, 0.3)          # P disappears
    p["k_sine"] = rng.normal(8.4, 0.3)            # sine-wave tendency
    p["k_hypo_onset"] = rng.normal(3.0, 0.2)      # ST depression, T flattening/inversion, big U
    p["t_slope_beta"] = 0.05 * p["resp_hyper_t"]  # T downslope steepening per mmol/L over the whole range
    return p


# --------------------------------------------------------------------------------------------- K effects
def k_effects(k, p):
    """The K+ effects for patient p at K = k mmol/L, as multipliers and additions to the baseline.
    With sp(x) = softplus ramp (~max(0, x)), sig = logistic step, and the patient's responsiveness r_*:
      below 4.1:   dL = sp(4.1 - K);  below the patient's onset (~3.0): dU = sp(k_hypo - K)
      hyperkalemia: dT = sp(K - k_t) (~5.4);  dC = sp(K - k_pr) (~6.5);  dQ = sp(K - k_qrs) (6.5-8)
                    P loss = sig(K - k_p_loss) (~8);  sine = sig(K - k_sine) (~8.4)
      T amplitude x (1 + 0.35 r_T dT) * (1 - 0.14 r_lo dL - 0.20 r_lo dU), soft-floored at -0.5 (inversion)
      T widths: s_left x exp(-0.30 r_T dT), s_right x exp(-0.14 r_T dT) (narrow, symmetric),
                both x (1 + 0.06 r_lo dL + 0.10 r_lo dU) (broad in hypokalemia),
                s_right x exp(-beta (K - 4.3)) (within-patient downslope/amplitude ratio rises with K)
      T shape exponent p: lowered by 0.6 (1 - exp(-0.6 r_T dT)) (pointed, "tented"), back to 2 with sine
      QTc + 12.8 r_qt dL - 6 r_T dT ms;  PR + 4.6 r_lo dL + 22 r_c dC ms
      P amplitude (+3.5 uV r_lo dL) x exp(-0.45 r_c dC) x (1 - P loss);  P duration + 2.7 r_lo dL + 12 r_c dC ms
      QRS duration x (1 + 0.20 r_Q dQ + 0.6 sine);  QRS amplitude / (1 + 0.12 r_Q dQ)
      U amplitude + r_lo (0.012 dL + 0.10 dU) mV;  ST depression r_lo (0.01 dL + 0.06 dU) mV
    """
    k = float(k)
    rT, rC, rQ, rL, rQT = (p["resp_hyper_t"], p["resp_conduction"], p["resp_qrs"], p["resp_hypo"],
                           p["resp_qt"])
    dL = float(softplus(4.1 - k, 0.15))
    dU = float(softplus(p["k_hypo_onset"] - k, 0.2))
    dT = float(softplus(k - p["k_t_onset"], 0.25))
    dC = float(softplus(k - p["k_pr_onset"], 0.25))
    dQ = float(softplus(k - p["k_qrs_onset"], 0.2))
    p_loss = float(logistic(k - p["k_p_loss"], 0.15))
    sine = float(logistic(k - p["k_sine"], 0.15))
    t_amp = (1.0 + 0.35 * rT * dT) * (1.0 - 0.14 * rL * dL - 0.20 * rL * dU)
    t_amp = -0.5 + float(softplus(t_amp + 0.5, 0.08))
    broad = 1.0 + 0.06 * rL * dL + 0.10 * rL * dU
    e = {
        "below_4_1": dL, "below_hypo_onset": dU, "above_t_onset": dT, "above_pr_onset": dC,
        "above_qrs_onset": dQ, "p_loss": p_loss, "sine": sine,
        "t_amp_factor": t_amp,
        "t_sigma_l_factor": math.exp(-0.30 * rT * dT) * broad * (1.0 + 1.5 * sine),
        "t_sigma_r_factor": math.exp(-0.14 * rT * dT) * broad * math.exp(-p["t_slope_beta"] * (k - 4.3))
                            * (1.0 + 0.8 * sine),
        "t_shape_drop": 0.6 * (1.0 - math.exp(-0.6 * rT * dT)) * (1.0 - sine),
        "qtc_add_ms": 12.8 * rQT * dL - 6.0 * rT * dT,
        "pr_add_ms": 4.6 * rL * dL + 22.0 * rC * dC,
        "p_amp_add_mv": 0.0035 * rL * dL,
        "p_amp_factor": math.exp(-0.45 * rC * dC) * (1.0 - p_loss),
        "p_dur_add_ms": 2.7 * rL * dL + 12.0 * rC * dC,
        "qrs_widen_factor": 1.0 + 0.20 * rQ * dQ + 0.6 * sine,
        "qrs_amp_factor": 1.0 / (1.0 + 0.12 * rQ * dQ),
        "u_add_mv": rL * (0.012 * dL + 0.10 * dU),
        "st_depression_mv": rL * (0.01 * dL + 0.06 * dU),
    }
    return e


# ------------------------------------------------------------------------------------------------ rhythm
def _rhythm(rng, p, t0, t1):
    """QRS onset times (s) from t0 to t1, the RR before each beat (s) and each beat's kind:
    'N' sinus, 'A' premature atrial, 'V' premature ventricular."""
    rr0 = 60.0 / p["hr_bpm"]
    ph_r, ph_lf = rng.uniform(0, 2 * np.pi, 2)
    times, kinds = [], []
    t = t0 - rng.uniform(0.0, rr0)          # the last beat
    last_ectopic = True
    while t < t1:
        mod = (1.0 + p["rsa"] * np.sin(2 * np.pi * p["resp_hz"] * t + ph_r)
               + p["lf_amp"] * np.sin(2 * np.pi * p["lf_hz"] * t + ph_lf))
        if p["af"]:
            rr = rr0 * float(np.clip(rng.lognormal(0.0, 0.2), 0.55, 1.8))
        else:
            rr = rr0 * mod * (1.0 + p["rr_jitter"] * rng.standard_normal())
        u = rng.random()
        if not last_ectopic and u < p["pvc_rate"]:
            # PVC: early, then a compensatory pause (the sinus node goes on)
            times.append(t + rng.uniform(0.45, 0.7) * rr); kinds.append("V")
            t += 2.0 * rr
            last_ectopic = True
        elif not last_ectopic and u < p["pvc_rate"] + p["pac_rate"]:
            # PAC: early, and it resets the sinus node
            times.append(t + rng.uniform(0.6, 0.85) * rr); kinds.append("A")
            t = times[-1] + rr
            last_ectopic = True
        else:
            t += rr
            last_ectopic = False
        times.append(t); kinds.append("N")
    # the RR before each beat is the actual interval where it is known
    times = np.array(times)
    rrs = np.diff(times, prepend=times[0] - rr0)
    return times, rrs, np.array(kinds)


# ------------------------------------------------------------------------------------------------- waves
def _add_waves(out, fs, t_start, cls, centre, sl, sr, pexp, vec):
    """Adds waves exp(-0.5 |(t - centre)/s|^p) * vec (vec: (m, 3)) into out[cls] ((3, 3, n) per class)."""
    if len(centre) == 0:
        return
    centre, sl, sr, pexp = (np.asarray(a, float) for a in (centre, sl, sr, pexp))
    reach = (2.0 * math.log(1e3)) ** (1.0 / pexp)            # where the wave is below 1e-3 of its peak
    first = np.floor((centre - reach * sl - t_start) * fs).astype(int)
    length = int(np.ceil(np.max(reach * (sl + sr)) * fs)) + 2
    idx = first[:, None] + np.arange(length)
    x = (idx / fs + t_start) - centre[:, None]
    s = np.where(x < 0.0, sl[:, None], sr[:, None])
    u = np.abs(x / s)
    g = np.exp(-0.5 * u ** pexp[:, None]) if np.any(pexp != 2.0) else np.exp(-0.5 * u * u)
    n = out.shape[-1]
    ok = (idx >= 0) & (idx < n)
    idx = np.where(ok, idx, 0).ravel()
    g = np.where(ok, g, 0.0)
    for d in range(3):
        out[cls, d] += np.bincount(idx, weights=(g * vec[:, d, None]).ravel(), minlength=n)


def _heart_vector(rng, p, e, fs, t_start, n, beat_t, beat_rr, beat_kind):
    """The heart vector per wave class: (3 classes, 3 axes, n samples) in mV, plus the intervals used."""
    out = np.zeros((3, 3, n))
    ms = 1e-3
    nb = len(beat_t)
    sinus = beat_kind != "V"
    # respiration modulates QRS amplitude a little (the heart moves with breathing)
    resp = 1.0 + rng.uniform(0.0, 0.08) * np.sin(2 * np.pi * p["resp_hz"] * beat_t + rng.uniform(0, 2 * np.pi))
    jit = lambda sd: 1.0 + sd * rng.standard_normal(nb)

    # ---- QRS (sinus and PAC beats share the patient's QRS)
    qrs_s = p["qrs_ms"] * ms * e["qrs_widen_factor"]
    b = np.flatnonzero(sinus)
    if len(b):
        late = np.array([1.0, 1.0, 1.05, 1.15])   # the later parts slow most when conduction slows
        w = e["qrs_widen_factor"] ** (late - 1.0)
        c = beat_t[b, None] + qrs_s * QRS_CENTRES * w
        s = qrs_s * QRS_SIGMAS * w * np.ones((len(b), 1))
        amps = p["qrs_amps_mv"] * e["qrs_amp_factor"] * resp[b, None]
        vec = amps[:, :, None] * p["qrs_dirs"][None]
        _add_waves(out, fs, t_start, QRS_CLASS, c.ravel(), s.ravel(), s.ravel(), np.full(c.size, 2.0),
                   vec.reshape(-1, 3))
    qrs_end = qrs_s * (QRS_CENTRES[-1] + 2.5 * QRS_SIGMAS[-1]) * e["qrs_widen_factor"] ** 0.15

    # ---- ST, T, U (sinus conduction)
    kT = p["t_shape_p"] - e["t_shape_drop"]
    kT = max(kT, 1.35) if e["sine"] < 0.5 else kT + (2.0 - kT) * e["sine"]
    t_sl = p["t_sigma_l_ms"] * ms * e["t_sigma_l_factor"]
    t_sr = p["t_sigma_r_ms"] * ms * e["t_sigma_r_factor"]
    kappa = tangent_kappa(kT)
    qtc = (p["qtc_ms"] + e["qtc_add_ms"]) * ms
    qtc_base = (p["qtc_ms"]) * ms
    if len(b):
        rr = np.clip(beat_rr[b], 0.3, 2.0)
        qt = qtc * rr ** (1.0 / 3.0)
        t_peak = np.maximum(qt - kappa * t_sr, qrs_end + 1.0 * t_sl)
        t_amp = p["t_amp_mv"] * e["t_amp_factor"] * jit(0.02)[b]
        _add_waves(out, fs, t_start, T_CLASS, beat_t[b] + t_peak, np.full(len(b), t_sl), np.full(len(b), t_sr),
                   np.full(len(b), kT), t_amp[:, None] * p["t_dir"])
        # U: its peak a fixed gap after the baseline T end, half as delayed as T by hypokalemia (T-U fusion)
        u_peak = (qtc_base + 0.5 * (qtc - qtc_base)) * rr ** (1.0 / 3.0) + p["tu_gap_ms"] * ms
        u_amp = (p["u_amp_mv"] + e["u_add_mv"]) * np.ones(len(b))
        u_s = 0.045 * (1.0 + 0.3 * e["below_hypo_onset"])
        _add_waves(out, fs, t_start, T_CLASS, beat_t[b] + u_peak, np.full(len(b), u_s),
                   np.full(len(b), u_s * 0.9), np.full(len(b), 2.0), u_amp[:, None] * p["u_dir"])
        # ST: flat-topped waves between the J point and the T peak: normal anterior elevation, and the
        # hypokalemic depression (opposite to T)
        span = np.maximum(t_peak - qrs_end, 0.04)
        st_c = beat_t[b] + qrs_end + 0.45 * span
        st_amp = p["st_amp_mv"] / (1.0 + 2.0 * e["below_hypo_onset"])
        vec = st_amp * p["st_dir"] - e["st_depression_mv"] * p["t_dir"]
        _add_waves(out, fs, t_start, T_CLASS, st_c, 0.4 * span, 0.55 * span, np.full(len(b), 4.0),
                   np.repeat(vec[None], len(b), 0))
    else:
        qt = np.array([qtc * (60.0 / p["hr_bpm"]) ** (1.0 / 3.0)])
        t_peak = qt - kappa * t_sr

    # ---- P waves (sinus: the patient's P; PAC: the ectopic P), none in AF
    rr_all = np.clip(beat_rr, 0.3, 2.0)
    pr = (p["pr_ms"] * ms + e["pr_add_ms"] * ms) * (1.0 - 0.12 * (1.0 / rr_all - 1.0))  # shorter when fast
    pdur = (p["p_ms"] + e["p_dur_add_ms"]) * ms
    p_amp = (p["p_amp_mv"] + e["p_amp_add_mv"]) * e["p_amp_factor"]
    if not p["af"] and p_amp > 1e-4:
        b = np.flatnonzero(beat_kind == "N")
        on = beat_t[b] - pr[b]
        sp = pdur / 7.0
        c = np.concatenate([on + 0.36 * pdur, on + 0.62 * pdur])
        vec = np.concatenate([np.repeat((p_amp * p["p_dirs"][0])[None], len(b), 0),
                              np.repeat((p_amp * p["p_la_ratio"] * p["p_dirs"][1])[None], len(b), 0)])
        _add_waves(out, fs, t_start, P_CLASS, c, np.full(c.size, sp), np.full(c.size, sp * 1.1),
                   np.full(c.size, 2.0), vec)
        # atrial repolarisation (Ta): opposite to P, long and low, through the PR segment
        ta = -p["ta_ratio"] * p_amp * unit(p["p_dirs"].sum(0))
        _add_waves(out, fs, t_start, P_CLASS, on + pdur + 0.03, np.full(len(b), 0.05), np.full(len(b), 0.09),
                   np.full(len(b), 2.0), np.repeat(ta[None], len(b), 0))
        b = np.flatnonzero(beat_kind == "A")
        if len(b):
            on = beat_t[b] - pr[b] * 1.1
            _add_waves(out, fs, t_start, P_CLASS, on + 0.5 * pdur, np.full(len(b), pdur / 5.0),
                       np.full(len(b), pdur / 5.0), np.full(len(b), 2.0),
                       np.repeat((p_amp * 0.9 * p["pac_p_dir"])[None], len(b), 0))

    # ---- PVCs: wide QRS of their own, discordant T (K+ acts on their T amplitude too)
    b = np.flatnonzero(beat_kind == "V")
    if len(b):
        d = p["pvc_qrs_ms"] * ms * e["qrs_widen_factor"] ** 0.5
        c = beat_t[b, None] + d * np.array([0.25, 0.5, 0.75])
        s = d * np.array([0.12, 0.13, 0.14]) * np.ones((len(b), 1))
        vec = (p["pvc_amps_mv"][:, None] * p["pvc_dirs"]) * e["qrs_amp_factor"]
        _add_waves(out, fs, t_start, QRS_CLASS, c.ravel(), s.ravel(), s.ravel(), np.full(c.size, 2.0),
                   np.tile(vec, (len(b), 1)))
        t_vec = -unit(p["pvc_amps_mv"] @ p["pvc_dirs"]) * 0.5 * max(e["t_amp_factor"], 0.3)
        _add_waves(out, fs, t_start, T_CLASS, beat_t[b] + d + 0.17, np.full(len(b), 0.09), np.full(len(b), 0.06),
                   np.full(len(b), 2.0), np.repeat(t_vec[None], len(b), 0))

    # ---- AF: fibrillatory waves (a wandering 4-8 Hz oscillation), in the P class
    if p["af"]:
        t = t_start + np.arange(n) / fs
        f = p["af_hz"] * (1.0 + 0.08 * np.sin(2 * np.pi * rng.uniform(0.1, 0.4) * t + rng.uniform(0, 6.3)))
        phase = 2 * np.pi * np.cumsum(f) / fs + rng.uniform(0, 6.3)
        env = 1.0 + 0.4 * np.sin(2 * np.pi * rng.uniform(0.2, 0.8) * t + rng.uniform(0, 6.3))
        sig = env * (np.sin(phase) + 0.35 * np.sin(2 * phase + rng.uniform(0, 6.3)))
        out[P_CLASS] += p["af_amp_mv"] * p["af_dir"][:, None] * sig

    rr_mean = 60.0 / p["hr_bpm"]
    qt_at_mean = qtc * rr_mean ** (1.0 / 3.0)
    intervals = {
        "rr_ms": rr_mean * 1e3,
        "pr_ms": float(p["pr_ms"] + e["pr_add_ms"]) * (1.0 - 0.12 * (1.0 / rr_mean - 1.0)),
        "p_ms": float(pdur / ms),
        "qrs_ms": float(qrs_end / ms),
        "qt_ms": float(qt_at_mean / ms),                                          # to the tangent T end
        "qtc_ms": float(qtc / ms),                                                # Fridericia
        "qtc_bazett_ms": float(qt_at_mean / math.sqrt(rr_mean) / ms),
        "t_peak_ms": float((qt_at_mean - kappa * t_sr) / ms),
        "qu_ms": float(((qtc_base + 0.5 * (qtc - qtc_base)) * rr_mean ** (1 / 3) + p["tu_gap_ms"] * ms) / ms),
        "t_sigma_l_ms": t_sl / ms, "t_sigma_r_ms": t_sr / ms, "t_shape_p": kT,
    }
    # QRS onset is 2 sigma before the septal wave's centre: shift so intervals are from the visible onset
    onset = qrs_s * (QRS_CENTRES[0] - 2.0 * QRS_SIGMAS[0])
    for key in ("qrs_ms", "qt_ms", "t_peak_ms", "qu_ms"):
        intervals[key] -= onset / ms
    intervals["pr_ms"] += onset / ms
    intervals["qtc_ms"] = intervals["qt_ms"] / (rr_mean ** (1 / 3))
    intervals["qtc_bazett_ms"] = intervals["qt_ms"] / math.sqrt(rr_mean)
    return out, intervals


def _axis_deg(lead_matrix, vec_area):
    """Frontal axis from the net area in I and aVF (aVF = II - I/2)."""
    i, ii = lead_matrix[:2] @ vec_area
    return float(np.degrees(np.arctan2(ii - 0.5 * i, i)))


# ------------------------------------------------------------------------------------------------- noise
def _band_noise(rng, shape, fs, lo, hi, order=2):
    """Gaussian noise band-limited to lo-hi Hz (Butterworth-like magnitudes), unit rms; drawn directly
    as random Fourier coefficients (what the FFT of white noise is)."""
    n = shape[-1]
    f = np.fft.rfftfreq(n, 1.0 / fs)
    h = 1.0 / np.sqrt(1.0 + (f / hi) ** (2 * order))
    if lo > 0:
        h = h / np.sqrt(1.0 + (lo / np.maximum(f, 1e-6)) ** (2 * order))
    h[0] = 0.0
    keep = h > 1e-3 * h.max()
    spec = np.zeros(tuple(shape[:-1]) + (len(f),), complex)
    z = rng.standard_normal(tuple(shape[:-1]) + (int(keep.sum()), 2))
    spec[..., keep] = (z[..., 0] + 1j * z[..., 1]) * h[keep]
    x = np.fft.irfft(spec, n, axis=-1)
    return x / (x.std(axis=-1, keepdims=True) + 1e-12)


def _slow(x_coarse, n, step):
    """Linear interpolation of a signal sampled every `step` samples back to n samples (last axis)."""
    w = np.arange(step) / step
    x = x_coarse[..., :-1, None] * (1.0 - w) + x_coarse[..., 1:, None] * w
    return x.reshape(x.shape[:-2] + (-1,))[..., :n]


def _noise(rng, fs, n, t_start, resp_hz):
    """Electrode noise (9 electrodes: RA, LA, LL, V1-V6) turned into the 8 leads, plus lead-level
    amplifier noise, in uV; and the settings drawn."""
    cfg = {}
    step = 10                                       # slow components are computed at fs / 10
    tc = t_start + np.arange(n // step + 2) * step / fs
    # baseline wander: a few slow sinusoids (0.05-0.5 Hz) per electrode + a respiratory one
    cfg["wander_uv"] = float(_lognormal(rng, 35.0, 0.8))
    f = rng.uniform(0.05, 0.5, (9, 3, 1))
    amp = cfg["wander_uv"] * rng.uniform(0.0, 1.0, (9, 3, 1))
    slow = (amp * np.sin(2 * np.pi * f * tc + rng.uniform(0, 2 * np.pi, (9, 3, 1)))).sum(1)
    slow += (cfg["wander_uv"] * rng.uniform(0.0, 0.6, (9, 1))) * np.sin(2 * np.pi * resp_hz * tc
                                                                       + rng.uniform(0, 6.3))
    # EMG: 20-150 Hz noise from 4 muscle sources mixed into the electrodes (more on the limbs), in
    # bursts (a slowly varying envelope per source)
    cfg["emg_uv_rms"] = float(_lognormal(rng, 4.0, 0.7))
    env = np.exp(0.8 * _band_noise(rng, (4, len(tc)), fs / step, 0.0, 0.7))
    both = _slow(np.concatenate([slow, env]), n, step)
    e = both[:9]
    mix = rng.uniform(0.1, 1.0, (9, 4)) * rng.choice([-1.0, 1.0], (9, 4))
    mix /= np.sqrt((mix ** 2).sum(1, keepdims=True))        # unit rms per electrode before its gain
    mix *= (np.r_[1.5, 1.5, 1.2, 0.6 * np.ones(6)] * rng.uniform(0.3, 1.0, 9))[:, None]
    e += cfg["emg_uv_rms"] * (mix @ (both[9:] * _band_noise(rng, (4, n), fs, 20.0, 150.0)))
    # mains hum: 50 or 60 Hz (+ a little 3rd harmonic); electrode imbalance gives each its own amplitude
    cfg["mains_hz"] = 50.0 if rng.random() < 0.5 else 60.0
    cfg["mains_uv"] = float(_lognormal(rng, 2.0, 0.9)) if rng.random() < 0.7 else 0.0
    if cfg["mains_uv"] > 0:
        w = 2 * np.pi * cfg["mains_hz"] * (t_start + np.arange(n) / fs)
        basis = np.stack([np.sin(w), np.cos(w), np.sin(3 * w), np.cos(3 * w)])
        a = cfg["mains_uv"] * rng.uniform(0.2, 1.5, 9)
        ph = rng.uniform(0, 2 * np.pi, 9)
        coef = np.stack([a * np.cos(ph), a * np.sin(ph), 0.15 * a * np.cos(3 * ph), 0.15 * a * np.sin(3 * ph)], 1)
        e += coef @ basis
    # electrode motion: occasional steps (decaying through the cart's coupling) and bursts
    cfg["motion_events"] = int(rng.poisson(0.3))
    t = t_start + np.arange(n) / fs
    for _ in range(cfg["motion_events"]):
        el = rng.integers(9)
        t0 = rng.uniform(t[0] + 1.0, t[-1])
        if rng.random() < 0.5:
            step_ = (t >= t0) * np.exp(-np.maximum(t - t0, 0.0) / rng.uniform(0.3, 2.0))
            e[el] += rng.choice([-1, 1]) * rng.uniform(150.0, 1200.0) * step_
        else:
            dur = rng.uniform(0.3, 1.5)
            win = np.clip(1.0 - np.abs(t - t0) / (dur / 2), 0.0, 1.0) ** 2
            e[el] += rng.uniform(50.0, 400.0) * win * _band_noise(rng, (n,), fs, 0.5, 12.0)
    leads = ELECTRODES_TO_LEADS @ e
    # amplifier noise, per lead
    cfg["white_uv_rms"] = rng.uniform(0.8, 5.0)
    leads += cfg["white_uv_rms"] * rng.standard_normal((8, n))
    return leads, cfg


def _cart_filter(rng, x, fs):
    """An optional cart filter (the same for every lead): first-order high-pass (0.05 Hz diagnostic,
    sometimes 0.5 Hz) and a 2nd-order Butterworth-magnitude low-pass (40, 100 or 150 Hz), in frequency."""
    cfg = {"highpass_hz": None, "lowpass_hz": None}
    if rng.random() < 0.3:
        return x, cfg
    f = np.fft.rfftfreq(x.shape[-1], 1.0 / fs)
    h = np.ones_like(f, dtype=complex)
    cfg["highpass_hz"] = 0.5 if rng.random() < 0.15 else 0.05
    h *= (1j * f / cfg["highpass_hz"]) / (1.0 + 1j * f / cfg["highpass_hz"])
    cfg["lowpass_hz"] = float(rng.choice([40.0, 100.0, 150.0], p=[0.15, 0.35, 0.5]))
    h *= 1.0 / np.sqrt(1.0 + (f / cfg["lowpass_hz"]) ** 4)
    return np.fft.irfft(np.fft.rfft(x, axis=-1) * h, x.shape[-1], axis=-1), cfg


def limb_leads(i, ii):
    """III, aVR, aVL, aVF from I and II (Einthoven, Goldberger)."""
    return ii - i, -0.5 * (i + ii), i - 0.5 * ii, ii - 0.5 * i


# ---------------------------------------------------------------------------------------------- simulate
def simulate(k_mmol_l, rng, fs_hz=500, duration_s=10.0, params=None, noise=True):
    """One 12-lead ECG at serum K+ = k_mmol_l for patient `params` (a new patient from rng if None).
    Returns (signal_uv (12, n) float32, leads I, II, III, aVR, aVL, aVF, V1-V6; info dict with the
    patient, rhythm, intervals, K+ effects and noise settings). noise=False: the clean signal (no noise,
    no cart filter, no quantisation), with Einthoven's and Goldberger's relations exact."""
    fs = float(fs_hz)
    p = sample_patient(rng) if params is None else params
    e = k_effects(k_mmol_l, p)
    n_out = int(round(duration_s * fs))
    n_pre, n_post = int(PAD_BEFORE_S * fs), int(PAD_AFTER_S * fs)
    n = n_out + n_pre + n_post
    t_start = -n_pre / fs
    beat_t, beat_rr, beat_kind = _rhythm(rng, p, t_start - 0.6, t_start + n / fs)
    vcg, intervals = _heart_vector(rng, p, e, fs, t_start, n, beat_t, beat_rr, beat_kind)
    leads8 = np.einsum("clx,cxn->ln", p["lead_matrix"], vcg) * 1000.0        # mV -> uV
    cfg = {}
    if noise:
        nz, cfg = _noise(rng, fs, n, t_start, p["resp_hz"])
        leads8 = leads8 + nz
        leads8, cfg["cart_filter"] = _cart_filter(rng, leads8, fs)
    leads8 = leads8[:, n_pre:n_pre + n_out]
    if noise and rng.random() < 0.08:      # the cart's filter settling at the start of the record
        leads8 += (rng.normal(0.0, 250.0, 8)[:, None]
                   * np.exp(-np.arange(n_out) / (fs * rng.uniform(0.05, 0.4))))
        cfg["start_transient"] = True
    i, ii = leads8[0], leads8[1]
    sig = np.vstack([i, ii, *limb_leads(i, ii), leads8[2:]])
    if noise:
        cfg["quantum_uv"] = float(rng.choice([1.0, 2.5, 4.88, 5.0, 10.0], p=[0.1, 0.1, 0.15, 0.3, 0.35]))
        sig = np.round(sig / cfg["quantum_uv"]) * cfg["quantum_uv"]
    visible = (beat_t >= 0.0) & (beat_t < duration_s)
    rr_vis = np.diff(beat_t[visible])
    qrs_area = (p["qrs_amps_mv"] * QRS_SIGMAS)[:, None] * p["qrs_dirs"]
    info = {
        "k_mmol_l": float(k_mmol_l), "group": k_group(k_mmol_l), "fs_hz": fs, "leads": LEADS,
        "rhythm": "af" if p["af"] else "sinus",
        "hr_bpm": float(60.0 / rr_vis.mean()) if len(rr_vis) else float(p["hr_bpm"]),
        "intervals": intervals, "effects": e, "patient": p, "noise": cfg if noise else None,
        "beats": {"onset_s": beat_t[visible], "kind": beat_kind[visible]},
        "axes_deg": {"qrs": _axis_deg(p["lead_matrix"][QRS_CLASS], qrs_area.sum(0)),
                     "t": _axis_deg(p["lead_matrix"][T_CLASS], p["t_dir"] * np.sign(e["t_amp_factor"] + 1e-9)),
                     "p": _axis_deg(p["lead_matrix"][P_CLASS], p["p_dirs"][0] + p["p_la_ratio"] * p["p_dirs"][1])},
    }
    return sig.astype(np.float32), info


_MALLOC_TUNED = False


def tune_malloc():
    """Ask glibc to serve numpy's short-lived arrays (a few 100 kB each) from its heap instead of
    fresh mmap'd pages: simulation is dominated by such temporaries, and page faults made it 3-4x
    slower on the project's machines. Process-wide and harmless (freed memory is kept for reuse);
    a no-op where glibc is not there. simulate_batch calls it unless told not to."""
    global _MALLOC_TUNED
    if _MALLOC_TUNED:
        return
    _MALLOC_TUNED = True
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 64 << 20)     # M_MMAP_THRESHOLD: 64 MiB
        libc.mallopt(-1, 128 << 20)    # M_TRIM_THRESHOLD: 128 MiB
    except (OSError, AttributeError):
        pass


def simulate_batch(ks, seed, fs_hz=500, duration_s=10.0, noise=True, fast_malloc=True):
    """ECGs for the K+ values ks, each with its own patient; record i depends only on (seed, i), so
    a batch is reproducible by seed and any slice of it can be regenerated alone.
    Returns (signals (len(ks), 12, n) float32 in uV, list of info dicts)."""
    if fast_malloc:
        tune_malloc()
    ks = np.asarray(ks, float).ravel()
    n = int(round(duration_s * fs_hz))
    out = np.empty((len(ks), 12, n), np.float32)
    infos = []
    for j, k in enumerate(ks):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(j,)))
        out[j], info = simulate(k, rng, fs_hz, duration_s, noise=noise)
        infos.append(info)
    return out, infos


def median_beat(signal, info, before_s=0.35, after_s=0.75):
    """Median over the record's sinus beats of each lead, aligned at the QRS onsets in info:
    (12, m) with time 0 at before_s * fs (the first QRS wave's centre sits a little after)."""
    fs = info["fs_hz"]
    on = info["beats"]["onset_s"][info["beats"]["kind"] == "N"]
    a, b = int(before_s * fs), int(after_s * fs)
    idx = np.round(on * fs).astype(int)
    idx = idx[(idx - a >= 0) & (idx + b <= signal.shape[-1])]
    return np.median(np.stack([signal[:, i - a:i + b] for i in idx]), axis=0)


# ------------------------------------------------------------------------------------------------ plot
def plot_groups(path, seed=0, same_patient=True):
    """One ECG per K+ group (lead II and V2, 10 s) on ECG paper, for a human to look at. With
    same_patient, one typical patient (sinus rhythm, axis 15-75 deg, average responsiveness to K+)
    at the five K+ values, so the K+ effects stand out; otherwise a random patient per group."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rng = np.random.default_rng(seed)
    ks = [2.0, 3.0, 4.5, 6.0, 7.6]
    def typical(p):        # for the one-patient figure: sinus, normal axis, average responsiveness
        resp = [p[key] for key in ("resp_hyper_t", "resp_conduction", "resp_qrs", "resp_hypo", "resp_qt")]
        axis = _axis_deg(p["lead_matrix"][QRS_CLASS], ((p["qrs_amps_mv"] * QRS_SIGMAS)[:, None]
                                                       * p["qrs_dirs"]).sum(0))
        return (not p["af"] and p["pvc_rate"] == 0 and p["pac_rate"] == 0 and 15 < axis < 75
                and 0.7 < min(resp) and max(resp) < 1.6 and not p["peaked_t_baseline"])
    patient = sample_patient(rng)
    while same_patient and not typical(patient):
        patient = sample_patient(rng)
    fig, axes = plt.subplots(10, 1, figsize=(20, 2.0 * 10), sharex=True)
    for g, k in enumerate(ks):
        x, info = simulate(k, rng, params=patient if same_patient else None)
        t = np.arange(x.shape[1]) / info["fs_hz"]
        iv = info["intervals"]
        for j, lead in enumerate(("II", "V2")):
            ax = axes[2 * g + j]
            y = x[LEADS.index(lead)] / 1000.0
            mid = np.median(y)
            ax.set_ylim(mid - 1.5, mid + 2.0)
            ax.set_xlim(0, 10)
            ax.set_xticks(np.arange(0, 10.01, 0.2))
            ax.set_xticks(np.arange(0, 10.01, 0.04), minor=True)
            ax.set_yticks(np.arange(np.floor(mid - 1.5), mid + 2.01, 0.5))
            ax.set_yticks(np.arange(np.floor(mid - 1.5), mid + 2.01, 0.1), minor=True)
            ax.grid(which="major", color="#e88", lw=0.6)
            ax.grid(which="minor", color="#fcc", lw=0.3)
            ax.tick_params(labelbottom=False, labelleft=False, length=0)
            ax.plot(t, y, color="k", lw=0.7)
            ax.set_ylabel(f"{lead}\nK {k:.1f}", rotation=0, ha="right", va="center")
            if j == 0:
                ax.set_title(f"K+ {k:.1f} mmol/L (group {GROUP_NAMES[g]}), HR {info['hr_bpm']:.0f}, "
                             f"PR {iv['pr_ms']:.0f}, QRS {iv['qrs_ms']:.0f}, QTc {iv['qtc_ms']:.0f} ms, "
                             f"T x{info['effects']['t_amp_factor']:.2f}, "
                             f"U +{info['effects']['u_add_mv'] * 1000:.0f} uV, "
                             f"quantum {info['noise']['quantum_uv']} uV", loc="left", fontsize=10)
    fig.suptitle("kalium simulator: 25 mm/s grid (0.2 s, 0.5 mV major), one "
                 + ("patient" if same_patient else "patient per group"), fontsize=12)
    fig.tight_layout(rect=(0, 0, 1, 0.985))
    fig.savefig(path, dpi=70)
    plt.close(fig)


def plot_12lead(path, k, seed=0, noise=True):
    """One 12-lead ECG at K = k on ECG paper, 4 s per lead (3 columns of 4 leads), for a closer look."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    x, info = simulate(k, np.random.default_rng(seed), noise=noise)
    fs = info["fs_hz"]
    fig, axes = plt.subplots(4, 3, figsize=(18, 10), sharex=True)
    t = np.arange(int(4 * fs)) / fs
    for j, lead in enumerate(LEADS):
        ax = axes.flat[(j % 4) * 3 + j // 4]
        y = x[j, :len(t)] / 1000.0
        mid = np.median(y)
        ax.plot(t, y, color="k", lw=0.8)
        ax.set_ylim(mid - 1.6, mid + 1.6)
        ax.set_xticks(np.arange(0, 4.01, 0.2)); ax.set_xticks(np.arange(0, 4.01, 0.04), minor=True)
        ax.set_yticks(np.arange(np.floor(mid - 1.6), mid + 1.61, 0.5))
        ax.set_yticks(np.arange(np.floor(mid - 1.6), mid + 1.61, 0.1), minor=True)
        ax.grid(which="major", color="#e88", lw=0.6); ax.grid(which="minor", color="#fcc", lw=0.3)
        ax.tick_params(labelbottom=False, labelleft=False, length=0)
        ax.set_xlim(0, 4)
        ax.text(0.02, 0.9, lead, transform=ax.transAxes, fontsize=12)
    iv = info["intervals"]
    fig.suptitle(f"K+ {k:.1f}: HR {info['hr_bpm']:.0f}, PR {iv['pr_ms']:.0f}, QRS {iv['qrs_ms']:.0f}, "
                 f"QT {iv['qt_ms']:.0f}, QTc {iv['qtc_ms']:.0f} ms, axes P/QRS/T "
                 f"{info['axes_deg']['p']:.0f}/{info['axes_deg']['qrs']:.0f}/{info['axes_deg']['t']:.0f}, "
                 f"{info['rhythm']}")
    fig.tight_layout()
    fig.savefig(path, dpi=60)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--plot", help="write a PNG with one ECG per K+ group (lead II and V2)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--different-patients", action="store_true", help="a new patient per group")
    ap.add_argument("--plot12", help="write a PNG of one 12-lead ECG at --k")
    ap.add_argument("--k", type=float, default=4.5)
    ap.add_argument("--clean", action="store_true", help="--plot12 without noise")
    ap.add_argument("--bench", type=int, default=0, help="time simulate_batch on this many ECGs")
    a = ap.parse_args(argv)
    if a.plot:
        plot_groups(a.plot, a.seed, not a.different_patients)
        print(a.plot)
    if a.plot12:
        plot_12lead(a.plot12, a.k, a.seed, not a.clean)
        print(a.plot12)
    if a.bench:
        import time
        t0 = time.perf_counter()
        simulate_batch(sample_k(np.random.default_rng(a.seed), a.bench), a.seed)
        dt = time.perf_counter() - t0
        print(f"{a.bench / dt:.1f} ECGs/s ({dt / a.bench * 1e3:.1f} ms each)")


if __name__ == "__main__":
    main()
