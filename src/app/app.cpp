// app/app.cpp: the frame function, the main layout, keyboard shortcuts and the entry bookkeeping (see app.h).
// The selection and the screen calibration, which the panels also use, are in app-state.cpp.
//
// Index of this file
//   [SECTION] Style and fonts
//   [SECTION] Actions (shared by buttons and shortcuts)
//   [SECTION] Views
//   [SECTION] Lifecycle
//   [SECTION] Entries
#include "app.h"
#include "ecg-view.h"
#include "fonts.h"  // generated: k_font_dejavu_sans
#include "panels.h"

#include "kalium.h"

#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <initializer_list>

namespace {

constexpr float k_body_font_css_px = 15.0f;
constexpr float k_small_font_css_px = 13.0f;
constexpr float k_title_font_css_px = 22.0f;
constexpr float k_huge_font_css_px = 56.0f;

// [SECTION] Style and fonts ---------------------------------------------------------------------------

void style_apply(float scale) {
    ImGuiStyle style;  // start from defaults so repeated rescaling does not compound
    ImGui::StyleColorsLight(&style);
    style.WindowRounding = 0.0f;
    style.FrameRounding = 4.0f;
    style.ChildRounding = 4.0f;
    style.PopupRounding = 6.0f;
    style.GrabRounding = 3.0f;
    style.GrabMinSize = 6.0f;  // a thin slider grab leaves the value readable
    style.FramePadding = ImVec2(9.0f, 5.0f);
    style.ItemSpacing = ImVec2(8.0f, 6.0f);
    style.WindowPadding = ImVec2(12.0f, 10.0f);
    style.CellPadding = ImVec2(6.0f, 3.0f);
    style.ChildBorderSize = 1.0f;
    ImVec4 *c = style.Colors;
    c[ImGuiCol_WindowBg] = ImVec4(0.965f, 0.969f, 0.976f, 1.0f);
    c[ImGuiCol_ChildBg] = ImVec4(1.0f, 1.0f, 1.0f, 1.0f);
    c[ImGuiCol_PopupBg] = ImVec4(1.0f, 1.0f, 1.0f, 1.0f);
    c[ImGuiCol_Border] = ImVec4(0.80f, 0.82f, 0.86f, 1.0f);
    c[ImGuiCol_Text] = ImVec4(0.10f, 0.11f, 0.13f, 1.0f);
    c[ImGuiCol_TextDisabled] = ImVec4(0.42f, 0.45f, 0.50f, 1.0f);
    c[ImGuiCol_Button] = ImVec4(0.90f, 0.92f, 0.95f, 1.0f);
    c[ImGuiCol_ButtonHovered] = ImVec4(0.80f, 0.86f, 0.94f, 1.0f);
    c[ImGuiCol_ButtonActive] = ImVec4(0.70f, 0.79f, 0.92f, 1.0f);
    c[ImGuiCol_FrameBg] = ImVec4(0.90f, 0.92f, 0.95f, 1.0f);
    c[ImGuiCol_Header] = ImVec4(0.80f, 0.87f, 0.97f, 1.0f);
    c[ImGuiCol_HeaderHovered] = ImVec4(0.86f, 0.91f, 0.98f, 1.0f);
    c[ImGuiCol_HeaderActive] = ImVec4(0.74f, 0.83f, 0.96f, 1.0f);
    c[ImGuiCol_TableHeaderBg] = ImVec4(0.93f, 0.94f, 0.96f, 1.0f);
    c[ImGuiCol_TableRowBgAlt] = ImVec4(0.975f, 0.978f, 0.985f, 1.0f);
    c[ImGuiCol_CheckMark] = ImVec4(0.16f, 0.35f, 0.66f, 1.0f);
    c[ImGuiCol_SliderGrab] = ImVec4(0.16f, 0.35f, 0.66f, 1.0f);
    c[ImGuiCol_PlotHistogram] = ImVec4(0.16f, 0.35f, 0.66f, 1.0f);
    c[ImGuiCol_ModalWindowDimBg] = ImVec4(0.1f, 0.1f, 0.15f, 0.35f);
    style.ScaleAllSizes(scale);
    ImGui::GetStyle() = style;
}

void fonts_build(app_state &app) {
    ImGuiIO &io = ImGui::GetIO();
    io.Fonts->Clear();
    ImFontConfig config;
    config.FontDataOwnedByAtlas = false;  // the TTF bytes are static data embedded in the binary
    config.OversampleH = 2;
    // Latin-1 plus the punctuation, Greek and maths the app writes (en dash, bullet, ellipsis, <=, >=, Delta).
    // The embedded font is cut to these code points (src/app/CMakeLists.txt, kalium_font_unicodes): keep both.
    static const ImWchar ranges[] = {0x0020, 0x00FF, 0x0370, 0x03FF, 0x2010, 0x2027, 0x2190, 0x2193, 0x2212, 0x2212,
                                     0x2264, 0x2265, 0};
    const float scale = app.device_pixel_ratio;
    auto add = [&](float css_px) {
        return io.Fonts->AddFontFromMemoryTTF(const_cast<unsigned char *>(k_font_dejavu_sans),
                                              static_cast<int>(k_font_dejavu_sans_size), std::round(css_px * scale),
                                              &config, ranges);
    };
    app.font_body = add(k_body_font_css_px);
    app.font_small = add(k_small_font_css_px);
    app.font_title = add(k_title_font_css_px);
    app.font_huge = add(k_huge_font_css_px);
    io.Fonts->Build();
    io.FontDefault = app.font_body;
    app.fonts_changed = true;
}

// [SECTION] Actions (shared by buttons and shortcuts) -------------------------------------------------

void action_open(app_state &app) {
    if (app.hooks.open_file_picker) app.hooks.open_file_picker(app.hooks.user);
}
void action_examples(app_state &app) {
    if (app.hooks.load_examples) app.hooks.load_examples(app.hooks.user);
}
void action_export(app_state &app, const char *kind) {
    if (app.hooks.export_results) app.hooks.export_results(kind, app.hooks.user);
}
void action_report(app_state &app) {
    const app_entry *e = app_selected_entry(app);
    if (e && e->status == app_entry_status::done) app.report_requested = true;
    else app.notice = "Select an analysed ECG to export its report.";
}
}  // namespace

bool app_export_pdf(app_state &app, kalium::report_paper paper) {
    const app_entry *e = app_selected_entry(app);
    if (!e || e->status != app_entry_status::done) {
        app.notice = "Select an analysed ECG to export its PDF report.";
        return false;
    }
    auto pdf = kalium::report_pdf(*e, {paper, std::string("kalium ") + kalium::version_string()});
    if (!pdf) {
        app.notice = pdf.error().message();
        return false;
    }
    const std::string name = kalium::report_file_name(e->name);
    if (app.hooks.download_bytes)
        app.hooks.download_bytes(name.c_str(), "application/pdf", pdf.value().data(), pdf.value().size(), app.hooks.user);
    app.notice = "PDF report saved: " + name;
    return true;
}

namespace {

void action_cycle_layout(app_state &app) {
    app_view &v = app.view;
    v.layout = v.layout == app_layout::l3x4_rhythm ? app_layout::l6x2
               : v.layout == app_layout::l6x2      ? app_layout::l12x1
                                                   : app_layout::l3x4_rhythm;
    v.caliper.present = false;
}
void action_cycle_gain(app_state &app) {
    float &g = app.view.gain_mm_mv;
    g = g == 5.0f ? 10.0f : g == 10.0f ? 20.0f : 5.0f;
}
void action_zoom(app_state &app, float factor) { app.view.zoom = std::clamp(app.view.zoom * factor, 0.25f, 8.0f); }

// Moves the selection by `step` rows in the worklist's order.
void action_step_selection(app_state &app, int step) {
    if (app.entries.empty()) return;
    if (app.worklist_order.size() != app.entries.size()) panel_sort_worklist(app);
    int row = -1;
    for (size_t i = 0; i < app.worklist_order.size(); i++)
        if (app.entries[app.worklist_order[i]].id == app.selected_id) row = static_cast<int>(i);
    const int count = static_cast<int>(app.worklist_order.size());
    row = row < 0 ? (step > 0 ? 0 : count - 1) : std::clamp(row + step, 0, count - 1);
    app_select(app, app.entries[app.worklist_order[row]].id, true);
}

void handle_shortcuts(app_state &app) {
    const ImGuiIO &io = ImGui::GetIO();
    if (io.WantTextInput || ImGui::IsPopupOpen(nullptr, ImGuiPopupFlags_AnyPopupId)) return;
    auto pressed = [](ImGuiKey key) { return ImGui::IsKeyPressed(key, /*repeat=*/false); };
    auto repeated = [](ImGuiKey key) { return ImGui::IsKeyPressed(key, /*repeat=*/true); };
    if (io.KeyCtrl || io.KeySuper || io.KeyAlt) return;  // leave the browser's own shortcuts alone
    app_view &v = app.view;
    if (pressed(ImGuiKey_O)) action_open(app);
    if (pressed(ImGuiKey_X)) action_examples(app);
    if (pressed(ImGuiKey_H)) v.overlay = !v.overlay;
    if (pressed(ImGuiKey_M)) v.heatmap_columns = !v.heatmap_columns;
    if (pressed(ImGuiKey_L)) action_cycle_layout(app);
    if (pressed(ImGuiKey_S)) v.speed_mm_s = v.speed_mm_s == 25.0f ? 50.0f : 25.0f;
    if (pressed(ImGuiKey_G)) action_cycle_gain(app);
    if (pressed(ImGuiKey_C)) v.caliper_mode = !v.caliper_mode;
    if (pressed(ImGuiKey_E)) action_export(app, "csv");
    if (pressed(ImGuiKey_J)) action_export(app, "json");
    if (pressed(ImGuiKey_P)) action_report(app);
    if (pressed(ImGuiKey_R)) app_export_pdf(app, kalium::report_paper::a4);
    if (pressed(ImGuiKey_Escape)) {
        v.caliper.present = false;
        v.caliper_mode = false;
    }
    if (pressed(ImGuiKey_0)) {
        v.zoom = 1.0f;
        v.pan_mm = ImVec2(0, 0);
    }
    if (repeated(ImGuiKey_Equal) || repeated(ImGuiKey_KeypadAdd)) action_zoom(app, 1.25f);
    if (repeated(ImGuiKey_Minus) || repeated(ImGuiKey_KeypadSubtract)) action_zoom(app, 1.0f / 1.25f);
    const float step_mm = 10.0f / v.zoom;
    if (repeated(ImGuiKey_LeftArrow)) v.pan_mm.x -= step_mm;
    if (repeated(ImGuiKey_RightArrow)) v.pan_mm.x += step_mm;
    if (io.KeyShift) {
        if (repeated(ImGuiKey_UpArrow)) v.pan_mm.y -= step_mm;
        if (repeated(ImGuiKey_DownArrow)) v.pan_mm.y += step_mm;
    } else {
        if (repeated(ImGuiKey_UpArrow)) action_step_selection(app, -1);
        if (repeated(ImGuiKey_DownArrow)) action_step_selection(app, +1);
    }
}

// [SECTION] Views ---------------------------------------------------------------------------------------

bool primary_button(const char *label) {
    ImGui::PushStyleColor(ImGuiCol_Button, ImVec4(0.16f, 0.35f, 0.66f, 1.0f));
    ImGui::PushStyleColor(ImGuiCol_ButtonHovered, ImVec4(0.22f, 0.44f, 0.78f, 1.0f));
    ImGui::PushStyleColor(ImGuiCol_ButtonActive, ImVec4(0.12f, 0.28f, 0.55f, 1.0f));
    ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 1.0f, 1.0f, 1.0f));
    const bool clicked = ImGui::Button(label);
    ImGui::PopStyleColor(4);
    return clicked;
}

void tooltip(const char *text) {
    if (ImGui::IsItemHovered(ImGuiHoveredFlags_DelayShort)) ImGui::SetTooltip("%s", text);
}

// The narrow layout's top bar: the name and one Menu button that holds every action of the wide top bar.
void draw_top_bar_narrow(app_state &app, bool any_done) {
    const char *menu_label = "Menu";
    const float button_w = ImGui::CalcTextSize(menu_label).x + 2 * ImGui::GetStyle().FramePadding.x;
    ImGui::SameLine();
    ImGui::SetCursorPosX(std::max(ImGui::GetCursorPosX(), ImGui::GetWindowContentRegionMax().x - button_w));
    if (primary_button(menu_label)) ImGui::OpenPopup("menu");
    app.menu_open = ImGui::BeginPopup("menu");
    if (app.menu_open) {
        if (ImGui::MenuItem("Open ECG files", "O")) action_open(app);
        if (ImGui::MenuItem("Try an example", "X")) action_examples(app);
        ImGui::Separator();
        if (ImGui::MenuItem("Export CSV", "E", false, any_done)) action_export(app, "csv");
        if (ImGui::MenuItem("Export JSON", "J", false, any_done)) action_export(app, "json");
        if (ImGui::MenuItem("Export PNG", "P", false, any_done)) action_report(app);
        if (ImGui::MenuItem("Export PDF", "R", false, any_done)) app_export_pdf(app, kalium::report_paper::a4);
        ImGui::Separator();
        if (ImGui::MenuItem("Calibrate screen")) app.calibration.open = true;
        ImGui::EndPopup();
    }
}

void draw_top_bar(app_state &app) {
    ImGui::PushFont(app.font_title);
    ImGui::TextUnformatted("kalium");
    ImGui::PopFont();
    const bool any_done = std::any_of(app.entries.begin(), app.entries.end(),
                                      [](const app_entry &e) { return e.status != app_entry_status::working; });
    if (app.narrow) {
        draw_top_bar_narrow(app, any_done);
        return;
    }
    app.menu_open = false;
    // Right-aligned action buttons; the subtitle only when there is room for it too, and the buttons on a
    // line of their own when even they do not fit beside the title.
    const char *labels[] = {"Open ECG files", "Try an example", "Export CSV", "Export JSON", "Export PNG", "Export PDF",
                            "Calibrate screen"};
    float width = 0.0f;
    for (const char *l : labels) width += ImGui::CalcTextSize(l).x + 2 * ImGui::GetStyle().FramePadding.x + ImGui::GetStyle().ItemSpacing.x;
    char subtitle[96];
    std::snprintf(subtitle, sizeof(subtitle), "K+ from the 12-lead ECG \u00b7 %s \u00b7 research use only", kalium::version_string());
    ImGui::SameLine();
    if (ImGui::GetContentRegionAvail().x > width + ImGui::CalcTextSize(subtitle).x + ImGui::GetStyle().ItemSpacing.x) {
        ImGui::AlignTextToFramePadding();
        ImGui::TextDisabled("%s", subtitle);
        ImGui::SameLine();
    }
    if (ImGui::GetContentRegionAvail().x < width) ImGui::NewLine();
    ImGui::SetCursorPosX(std::max(ImGui::GetCursorPosX(), ImGui::GetWindowContentRegionMax().x - width));
    if (primary_button(labels[0])) action_open(app);
    tooltip("Open ECG files (O). You can also drop files anywhere on the page.");
    ImGui::SameLine();
    if (ImGui::Button(labels[1])) action_examples(app);
    tooltip("Load the bundled synthetic example ECGs, one per K+ group (X).");
    ImGui::SameLine();
    ImGui::BeginDisabled(!any_done);
    if (ImGui::Button(labels[2])) action_export(app, "csv");
    tooltip("Every result of the worklist as CSV (E).");
    ImGui::SameLine();
    if (ImGui::Button(labels[3])) action_export(app, "json");
    tooltip("Every result of the worklist as JSON (J).");
    ImGui::SameLine();
    if (ImGui::Button(labels[4])) action_report(app);
    tooltip("The selected ECG with its overlays and result as a PNG report (P).");
    ImGui::SameLine();
    if (ImGui::Button(labels[5])) app_export_pdf(app, kalium::report_paper::a4);
    tooltip("The selected ECG as a printable A4 PDF report: 25 mm/s, 10 mm/mV on a 1 mm / 5 mm grid, with the result (R).");
    ImGui::EndDisabled();
    ImGui::SameLine();
    if (ImGui::Button(labels[6])) app.calibration.open = true;
    tooltip("Match a credit card on screen so ECGs are drawn at true millimetres.");
}

void draw_view_toolbar(app_state &app) {
    app_view &v = app.view;
    const float dpr = app.device_pixel_ratio;
    // Compact buttons: the whole toolbar fits above the paper at 1280 CSS px.
    ImGui::PushStyleVar(ImGuiStyleVar_FramePadding, ImVec2(6.0f * dpr, ImGui::GetStyle().FramePadding.y));
    auto segmented = [&](const char *label, bool active) {
        if (active) {
            ImGui::PushStyleColor(ImGuiCol_Button, ImVec4(0.16f, 0.35f, 0.66f, 1.0f));
            ImGui::PushStyleColor(ImGuiCol_ButtonHovered, ImVec4(0.22f, 0.44f, 0.78f, 1.0f));
            ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1, 1, 1, 1));
        }
        const bool clicked = ImGui::Button(label);
        if (active) ImGui::PopStyleColor(3);
        ImGui::SameLine(0.0f, 2.0f * dpr);
        return clicked;
    };
    // Width of a group of a caption and buttons; a group that does not fit goes to the next line.
    const ImGuiStyle &style = ImGui::GetStyle();
    auto group_width = [&](std::initializer_list<const char *> labels) {
        float w = 0.0f;
        for (const char *l : labels) w += ImGui::CalcTextSize(l).x + 2.0f * style.FramePadding.x + 2.0f * dpr;  // buttons of a group are 2 px apart
        return w;
    };
    auto next_group = [&](float width) {
        ImGui::SameLine(0.0f, 10.0f * dpr);
        if (ImGui::GetContentRegionAvail().x < width) ImGui::NewLine();
    };
    if (segmented("3x4+II", v.layout == app_layout::l3x4_rhythm)) v.layout = app_layout::l3x4_rhythm, v.caliper.present = false;
    if (segmented("6x2", v.layout == app_layout::l6x2)) v.layout = app_layout::l6x2, v.caliper.present = false;
    if (segmented("12x1", v.layout == app_layout::l12x1)) v.layout = app_layout::l12x1, v.caliper.present = false;
    next_group(group_width({"mm/s", "25", "50"}));
    ImGui::AlignTextToFramePadding();
    ImGui::TextDisabled("mm/s");
    ImGui::SameLine();
    if (segmented("25", v.speed_mm_s == 25.0f)) v.speed_mm_s = 25.0f;
    if (segmented("50", v.speed_mm_s == 50.0f)) v.speed_mm_s = 50.0f;
    next_group(group_width({"mm/mV", "5", "10", "20"}));
    ImGui::AlignTextToFramePadding();
    ImGui::TextDisabled("mm/mV");
    ImGui::SameLine();
    if (segmented("5", v.gain_mm_mv == 5.0f)) v.gain_mm_mv = 5.0f;
    if (segmented("10", v.gain_mm_mv == 10.0f)) v.gain_mm_mv = 10.0f;
    if (segmented("20", v.gain_mm_mv == 20.0f)) v.gain_mm_mv = 20.0f;
    next_group(group_width({"Heatmap", "columns"}) + ImGui::GetFrameHeight() + 96.0f * dpr);
    ImGui::Checkbox("Heatmap", &v.overlay);
    tooltip("The network's class-activation map on each lead, inside the 2.5 s window it read (H).");
    ImGui::SameLine();
    ImGui::SetNextItemWidth(90.0f * dpr);
    ImGui::BeginDisabled(!v.overlay);
    ImGui::DragFloat("##opacity", &v.overlay_opacity, 0.01f, 0.0f, 1.0f, "opacity %.1f", ImGuiSliderFlags_AlwaysClamp);
    tooltip("Heatmap opacity: drag left or right (or double-click to type).");
    ImGui::SameLine(0.0f, 4.0f * dpr);
    if (segmented("columns", v.heatmap_columns)) v.heatmap_columns = !v.heatmap_columns;
    tooltip("Heatmap as whole columns over each lead's strip instead of a band along the trace (M).");
    ImGui::EndDisabled();
    next_group(group_width({"Caliper"}));
    if (segmented("Caliper", v.caliper_mode)) v.caliper_mode = !v.caliper_mode;
    tooltip("Caliper (C): drag on a trace to measure an interval (ms, bpm) and a voltage change (mV). Esc clears.");
    next_group(group_width({"\u2212", "100%", "+"}));
    if (ImGui::Button("\u2212")) action_zoom(app, 1.0f / 1.25f);
    ImGui::SameLine(0.0f, 2.0f * dpr);
    char zoom[16];
    std::snprintf(zoom, sizeof(zoom), "%.0f%%", v.zoom * 100.0f);
    if (ImGui::Button(zoom)) v.zoom = 1.0f, v.pan_mm = ImVec2(0, 0);
    tooltip("Zoom: wheel or +/-; this button (or 0) resets zoom and pan.");
    ImGui::SameLine(0.0f, 2.0f * dpr);
    if (ImGui::Button("+")) action_zoom(app, 1.25f);
    ImGui::PopStyleVar();
}

void draw_ecg_area(app_state &app, ImVec2 size) {
    app_entry *e = app_selected_entry(app);
    ImGui::BeginChild("ecg", size, ImGuiChildFlags_Border, ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse);
    draw_view_toolbar(app);
    const ImVec2 min = ImGui::GetCursorScreenPos();
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    const ImVec2 max(min.x + avail.x, min.y + avail.y);
    app.paper_origin_px = min;
    ecg_view_draw(app, e, min, max, app.px_per_mm * app.view.zoom, app.view.pan_mm, /*interactive=*/true);

    // Messages on the paper when there is no trace to show.
    auto centred = [&](const char *text, ImFont *font, ImU32 colour, float dy) {
        const ImVec2 ts = font->CalcTextSizeA(font->FontSize, avail.x * 0.9f, avail.x * 0.9f, text);
        const ImVec2 p((min.x + max.x - ts.x) * 0.5f, (min.y + max.y) * 0.5f + dy);
        ImDrawList *dl = ImGui::GetWindowDrawList();
        dl->AddRectFilled(ImVec2(p.x - 12, p.y - 6), ImVec2(p.x + ts.x + 12, p.y + ts.y + 6), IM_COL32(255, 255, 255, 225), 6);
        dl->AddText(font, font->FontSize, p, colour, text, nullptr, avail.x * 0.9f);
    };
    if (!e) {
        centred("Drop ECG files here, or press O to open them, X to try an example", app.font_title, IM_COL32(60, 60, 70, 255), -20.0f);
    } else if (e->status == app_entry_status::working) {
        const std::string text = "Analysing " + e->name + "\u2026";
        centred(text.c_str(), app.font_title, IM_COL32(60, 60, 70, 255), -20.0f);
    } else if (e->status == app_entry_status::failed) {
        // The reader's message usually names the file already.
        const std::string &error = e->result.error;
        const std::string text = error.compare(0, e->name.size(), e->name) == 0 ? error : e->name + ": " + error;
        centred(text.c_str(), app.font_body, IM_COL32(160, 20, 10, 255), -10.0f);
    } else if (e->sample_count == 0) {
        centred("No signal was sent for this ECG.", app.font_body, IM_COL32(60, 60, 70, 255), -10.0f);
    }
    ImGui::EndChild();
}

void draw_status_bar(app_state &app) {
    const app_entry *e = app_selected_entry(app);
    const ecg_caliper_reading reading = ecg_caliper_read(app, e);
    ImGui::PushFont(app.font_small);
    if (app.progress_total > 0 && app.progress_done < app.progress_total) {
        char text[48];
        std::snprintf(text, sizeof(text), "%d of %d analysed", app.progress_done, app.progress_total);
        ImGui::ProgressBar(static_cast<float>(app.progress_done) / app.progress_total, ImVec2(220.0f * app.device_pixel_ratio, 0.0f), text);
        ImGui::SameLine();
    }
    const app_view &v = app.view;
    ImGui::AlignTextToFramePadding();
    ImGui::TextDisabled("%s \u00b7 %.0f mm/s \u00b7 %.0f mm/mV \u00b7 %s \u00b7 %.2f px/mm%s", app_layout_name(v.layout), v.speed_mm_s,
                        v.gain_mm_mv, v.caliper_mode ? "caliper: drag on a trace" : "drag to pan, wheel to zoom",
                        app.px_per_mm * v.zoom, app.calibrated ? " (calibrated)" : "");
    if (reading.valid) {
        ImGui::SameLine();
        ImGui::TextColored(ImVec4(0.08f, 0.35f, 0.78f, 1.0f), "Caliper %.0f ms \u00b7 %.0f bpm \u00b7 %+.2f mV", reading.dt_ms, reading.bpm,
                           reading.dv_mv);
    }
    if (!app.notice.empty()) {
        ImGui::SameLine();
        ImGui::TextUnformatted(app.notice.c_str());
    }
    const char *keys = "O open \u00b7 X examples \u00b7 H/M heatmap \u00b7 L layout \u00b7 S speed \u00b7 G gain \u00b7 C caliper \u00b7 "
                       "E/J/P/R export \u00b7 \u2191\u2193 entries";
    const float w = ImGui::CalcTextSize(keys).x;
    ImGui::SameLine();
    if (ImGui::GetContentRegionAvail().x > w + 20.0f * app.device_pixel_ratio) {
        ImGui::SetCursorPosX(ImGui::GetWindowContentRegionMax().x - w);
        ImGui::TextDisabled("%s", keys);
    } else {
        ImGui::NewLine();
    }
    ImGui::PopFont();
}

void mirror_view(app_state &app) {
    std::string json = app_view_json(app);
    if (json == app.last_mirror) return;
    app.last_mirror = std::move(json);
    if (app.hooks.mirror_view) app.hooks.mirror_view(app.last_mirror.c_str(), app.hooks.user);
}

}  // namespace

const char *app_layout_name(app_layout layout) {
    switch (layout) {
        case app_layout::l3x4_rhythm: return "3x4+II";
        case app_layout::l6x2: return "6x2";
        case app_layout::l12x1: return "12x1";
    }
    return "3x4+II";
}

std::string app_view_json(const app_state &app) {
    const app_view &v = app.view;
    const app_entry *e = nullptr;
    for (const app_entry &x : app.entries)
        if (x.id == app.selected_id) e = &x;
    const ecg_caliper_reading c = ecg_caliper_read(app, e);
    char caliper[128] = "null";
    if (c.valid) std::snprintf(caliper, sizeof(caliper), "{\"dt_ms\":%.1f,\"bpm\":%.1f,\"dv_mv\":%.3f}", c.dt_ms, c.bpm, c.dv_mv);
    std::string panels = "[";
    for (const app_state::screen_panel &p : app.screen_panels) {
        char one[96];
        std::snprintf(one, sizeof(one), "%s[%d,%.2f,%.2f,%.1f,%.1f,%.1f]", panels.size() > 1 ? "," : "", p.lead, p.t_begin_s, p.t_end_s,
                      p.x_css, p.baseline_css, p.width_css);
        panels += one;
    }
    panels += "]";
    char text[512];
    std::snprintf(text, sizeof(text),
                  "{\"layout\":\"%s\",\"overlay\":%s,\"overlay_opacity\":%.2f,\"heatmap\":\"%s\",\"speed_mm_s\":%g,\"gain_mm_mv\":%g,"
                  "\"zoom\":%.3f,\"caliper_mode\":%s,\"caliper\":%s,\"selected\":%d,\"px_per_mm\":%.4f,\"calibrated\":%s,"
                  "\"narrow\":%s,\"menu_open\":%s,\"result_rect\":[%.0f,%.0f,%.0f,%.0f]}",
                  app_layout_name(v.layout), v.overlay ? "true" : "false", v.overlay_opacity,
                  v.heatmap_columns ? "columns" : "trace", v.speed_mm_s, v.gain_mm_mv,
                  v.zoom, v.caliper_mode ? "true" : "false", caliper, app.selected_id, app.px_per_mm * v.zoom,
                  app.calibrated ? "true" : "false", app.narrow ? "true" : "false", app.menu_open ? "true" : "false",
                  app.result_rect_css[0], app.result_rect_css[1], app.result_rect_css[2], app.result_rect_css[3]);
    // "panels": [lead, t_begin_s, t_end_s, x, baseline y, width] per strip, CSS pixels (for tests).
    std::string json = text;
    json.pop_back();
    return json + ",\"panels\":" + panels + "}";
}

// [SECTION] Lifecycle -------------------------------------------------------------------------------------

bool app_init(app_state &app, float device_pixel_ratio) {
    ImGui::GetIO().IniFilename = nullptr;  // nothing persisted behind the user's back
    app.device_pixel_ratio = device_pixel_ratio > 0.0f ? device_pixel_ratio : 1.0f;
    app.px_per_mm = app.css_px_per_mm * app.device_pixel_ratio;
    style_apply(app.device_pixel_ratio);
    fonts_build(app);
    if (!paper_grid_init(app.grid)) kalium::log_message(kalium::log_level::error, "%s", app.grid.error);
    return true;
}

void app_set_device_pixel_ratio(app_state &app, float device_pixel_ratio) {
    if (device_pixel_ratio <= 0.0f || std::fabs(device_pixel_ratio - app.device_pixel_ratio) < 1e-3f) return;
    app.device_pixel_ratio = device_pixel_ratio;
    app.px_per_mm = app.css_px_per_mm * device_pixel_ratio;
    style_apply(device_pixel_ratio);
    fonts_build(app);
}

void app_pinch_zoom(app_state &app, float scale, float x_css, float y_css) {
    if (!(scale > 0.0f) || !std::isfinite(scale)) return;
    app_view &v = app.view;
    const float px_per_mm = app.px_per_mm * v.zoom;
    const float new_zoom = std::clamp(v.zoom * scale, 0.25f, 8.0f);
    // the paper point under the fingers' centre stays under it (the paper's top-left: its last screen position)
    const float x_px = x_css * app.device_pixel_ratio - app.paper_origin_px.x, y_px = y_css * app.device_pixel_ratio - app.paper_origin_px.y;
    const ImVec2 at_mm(v.pan_mm.x + x_px / px_per_mm, v.pan_mm.y + y_px / px_per_mm);
    const float new_px_per_mm = app.px_per_mm * new_zoom;
    v.zoom = new_zoom;
    v.pan_mm = ImVec2(at_mm.x - x_px / new_px_per_mm, at_mm.y - y_px / new_px_per_mm);
}

void app_frame(app_state &app) {
    paper_grid_begin_frame(app.grid);
    handle_shortcuts(app);
    const ImGuiViewport *viewport = ImGui::GetMainViewport();
    ImGui::SetNextWindowPos(viewport->WorkPos);
    ImGui::SetNextWindowSize(viewport->WorkSize);
    const ImGuiWindowFlags flags = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                                   ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoSavedSettings |
                                   ImGuiWindowFlags_NoBringToFrontOnFocus | ImGuiWindowFlags_NoScrollWithMouse;
    const float dpr = app.device_pixel_ratio;
    app.narrow = viewport->WorkSize.x / dpr < k_app_narrow_css_px;
    // narrow: thin margins, every CSS pixel of width goes to the paper
    if (app.narrow) ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(3.0f * dpr, 3.0f * dpr));
    ImGui::Begin("kalium", nullptr, flags);
    draw_top_bar(app);

    const ImGuiStyle &style = ImGui::GetStyle();
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    const float status_h = ImGui::GetFrameHeightWithSpacing();
    auto note_result_rect = [&]() {
        const ImVec2 p = ImGui::GetWindowPos(), s = ImGui::GetWindowSize();
        const float rect[4] = {p.x / dpr, p.y / dpr, s.x / dpr, s.y / dpr};
        std::copy(rect, rect + 4, app.result_rect_css);
    };
    if (app.narrow) {
        // A phone's width holds about 9 cm of paper: an ECG opens with its traces' start at the left edge (the
        // calibration pulses one swipe to the right) so the traces fill the screen.
        if (app.selected_id != app.narrow_panned_id && app_selected_entry(app)) {
            const ecg_sheet sheet = ecg_sheet_layout(app.view.layout, app.view.speed_mm_s, app.view.gain_mm_mv, 10.0);
            if (!sheet.panels.empty()) app.view.pan_mm.x = sheet.panels[0].x_mm - 0.5f;
            app.narrow_panned_id = app.selected_id;
        }
        // Phones: the result first (compact: estimate, range, probabilities, per lead; scrolls), then the ECG paper
        // at the full width, then the worklist. Nothing is wider than the screen.
        const float result_h = std::clamp(avail.y * 0.30f, 150.0f * dpr, 320.0f * dpr);
        const float list_h = std::clamp(avail.y * 0.18f, 90.0f * dpr, 200.0f * dpr);
        const float paper_h = std::max(120.0f * dpr, avail.y - result_h - list_h - status_h - 2 * style.ItemSpacing.y);
        ImGui::BeginChild("result", ImVec2(avail.x, result_h), ImGuiChildFlags_Border);
        note_result_rect();
        panel_result(app, app_selected_entry(app), /*compact=*/false);
        ImGui::EndChild();
        draw_ecg_area(app, ImVec2(avail.x, paper_h));
        ImGui::BeginChild("worklist", ImVec2(avail.x, list_h), ImGuiChildFlags_Border);
        if (app.entries.empty()) ImGui::TextDisabled("Worklist: no ECGs yet.");
        else panel_worklist(app);
        ImGui::EndChild();
        draw_status_bar(app);
        panel_calibration(app);
        ImGui::End();
        ImGui::PopStyleVar();
        mirror_view(app);
        return;
    }
    const float worklist_h = std::clamp(avail.y * 0.26f, 120.0f * dpr, 260.0f * dpr);
    const float result_w = std::clamp(avail.x * 0.28f, 330.0f * dpr, 430.0f * dpr);
    const float main_h = std::max(100.0f * dpr, avail.y - worklist_h - status_h - style.ItemSpacing.y);

    draw_ecg_area(app, ImVec2(avail.x - result_w - style.ItemSpacing.x, main_h));
    ImGui::SameLine();
    ImGui::BeginChild("result", ImVec2(result_w, main_h), ImGuiChildFlags_Border);
    note_result_rect();
    panel_result(app, app_selected_entry(app), /*compact=*/false);
    ImGui::EndChild();

    const bool trend = panel_trend_available(app);
    const float trend_w = trend ? std::clamp(avail.x * 0.30f, 260.0f * dpr, 480.0f * dpr) : 0.0f;
    ImGui::BeginChild("worklist", ImVec2(avail.x - (trend ? trend_w + style.ItemSpacing.x : 0.0f), worklist_h), ImGuiChildFlags_Border);
    if (app.entries.empty()) {
        ImGui::TextDisabled("Worklist: no ECGs yet. Every file you open gets a row here, with its K+ estimate.");
    } else {
        panel_worklist(app);
    }
    ImGui::EndChild();
    if (trend) {
        ImGui::SameLine();
        ImGui::BeginChild("trend", ImVec2(trend_w, worklist_h), ImGuiChildFlags_Border);
        panel_trend(app, ImGui::GetContentRegionAvail());
        ImGui::EndChild();
    }
    draw_status_bar(app);
    if (app.grid.error[0]) ImGui::TextColored(ImVec4(0.7f, 0.0f, 0.0f, 1.0f), "%s", app.grid.error);
    panel_calibration(app);
    ImGui::End();
    mirror_view(app);
}

void app_shutdown(app_state &app) {
    paper_grid_shutdown(app.grid);
    app.entries.clear();
}

// [SECTION] Entries ---------------------------------------------------------------------------------------

void app_file_queued(app_state &app, int id, const char *name) {
    app_entry *e = app_find_entry(app, id);
    if (!e) {
        app.entries.emplace_back();
        e = &app.entries.back();
        e->id = id;
    }
    e->name = name ? name : "";
    e->status = app_entry_status::working;
    e->result = app_result();
    e->result.id = id;
    e->result.file = e->name;
    e->signal_uv.clear();
    e->cam.clear();
    e->lead_count = e->sample_count = 0;
    e->generation++;
    app.worklist_order.clear();  // re-sorted at the next frame
    if (!app_selected_entry(app)) app.selected_id = id;
}

void app_set_result(app_state &app, int id, const char *result_json, const float *signal_uv, int lead_count,
                    int sample_count, const float *cam, int cam_count) {
    app_entry *e = app_find_entry(app, id);
    if (!e) {
        // A result for an entry we were not told about: take it in all the same (the page is the authority).
        app_file_queued(app, id, "");
        e = app_find_entry(app, id);
    }
    if (!app_entry_set_result(*e, result_json, signal_uv, lead_count, sample_count, cam, cam_count))
        kalium::log_message(kalium::log_level::warning, "entry %d: %s", id, e->result.error.c_str());
    if (e->name.empty()) e->name = e->result.file;
    app.worklist_order.clear();
    // The newest finished entry becomes the selected one (the page mirrors it by itself).
    if (id != app.selected_id) app.view.caliper.present = false;
    app.selected_id = id;
}

void app_set_progress(app_state &app, int done, int total) {
    app.progress_done = std::max(0, done);
    app.progress_total = std::max(0, total);
}
