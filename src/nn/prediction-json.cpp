// nn/prediction-json.cpp: the JSON view of a k_prediction (see prediction-json.h).
#include "nn/prediction-json.h"

namespace kalium {

void prediction_json_add(nlohmann::ordered_json &j, const k_prediction &p, prediction_json_shape shape) {
    const bool app = shape == prediction_json_shape::app;
    const int group = p.group >= 0 && p.group < k_group_count ? p.group : 0;  // k_prediction keeps it in 0..4
    j["k_plus"] = p.k_meq_l;
    j["k_plus_display"] = p.k_display;
    if (app) j["group"] = group;
    else j["group"] = k_group_names[group];
    j["group_label"] = k_group_labels[group];
    nlohmann::ordered_json probs = nlohmann::ordered_json::object();
    if (p.has_group_probs)
        for (int g = 0; g < k_group_count; g++) probs[k_group_names[g]] = p.group_probs[g];
    j["group_probs"] = p.has_group_probs ? probs : nlohmann::ordered_json(nullptr);
    nlohmann::ordered_json lead_k = app ? nlohmann::ordered_json::array() : nlohmann::ordered_json::object();
    nlohmann::ordered_json attention = lead_k;
    for (int l = 0; l < k_standard_lead_count; l++) {
        if (app) {
            lead_k.push_back(p.lead_k[l]);
            attention.push_back(p.lead_attention[l]);
        } else {
            const char *name = lead_id_name(static_cast<lead_id>(l));
            lead_k[name] = p.lead_k[l];
            attention[name] = p.lead_attention[l];
        }
    }
    j["lead_k"] = lead_k;
    j["lead_attention"] = attention;
    j["warnings"] = p.warnings;
    j["model"] = {{"name", p.model_name}, {"sha256", p.model_sha256}};
}

}  // namespace kalium
