"""
What emergency patients' ECGs show at a given K+: per-patient mixtures of visible signs, from published ED series.

The simulator's K+ effects (simulate.k_effects) are the textbook sequence: every patient at K+ 7.5 has tall T
waves, most have a wide QRS later. Emergency patients do not look like that. In ED series a minority shows any
one sign, about a quarter to a half show none, and signs the textbook does not list (bradycardia, a long QTc,
atrial fibrillation) are as common as peaked T. This module turns the literature into a per-patient draw:

    signs = sample_signs(k_mmol_l, rng)          # which visible signs this patient shows at this K+
    patient = apply_to_patient(patient, signs)   # the simulator's patient with those signs (simulate.py)
    # data.impose_k(..., signs=signs) applies the same signs to a real background ECG

What the generated ECGs then show is measured against this table in model/ed_signs_check.py.

Every rate below is taken from the cited paper, never from the project's labelled ECGs. A sign's rate in the
K+ band is the share of patients in that band who show it; its normokalemic rate is the share among
normokalemic ED patients of the same series. A background ECG already shows a sign at the normokalemic rate, so
the sign is imposed with the excess probability (rate - rate_normal) / (1 - rate_normal): the generated ECGs
then show it at about the band's rate. Patients without a sign still get the simulator's graded effects for it,
at a quarter of their responsiveness (SUBTLE): a change below what a reader calls a sign, which the network may
still learn (the paper's network separates groups that physicians do not).

Sources:
  VARGA  Varga C et al. ECG alterations suggestive of hyperkalemia in normokalemic versus hyperkalemic patients.
         BMC Emerg Med 2019;19:33. 170 normokalemic, 135 hyperkalemic ED patients (moderate 6.0-7.0, severe
         > 7.0 mmol/L). Severe: wide QRS 31.6 %, peaked T 18.4 %, first-degree AV block 18.4 %, bradycardia 18.4 %
         (normokalemic 8.2, 4.7, 7.1, 6.5 %); prolonged QTc 21.1 % severe, 17.5 % moderate, 5.3 % normokalemic;
         moderate otherwise not different from normokalemic; 46 % of hyperkalemic patients had any suggestive
         alteration (24 % of normokalemic ones).
  RAFFEE Raffee LA et al. Clinical and electrocardiogram presentations of patients with high serum potassium
         concentrations within emergency settings: a prospective study. Int J Emerg Med 2022;15:46. 67 ED patients
         with K+ >= 5.5 (mild 5.5-5.9 n=7, moderate 6.0-6.4 n=27, severe >= 6.5 n=33); table 3 per band: peaked T
         1/0/7, wide QRS (> 120 ms) 1/2/5, PR > 200 ms 0/3/4, flattened P 1/2/4, atrial fibrillation 2/2/5, sinus
         bradycardia 0/5/1; normal ECG in 25.4 % overall.
  KILDEGAARD Kildegaard H et al. Prevalence and prognostic value of electrocardiographic abnormalities in
         hypokalemia: a multicenter cohort study. J Intern Med 2024;295:544-556. 79,599 ED patients: ECG
         abnormalities in 40 % of hypokalemic (< 3.5 mmol/L) patients; heart rate, QRS duration, QTc, ST depression,
         T flattening and inversion all rise as K+ falls.
Where two series give a rate for the same band, the table uses their mean (weighted as stated per row).
"""
from dataclasses import dataclass

import numpy as np

SUBTLE = 0.25           # responsiveness kept for an effect the patient shows no visible sign of


@dataclass(frozen=True)
class Sign:
    name: str            # sign key
    band: str            # "moderate_hyper" [5.5, 6.5), "severe_hyper" >= 6.5, "hypo" < 3.5
    rate: float          # share of patients in the band showing it
    rate_normal: float   # share among normokalemic ED patients (0 where the series has no control group)
    source: str


def _mean(*rates):
    return float(np.mean(rates))


# The literature table. Bands follow the project's groups: 5.5-6.5 and >= 6.5 (VARGA's "severe" is > 7.0 and its
# "moderate" 6.0-7.0; RAFFEE's mild + moderate are pooled for 5.5-6.5: (1+0)/34 etc.).
LITERATURE = (
    Sign("peaked_t", "severe_hyper", _mean(0.184, 7 / 33), 0.047, "VARGA severe 18.4 %, RAFFEE >= 6.5 7/33; normal VARGA"),
    Sign("wide_qrs", "severe_hyper", _mean(0.316, 5 / 33), 0.082, "VARGA severe 31.6 %, RAFFEE >= 6.5 5/33; normal VARGA"),
    Sign("long_pr", "severe_hyper", _mean(0.184, 4 / 33), 0.071, "VARGA first-degree AV block 18.4 %, RAFFEE 4/33"),
    Sign("bradycardia", "severe_hyper", _mean(0.184, 1 / 33), 0.065, "VARGA 18.4 %, RAFFEE sinus bradycardia 1/33"),
    Sign("long_qtc", "severe_hyper", 0.211, 0.053, "VARGA severe 21.1 %, normal 5.3 %"),
    Sign("flat_p", "severe_hyper", 4 / 33, 0.0, "RAFFEE >= 6.5 flattened P 4/33"),
    Sign("af", "severe_hyper", 5 / 33, 0.0, "RAFFEE >= 6.5 atrial fibrillation 5/33"),
    Sign("peaked_t", "moderate_hyper", 1 / 34, 0.047, "RAFFEE 5.5-6.4 1/34 (VARGA moderate: as normokalemic)"),
    Sign("wide_qrs", "moderate_hyper", 3 / 34, 0.082, "RAFFEE 5.5-6.4 3/34"),
    Sign("long_pr", "moderate_hyper", 3 / 34, 0.071, "RAFFEE 5.5-6.4 3/34"),
    Sign("bradycardia", "moderate_hyper", 5 / 34, 0.065, "RAFFEE 5.5-6.4 sinus bradycardia 5/34"),
    Sign("long_qtc", "moderate_hyper", 0.175, 0.053, "VARGA moderate 17.5 %, normal 5.3 %"),
    Sign("flat_p", "moderate_hyper", 3 / 34, 0.0, "RAFFEE 5.5-6.4 flattened P 3/34"),
    Sign("af", "moderate_hyper", 4 / 34, 0.0, "RAFFEE 5.5-6.4 atrial fibrillation 4/34"),
    Sign("hypo_visible", "hypo", 0.40, 0.0, "KILDEGAARD: abnormal ECG in 40 % of K+ < 3.5"),
)

# Checks, not inputs: the share of patients with no visible sign at all.
NO_SIGN_RANGE = {"severe_hyper": (0.254, 0.54)}    # RAFFEE normal ECG 25.4 %; VARGA 1 - 46 %
HYPER_SIGNS = ("peaked_t", "wide_qrs", "long_pr", "bradycardia", "long_qtc", "flat_p", "af")

# Magnitudes of a sign once present (reader thresholds from the same papers: QRS > 120 ms, PR > 200 ms, HR < 60,
# peaked T; the sizes beyond the thresholds are ours).
SIGN_MAGNITUDES = {
    "peaked_t": (1.5, 2.5),         # T amplitude x, narrowed as simulate.k_effects narrows it
    "wide_qrs": (125.0, 170.0),     # QRS duration, ms
    "long_pr": (205.0, 280.0),      # PR, ms
    "bradycardia": (38.0, 58.0),    # heart rate, bpm
    "long_qtc": (30.0, 70.0),       # QTc added, ms (VARGA's prolonged QTc)
    "flat_p": (0.0, 0.5),           # P amplitude x
    "hypo_hr_add": (0.0, 20.0),     # bpm added in visible hypokalemia (KILDEGAARD: HR rises; size ours)
    "hypo_qrs_add": (0.0, 12.0),    # ms added in visible hypokalemia (KILDEGAARD: QRS widens; size ours)
}


def band_of(k_mmol_l):
    if k_mmol_l < 3.5:
        return "hypo"
    if k_mmol_l >= 6.5:
        return "severe_hyper"
    if k_mmol_l >= 5.5:
        return "moderate_hyper"
    return "normal"


def imposed_probability(sign):
    """The probability of giving a patient the sign: its excess over the normokalemic rate."""
    return max(0.0, (sign.rate - sign.rate_normal) / (1.0 - sign.rate_normal))


def sample_signs(k_mmol_l, rng):
    """The visible signs of one patient at K+ = k_mmol_l: {name: magnitude} for each sign shown (empty dict: no
    visible change, or a normokalemic target). Draws are independent per sign, as the papers report them."""
    band = band_of(k_mmol_l)
    signs = {}
    for s in LITERATURE:
        if s.band != band or rng.random() >= imposed_probability(s):
            continue
        if s.name == "hypo_visible":
            signs["hypo_visible"] = True
            signs["hypo_hr_add"] = float(rng.uniform(*SIGN_MAGNITUDES["hypo_hr_add"]))
            signs["hypo_qrs_add"] = float(rng.uniform(*SIGN_MAGNITUDES["hypo_qrs_add"]))
        elif s.name == "af":
            signs["af"] = True
        else:
            signs[s.name] = float(rng.uniform(*SIGN_MAGNITUDES[s.name]))
    signs["band"] = band
    return signs


def responsiveness(patient, signs):
    """The patient's K+ responsiveness given its signs: effects without a visible sign are SUBTLE."""
    p = dict(patient)
    band = signs.get("band", "normal")
    if band in ("moderate_hyper", "severe_hyper"):
        if "peaked_t" not in signs:
            p["resp_hyper_t"] *= SUBTLE
            p["t_slope_beta"] *= SUBTLE      # the T's steeper downslope, which also ends it earlier
        if "wide_qrs" not in signs:
            p["resp_qrs"] *= SUBTLE
        if "long_pr" not in signs and "flat_p" not in signs:
            p["resp_conduction"] *= SUBTLE
    if band == "hypo":
        if signs.get("hypo_visible"):
            p["resp_hypo"] = max(p["resp_hypo"], 1.0)
            p["resp_qt"] = max(p["resp_qt"], 1.0)
        else:
            p["resp_hypo"] *= SUBTLE
            p["resp_qt"] *= SUBTLE
    return p


def apply_to_patient(patient, signs, k_mmol_l):
    """The simulator's patient (simulate.sample_patient) showing `signs` at K+ = k_mmol_l: responsiveness as in
    responsiveness(), and each visible sign set on the patient's own parameters."""
    p = responsiveness(patient, signs)
    if "peaked_t" in signs:
        # the T rise of k_effects is 1 + 0.35 r dT with dT ~ K - onset: reach the drawn factor at this K+
        p["k_t_onset"] = min(p["k_t_onset"], k_mmol_l - 1.0)
        d_t = max(k_mmol_l - p["k_t_onset"], 0.5)
        p["resp_hyper_t"] = max(p["resp_hyper_t"], (signs["peaked_t"] - 1.0) / (0.35 * d_t))
    if "wide_qrs" in signs:
        p["qrs_ms"] = max(p["qrs_ms"], signs["wide_qrs"])
    if "long_pr" in signs:
        p["pr_ms"] = max(p["pr_ms"], signs["long_pr"])
    if "bradycardia" in signs:
        p["hr_bpm"] = min(p["hr_bpm"], signs["bradycardia"])
    if "long_qtc" in signs:
        p["qtc_ms"] = p["qtc_ms"] + signs["long_qtc"]
    if "flat_p" in signs:
        p["p_amp_mv"] = p["p_amp_mv"] * signs["flat_p"]
    if signs.get("af"):
        p["af"], p["pac_rate"] = True, 0.0
    if signs.get("hypo_visible"):
        p["hr_bpm"] = min(p["hr_bpm"] + signs["hypo_hr_add"], 150.0)
        p["qrs_ms"] = p["qrs_ms"] + signs["hypo_qrs_add"]
    return p


def table_rate(name, band):
    """(rate, rate_normal) of the literature table for a sign in a band."""
    for s in LITERATURE:
        if s.name == name and s.band == band:
            return s.rate, s.rate_normal
    raise KeyError((name, band))
