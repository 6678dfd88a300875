// ecg/record.cpp: lead names, finding leads, deriving missing limb leads, standard lead order.
#include "kalium.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>

namespace kalium {

namespace {

const char *const k_lead_names[k_standard_lead_count] = {"I", "II", "III", "aVR", "aVL", "aVF",
                                                         "V1", "V2", "V3", "V4", "V5", "V6"};

std::string normalise_label(std::string_view label) {
    std::string s;
    for (char c : label)
        if (!std::isspace(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.')
            s.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    // Prefixes files put before the lead name.
    for (const char *prefix : {"MDCECGLEAD", "LEAD", "ECG"}) {
        size_t n = std::char_traits<char>::length(prefix);
        if (s.size() > n && s.compare(0, n, prefix) == 0) {
            s.erase(0, n);
            break;
        }
    }
    return s;
}

}  // namespace

const char *lead_id_name(lead_id id) {
    int i = static_cast<int>(id);
    return i >= 0 && i < k_standard_lead_count ? k_lead_names[i] : "other";
}

lead_id lead_id_from_label(std::string_view label) {
    const std::string s = normalise_label(label);
    if (s.empty()) return lead_id::other;
    static const struct {
        const char *spelling;
        lead_id id;
    } k_spellings[] = {
        {"I", lead_id::I},     {"II", lead_id::II},   {"III", lead_id::III}, {"DI", lead_id::I},
        {"DII", lead_id::II},  {"DIII", lead_id::III}, {"AVR", lead_id::aVR}, {"AVL", lead_id::aVL},
        {"AVF", lead_id::aVF}, {"V1", lead_id::V1},   {"V2", lead_id::V2},   {"V3", lead_id::V3},
        {"V4", lead_id::V4},   {"V5", lead_id::V5},   {"V6", lead_id::V6},   {"C1", lead_id::V1},   {"C2", lead_id::V2},
        {"C3", lead_id::V3},   {"C4", lead_id::V4},   {"C5", lead_id::V5},   {"C6", lead_id::V6},
    };
    for (const auto &e : k_spellings)
        if (s == e.spelling) return e.id;
    return lead_id::other;
}

const ecg_lead *ecg_record::find(lead_id id) const {
    if (id == lead_id::other) return nullptr;
    for (const ecg_lead &l : leads)
        if (l.id == id) return &l;
    return nullptr;
}

ecg_lead *ecg_record::find(lead_id id) {
    return const_cast<ecg_lead *>(static_cast<const ecg_record *>(this)->find(id));
}

void ecg_derive_missing_limb_leads(ecg_record &record) {
    const size_t n = record.sample_count();
    auto derive = [&](lead_id id, auto formula) {
        ecg_lead lead;
        lead.name = lead_id_name(id);
        lead.id = id;
        lead.units = "uV";
        lead.derived = true;
        lead.samples_uv.resize(n);
        for (size_t t = 0; t < n; t++) lead.samples_uv[t] = formula(t);
        record.leads.push_back(std::move(lead));
    };
    // Einthoven: II = I + III. Any two give the third.
    const ecg_lead *i = record.find(lead_id::I), *ii = record.find(lead_id::II), *iii = record.find(lead_id::III);
    if (!i && ii && iii) {
        std::vector<float> a = ii->samples_uv, b = iii->samples_uv;
        derive(lead_id::I, [&](size_t t) { return a[t] - b[t]; });
    } else if (i && !ii && iii) {
        std::vector<float> a = i->samples_uv, b = iii->samples_uv;
        derive(lead_id::II, [&](size_t t) { return a[t] + b[t]; });
    } else if (i && ii && !iii) {
        std::vector<float> a = i->samples_uv, b = ii->samples_uv;
        derive(lead_id::III, [&](size_t t) { return b[t] - a[t]; });
    }
    i = record.find(lead_id::I);
    ii = record.find(lead_id::II);
    if (!i || !ii) return;
    // Goldberger's augmented leads from I and II.
    const std::vector<float> a = i->samples_uv, b = ii->samples_uv;
    if (!record.find(lead_id::aVR)) derive(lead_id::aVR, [&](size_t t) { return -0.5f * (a[t] + b[t]); });
    if (!record.find(lead_id::aVL)) derive(lead_id::aVL, [&](size_t t) { return a[t] - 0.5f * b[t]; });
    if (!record.find(lead_id::aVF)) derive(lead_id::aVF, [&](size_t t) { return b[t] - 0.5f * a[t]; });
}

void ecg_sort_leads(ecg_record &record) {
    std::stable_sort(record.leads.begin(), record.leads.end(), [](const ecg_lead &x, const ecg_lead &y) {
        return static_cast<int>(x.id) < static_cast<int>(y.id);  // lead_id::other sorts last
    });
}

}  // namespace kalium
