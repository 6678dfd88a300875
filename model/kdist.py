"""
The K+ distribution behind every number kalium shows: an interval-censored logistic regression, and its shift
from the balanced set it was fitted on to an emergency department's prevalence.

The network's heads give each ECG a location mu (mEq/L). Serum K+ given the ECG is modelled as logistic with
that location and a fitted scale s:  P(K <= k | ECG) = F((k - mu) / s),  F(z) = 1 / (1 + exp(-z)).
The real labels are groups (<=2.5, 2.5-3.5, 3.5-5.5, 5.5-6.5, >=6.5 mEq/L), so a label's likelihood is the mass of
its interval: the same model is fitted on groups (interval censoring) and on exact values alike.

THE PRIOR. The 100 labelled ECGs hold 20 per group; an emergency department does not. Fitted on a set with group
prior pi_train, the distribution is moved to a population with prior pi_pop by Bayes' rule, group by group:
    p_pop(k | ECG) = p(k | ECG) * w(group(k)) / Z,   w_g = pi_pop[g] / pi_train[g]
so its group probabilities are P_pop(g) = P(g) w_g / sum_h P(h) w_h. kalium reports the population's median as
the K+ estimate and its 10th-90th percentiles as the range, and keeps the balanced figures beside them. The C++
engine (src/nn/ecg12net.cpp) computes the same; tests compare the two.

ED_PRIOR: the authors' own cohort (Lin et al., JMIR Med Inform 2020;8(3):e15931, "Results: Cohort Description"):
hypokalemia (K+ <= 3.5) 22.7 % and hyperkalemia (K+ >= 5.5) 2.6-2.8 % (training/test sets); we take 2.7 %. The
paper does not split the severe groups; we ASSUME K+ <= 2.5 in 1.0 % of all patients (so 2.5-3.5: 21.7 %) and
K+ >= 6.5 in 0.6 % (5.5-6.5: 2.1 %), about a fifth of each side, and say so wherever the numbers are shown.
"""
import numpy as np

GROUP_EDGES_MEQ_L = (2.5, 3.5, 5.5, 6.5)
BALANCED_PRIOR = (0.2, 0.2, 0.2, 0.2, 0.2)
ED_PRIOR = (0.010, 0.217, 0.746, 0.021, 0.006)
ED_POPULATION = ("emergency department (Lin et al. 2020 cohort: K+ <= 3.5 in 22.7 %, >= 5.5 in 2.7 %; "
                 "assumed <= 2.5 in 1.0 %, >= 6.5 in 0.6 %)")
RANGE_QUANTILES = (0.1, 0.9)
# where a group's true K+ is taken to lie when a coverage is measured on group labels (the paper's range)
GROUP_SPAN_MEQ_L = ((1.5, 2.5), (2.5, 3.5), (3.5, 5.5), (5.5, 6.5), (6.5, 8.0))


def _cdf(z):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, float)))    # the logistic F(z), without overflow


def group_probs(mu, scale):
    """(n,) locations -> (n, 5) group probabilities of the logistic K+ distribution (the fitted prior)."""
    mu = np.asarray(mu, float)[..., None]
    edges = np.concatenate([[-np.inf], GROUP_EDGES_MEQ_L, [np.inf]])
    c = _cdf((edges - mu) / scale)
    return np.diff(c, axis=-1)


def shift_weights(prior_to, prior_from=BALANCED_PRIOR):
    return np.asarray(prior_to, float) / np.asarray(prior_from, float)


def shifted_group_probs(mu, scale, prior_to=ED_PRIOR, prior_from=BALANCED_PRIOR):
    p = group_probs(mu, scale) * shift_weights(prior_to, prior_from)
    return p / p.sum(-1, keepdims=True)


def shifted_quantile(mu, scale, q, prior_to=ED_PRIOR, prior_from=BALANCED_PRIOR):
    """The q-quantile (mEq/L) of the shifted distribution, in closed form: within group g the shifted CDF is the
    mass below g plus w_g (F((k - mu)/s) - F((e_{g-1} - mu)/s)), all over Z."""
    mu = np.atleast_1d(np.asarray(mu, float))
    w = shift_weights(prior_to, prior_from)
    edges = np.concatenate([[-np.inf], GROUP_EDGES_MEQ_L, [np.inf]])
    out = np.empty_like(mu)
    for i, m in enumerate(mu):
        c = _cdf((edges - m) / scale)
        mass = np.diff(c) * w
        target = q * mass.sum()
        below = np.concatenate([[0.0], np.cumsum(mass)])
        g = int(min(np.searchsorted(below[1:], target, side="left"), 4))
        f = c[g] + (target - below[g]) / w[g]
        f = min(max(f, 1e-12), 1 - 1e-12)
        out[i] = m + scale * np.log(f / (1 - f))
    return out


def summary(mu, scale, prior_to=ED_PRIOR):
    """What kalium reports for locations mu: the population median, its 80 % range, both sets of probabilities."""
    return {"k": shifted_quantile(mu, scale, 0.5, prior_to),
            "k_low": shifted_quantile(mu, scale, RANGE_QUANTILES[0], prior_to),
            "k_high": shifted_quantile(mu, scale, RANGE_QUANTILES[1], prior_to),
            "group_probs": shifted_group_probs(mu, scale, prior_to),
            "group_probs_balanced": group_probs(mu, scale)}
