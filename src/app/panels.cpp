// app/panels.cpp: see panels.h.
//
// Index of this file
//   [SECTION] Helpers
//   [SECTION] Result panel
//   [SECTION] Worklist
//   [SECTION] Trend chart
//   [SECTION] Calibration dialog
#include "panels.h"
#include "ecg-view.h"
#include "kalium.h"   // ecg_reliability_text (src/dsp/reliability.cpp)
#include "report.h"    // report_lead_k_far

#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>


namespace {

// [SECTION] Helpers ------------------------------------------------------------------------------------

// A K+ value as kalium shows it (kalium::k_display), a dash when there is none.
std::string k_text(double k_meq_l) { return std::isfinite(k_meq_l) ? kalium::k_display(k_meq_l) : "\u2013"; }

// A horizontal bar: `fraction` of `width_px` filled, with `text` to its right.
void bar(app_state &app, float fraction, ImU32 colour, const char *text, float width_px) {
    const float h = ImGui::GetTextLineHeight() * 0.75f;
    const ImVec2 p = ImGui::GetCursorScreenPos();
    const float y = p.y + (ImGui::GetTextLineHeight() - h) * 0.5f;
    ImDrawList *dl = ImGui::GetWindowDrawList();
    const float r = 2.0f * app.device_pixel_ratio;
    dl->AddRectFilled(ImVec2(p.x, y), ImVec2(p.x + width_px, y + h), IM_COL32(226, 229, 234, 255), r);
    const float f = std::clamp(fraction, 0.0f, 1.0f);
    if (f > 0.0f) dl->AddRectFilled(ImVec2(p.x, y), ImVec2(p.x + std::max(width_px * f, 2.0f), y + h), colour, r);
    ImGui::Dummy(ImVec2(width_px, ImGui::GetTextLineHeight()));
    if (text) {
        ImGui::SameLine();
        ImGui::TextUnformatted(text);
    }
}

void heading(app_state &app, const char *text) {
    ImGui::Spacing();
    ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.35f, 0.38f, 0.44f, 1.0f));
    ImGui::PushFont(app.font_small);
    ImGui::TextUnformatted(text);
    ImGui::PopFont();
    ImGui::PopStyleColor();
    ImGui::Separator();
}

std::string format_measurement(const app_measurements &m, int k) {
    if (!m.present || !m.has[k]) return "\u2013";
    char text[32];
    std::snprintf(text, sizeof(text), "%.0f %s", m.value[k], k_app_measurement_units[k]);
    return text;
}

const char *short_time(const std::string &iso) {
    // "2019-03-01T10:22:05" -> "2019-03-01 10:22"
    static char text[32];
    if (iso.size() >= 16) std::snprintf(text, sizeof(text), "%.10s %.5s", iso.c_str(), iso.c_str() + 11);
    else std::snprintf(text, sizeof(text), "%s", iso.c_str());
    return text;
}

}  // namespace

// [SECTION] Result panel ------------------------------------------------------------------------------

void panel_result_details(app_state &app, const app_entry *entry) {
    if (!entry || entry->status != app_entry_status::done) return;
    const app_result &r = entry->result;
    if (r.measurements.present || r.cart_measurements.present) {
        heading(app, "MEASUREMENTS");
        const ImVec2 table_size(std::min(ImGui::GetContentRegionAvail().x, 420.0f * app.device_pixel_ratio), 0.0f);
        if (ImGui::BeginTable("measurements", 3, ImGuiTableFlags_SizingStretchSame | ImGuiTableFlags_RowBg, table_size)) {
            ImGui::TableSetupColumn("");
            ImGui::TableSetupColumn("kalium");
            ImGui::TableSetupColumn("cart");
            ImGui::TableHeadersRow();
            for (int k = 0; k < k_app_measurement_count; k++) {
                if (!(r.measurements.has[k] || r.cart_measurements.has[k])) continue;
                ImGui::TableNextRow();
                ImGui::TableSetColumnIndex(0);
                ImGui::TextUnformatted(k_app_measurement_labels[k]);
                ImGui::TableSetColumnIndex(1);
                ImGui::TextUnformatted(format_measurement(r.measurements, k).c_str());
                ImGui::TableSetColumnIndex(2);
                ImGui::TextUnformatted(format_measurement(r.cart_measurements, k).c_str());
            }
            ImGui::EndTable();
        }
    }

    heading(app, "MODEL");
    ImGui::PushFont(app.font_small);
    ImGui::Text("%s \u00b7 %.8s", r.model_name.empty() ? "unknown model" : r.model_name.c_str(), r.model_sha256.c_str());
    if (r.infer_ms > 0) {
        ImGui::SameLine();
        ImGui::TextDisabled("\u00b7 %.0f ms", r.infer_ms);
    }
    ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.62f, 0.22f, 0.0f, 1.0f));
    ImGui::TextWrapped("%s", kalium::k_model_statement);
    ImGui::PopStyleColor();
    ImGui::PopFont();
}

void panel_result(app_state &app, const app_entry *entry, bool compact) {
    const float dpr = app.device_pixel_ratio;
    if (!entry) {
        ImGui::PushFont(app.font_title);
        ImGui::TextUnformatted("No ECG selected");
        ImGui::PopFont();
        ImGui::TextWrapped("Drop ECG files on the page, use Open ECG files (O), or Try an example (X). "
                           "Files are read inside this page and never leave your computer.");
        heading(app, "ABOUT THE ESTIMATE");
        ImGui::PushFont(app.font_small);
        ImGui::TextWrapped("%s", kalium::k_model_statement);
        ImGui::PopFont();
        return;
    }
    const app_result &r = entry->result;
    ImGui::PushFont(app.font_small);
    ImGui::TextDisabled("%s", entry->name.c_str());
    if (!r.patient_id.empty() || !r.start_time.empty())
        ImGui::TextDisabled("%s%s%s", r.patient_id.empty() ? "" : ("Patient " + r.patient_id).c_str(),
                            r.patient_id.empty() || r.start_time.empty() ? "" : "  \u00b7  ", short_time(r.start_time));
    ImGui::PopFont();

    if (entry->status == app_entry_status::working) {
        ImGui::PushFont(app.font_title);
        ImGui::TextUnformatted("Analysing\u2026");
        ImGui::PopFont();
        return;
    }
    if (entry->status == app_entry_status::failed) {
        ImGui::PushFont(app.font_title);
        ImGui::TextColored(ImVec4(0.70f, 0.10f, 0.05f, 1.0f), "Cannot analyse this file");
        ImGui::PopFont();
        ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.55f, 0.08f, 0.04f, 1.0f));
        ImGui::TextWrapped("%s", r.error.c_str());
        ImGui::PopStyleColor();
        return;
    }

    // K+ big, in its group's colour.
    ImGui::PushFont(app.font_small);
    ImGui::TextUnformatted("Estimated serum K+");
    ImGui::PopFont();
    const ImU32 group_colour = ecg_group_colour(r.group);
    ImGui::PushFont(app.font_huge);
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(group_colour));
    ImGui::TextUnformatted(r.has_k_plus ? r.k_plus_display.c_str() : "\u2013");
    ImGui::PopStyleColor();
    ImGui::PopFont();
    ImGui::SameLine();
    {
        // Unit and group pill, aligned with the number's lower half.
        ImGui::BeginGroup();
        ImGui::Dummy(ImVec2(1, app.font_huge->FontSize * 0.22f));
        ImGui::TextUnformatted("mEq/L");
        const char *label = r.group_label.empty() ? "unknown" : r.group_label.c_str();
        const ImVec2 ts = ImGui::CalcTextSize(label);
        const ImVec2 p = ImGui::GetCursorScreenPos();
        const float pad = 6.0f * dpr;
        ImGui::GetWindowDrawList()->AddRectFilled(p, ImVec2(p.x + ts.x + 2 * pad, p.y + ts.y + pad), group_colour, 10.0f * dpr);
        ImGui::GetWindowDrawList()->AddText(ImVec2(p.x + pad, p.y + pad * 0.5f), IM_COL32_WHITE, label);
        ImGui::Dummy(ImVec2(ts.x + 2 * pad, ts.y + pad));
        ImGui::EndGroup();
    }

    if (!r.k_plus_flag.empty()) {
        // the flag: this ECG ranks among an emergency department's most likely dyskalemic ECGs
        const bool low = r.k_plus_flag == "hypokalemia";
        char text[160];
        std::snprintf(text, sizeof(text), "Flagged: %s more likely than for most ED patients. Check serum K+.",
                      r.k_plus_flag.c_str());
        ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(ecg_group_colour(low ? 1 : 3)));
        ImGui::TextWrapped("%s", text);
        ImGui::PopStyleColor();
    }
    if (!r.reliability_reasons.empty()) {
        // the reliability mark: why this number should be trusted less (a wide QRS is never one of the reasons)
        ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.70f, 0.25f, 0.0f, 1.0f));
        ImGui::TextWrapped("%s", kalium::ecg_reliability_text(r.reliability_reasons).c_str());
        ImGui::PopStyleColor();
    }
    if (r.has_k_range) {
        ImGui::Text("%.0f %% range %s\u2013%s mEq/L", r.k_range_level * 100.0, k_text(r.k_low).c_str(),
                    k_text(r.k_high).c_str());
        ImGui::PushFont(app.font_small);
        ImGui::TextWrapped("The K+ estimate is the middle of this range. Both assume an emergency department's "
                           "prevalence (about 1 in 5 hypokalemic, 1 in 37 hyperkalemic).");
        ImGui::PopFont();
    }

    const float bar_w = std::max(60.0f * dpr, ImGui::GetContentRegionAvail().x * 0.45f);
    if (r.has_group_probs) {
        heading(app, r.population.empty() ? "GROUP PROBABILITIES (mEq/L)" : "GROUP PROBABILITIES, ED PREVALENCE");
        for (int g = 0; g < k_app_group_count; g++) {
            ImGui::AlignTextToFramePadding();
            ImGui::TextUnformatted(k_app_group_keys[g]);
            ImGui::SameLine(70.0f * dpr);
            char text[24];
            std::snprintf(text, sizeof(text), "%.0f%%", r.group_probs[g] * 100.0);
            bar(app, static_cast<float>(r.group_probs[g]), ecg_group_colour(g), text, bar_w);
        }
        if (r.has_group_probs_balanced) {
            char text[160];
            std::snprintf(text, sizeof(text), "If every group were equally likely: %.0f / %.0f / %.0f / %.0f / %.0f %%",
                          r.group_probs_balanced[0] * 100.0, r.group_probs_balanced[1] * 100.0,
                          r.group_probs_balanced[2] * 100.0, r.group_probs_balanced[3] * 100.0,
                          r.group_probs_balanced[4] * 100.0);
            ImGui::PushFont(app.font_small);
            ImGui::TextDisabled("%s", text);
            ImGui::PopFont();
        }
    }

    if (r.lead_k.size() == 12 || r.lead_attention.size() == 12) {
        heading(app, "PER LEAD: K+ ESTIMATE AND ATTENTION");
        const ImGuiTableFlags flags = ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_RowBg;
        if (ImGui::BeginTable("leads", 3, flags)) {
            const float col_w = (ImGui::GetContentRegionAvail().x - ImGui::CalcTextSize("aVR  ").x) * 0.5f - 8.0f * dpr;
            ImGui::TableSetupColumn("Lead", ImGuiTableColumnFlags_WidthFixed, ImGui::CalcTextSize("aVR").x);
            ImGui::TableSetupColumn("K+ (mEq/L)", ImGuiTableColumnFlags_WidthFixed, col_w);
            ImGui::TableSetupColumn("Attention", ImGuiTableColumnFlags_WidthFixed, col_w);
            ImGui::PushFont(app.font_small);
            ImGui::TableHeadersRow();
            double max_attention = 1e-9;
            for (double a : r.lead_attention) max_attention = std::max(max_attention, a);
            for (int l = 0; l < 12; l++) {
                ImGui::TableNextRow();
                ImGui::TableSetColumnIndex(0);
                ImGui::TextUnformatted(l < static_cast<int>(r.lead_names.size()) ? r.lead_names[l].c_str() : k_app_lead_names[l]);
                char text[24];
                if (l < static_cast<int>(r.lead_k.size())) {
                    ImGui::TableSetColumnIndex(1);
                    const double k = r.lead_k[l];
                    // the main estimate's rule: no value outside 1.5-7.5 is shown as if it were one; "!" marks a
                    // lead far from the estimate's range (report_lead_k_far)
                    const bool far = kalium::report_lead_k_far(k, r);
                    std::snprintf(text, sizeof(text), "%s%s", k_text(k).c_str(), far ? " !" : "");
                    const int g = kalium::k_group_of(k);
                    bar(app, static_cast<float>((k - 1.5) / 6.0), ecg_group_colour(g, 0.85f), text, col_w - ImGui::CalcTextSize("-00.0 ").x);
                }
                if (l < static_cast<int>(r.lead_attention.size())) {
                    ImGui::TableSetColumnIndex(2);
                    std::snprintf(text, sizeof(text), "%.0f%%", r.lead_attention[l] * 100.0);
                    bar(app, static_cast<float>(r.lead_attention[l] / max_attention), ecg_heat_colour(0.6f, 0.9f), text,
                        col_w - ImGui::CalcTextSize("000%").x);
                }
            }
            ImGui::PopFont();
            ImGui::EndTable();
        }
    }

    if (!r.warnings.empty()) {
        heading(app, r.warnings.size() == 1 ? "SIGNAL-QUALITY WARNING" : "SIGNAL-QUALITY WARNINGS");
        ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.62f, 0.30f, 0.0f, 1.0f));
        for (const std::string &w : r.warnings) ImGui::TextWrapped("\u2022 %s", w.c_str());
        ImGui::PopStyleColor();
    }
    if (r.display_truncated) ImGui::TextDisabled("Only the first 60 s of the record are shown.");

    if (!compact) panel_result_details(app, entry);
}

// [SECTION] Worklist -----------------------------------------------------------------------------------

void panel_sort_worklist(app_state &app) {
    std::vector<int> &order = app.worklist_order;
    order.resize(app.entries.size());
    for (size_t i = 0; i < order.size(); i++) order[i] = static_cast<int>(i);
    if (app.sort_column < 0) {
        if (app.sort_descending) std::reverse(order.begin(), order.end());
        return;
    }
    const int column = app.sort_column;
    const bool descending = app.sort_descending;
    auto key_k = [&](const app_entry &e) {
        return e.status == app_entry_status::done && e.result.has_k_plus ? e.result.k_plus : (descending ? -1e9 : 1e9);
    };
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
        const app_entry &x = app.entries[a], &y = app.entries[b];
        int c = 0;
        switch (column) {
            case 0: c = x.id < y.id ? -1 : x.id > y.id; break;
            case 1: c = x.name.compare(y.name); break;
            case 2: c = x.result.patient_id.compare(y.result.patient_id); break;
            case 3: c = x.result.start_time.compare(y.result.start_time); break;
            case 4: case 5: c = key_k(x) < key_k(y) ? -1 : key_k(x) > key_k(y); break;
            case 6: c = x.result.warnings.size() < y.result.warnings.size() ? -1 : x.result.warnings.size() > y.result.warnings.size(); break;
        }
        return descending ? c > 0 : c < 0;
    });
}

void panel_worklist(app_state &app) {
    const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerH | ImGuiTableFlags_ScrollY |
                                  ImGuiTableFlags_Sortable | ImGuiTableFlags_SortTristate | ImGuiTableFlags_Resizable |
                                  ImGuiTableFlags_SizingStretchProp;
    if (!ImGui::BeginTable("worklist", 7, flags)) return;
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("#", ImGuiTableColumnFlags_DefaultSort | ImGuiTableColumnFlags_WidthFixed, ImGui::CalcTextSize("0000").x);
    ImGui::TableSetupColumn("File", ImGuiTableColumnFlags_WidthStretch, 3.0f);
    ImGui::TableSetupColumn("Patient", ImGuiTableColumnFlags_WidthStretch, 1.4f);
    ImGui::TableSetupColumn("Time", ImGuiTableColumnFlags_WidthStretch, 1.6f);
    // K+ with its 80 % range ("4.7 (3.6\u20135.4)"): the worklist says as much about the uncertainty as the panel
    ImGui::TableSetupColumn("K+ (range)", ImGuiTableColumnFlags_WidthFixed, ImGui::CalcTextSize("<1.5 (<1.5\u20130.0)").x);
    ImGui::TableSetupColumn("Group", ImGuiTableColumnFlags_WidthStretch, 1.8f);
    ImGui::TableSetupColumn("Warnings", ImGuiTableColumnFlags_WidthFixed, ImGui::CalcTextSize("Warnings").x + 2.0f * ImGui::GetStyle().CellPadding.x);
    ImGui::TableHeadersRow();
    if (ImGuiTableSortSpecs *specs = ImGui::TableGetSortSpecs()) {
        if (specs->SpecsDirty || app.worklist_order.size() != app.entries.size()) {
            if (specs->SpecsCount > 0) {
                app.sort_column = specs->Specs[0].ColumnIndex;
                app.sort_descending = specs->Specs[0].SortDirection == ImGuiSortDirection_Descending;
            } else {
                app.sort_column = -1;
                app.sort_descending = false;
            }
            specs->SpecsDirty = false;
            panel_sort_worklist(app);
        }
    }
    if (app.worklist_order.size() != app.entries.size()) panel_sort_worklist(app);
    for (int index : app.worklist_order) {
        const app_entry &e = app.entries[index];
        const app_result &r = e.result;
        ImGui::TableNextRow();
        ImGui::TableSetColumnIndex(0);
        ImGui::PushID(e.id);
        char id_text[16];
        std::snprintf(id_text, sizeof(id_text), "%d", e.id);
        const bool selected = e.id == app.selected_id;
        if (ImGui::Selectable(id_text, selected, ImGuiSelectableFlags_SpanAllColumns)) app_select(app, e.id, true);
        if (selected && ImGui::IsWindowAppearing()) ImGui::SetScrollHereY();
        ImGui::PopID();
        ImGui::TableSetColumnIndex(1);
        ImGui::TextUnformatted(e.name.c_str());
        ImGui::TableSetColumnIndex(2);
        ImGui::TextUnformatted(r.patient_id.c_str());
        ImGui::TableSetColumnIndex(3);
        ImGui::TextUnformatted(short_time(r.start_time));
        ImGui::TableSetColumnIndex(4);
        if (e.status == app_entry_status::working) {
            ImGui::TextDisabled("Analysing\u2026");
        } else if (e.status == app_entry_status::failed) {
            ImGui::TextColored(ImVec4(0.70f, 0.10f, 0.05f, 1.0f), "failed");
            if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", r.error.c_str());
        } else {
            ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(ecg_group_colour(r.group)));
            ImGui::TextUnformatted(r.k_plus_display.c_str());
            ImGui::PopStyleColor();
            if (r.has_k_range) {
                ImGui::SameLine();
                ImGui::TextDisabled("(%s\u2013%s)", k_text(r.k_low).c_str(), k_text(r.k_high).c_str());
                if (ImGui::IsItemHovered())
                    ImGui::SetTooltip("%.0f %% range at an emergency department's prevalence; the estimate is its middle.",
                                      r.k_range_level * 100.0);
            }
        }
        ImGui::TableSetColumnIndex(5);
        if (e.status == app_entry_status::done) {
            const ImVec2 p = ImGui::GetCursorScreenPos();
            const float s = ImGui::GetTextLineHeight() * 0.55f;
            const float y = p.y + (ImGui::GetTextLineHeight() - s) * 0.5f;
            ImGui::GetWindowDrawList()->AddRectFilled(ImVec2(p.x, y), ImVec2(p.x + s, y + s), ecg_group_colour(r.group), s * 0.5f);
            ImGui::Dummy(ImVec2(s, s));
            ImGui::SameLine();
            ImGui::TextUnformatted(r.group_label.c_str());
            if (!r.k_plus_flag.empty()) {  // the flag, in the colour of the group it points at
                ImGui::SameLine();
                ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(ecg_group_colour(r.k_plus_flag == "hypokalemia" ? 1 : 3)),
                                   "\u00b7 %s flag", r.k_plus_flag.c_str());
            }
            if (!r.reliability_reasons.empty()) {  // the reliability mark, its reasons on hover
                ImGui::SameLine();
                ImGui::TextColored(ImVec4(0.70f, 0.25f, 0.0f, 1.0f), "\u00b7 %s: less reliable",
                                   r.reliability_reasons.size() == 1 ? r.reliability_reasons[0].c_str() : "several reasons");
                if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", kalium::ecg_reliability_text(r.reliability_reasons).c_str());
            }
        } else if (e.status == app_entry_status::failed) {
            ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.55f, 0.08f, 0.04f, 1.0f));
            ImGui::TextUnformatted(r.error.c_str());
            ImGui::PopStyleColor();
        }
        ImGui::TableSetColumnIndex(6);
        if (!r.warnings.empty()) {
            ImGui::TextColored(ImVec4(0.62f, 0.30f, 0.0f, 1.0f), "%zu", r.warnings.size());
            if (ImGui::IsItemHovered()) {
                std::string all;
                for (const std::string &w : r.warnings) all += "\u2022 " + w + "\n";
                ImGui::SetTooltip("%s", all.c_str());
            }
        }
    }
    ImGui::EndTable();
}

// [SECTION] Trend chart --------------------------------------------------------------------------------

namespace {

struct trend_point {
    double t_s, k;
    int group, id;
};

std::vector<trend_point> trend_points(const app_state &app) {
    std::vector<trend_point> points;
    const app_entry *selected = nullptr;
    for (const app_entry &e : app.entries)
        if (e.id == app.selected_id) selected = &e;
    if (!selected || selected->result.patient_id.empty()) return points;
    for (const app_entry &e : app.entries)
        if (e.status == app_entry_status::done && e.result.has_k_plus && e.has_start_time &&
            e.result.patient_id == selected->result.patient_id)
            points.push_back({e.start_time_s, e.result.k_plus, e.result.group, e.id});
    std::sort(points.begin(), points.end(), [](const trend_point &a, const trend_point &b) { return a.t_s < b.t_s; });
    return points;
}

std::string format_epoch(double t_s, bool with_date) {
    const std::time_t t = static_cast<std::time_t>(t_s);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[32];
    std::strftime(text, sizeof(text), with_date ? "%Y-%m-%d %H:%M" : "%H:%M", &tm);
    return text;
}

}  // namespace

bool panel_trend_available(const app_state &app) { return trend_points(app).size() >= 2; }

void panel_trend(app_state &app, ImVec2 size) {
    const std::vector<trend_point> points = trend_points(app);
    if (points.size() < 2) return;
    const float dpr = app.device_pixel_ratio;
    const app_entry *selected = app_selected_entry(app);
    ImGui::PushFont(app.font_small);
    ImGui::Text("K+ trend \u00b7 patient %s \u00b7 %zu ECGs", selected ? selected->result.patient_id.c_str() : "", points.size());
    ImGui::PopFont();
    const ImVec2 p0 = ImGui::GetCursorScreenPos();
    const ImVec2 avail(size.x, std::max(40.0f * dpr, size.y - ImGui::GetTextLineHeightWithSpacing()));
    ImGui::Dummy(avail);
    ImDrawList *dl = ImGui::GetWindowDrawList();
    const float left = p0.x + ImGui::CalcTextSize("7.5 ").x, right = p0.x + avail.x - 10.0f * dpr;
    const float top = p0.y + 4.0f * dpr, bottom = p0.y + avail.y - ImGui::GetTextLineHeight() - 4.0f * dpr;
    double k_lo = 2.0, k_hi = 7.0;
    for (const trend_point &p : points) {
        k_lo = std::min(k_lo, std::floor(p.k - 0.25));
        k_hi = std::max(k_hi, std::ceil(p.k + 0.25));
    }
    const double t_lo = points.front().t_s, t_hi = std::max(points.back().t_s, t_lo + 1.0);
    auto at = [&](double t, double k) {
        return ImVec2(left + static_cast<float>((t - t_lo) / (t_hi - t_lo)) * (right - left),
                      bottom - static_cast<float>((k - k_lo) / (k_hi - k_lo)) * (bottom - top));
    };
    dl->AddRectFilled(ImVec2(left, top), ImVec2(right, bottom), IM_COL32(255, 255, 255, 255));
    // The normal range 3.5-5.5 mEq/L, shaded.
    dl->AddRectFilled(ImVec2(left, at(t_lo, 5.5).y), ImVec2(right, at(t_lo, 3.5).y), IM_COL32(33, 133, 61, 28));
    const ImU32 axis = IM_COL32(150, 155, 165, 255);
    for (double k = std::ceil(k_lo); k <= k_hi + 1e-9; k += 1.0) {
        const float y = at(t_lo, k).y;
        dl->AddLine(ImVec2(left, y), ImVec2(right, y), IM_COL32(225, 228, 233, 255));
        char text[8];
        std::snprintf(text, sizeof(text), "%.0f", k);
        dl->AddText(ImVec2(p0.x, y - ImGui::GetTextLineHeight() * 0.5f), axis, text);
    }
    dl->AddRect(ImVec2(left, top), ImVec2(right, bottom), axis);
    const bool same_day = static_cast<long>(t_lo / 86400) == static_cast<long>(t_hi / 86400);
    const std::string first = format_epoch(t_lo, true), last = format_epoch(t_hi, !same_day);
    dl->AddText(ImVec2(left, bottom + 2.0f * dpr), axis, first.c_str());
    dl->AddText(ImVec2(right - ImGui::CalcTextSize(last.c_str()).x, bottom + 2.0f * dpr), axis, last.c_str());
    for (size_t i = 1; i < points.size(); i++)
        dl->AddLine(at(points[i - 1].t_s, points[i - 1].k), at(points[i].t_s, points[i].k), IM_COL32(60, 64, 72, 255), 1.5f * dpr);
    for (const trend_point &p : points) {
        const ImVec2 c = at(p.t_s, p.k);
        dl->AddCircleFilled(c, (p.id == app.selected_id ? 5.5f : 4.0f) * dpr, ecg_group_colour(p.group));
        if (p.id == app.selected_id) dl->AddCircle(c, 7.5f * dpr, IM_COL32(20, 20, 24, 255), 0, 1.5f * dpr);
    }
}

// [SECTION] Calibration dialog -------------------------------------------------------------------------

void panel_calibration(app_state &app) {
    constexpr float k_card_width_mm = 85.60f, k_card_height_mm = 53.98f;  // ISO/IEC 7810 ID-1
    app_calibration_dialog &d = app.calibration;
    const float dpr = app.device_pixel_ratio;
    if (d.open && !ImGui::IsPopupOpen("Screen calibration")) {
        ImGui::OpenPopup("Screen calibration");
        d.card_width_px = k_card_width_mm * app.px_per_mm;
    }
    const ImGuiViewport *viewport = ImGui::GetMainViewport();
    ImGui::SetNextWindowPos(viewport->GetCenter(), ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
    if (!ImGui::BeginPopupModal("Screen calibration", &d.open, ImGuiWindowFlags_AlwaysAutoResize)) return;
    ImGui::TextWrapped("Hold a credit card (or any ID-1 card, 85.60 mm wide) against the screen and drag the "
                       "outline's right edge (or use the slider) until it is exactly as wide as the card. ECGs are "
                       "then drawn at true millimetres on this screen; the setting is remembered in this browser.");
    const float max_w = std::min(viewport->WorkSize.x * 0.8f, k_card_width_mm * app.px_per_mm * 2.0f);
    ImGui::PushItemWidth(std::min(max_w, 520.0f * dpr));
    ImGui::SliderFloat("##card", &d.card_width_px, 150.0f * dpr * 0.5f, max_w, "%.0f px");
    ImGui::PopItemWidth();
    const float w = std::clamp(d.card_width_px, 40.0f * dpr, max_w);
    const float h = w * k_card_height_mm / k_card_width_mm;
    const ImVec2 p = ImGui::GetCursorScreenPos();
    ImGui::InvisibleButton("card", ImVec2(max_w + 12.0f * dpr, h + 8.0f * dpr));
    if (ImGui::IsItemActive()) d.card_width_px = std::clamp(ImGui::GetIO().MousePos.x - p.x, 40.0f * dpr, max_w);
    if (ImGui::IsItemHovered()) ImGui::SetMouseCursor(ImGuiMouseCursor_ResizeEW);
    ImDrawList *dl = ImGui::GetWindowDrawList();
    dl->AddRectFilled(p, ImVec2(p.x + w, p.y + h), IM_COL32(228, 236, 248, 255), 3.18f / k_card_width_mm * w);
    dl->AddRect(p, ImVec2(p.x + w, p.y + h), IM_COL32(40, 90, 170, 255), 3.18f / k_card_width_mm * w, 0, 2.0f * dpr);
    dl->AddRectFilled(ImVec2(p.x + w - 3.0f * dpr, p.y + h * 0.3f), ImVec2(p.x + w + 3.0f * dpr, p.y + h * 0.7f),
                      IM_COL32(40, 90, 170, 255), 2.0f * dpr);
    char text[64];
    std::snprintf(text, sizeof(text), "%.2f px/mm (%.1f CSS px/mm)", w / k_card_width_mm, w / k_card_width_mm / dpr);
    dl->AddText(ImVec2(p.x + 10.0f * dpr, p.y + 8.0f * dpr), IM_COL32(40, 60, 90, 255), text);
    if (ImGui::Button("Save")) {
        const float css_px_per_mm = w / k_card_width_mm / dpr;
        app_set_calibration(app, css_px_per_mm);
        if (app.hooks.store_calibration) app.hooks.store_calibration(app.css_px_per_mm, app.hooks.user);
        d.open = false;
        ImGui::CloseCurrentPopup();
    }
    ImGui::SameLine();
    if (ImGui::Button("Use the default (96 px per inch)")) {
        app.calibrated = false;
        app.css_px_per_mm = 96.0f / 25.4f;
        app.px_per_mm = app.css_px_per_mm * dpr;
        if (app.hooks.store_calibration) app.hooks.store_calibration(0.0f, app.hooks.user);
        d.open = false;
        ImGui::CloseCurrentPopup();
    }
    ImGui::SameLine();
    if (ImGui::Button("Cancel") || ImGui::IsKeyPressed(ImGuiKey_Escape)) {
        d.open = false;
        ImGui::CloseCurrentPopup();
    }
    ImGui::EndPopup();
}
