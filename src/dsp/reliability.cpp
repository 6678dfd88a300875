// dsp/reliability.cpp: why an estimate is less reliable (kalium.h, ecg_reliability_reasons), from the quality
// checks' findings. In the core library so that every client marks an estimate with this one rule: the
// preparation puts the reasons into network_input and the model into k_prediction (`kalium predict`,
// kalium_core, the archive scorer, the worker, `kalium report`), and the app shows them without the network.
#include "kalium.h"

#include <algorithm>

namespace kalium {

std::vector<std::string> ecg_reliability_reasons(const std::vector<quality_warning> &quality) {
    std::vector<std::string> reasons;
    auto add = [&](std::string reason) {
        if (std::find(reasons.begin(), reasons.end(), reason) == reasons.end()) reasons.push_back(std::move(reason));
    };
    for (const quality_warning &w : quality) {
        // "missing" leads stop the analysis before any estimate exists; every other kind is a failed check.
        if (w.kind == "pacing") add("paced rhythm");
        else if (w.kind == "reversal") add("electrode reversal suspected (" + w.lead + ")");
        else if (w.kind == "flat") add("lead " + w.lead + " flat");
        else if (w.kind == "saturated") add("lead " + w.lead + " saturated");
        else if (w.kind == "noise") add("lead " + w.lead + " noisy");
        else if (w.kind == "mains") add("mains interference");
        else if (w.kind == "missing_samples") add("lead " + w.lead + " has missing samples");
        else if (w.kind == "too_short") add("recording shorter than 10 s");
    }
    // the paced rhythm first: it is the reason a reader most needs to see
    std::stable_partition(reasons.begin(), reasons.end(), [](const std::string &r) { return r == "paced rhythm"; });
    return reasons;
}

std::string ecg_reliability_text(const std::vector<std::string> &reasons) {
    if (reasons.empty()) return "";
    std::string text;
    for (const std::string &r : reasons) text += (text.empty() ? "" : "; ") + r;
    return text + ": less reliable";
}

const char *ecg_reliability_status(const std::vector<std::string> &reasons) {
    return reasons.empty() ? "ok" : "less reliable";
}

}  // namespace kalium
