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
    if (p.has_k_range) {
        nlohmann::ordered_json balanced = nlohmann::ordered_json::object();
        for (int g = 0; g < k_group_count; g++) balanced[k_group_names[g]] = p.group_probs_balanced[g];
        j["k_plus_range"] = {p.k_low_meq_l, p.k_high_meq_l};
        j["k_plus_range_level"] = p.k_range_level;
        j["k_plus_balanced"] = p.k_location_meq_l;
        j["group_probs_balanced"] = balanced;
        j["population"] = p.population;
        j["k_plus_flag"] = p.flag < 0 ? "hypokalemia" : p.flag > 0 ? "hyperkalemia" : nlohmann::ordered_json(nullptr);
    } else {
        for (const char *key : {"k_plus_range", "k_plus_range_level", "k_plus_balanced", "group_probs_balanced", "population",
                                "k_plus_flag"})
            j[key] = nullptr;
    }
    // the reliability mark (kalium.h, ecg_reliability_reasons): the cli shape says "ok" or "less reliable", the
    // app shape the mark as the app shows it ("paced rhythm: less reliable", "" when none)
    j["reliability"] = app ? ecg_reliability_text(p.reliability_reasons) : std::string(ecg_reliability_status(p.reliability_reasons));
    j["reliability_reasons"] = p.reliability_reasons;
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

nlohmann::ordered_json prediction_file_json(const std::string &file, const result<k_prediction> &prediction) {
    if (!prediction) return file_error_json(file, prediction.error());
    nlohmann::ordered_json j;
    j["file"] = file;
    prediction_json_add(j, prediction.value(), prediction_json_shape::cli);
    return j;
}

nlohmann::ordered_json file_error_json(const std::string &file, const status &error) {
    nlohmann::ordered_json j;
    j["file"] = file;
    j["error"] = error.message();
    j["error_code"] = status_code_name(error.code());
    return j;
}

std::string json_text(const nlohmann::ordered_json &j, int indent) {
    return j.dump(indent, ' ', /*ensure_ascii=*/false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace kalium
