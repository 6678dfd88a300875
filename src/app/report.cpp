// app/report.cpp: the PNG report of the selected ECG (see app.h): one page with a header (file, patient,
// time, paper settings), the ECG on paper with the current layout, heatmap and caliper, and the result
// panel beside it; drawn by ImGui into the platform's offscreen framebuffer and encoded with stb_image_write.
#include "app.h"
#include "ecg-view.h"
#include "panels.h"

#include <imgui.h>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#include <stb/stb_image_write.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace {

constexpr float k_report_css_px_per_mm = 4.5f;  // ~114 dpi at a device pixel ratio of 1
constexpr float k_margin_mm = 8.0f;
constexpr float k_header_mm = 24.0f;
constexpr float k_result_column_mm = 105.0f;
constexpr float k_details_mm = 75.0f;  // measurements, model and statement under the paper

float report_px_per_mm(const app_state &app) { return k_report_css_px_per_mm * app.device_pixel_ratio; }

ecg_sheet report_sheet(const app_state &app, const app_entry &e) {
    const double duration_s = e.sample_count > 0 ? e.sample_count / e.result.fs_hz : 10.0;
    return ecg_sheet_layout(app.view.layout, app.view.speed_mm_s, app.view.gain_mm_mv, duration_s);
}

const app_entry *report_entry(const app_state &app) {
    for (const app_entry &e : app.entries)
        if (e.id == app.selected_id && e.status == app_entry_status::done) return &e;
    return nullptr;
}

void append_bytes(void *context, void *data, int size) {
    auto *out = static_cast<std::vector<uint8_t> *>(context);
    const uint8_t *bytes = static_cast<const uint8_t *>(data);
    out->insert(out->end(), bytes, bytes + size);
}

}  // namespace

bool app_report_wanted(const app_state &app) { return app.report_requested && report_entry(app) != nullptr; }

void app_report_size(const app_state &app, int &width_px, int &height_px) {
    const app_entry *e = report_entry(app);
    const float ppm = report_px_per_mm(app);
    float w_mm = 297.0f, h_mm = 210.0f;
    if (e) {
        const ecg_sheet sheet = report_sheet(app, *e);
        w_mm = std::max(w_mm, k_margin_mm * 3 + sheet.width_mm + k_result_column_mm);
        h_mm = std::max(h_mm, k_header_mm + sheet.height_mm + k_details_mm);
    }
    // The 12x1 layout of a 60 s record would be very wide: cap at what WebGL surely allocates.
    width_px = std::min(8192, static_cast<int>(std::lround(w_mm * ppm)));
    height_px = std::min(8192, static_cast<int>(std::lround(h_mm * ppm)));
}

void app_report_frame(app_state &app) {
    app.report_mode = true;
    paper_grid_begin_frame(app.grid);
    const app_entry *e = report_entry(app);
    const ImGuiIO &io = ImGui::GetIO();
    const float ppm = report_px_per_mm(app);
    ImGui::SetNextWindowPos(ImVec2(0, 0));
    ImGui::SetNextWindowSize(io.DisplaySize);
    ImGui::PushStyleColor(ImGuiCol_WindowBg, ImVec4(1, 1, 1, 1));
    ImGui::Begin("kalium-report", nullptr,
                 ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings |
                     ImGuiWindowFlags_NoInputs | ImGuiWindowFlags_NoFocusOnAppearing);
    if (e) {
        const app_result &r = e->result;
        const ecg_sheet sheet = report_sheet(app, *e);
        ImGui::SetCursorScreenPos(ImVec2(k_margin_mm * ppm, k_margin_mm * ppm * 0.6f));
        ImGui::PushFont(app.font_title);
        ImGui::TextUnformatted("kalium \u00b7 serum potassium estimate from the 12-lead ECG");
        ImGui::PopFont();
        ImGui::SetCursorPosX(k_margin_mm * ppm);
        std::string line = e->name;
        if (!r.patient_id.empty()) line += "  \u00b7  patient " + r.patient_id;
        if (!r.start_time.empty()) line += "  \u00b7  " + r.start_time;
        if (!r.format.empty()) line += "  \u00b7  " + r.format;
        char settings[160];
        std::snprintf(settings, sizeof(settings), "  \u00b7  %s, %.0f mm/s, %.0f mm/mV%s", app_layout_name(app.view.layout),
                      app.view.speed_mm_s, app.view.gain_mm_mv,
                      app.view.overlay && !e->cam.empty() ? ", heatmap: where each lead's window pushed its estimate" : "");
        line += settings;
        ImGui::TextUnformatted(line.c_str());
        const ImVec2 paper_min(k_margin_mm * ppm, k_header_mm * ppm);
        const ImVec2 paper_max(paper_min.x + sheet.width_mm * ppm, paper_min.y + sheet.height_mm * ppm);
        ecg_view_draw(app, e, paper_min, paper_max, ppm, ImVec2(0, 0), /*interactive=*/false);
        ImGui::GetWindowDrawList()->AddRect(paper_min, paper_max, IM_COL32(200, 120, 120, 255));
        // Under the paper: measurements, model and the statement (they must be on every report).
        ImGui::SetCursorScreenPos(ImVec2(paper_min.x, paper_max.y + 3.0f * ppm));
        ImGui::BeginChild("report-details", ImVec2(paper_max.x - paper_min.x, io.DisplaySize.y - paper_max.y - 5.0f * ppm),
                          ImGuiChildFlags_None, ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoInputs);
        panel_result_details(app, e);
        ImGui::EndChild();
        const float column_x = paper_max.x + k_margin_mm * ppm;
        ImGui::SetCursorScreenPos(ImVec2(column_x, paper_min.y));
        ImGui::BeginChild("report-result", ImVec2(io.DisplaySize.x - column_x - k_margin_mm * ppm, io.DisplaySize.y - paper_min.y - k_margin_mm * ppm),
                          ImGuiChildFlags_None, ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoInputs);
        panel_result(app, e, /*compact=*/true);
        ImGui::EndChild();
    }
    ImGui::End();
    ImGui::PopStyleColor();
}

bool app_report_finish(app_state &app, const uint8_t *rgba_bottom_up, int width_px, int height_px) {
    app.report_requested = false;
    app.report_mode = false;
    const app_entry *e = report_entry(app);
    if (!rgba_bottom_up || width_px <= 0 || height_px <= 0 || !e) {
        app.notice = "The report could not be drawn.";
        return false;
    }
    // glReadPixels gives the bottom row first; PNG wants the top row first.
    const size_t row_bytes = static_cast<size_t>(width_px) * 4;
    std::vector<uint8_t> top_down(row_bytes * static_cast<size_t>(height_px));
    for (int y = 0; y < height_px; y++)
        std::copy_n(rgba_bottom_up + static_cast<size_t>(height_px - 1 - y) * row_bytes, row_bytes, top_down.data() + static_cast<size_t>(y) * row_bytes);
    for (size_t i = 3; i < top_down.size(); i += 4) top_down[i] = 255;  // opaque page
    std::vector<uint8_t> png;
    if (!stbi_write_png_to_func(append_bytes, &png, width_px, height_px, 4, top_down.data(), static_cast<int>(row_bytes))) {
        app.notice = "The report could not be encoded as PNG.";
        return false;
    }
    std::string name = e->name.empty() ? "ecg" : e->name;
    const size_t dot = name.find_last_of('.');
    if (dot != std::string::npos && dot > 0) name.resize(dot);
    name += "-kalium-report.png";
    if (app.hooks.download_bytes) app.hooks.download_bytes(name.c_str(), "image/png", png.data(), png.size(), app.hooks.user);
    char notice[160];
    std::snprintf(notice, sizeof(notice), "Report saved: %s (%d x %d px, %.0f KiB)", name.c_str(), width_px, height_px, png.size() / 1024.0);
    app.notice = notice;
    return true;
}
