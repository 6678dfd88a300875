// report/reliability.cpp: why an estimate is less reliable (analysis.h). Apart from analysis.cpp so that the app,
// which shows the mark but never analyses, links it without the network.
#include "analysis.h"

#include <algorithm>

namespace kalium {

std::vector<std::string> analysis_reliability_reasons(const std::vector<quality_warning> &quality) {
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

std::string analysis_reliability_text(const std::vector<std::string> &reasons) {
    if (reasons.empty()) return "";
    std::string text;
    for (const std::string &r : reasons) text += (text.empty() ? "" : "; ") + r;
    return text + ": less reliable";
}

}  // namespace kalium
