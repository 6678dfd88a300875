// The statement shown with every estimate (the app's panel and the PDF report): what the shipped model is, what it
// learnt from and what it achieves on real ECGs. Kept beside the model's facts in model/MODEL_CARD.md; change both
// when model/ecg12net-1.kmodel changes.
#include "kalium.h"

namespace kalium {

const char *const k_model_statement =
    "Research tool, not a medical device.\nThe network learnt from 39,392 generated ECGs (simulated, and real hmc "
    "emergency ECGs with K+ changes imposed at the rates emergency patients show them); its K+ heads were then fitted "
    "on 100 real emergency ECGs with known K+. Cross-validated on those 100, its AUC is 0.83 for K+ \u2264 3.5 and "
    "0.83 for \u2265 5.5 (authors' model: 0.92 / 0.91).\nEstimate, range and probabilities assume an emergency "
    "department's prevalence. A normal estimate never rules out hyperkalemia.";

}  // namespace kalium
