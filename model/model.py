"""
ECG12Net: serum potassium (K+) from a 12-lead ECG, as reconstructed in shared/DESIGN.md from
Lin CS et al., JMIR Med Inform 2020;8(3):e15931.

Usage (from model/, with /usr/bin/python3):

    import torch
    from model import ECG12Net, ModelConfig, fold_batchnorm, count_layers
    net = ECG12Net(ModelConfig()).eval()      # the shipped default: 2,932,760 parameters
    x = torch.randn(1, 12, 1250)              # 12 leads x 2.5 s at 500 Hz, in mV
    out = net(x)                              # out["k"]: K+ in mEq/L; out["lead_attention"], ...
    heatmaps = net.cam(x)                     # (1, 12, 1250), each lead scaled to [0, 1]
    engine_net = fold_batchnorm(net)          # BN merged into the convs: what export and the engine run
    count_layers(net)                         # {"trunk": 79, "lead_block": 80, "total": 82}

Tests: cd /work/main && /usr/bin/python3 -m pytest -q model/tests

The network, for one lead (leads in the order I, II, III, aVR, aVL, aVF, V1-V6):
    stem         conv k7 s2 -> 32, BN, ReLU                                     1 layer
    5 stages     pool block:  concat(avgpool 2/2, unit with k3 s2)              3 layers
                 dense block: 3, 3, 6, 6, 3 units, each x = concat(x, unit(x))  3 layers per unit
                 unit = conv 1x1 -> 128, conv k3 -> 128, conv 1x1 -> 32, each with BN and ReLU
                 channels 32 -> 64 -> 160 -> 192 -> 288 -> 320 -> 512 -> 544 -> 736 -> 768 -> 864
    final norm   BN, ReLU on the 864 channels (DenseNet's norm5), global average pooling: 864 features
    lead head    linear on the 864 features: the lead's own prediction p_l      1 layer  = 80
Across leads:
    attention    e_l = v_l . ReLU(BN(W_l f_l)), W_l 8 x 864, alpha = softmax_l(e_l)  2 layers = 82
    output       sum_l alpha_l p_l
The trunk (stem to global pooling) is shared by the 12 leads (shared_trunk=True) or one per lead; the
heads and the attention are always lead-specific.

Lengths. Every stride-2 step maps L samples to ceil(L/2), so the two branches of a pool block agree
for any input length: avgpool 2/2 uses ceil_mode (the last window of an odd length holds one sample
and is averaged over that one), and the k3 s2 conv is padded by 1 on each side. For 1250 samples:
1250 -> 625 (stem, padding 3) -> 313 -> 157 -> 79 -> 40 -> 20, so the last feature maps are 864 x 20.

Parameters. The default has exactly the 2,932,760 of shared/bench/RESULTS.md with this layout, the
only one among the obvious variants (conv biases, final BN, head and attention biases, BN in the
attention) that gives that number:
    trunk: convs without bias (the BN after each supplies it), BN after every conv, and
           the final BN(864)                                  2,837,408 + 1,728 = 2,839,136
    per lead: p_l weights and bias 864 + 1, W_l without bias 8 x 864, BN(8) 16,
           v_l weights and bias 8 + 1                          7,802 x 12     =    93,624
With head="all" the ordinal (60) and group (5) heads add 12 x 65 x 865 = 674,700 parameters.
With shared_trunk=False: 12 x 2,839,136 + 93,624 = 34,163,256.

The lead-specific layers are grouped 1x1 convolutions over a (B, 12 x 864, 1) tensor: one op each
in ONNX and in the engine, so the export has 79 + 3 = 82 Conv nodes, the count in RESULTS.md.
"""
import copy
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

K_MIN_MEQ_L = 1.5   # the range the paper estimates over; outside it the app shows "<1.5" / ">7.5"
K_MAX_MEQ_L = 7.5
GROUP_NAMES = ("<=2.5", "2.5-3.5", "3.5-5.5", "5.5-6.5", ">=6.5")   # K+ groups of the paper, mEq/L


@dataclass
class ModelConfig:
    n_leads: int = 12                     # I, II, III, aVR, aVL, aVF, V1-V6
    input_samples: int = 1250             # per lead: 2.5 s at 500 Hz
    stem_channels: int = 32
    growth: int = 32                      # channels each unit adds
    bottleneck: int = 128                 # channels inside a unit
    dense_units: tuple = (3, 3, 6, 6, 3)  # units per dense block
    shared_trunk: bool = True             # one trunk for all leads (2.9 M parameters) or 12 (34 M)
    head: str = "regression"              # "regression" | "ordinal" | "groups", joined by "+", or "all" (the three)
    n_ordinal: int = 60                   # cumulative thresholds, evenly spaced over 1.5-7.5 mEq/L
    attention_hidden: int = 8             # rows of W_l
    emp_features: int = 0                 # 8 for ECG12Net-2 (EMPNet over the ECG measurements), 0 for ECG12Net-1
    emp_hidden: int = 32                  # width of EMPNet's two hidden layers
    dropout: float = 0.0                  # on the pooled features before heads and attention (training only)


def head_sizes(config):
    """Outputs per lead of each head the config asks for."""
    sizes = {"regression": 1, "ordinal": config.n_ordinal, "groups": len(GROUP_NAMES)}
    names = tuple(sizes) if config.head == "all" else tuple(config.head.split("+"))
    unknown = [n for n in names if n not in sizes]
    assert not unknown, f"unknown head {config.head!r}: heads are {', '.join(sizes)}, joined by '+', or 'all'"
    return {n: sizes[n] for n in names}


def k_group(k_meq_l):
    """K+ in mEq/L -> group index 0-4 with the paper's edges: <=2.5, (2.5, 3.5], (3.5, 5.5), [5.5, 6.5), >=6.5."""
    k = k_meq_l
    return (k > 2.5).long() + (k > 3.5).long() + (k >= 5.5).long() + (k >= 6.5).long()


def ordinal_targets(k_meq_l, n_ordinal=60):
    """(B,) K+ in mEq/L -> (B, n_ordinal) 0/1 targets "K >= t_j" for t_j = 1.5 + step * (j + 1), step = 6 / n_ordinal.
    Decoded like the head (1.5 + step * sum), they give K rounded to the step and clipped to 1.5-7.5."""
    step = (K_MAX_MEQ_L - K_MIN_MEQ_L) / n_ordinal
    n_above = torch.round((k_meq_l - K_MIN_MEQ_L) / step).clamp(0, n_ordinal)
    return (torch.arange(n_ordinal, device=k_meq_l.device) < n_above[:, None]).float()


def ordinal_k(logits):
    """(..., n_ordinal) threshold logits -> K+ in mEq/L: 1.5 + step * sum_j sigmoid(logit_j)."""
    step = (K_MAX_MEQ_L - K_MIN_MEQ_L) / logits.shape[-1]
    return K_MIN_MEQ_L + step * torch.sigmoid(logits).sum(-1)


class ConvBN(nn.Sequential):
    """Conv (no bias: the BN supplies it), BN, ReLU: one trainable layer. 'Same' padding, so stride 2 gives ceil(L/2)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1):
        super().__init__(
            nn.Conv1d(in_channels, out_channels, kernel_size, stride, padding=kernel_size // 2, bias=False),
            nn.BatchNorm1d(out_channels),
            nn.ReLU(inplace=True))


class Unit(nn.Module):
    """Bottleneck unit (1x1 -> 128, k3 -> 128, 1x1 -> 32) whose output is concatenated after its input.
    stride 1: a dense unit. stride 2: a pool block, whose input is average-pooled 2/2 to the same length."""

    def __init__(self, in_channels, config, stride):
        super().__init__()
        self.skip = nn.AvgPool1d(2, 2, ceil_mode=True) if stride == 2 else nn.Identity()
        self.convs = nn.Sequential(
            ConvBN(in_channels, config.bottleneck, 1),
            ConvBN(config.bottleneck, config.bottleneck, 3, stride),
            ConvBN(config.bottleneck, config.growth, 1))

    def forward(self, x):
        return torch.cat([self.skip(x), self.convs(x)], dim=1)


class LeadTrunk(nn.Module):
    """One lead's feature extractor: (N, 1, samples) -> last feature maps (N, 864, ceil(samples / 64))."""

    def __init__(self, config):
        super().__init__()
        layers = [ConvBN(1, config.stem_channels, 7, stride=2)]
        channels = config.stem_channels
        for n_units in config.dense_units:
            for i in range(1 + n_units):  # the pool block, then the dense units
                layers.append(Unit(channels, config, stride=2 if i == 0 else 1))
                channels += config.growth
        layers += [nn.BatchNorm1d(channels), nn.ReLU(inplace=True)]
        self.layers = nn.Sequential(*layers)
        self.n_features = channels

    def forward(self, x):
        return self.layers(x)


def lead_linear(n_leads, in_features, out_features, bias=True):
    """n_leads independent linear maps as one grouped 1x1 conv: (B, n_leads * in, 1) -> (B, n_leads * out, 1).
    Lead l's weights are weight[l * out:(l + 1) * out, :, 0]."""
    return nn.Conv1d(n_leads * in_features, n_leads * out_features, 1, groups=n_leads, bias=bias)


class ECG12Net(nn.Module):

    def __init__(self, config):
        super().__init__()
        self.config = config
        n_leads, n_hidden = config.n_leads, config.attention_hidden
        self.trunks = nn.ModuleList(LeadTrunk(config) for _ in range(1 if config.shared_trunk else n_leads))
        n_features = self.trunks[0].n_features
        self.dropout = nn.Dropout(config.dropout)
        # e_l = v_l . ReLU(BN(W_l f_l))
        self.attention = nn.Sequential(
            lead_linear(n_leads, n_features, n_hidden, bias=False),
            nn.BatchNorm1d(n_leads * n_hidden),
            nn.ReLU(inplace=True),
            lead_linear(n_leads, n_hidden, 1))
        self.heads = nn.ModuleDict({name: lead_linear(n_leads, n_features, size)
                                    for name, size in head_sizes(config).items()})
        if "regression" in self.heads:   # start at the middle of the range, not at 0 mEq/L
            nn.init.constant_(self.heads["regression"].bias, 0.5 * (K_MIN_MEQ_L + K_MAX_MEQ_L))
        if config.emp_features:
            # ECG12Net-2: EMPNet's last hidden layer joins the attention as a 13th member beside the leads,
            # with its own prediction and score; its two hidden layers play the part of W_l for it.
            # (The paper's text does not say how EMPNet is joined; this is our reading of "added to".)
            self.emp_net = nn.Sequential(
                nn.Linear(config.emp_features, config.emp_hidden, bias=False),
                nn.BatchNorm1d(config.emp_hidden),
                nn.ReLU(inplace=True),
                nn.Linear(config.emp_hidden, config.emp_hidden, bias=False),
                nn.BatchNorm1d(config.emp_hidden),
                nn.ReLU(inplace=True))
            self.emp_attention = nn.Linear(config.emp_hidden, 1)
            self.emp_heads = nn.ModuleDict({name: nn.Linear(config.emp_hidden, size)
                                            for name, size in head_sizes(config).items()})

    def lead_features(self, x):
        """(B, n_leads, samples) -> last feature maps (B, n_leads, 864, ceil(samples / 64))."""
        batch, n_leads, n_samples = x.shape
        if len(self.trunks) == 1:
            maps = self.trunks[0](x.reshape(batch * n_leads, 1, n_samples))
            return maps.reshape(batch, n_leads, maps.shape[1], maps.shape[2])
        return torch.stack([trunk(x[:, l:l + 1]) for l, trunk in enumerate(self.trunks)], dim=1)

    def forward(self, x, emp=None):
        """x: (B, n_leads, input_samples) ECG in mV at 500 Hz. emp: (B, emp_features) standardised ECG
        measurements (heart rate, PR, QRS, QT, QTc, P axis, QRS axis, T axis), for ECG12Net-2 only.
        Returns a dict; which entries depends on config.head:
            k               (B,)          K+ in mEq/L (regression head; the ordinal estimate if that is the only K head)
            lead_k          (B, n_leads)  each lead's own K+ estimate
            k_ordinal       (B,)          1.5 + 0.1 * sum sigmoid(ordinal_logits)       ["ordinal", "all"]
            ordinal_logits  (B, 60)       attention-weighted threshold logits            ["ordinal", "all"]
            group_logits, group_probs (B, 5)  the K+ groups of GROUP_NAMES               ["groups", "all"]
            lead_attention  (B, n_leads)  alpha_l; sums to 1 (to 1 - emp_attention with EMPNet)
            emp_attention   (B,)          EMPNet's share of the attention                [emp_features > 0]
            features        (B, n_leads, 864, T/64)  last feature maps, for CAMs
        Each combined output is sum_l alpha_l z_l over the leads' head outputs z_l (logits for the classifiers)."""
        config = self.config
        assert x.shape[1:] == (config.n_leads, config.input_samples), f"input {tuple(x.shape)}"
        assert (emp is not None) == bool(config.emp_features), "emp goes with config.emp_features > 0"
        maps = self.lead_features(x)
        batch, n_leads, n_features, _ = maps.shape
        f = self.dropout(maps.mean(dim=3)).reshape(batch, n_leads * n_features, 1)
        scores = self.attention(f).reshape(batch, n_leads)
        z = {name: head(f).reshape(batch, n_leads, -1) for name, head in self.heads.items()}
        if emp is not None:
            h = self.dropout(self.emp_net(emp))
            scores = torch.cat([scores, self.emp_attention(h)], dim=1)
            z = {name: torch.cat([z[name], head(h)[:, None]], dim=1) for name, head in self.emp_heads.items()}
        alpha = torch.softmax(scores, dim=1)
        combined = {name: (alpha[:, :, None] * z[name]).sum(dim=1) for name in z}

        out = {}
        if "regression" in z:
            out["k"] = combined["regression"][:, 0]
            out["lead_k"] = z["regression"][:, :n_leads, 0]
        elif "ordinal" in z:
            out["k"] = ordinal_k(combined["ordinal"])
            out["lead_k"] = ordinal_k(z["ordinal"][:, :n_leads])
        if "ordinal" in z:
            out["k_ordinal"] = ordinal_k(combined["ordinal"])
            out["ordinal_logits"] = combined["ordinal"]
        if "groups" in z:
            out["group_logits"] = combined["groups"]
            out["group_probs"] = torch.softmax(combined["groups"], dim=1)
        out["lead_attention"] = alpha[:, :n_leads]
        if emp is not None:
            out["emp_attention"] = alpha[:, n_leads]
        out["features"] = maps
        return out

    @torch.no_grad()
    def cam(self, x):
        """Class-activation maps (B, n_leads, samples): M_l(t) = sum_c w_lc F_lc(t), F_l the lead's last
        feature maps and w_l its regression head's weights, so a lead's K+ is the mean of M_l plus the head's
        bias. Resized linearly to the input length, then scaled to [0, 1] per lead: 1 is where the trace
        pushed that lead's estimate up most. Call it on an eval() model."""
        assert "regression" in self.heads, "CAMs use the regression head: config.head 'regression' or 'all'"
        maps = self.lead_features(x)
        n_leads, n_features = maps.shape[1], maps.shape[2]
        w = self.heads["regression"].weight.reshape(n_leads, n_features)
        m = torch.einsum("blct,lc->blt", maps, w)
        m = F.interpolate(m, size=x.shape[-1], mode="linear", align_corners=False)
        lo, hi = m.amin(dim=2, keepdim=True), m.amax(dim=2, keepdim=True)
        return (m - lo) / (hi - lo).clamp_min(1e-12)


def count_layers(model):
    """Trainable layers as the paper counts them: convolutions and linear maps, each with its BN and ReLU.
    Reference design: trunk 1 + 5 x 3 + 21 x 3 = 79; lead block 80 (+ the lead head: the heads of "all"
    sit side by side, one layer deep); total 82 (+ the two attention layers W_l and v_l). ECG12Net-2's
    EMPNet is a branch beside the leads and is not counted, as in the paper's 82 for ECG12Net-1."""
    trunk = sum(isinstance(m, nn.Conv1d) for m in model.trunks[0].modules())
    attention = sum(isinstance(m, nn.Conv1d) for m in model.attention)
    return {"trunk": trunk, "lead_block": trunk + 1, "total": trunk + 1 + attention}


@torch.no_grad()
def fold_batchnorm(model):
    """Eval-mode copy of model with every BN merged into the conv or linear layer just before it:
    w' = w * s, b' = (b - mean) * s + beta, s = gamma / sqrt(var + eps); the BN becomes an Identity.
    The trunk's final BN follows a concatenation, not a layer, and a ReLU follows it, so it cannot be
    folded either way: it stays as one per-channel scale and shift (BatchNormalization in ONNX)."""
    model = copy.deepcopy(model).eval()
    for seq in list(model.modules()):
        if not isinstance(seq, nn.Sequential):
            continue
        for i in range(1, len(seq)):
            layer, bn = seq[i - 1], seq[i]
            if isinstance(layer, (nn.Conv1d, nn.Linear)) and isinstance(bn, nn.BatchNorm1d):
                scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
                bias = layer.bias if layer.bias is not None else torch.zeros_like(bn.running_mean)
                layer.weight.mul_(scale.reshape(-1, *[1] * (layer.weight.dim() - 1)))
                layer.bias = nn.Parameter((bias - bn.running_mean) * scale + bn.bias)
                seq[i] = nn.Identity()
    return model


LEAD_PARTS = ("trunks", "attention", "heads")   # everything but EMPNet (ECG12Net-2)


def fold_lead_parts(net):
    """Replaces the lead blocks, attention and heads by their BN-folded form (the structure a train.py run with
    init_from loads, and export.load_checkpoint rebuilds)."""
    for name in LEAD_PARTS:
        setattr(net, name, fold_batchnorm(getattr(net, name)))
