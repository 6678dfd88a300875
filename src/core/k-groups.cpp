// core/k-groups.cpp: the paper's K+ groups and how an estimate is shown (kalium.h). In the core library, not the
// engine's, so the app's views use the same rule as the engine without linking the network.
#include "kalium.h"

#include <cstdio>

namespace kalium {

int k_group_of(double k) { return (k > 2.5) + (k > 3.5) + (k >= 5.5) + (k >= 6.5); }

std::string k_display(double k) {
    if (k < 1.5) return "<1.5";
    if (k > 7.5) return ">7.5";
    char text[16];
    std::snprintf(text, sizeof text, "%.1f", k);
    return text;
}

}  // namespace kalium
