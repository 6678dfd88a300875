// app/app.cpp: the frame function and the views (see app.h).
//
// Index of this file
//   [SECTION] Style and fonts
//   [SECTION] Views
//   [SECTION] Lifecycle
#include "app.h"
#include "fonts.h"  // generated: k_font_dejavu_sans

#include "kalium.h"

#include <imgui.h>

#include <cmath>
#include <cstdio>

namespace {

constexpr float k_body_font_css_px = 15.0f;
constexpr float k_title_font_css_px = 26.0f;
constexpr float k_css_px_per_mm = 96.0f / 25.4f;  // CSS reference pixel

// [SECTION] Style and fonts ---------------------------------------------------------------------------

void style_apply(float scale) {
    ImGuiStyle style;  // start from defaults so repeated rescaling does not compound
    ImGui::StyleColorsLight(&style);
    style.WindowRounding = 0.0f;
    style.FrameRounding = 4.0f;
    style.ChildRounding = 6.0f;
    style.FramePadding = ImVec2(10.0f, 6.0f);
    style.ItemSpacing = ImVec2(10.0f, 8.0f);
    style.WindowPadding = ImVec2(18.0f, 14.0f);
    style.Colors[ImGuiCol_WindowBg] = ImVec4(0.97f, 0.97f, 0.98f, 1.0f);
    style.Colors[ImGuiCol_Button] = ImVec4(0.16f, 0.35f, 0.66f, 1.0f);
    style.Colors[ImGuiCol_ButtonHovered] = ImVec4(0.22f, 0.44f, 0.78f, 1.0f);
    style.Colors[ImGuiCol_ButtonActive] = ImVec4(0.12f, 0.28f, 0.55f, 1.0f);
    style.Colors[ImGuiCol_Text] = ImVec4(0.10f, 0.11f, 0.13f, 1.0f);
    style.ScaleAllSizes(scale);
    ImGui::GetStyle() = style;
}

void fonts_build(app_state &app) {
    ImGuiIO &io = ImGui::GetIO();
    io.Fonts->Clear();
    ImFontConfig config;
    config.FontDataOwnedByAtlas = false;  // the TTF bytes are static data embedded in the binary
    config.OversampleH = 2;
    const float scale = app.device_pixel_ratio;
    app.font_body = io.Fonts->AddFontFromMemoryTTF(const_cast<unsigned char *>(k_font_dejavu_sans),
                                                   static_cast<int>(k_font_dejavu_sans_size),
                                                   std::round(k_body_font_css_px * scale), &config);
    app.font_title = io.Fonts->AddFontFromMemoryTTF(const_cast<unsigned char *>(k_font_dejavu_sans),
                                                    static_cast<int>(k_font_dejavu_sans_size),
                                                    std::round(k_title_font_css_px * scale), &config);
    io.Fonts->Build();
    io.FontDefault = app.font_body;
    app.fonts_changed = true;
}

std::string format_size(size_t bytes) {
    char text[32];
    if (bytes < 1024) std::snprintf(text, sizeof(text), "%zu B", bytes);
    else if (bytes < 1024 * 1024) std::snprintf(text, sizeof(text), "%.1f KiB", bytes / 1024.0);
    else std::snprintf(text, sizeof(text), "%.1f MiB", bytes / (1024.0 * 1024.0));
    return text;
}

// [SECTION] Views ---------------------------------------------------------------------------------------

void draw_header(app_state &app) {
    ImGui::PushFont(app.font_title);
    ImGui::TextUnformatted("kalium");
    ImGui::PopFont();
    ImGui::SameLine();
    ImGui::AlignTextToFramePadding();
    ImGui::TextDisabled("%s  ·  serum potassium from the 12-lead ECG (ECG12Net)", kalium::version_string());
    ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.62f, 0.22f, 0.0f, 1.0f));
    ImGui::TextWrapped("Research use only, not a medical device. Do not use it to diagnose or treat patients.");
    ImGui::PopStyleColor();
    ImGui::TextWrapped("Files you open are read inside this page and never leave your computer.");
}

void draw_drop_zone(app_state &app) {
    const float height = std::max(ImGui::GetContentRegionAvail().y * 0.45f, 160.0f * app.device_pixel_ratio);
    // The paper goes into the parent window's draw list, under the child, so the child's padding does not
    // clip it: it fills the zone up to its border.
    const ImVec2 min = ImGui::GetCursorScreenPos();
    const ImVec2 max = ImVec2(min.x + ImGui::GetContentRegionAvail().x, min.y + height);
    paper_grid_draw(app.grid, ImGui::GetWindowDrawList(), min, max, app.px_per_mm);
    ImGui::BeginChild("drop-zone", ImVec2(0.0f, height), ImGuiChildFlags_Border, ImGuiWindowFlags_NoScrollbar);

    const char *prompt = "Drop ECG files here";
    const char *button = "Open ECG files";
    const ImVec2 prompt_size = ImGui::CalcTextSize(prompt);
    const ImVec2 button_size = ImVec2(ImGui::CalcTextSize(button).x + 2 * ImGui::GetStyle().FramePadding.x,
                                      ImGui::GetFrameHeight());
    const float block_height = prompt_size.y + ImGui::GetStyle().ItemSpacing.y + button_size.y;
    const ImVec2 avail = ImGui::GetWindowSize();
    ImGui::SetCursorPos(ImVec2((avail.x - prompt_size.x) * 0.5f, (avail.y - block_height) * 0.5f));
    ImGui::TextUnformatted(prompt);
    ImGui::SetCursorPosX((avail.x - button_size.x) * 0.5f);
    ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 1.0f, 1.0f, 1.0f));
    const bool clicked = ImGui::Button(button, button_size);
    ImGui::PopStyleColor();
    if (clicked && app.hooks.open_file_picker) app.hooks.open_file_picker(app.hooks.user);
    ImGui::EndChild();
}

void draw_file_list(app_state &app) {
    if (app.entries.empty()) {
        ImGui::TextDisabled("No files opened yet.");
        return;
    }
    ImGui::Text("%zu file%s opened", app.entries.size(), app.entries.size() == 1 ? "" : "s");
    const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerH | ImGuiTableFlags_ScrollY;
    if (ImGui::BeginTable("files", 3, flags)) {
        ImGui::TableSetupColumn("File", ImGuiTableColumnFlags_WidthFixed, ImGui::CalcTextSize("0").x * 36);
        ImGui::TableSetupColumn("Size", ImGuiTableColumnFlags_WidthFixed, ImGui::CalcTextSize("000.0 MiB").x);
        ImGui::TableSetupColumn("ECG", ImGuiTableColumnFlags_WidthStretch);
        ImGui::TableSetupScrollFreeze(0, 1);
        ImGui::TableHeadersRow();
        for (const app_ecg_entry &e : app.entries) {
            ImGui::TableNextRow();
            ImGui::TableSetColumnIndex(0);
            ImGui::TextUnformatted(e.name.c_str());
            ImGui::TableSetColumnIndex(1);
            ImGui::TextUnformatted(format_size(e.size_bytes).c_str());
            ImGui::TableSetColumnIndex(2);
            if (e.record) {
                ImGui::TextUnformatted(app_entry_summary(e).c_str());
            } else {
                ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.70f, 0.10f, 0.05f, 1.0f));
                ImGui::TextWrapped("%s", e.error.c_str());
                ImGui::PopStyleColor();
            }
        }
        ImGui::EndTable();
    }
}

}  // namespace

// [SECTION] Lifecycle -------------------------------------------------------------------------------------

bool app_init(app_state &app, float device_pixel_ratio) {
    ImGui::GetIO().IniFilename = nullptr;  // nothing persisted behind the user's back
    app.device_pixel_ratio = device_pixel_ratio > 0.0f ? device_pixel_ratio : 1.0f;
    app.px_per_mm = k_css_px_per_mm * app.device_pixel_ratio;
    style_apply(app.device_pixel_ratio);
    fonts_build(app);
    if (!paper_grid_init(app.grid)) kalium::log_message(kalium::log_level::error, "%s", app.grid.error);
    return true;
}

void app_set_device_pixel_ratio(app_state &app, float device_pixel_ratio) {
    if (device_pixel_ratio <= 0.0f || std::fabs(device_pixel_ratio - app.device_pixel_ratio) < 1e-3f) return;
    app.device_pixel_ratio = device_pixel_ratio;
    app.px_per_mm = k_css_px_per_mm * device_pixel_ratio;
    style_apply(device_pixel_ratio);
    fonts_build(app);
}

void app_frame(app_state &app) {
    app_read_pending(app);
    paper_grid_begin_frame(app.grid);
    const ImGuiViewport *viewport = ImGui::GetMainViewport();
    ImGui::SetNextWindowPos(viewport->WorkPos);
    ImGui::SetNextWindowSize(viewport->WorkSize);
    const ImGuiWindowFlags flags = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                                   ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoSavedSettings |
                                   ImGuiWindowFlags_NoBringToFrontOnFocus;
    ImGui::Begin("kalium", nullptr, flags);
    draw_header(app);
    ImGui::Spacing();
    draw_drop_zone(app);
    ImGui::Spacing();
    draw_file_list(app);
    if (app.grid.error[0]) ImGui::TextColored(ImVec4(0.7f, 0.0f, 0.0f, 1.0f), "%s", app.grid.error);
    ImGui::End();
}

void app_shutdown(app_state &app) {
    paper_grid_shutdown(app.grid);
    app.pending.clear();
    app.entries.clear();
}

void app_add_file(app_state &app, std::string name, std::vector<uint8_t> bytes) {
    app.pending.push_back(app_file{std::move(name), std::move(bytes)});
}

size_t app_read_pending(app_state &app) {
    if (app.pending.empty()) return 0;
    std::vector<kalium::named_bytes> files;
    for (const app_file &f : app.pending) files.push_back({f.name, f.bytes.data(), f.bytes.size()});
    std::vector<kalium::ecg_read_outcome> outcomes = kalium::ecg_read_all(files);
    size_t added = 0;
    for (kalium::ecg_read_outcome &o : outcomes) {
        app_ecg_entry entry;
        entry.name = o.name;
        for (const app_file &f : app.pending)
            if (f.name == o.name) entry.size_bytes = f.bytes.size();
        entry.record = std::move(o.record);
        entry.error = entry.record ? std::string() : o.error.message();
        if (entry.record)
            kalium::log_message(kalium::log_level::info, "read %s: %s", entry.name.c_str(), app_entry_summary(entry).c_str());
        else
            kalium::log_message(kalium::log_level::warning, "cannot read %s", entry.error.c_str());
        app.entries.push_back(std::move(entry));
        if (app.hooks.entry_added) app.hooks.entry_added(app.entries.back(), app.hooks.user);
        added++;
    }
    app.pending.clear();  // the bytes are not kept: records hold what the app needs
    return added;
}

std::string app_entry_summary(const app_ecg_entry &entry) {
    if (!entry.record) return entry.error;
    const kalium::ecg_record &r = *entry.record;
    size_t derived = 0;
    for (const kalium::ecg_lead &l : r.leads) derived += l.derived ? 1 : 0;
    char text[256];
    if (derived)
        std::snprintf(text, sizeof(text), "%s \u00b7 %zu leads (%zu derived) \u00b7 %g Hz \u00b7 %.1f s", r.format.c_str(),
                      r.leads.size(), derived, r.fs_hz, r.duration_s());
    else
        std::snprintf(text, sizeof(text), "%s \u00b7 %zu leads \u00b7 %g Hz \u00b7 %.1f s", r.format.c_str(), r.leads.size(),
                      r.fs_hz, r.duration_s());
    std::string summary = text;
    if (!r.warnings.empty()) summary += " \u00b7 " + std::to_string(r.warnings.size()) + (r.warnings.size() == 1 ? " warning" : " warnings");
    return summary;
}
