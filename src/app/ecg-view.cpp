// app/ecg-view.cpp: see ecg-view.h.
#include "ecg-view.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace {

constexpr float k_top_margin_mm = 4.0f;
constexpr float k_pulse_duration_s = 0.2f;  // calibration pulse: 1 mV for 200 ms
constexpr double k_page_s = 10.0;           // the printed page: 10 s

float row_height_mm(float gain_mm_mv) { return std::clamp(3.0f * gain_mm_mv, 20.0f, 60.0f); }

// x (mm) where traces start: after the pulse and a 3 mm gap.
float trace_x_mm(float speed_mm_s) { return 2.0f + k_pulse_duration_s * speed_mm_s + 3.0f; }

ImU32 lerp_colour(const float a[3], const float b[3], float f, float alpha) {
    return ImGui::GetColorU32(ImVec4(a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f, alpha));
}

// Decimated polyline of one panel in sheet pixels: samples that share a pixel column become that column's
// minimum and maximum (in the order they occur), so the trace keeps its spikes at <= 2 points per column.
void decimate_panel(const app_entry &e, const ecg_panel &p, float px_per_mm, float speed_mm_s, float gain_mm_mv,
                    std::vector<ImVec2> &out) {
    out.clear();
    if (p.lead >= e.lead_count || e.sample_count <= 0) return;
    const double fs = e.result.fs_hz;
    const long first = std::max(0L, static_cast<long>(std::ceil(p.t_begin_s * fs)));
    const long last = std::min(static_cast<long>(e.sample_count) - 1, static_cast<long>(std::floor(p.t_end_s * fs)));
    if (last <= first) return;
    const float *x = e.signal_uv.data() + static_cast<size_t>(p.lead) * static_cast<size_t>(e.sample_count);
    const float px_per_s = speed_mm_s * px_per_mm;
    const float x0_px = p.x_mm * px_per_mm;
    const float base_px = p.baseline_mm * px_per_mm;
    const float px_per_uv = gain_mm_mv * px_per_mm / 1000.0f;
    const bool decimate = px_per_s < static_cast<float>(fs) * 0.5f;  // more than 2 samples per pixel column
    out.reserve(decimate ? static_cast<size_t>((p.t_end_s - p.t_begin_s) * px_per_s * 2 + 4) : static_cast<size_t>(last - first + 1));
    auto point = [&](long i) {
        return ImVec2(x0_px + static_cast<float>((i / fs - p.t_begin_s) * px_per_s), base_px - x[i] * px_per_uv);
    };
    if (!decimate) {
        for (long i = first; i <= last; i++) out.push_back(point(i));
        return;
    }
    long i = first;
    while (i <= last) {
        const float column = std::floor(point(i).x);
        long lo = i, hi = i;
        long j = i;
        for (; j <= last && std::floor(point(j).x) == column; j++) {
            if (x[j] < x[lo]) lo = j;
            if (x[j] > x[hi]) hi = j;
        }
        // Screen y grows down: the maximum voltage is the smallest y.
        const long a = std::min(lo, hi), b = std::max(lo, hi);
        out.push_back(ImVec2(column + 0.25f, point(a).y));
        if (b != a) out.push_back(ImVec2(column + 0.75f, point(b).y));
        i = j;
    }
}

void ensure_trace_cache(app_state &app, const app_entry &e, const ecg_sheet &sheet, float px_per_mm) {
    app_trace_cache &c = app.trace_cache;
    const app_view &v = app.view;
    if (c.entry_id == e.id && c.generation == e.generation && c.px_per_mm == px_per_mm && c.speed_mm_s == v.speed_mm_s &&
        c.gain_mm_mv == v.gain_mm_mv && c.layout == v.layout && c.panels.size() == sheet.panels.size())
        return;
    c.entry_id = e.id;
    c.generation = e.generation;
    c.px_per_mm = px_per_mm;
    c.speed_mm_s = v.speed_mm_s;
    c.gain_mm_mv = v.gain_mm_mv;
    c.layout = v.layout;
    c.panels.resize(sheet.panels.size());
    for (size_t k = 0; k < sheet.panels.size(); k++)
        decimate_panel(e, sheet.panels[k], px_per_mm, v.speed_mm_s, v.gain_mm_mv, c.panels[k]);
}

// The panel under a sheet position, or -1.
int panel_at(const ecg_sheet &sheet, ImVec2 mm, float speed_mm_s) {
    for (size_t k = 0; k < sheet.panels.size(); k++) {
        const ecg_panel &p = sheet.panels[k];
        const float x1 = p.x_mm + static_cast<float>((p.t_end_s - p.t_begin_s) * speed_mm_s);
        if (mm.x >= p.x_mm && mm.x <= x1 && mm.y >= p.y_top_mm && mm.y <= p.y_top_mm + p.height_mm) return static_cast<int>(k);
    }
    return -1;
}

void draw_text(ImDrawList *dl, ImFont *font, ImVec2 pos, ImU32 colour, const char *text) {
    dl->AddText(font, font->FontSize, pos, colour, text);
}

}  // namespace

ImU32 ecg_group_colour(int group, float alpha) {
    static const ImVec4 colours[k_app_group_count] = {
        ImVec4(0.09f, 0.22f, 0.62f, 1.0f),  // severe hypokalemia: deep blue
        ImVec4(0.18f, 0.50f, 0.86f, 1.0f),  // hypokalemia: blue
        ImVec4(0.13f, 0.52f, 0.24f, 1.0f),  // normokalemia: green
        ImVec4(0.88f, 0.47f, 0.02f, 1.0f),  // hyperkalemia: orange
        ImVec4(0.76f, 0.07f, 0.09f, 1.0f),  // severe hyperkalemia: red
    };
    ImVec4 c = group >= 0 && group < k_app_group_count ? colours[group] : ImVec4(0.45f, 0.47f, 0.50f, 1.0f);
    c.w = alpha;
    return ImGui::GetColorU32(c);
}

ImU32 ecg_heat_colour(float v, float alpha) {
    // A cool ramp (teal -> blue -> violet) that stays distinct from the pink/red paper and the black trace.
    static const float stops[3][3] = {{0.10f, 0.75f, 0.80f}, {0.15f, 0.35f, 0.95f}, {0.55f, 0.10f, 0.85f}};
    v = std::clamp(v, 0.0f, 1.0f);
    if (v < 0.5f) return lerp_colour(stops[0], stops[1], v * 2.0f, alpha);
    return lerp_colour(stops[1], stops[2], (v - 0.5f) * 2.0f, alpha);
}

ecg_sheet ecg_sheet_layout(app_layout layout, float speed_mm_s, float gain_mm_mv, double duration_s) {
    ecg_sheet s;
    const float row_mm = row_height_mm(gain_mm_mv);
    const float x0 = trace_x_mm(speed_mm_s);
    auto add_row = [&](int row) {
        const float top = k_top_margin_mm + row * row_mm;
        s.row_baselines_mm.push_back(top + row_mm * 0.55f);
        return top;
    };
    auto add_panel = [&](int lead, double t0, double t1, float top) {
        ecg_panel p;
        p.lead = lead;
        p.t_begin_s = t0;
        p.t_end_s = t1;
        p.x_mm = x0 + static_cast<float>(t0 * speed_mm_s);
        p.y_top_mm = top;
        p.height_mm = row_mm;
        p.baseline_mm = top + row_mm * 0.55f;
        s.panels.push_back(p);
    };
    int rows = 0;
    double page_s = k_page_s;
    switch (layout) {
        case app_layout::l3x4_rhythm:
            // As printed: I/II/III 0-2.5 s, aVR/aVL/aVF 2.5-5 s, V1-V3 5-7.5 s, V4-V6 7.5-10 s; then lead II, 10 s.
            for (int row = 0; row < 3; row++) {
                const float top = add_row(row);
                for (int column = 0; column < 4; column++) add_panel(column * 3 + row, column * 2.5, column * 2.5 + 2.5, top);
            }
            add_panel(1, 0.0, k_page_s, add_row(3));
            rows = 4;
            break;
        case app_layout::l6x2:
            // Limb leads 0-5 s on the left, chest leads 5-10 s on the right.
            for (int row = 0; row < 6; row++) {
                const float top = add_row(row);
                add_panel(row, 0.0, 5.0, top);
                add_panel(6 + row, 5.0, 10.0, top);
            }
            rows = 6;
            break;
        case app_layout::l12x1:
            page_s = std::max(k_page_s, duration_s);
            for (int row = 0; row < 12; row++) add_panel(row, 0.0, page_s, add_row(row));
            rows = 12;
            break;
    }
    s.width_mm = x0 + static_cast<float>(page_s * speed_mm_s) + 5.0f;
    s.height_mm = k_top_margin_mm + rows * row_mm + 4.0f;
    return s;
}

ecg_caliper_reading ecg_caliper_read(const app_state &app, const app_entry *entry) {
    ecg_caliper_reading r;
    const app_caliper &c = app.view.caliper;
    if (!c.present) return r;
    const double dt_s = std::fabs(c.t1_s - c.t0_s);
    r.dt_ms = dt_s * 1000.0;
    r.bpm = dt_s > 1e-6 ? 60.0 / dt_s : 0.0;
    if (entry) {
        // The trace at the later marker minus at the earlier one.
        const double v0 = app_entry_value_uv(*entry, c.lead, std::min(c.t0_s, c.t1_s));
        const double v1 = app_entry_value_uv(*entry, c.lead, std::max(c.t0_s, c.t1_s));
        if (std::isfinite(v0) && std::isfinite(v1)) r.dv_mv = (v1 - v0) / 1000.0;
    }
    r.valid = dt_s > 1e-6;
    return r;
}

void ecg_view_draw(app_state &app, const app_entry *entry, ImVec2 min_px, ImVec2 max_px, float px_per_mm,
                   ImVec2 pan_mm, bool interactive) {
    app_view &v = app.view;
    ImDrawList *dl = ImGui::GetWindowDrawList();
    const bool has_signal = entry && entry->status == app_entry_status::done && entry->sample_count > 0;
    const double duration_s = has_signal ? entry->sample_count / entry->result.fs_hz : k_page_s;
    const ecg_sheet sheet = ecg_sheet_layout(v.layout, v.speed_mm_s, v.gain_mm_mv, duration_s);
    const ImVec2 size(max_px.x - min_px.x, max_px.y - min_px.y);
    if (size.x < 2 || size.y < 2) return;

    // Input first, so this frame already draws the new zoom/pan/caliper.
    if (interactive) {
        ImGui::SetCursorScreenPos(min_px);
        ImGui::InvisibleButton("ecg-paper", size, ImGuiButtonFlags_MouseButtonLeft);
        const ImGuiIO &io = ImGui::GetIO();
        const bool hovered = ImGui::IsItemHovered();
        auto to_mm = [&](ImVec2 p) {
            return ImVec2(v.pan_mm.x + (p.x - min_px.x) / px_per_mm, v.pan_mm.y + (p.y - min_px.y) / px_per_mm);
        };
        if (hovered && io.MouseWheel != 0.0f) {
            // Zoom about the mouse: the paper point under it stays under it.
            const ImVec2 at = to_mm(io.MousePos);
            const float new_zoom = std::clamp(v.zoom * std::pow(1.15f, io.MouseWheel), 0.25f, 8.0f);
            const float new_px_per_mm = px_per_mm / v.zoom * new_zoom;
            v.zoom = new_zoom;
            v.pan_mm = ImVec2(at.x - (io.MousePos.x - min_px.x) / new_px_per_mm, at.y - (io.MousePos.y - min_px.y) / new_px_per_mm);
        }
        if (hovered && io.MouseWheelH != 0.0f) v.pan_mm.x -= io.MouseWheelH * 10.0f;
        if (v.caliper_mode && has_signal) {
            const ImVec2 mm = to_mm(io.MousePos);
            app_caliper &c = v.caliper;
            if (ImGui::IsItemActivated()) {
                const int k = panel_at(sheet, mm, v.speed_mm_s);
                const float grab_mm = 6.0f * app.device_pixel_ratio / px_per_mm;
                c.dragging = 0;
                if (c.present && k >= 0 && k == c.panel) {
                    // Near a marker of the current caliper: move that marker.
                    const ecg_panel &p = sheet.panels[k];
                    const auto marker_x = [&](double t) { return p.x_mm + static_cast<float>((t - p.t_begin_s) * v.speed_mm_s); };
                    if (std::fabs(mm.x - marker_x(c.t0_s)) < grab_mm) c.dragging = 1;
                    else if (std::fabs(mm.x - marker_x(c.t1_s)) < grab_mm) c.dragging = 2;
                }
                if (!c.dragging && k >= 0) {
                    const ecg_panel &p = sheet.panels[k];
                    c.present = true;
                    c.lead = p.lead;
                    c.panel = k;
                    c.t0_s = c.t1_s = p.t_begin_s + (mm.x - p.x_mm) / v.speed_mm_s;
                    c.dragging = 2;
                }
            }
            if (ImGui::IsItemActive() && c.dragging) {
                // Time under the mouse, in the panel of this lead that holds the marker being moved.
                if (c.panel >= 0 && c.panel < static_cast<int>(sheet.panels.size())) {
                    const ecg_panel &p = sheet.panels[c.panel];
                    double t = p.t_begin_s + (mm.x - p.x_mm) / v.speed_mm_s;
                    t = std::clamp(t, p.t_begin_s, std::min(p.t_end_s, duration_s));
                    (c.dragging == 1 ? c.t0_s : c.t1_s) = t;
                }
            }
            if (ImGui::IsItemDeactivated()) c.dragging = 0;
        } else if (ImGui::IsItemActive() && !ImGui::IsItemActivated() && ImGui::IsMouseDragging(ImGuiMouseButton_Left, 0.0f)) {
            // (not in the frame the press began: on a touch screen the pointer jumps there from wherever it last
            // was, and that jump is in this frame's MouseDelta)
            v.pan_mm.x -= io.MouseDelta.x / px_per_mm;
            v.pan_mm.y -= io.MouseDelta.y / px_per_mm;
        }
        if (hovered) ImGui::SetMouseCursor(v.caliper_mode ? ImGuiMouseCursor_ResizeEW : ImGuiMouseCursor_Hand);
        // Keep some paper in view.
        const float view_w_mm = size.x / px_per_mm, view_h_mm = size.y / px_per_mm;
        v.pan_mm.x = std::clamp(v.pan_mm.x, -view_w_mm * 0.5f, std::max(0.0f, sheet.width_mm - view_w_mm * 0.5f));
        v.pan_mm.y = std::clamp(v.pan_mm.y, -view_h_mm * 0.5f, std::max(0.0f, sheet.height_mm - view_h_mm * 0.5f));
        pan_mm = v.pan_mm;
    }

    const ImVec2 origin(min_px.x - pan_mm.x * px_per_mm, min_px.y - pan_mm.y * px_per_mm);
    auto at = [&](float x_mm, float y_mm) { return ImVec2(origin.x + x_mm * px_per_mm, origin.y + y_mm * px_per_mm); };
    if (interactive) {
        app.screen_panels.clear();
        const float css = 1.0f / app.device_pixel_ratio;
        for (const ecg_panel &p : sheet.panels)
            app.screen_panels.push_back({p.lead, p.t_begin_s, p.t_end_s, at(p.x_mm, 0).x * css, at(0, p.baseline_mm).y * css,
                                         static_cast<float>((p.t_end_s - p.t_begin_s) * v.speed_mm_s) * px_per_mm * css});
    }
    dl->PushClipRect(min_px, max_px, true);
    paper_grid_draw(app.grid, dl, min_px, max_px, px_per_mm, origin);
    if (!app.grid.program) dl->AddRectFilled(min_px, max_px, IM_COL32(255, 248, 244, 255));

    const ImU32 ink = IM_COL32(16, 16, 20, 255);
    // A whole number of pixels: ImGui then draws anti-aliased lines from its texture, 2 triangles per segment
    // instead of 6 for a fractional width (this is most of a frame's GPU cost with software WebGL).
    const float line_px = std::round(std::clamp(0.28f * px_per_mm, 1.0f * app.device_pixel_ratio, 2.6f * app.device_pixel_ratio));
    ImFont *label_font = app.font_body;

    // Calibration pulse at each row's start: 1 mV high, 200 ms wide.
    for (float base : sheet.row_baselines_mm) {
        const float x = sheet.pulse_x_mm, w = k_pulse_duration_s * v.speed_mm_s, h = v.gain_mm_mv;
        const ImVec2 pts[6] = {at(x - 1.5f, base), at(x, base), at(x, base - h), at(x + w, base - h), at(x + w, base), at(x + w + 1.5f, base)};
        dl->AddPolyline(pts, 6, ink, ImDrawFlags_None, line_px);
    }

    if (!has_signal) {
        dl->PopClipRect();
        return;
    }
    const app_result &r = entry->result;

    // Heatmap along the trace: each lead's class-activation map inside its network window as a band of colour that
    // follows the trace, under it: per 10 ms, a rectangle from the trace's lowest to its highest point there, widened
    // by 1.25 mm each way (plain rectangles: 4 vertices each, so a 12-lead page stays far below ImGui's 64 K
    // vertices per draw list, which thick polylines would exceed).
    if (v.overlay && !entry->cam.empty() && !v.heatmap_columns && std::fabs(r.fs_hz - k_app_window_fs_hz) < 1e-6) {
        const float alpha = std::clamp(v.overlay_opacity, 0.0f, 1.0f);
        constexpr float k_band_mm = 1.25f;
        constexpr int chunk = 5;  // 10 ms per rectangle
        for (const ecg_panel &p : sheet.panels) {
            if (p.lead >= entry->lead_count) continue;
            const int w0 = r.window_start[p.lead];
            const float *cam = entry->cam.data() + static_cast<size_t>(p.lead) * k_app_window_samples;
            const float *x = entry->signal_uv.data() + static_cast<size_t>(p.lead) * static_cast<size_t>(entry->sample_count);
            const double fs = k_app_window_fs_hz;
            for (int i = 0; i < k_app_window_samples; i += chunk) {
                const double t0 = (w0 + i) / fs, t1 = (w0 + i + chunk) / fs;
                if (t1 <= p.t_begin_s || t0 >= p.t_end_s) continue;
                float value = 0.0f;
                for (int k = i; k < std::min(i + chunk, k_app_window_samples); k++) value = std::max(value, cam[k]);
                if (value < 0.08f) continue;  // leave quiet paper clean
                const float x0 = p.x_mm + static_cast<float>((std::max(t0, p.t_begin_s) - p.t_begin_s) * v.speed_mm_s);
                const float x1 = p.x_mm + static_cast<float>((std::min(t1, p.t_end_s) - p.t_begin_s) * v.speed_mm_s);
                if (at(x0, 0).x > max_px.x || at(x1, 0).x < min_px.x) continue;
                float lo_uv = 1e9f, hi_uv = -1e9f;
                for (int s = w0 + i; s <= std::min(w0 + i + chunk, entry->sample_count - 1); s++) {
                    lo_uv = std::min(lo_uv, x[s]);
                    hi_uv = std::max(hi_uv, x[s]);
                }
                if (lo_uv > hi_uv) continue;
                const float top = p.baseline_mm - hi_uv / 1000.0f * v.gain_mm_mv - k_band_mm;
                const float bottom = p.baseline_mm - lo_uv / 1000.0f * v.gain_mm_mv + k_band_mm;
                dl->AddRectFilled(at(x0, top), at(x1, bottom), ecg_heat_colour(value, alpha * 0.9f * std::sqrt(value)));
            }
        }
    }
    // Heatmap as columns (the option): the map shades the whole height of each lead's strip.
    if (v.overlay && !entry->cam.empty() && v.heatmap_columns) {
        const float alpha = std::clamp(v.overlay_opacity, 0.0f, 1.0f);
        constexpr int chunk = 5;  // 10 ms per rectangle
        for (const ecg_panel &p : sheet.panels) {
            const int w0 = r.window_start[p.lead];
            const float *cam = entry->cam.data() + static_cast<size_t>(p.lead) * k_app_window_samples;
            const double fs = k_app_window_fs_hz;  // window_start and the CAM are in 500 Hz samples (app-contract)
            for (int i = 0; i < k_app_window_samples; i += chunk) {
                const double t0 = (w0 + i) / fs, t1 = (w0 + i + chunk) / fs;
                if (t1 <= p.t_begin_s || t0 >= p.t_end_s) continue;
                float value = 0.0f;
                for (int k = i; k < std::min(i + chunk, k_app_window_samples); k++) value = std::max(value, cam[k]);
                if (value < 0.08f) continue;  // leave quiet paper clean
                const float x0 = p.x_mm + static_cast<float>((std::max(t0, p.t_begin_s) - p.t_begin_s) * v.speed_mm_s);
                const float x1 = p.x_mm + static_cast<float>((std::min(t1, p.t_end_s) - p.t_begin_s) * v.speed_mm_s);
                dl->AddRectFilled(at(x0, p.y_top_mm + 1.0f), at(x1, p.y_top_mm + p.height_mm - 1.0f),
                                  ecg_heat_colour(value, alpha * 0.85f * value * value));
            }
        }
    }

    // Column boundaries (3x4, 6x2): a short tick where one lead's span ends and the next begins.
    for (const ecg_panel &p : sheet.panels) {
        if (p.t_begin_s <= 0.0) continue;
        dl->AddLine(at(p.x_mm, p.baseline_mm - 4.0f), at(p.x_mm, p.baseline_mm + 4.0f), ink, line_px);
    }

    // Traces from the cache (sheet pixels; translated here, only the visible part).
    ensure_trace_cache(app, *entry, sheet, px_per_mm);
    static std::vector<ImVec2> visible;
    for (size_t k = 0; k < sheet.panels.size(); k++) {
        const std::vector<ImVec2> &pts = app.trace_cache.panels[k];
        if (pts.size() < 2) continue;
        const float lo = min_px.x - origin.x - 2.0f, hi = max_px.x - origin.x + 2.0f;
        auto first = std::lower_bound(pts.begin(), pts.end(), lo, [](const ImVec2 &p, float x) { return p.x < x; });
        auto last = std::upper_bound(pts.begin(), pts.end(), hi, [](float x, const ImVec2 &p) { return x < p.x; });
        if (first != pts.begin()) --first;
        if (last != pts.end()) ++last;
        if (last - first < 2) continue;
        visible.resize(static_cast<size_t>(last - first));
        for (size_t i = 0; i < visible.size(); i++) visible[i] = ImVec2(first[i].x + origin.x, first[i].y + origin.y);
        dl->AddPolyline(visible.data(), static_cast<int>(visible.size()), ink, ImDrawFlags_None, line_px);
    }

    // Lead labels (derived leads say so).
    for (const ecg_panel &p : sheet.panels) {
        const char *name = p.lead < static_cast<int>(r.lead_names.size()) ? r.lead_names[p.lead].c_str() : k_app_lead_names[p.lead];
        ImVec2 pos = at(p.x_mm + 1.0f, p.y_top_mm + 0.8f);
        // A strip panned past the view's left edge keeps its label in view while the strip is.
        const float strip_end = at(p.x_mm + static_cast<float>((p.t_end_s - p.t_begin_s) * v.speed_mm_s), 0).x;
        pos.x = std::min(std::max(pos.x, min_px.x + 4.0f * app.device_pixel_ratio), strip_end - 30.0f * app.device_pixel_ratio);
        draw_text(dl, label_font, pos, ink, name);
        if (p.lead < static_cast<int>(r.lead_derived.size()) && r.lead_derived[p.lead]) {
            const float w = label_font->CalcTextSizeA(label_font->FontSize, 1e9f, 0.0f, name).x;
            draw_text(dl, app.font_small, ImVec2(pos.x + w + 4.0f * app.device_pixel_ratio, pos.y + 2.0f * app.device_pixel_ratio),
                      IM_COL32(110, 110, 120, 255), "derived");
        }
    }

    // Caliper: two markers across the lead's panel(s) and the reading above them.
    const app_caliper &c = v.caliper;
    if (c.present) {
        const ImU32 cal = IM_COL32(20, 90, 200, 255);
        const ecg_caliper_reading reading = ecg_caliper_read(app, entry);
        for (size_t k = 0; k < sheet.panels.size(); k++) {
            const ecg_panel &p = sheet.panels[k];
            if (static_cast<int>(k) != c.panel || p.lead != c.lead) continue;
            const double ta = std::min(c.t0_s, c.t1_s), tb = std::max(c.t0_s, c.t1_s);
            const float xa = p.x_mm + static_cast<float>((ta - p.t_begin_s) * v.speed_mm_s);
            const float xb = p.x_mm + static_cast<float>((tb - p.t_begin_s) * v.speed_mm_s);
            const float y0 = p.y_top_mm + 1.0f, y1 = p.y_top_mm + p.height_mm - 1.0f;
            dl->AddLine(at(xa, y0), at(xa, y1), cal, 1.5f * app.device_pixel_ratio);
            dl->AddLine(at(xb, y0), at(xb, y1), cal, 1.5f * app.device_pixel_ratio);
            dl->AddLine(at(xa, y0 + 2.0f), at(xb, y0 + 2.0f), cal, 1.0f * app.device_pixel_ratio);
            // Where each marker meets the trace: a short horizontal tick with a dot, joined by a thin line.
            const double va = app_entry_value_uv(*entry, c.lead, ta) / 1000.0, vb = app_entry_value_uv(*entry, c.lead, tb) / 1000.0;
            const float ya = p.baseline_mm - static_cast<float>(std::isfinite(va) ? va : 0.0) * v.gain_mm_mv;
            const float yb = p.baseline_mm - static_cast<float>(std::isfinite(vb) ? vb : 0.0) * v.gain_mm_mv;
            const float tick = 1.5f;
            dl->AddLine(at(xa - tick, ya), at(xa + tick, ya), cal, 1.5f * app.device_pixel_ratio);
            dl->AddLine(at(xb - tick, yb), at(xb + tick, yb), cal, 1.5f * app.device_pixel_ratio);
            dl->AddLine(at(xa, ya), at(xb, yb), IM_COL32(20, 90, 200, 120), 1.0f * app.device_pixel_ratio);
            dl->AddCircleFilled(at(xa, ya), 2.5f * app.device_pixel_ratio, cal);
            dl->AddCircleFilled(at(xb, yb), 2.5f * app.device_pixel_ratio, cal);
            char text[96];
            std::snprintf(text, sizeof(text), "%.0f ms  \u00b7  %.0f bpm  \u00b7  %+.2f mV", reading.dt_ms, reading.bpm, reading.dv_mv);
            const ImVec2 ts = app.font_small->CalcTextSizeA(app.font_small->FontSize, 1e9f, 0.0f, text);
            ImVec2 tp = at((xa + xb) * 0.5f, y0 + 2.5f);
            tp.x -= ts.x * 0.5f;
            const float pad = 3.0f * app.device_pixel_ratio;
            dl->AddRectFilled(ImVec2(tp.x - pad, tp.y - pad * 0.5f), ImVec2(tp.x + ts.x + pad, tp.y + ts.y + pad * 0.5f),
                              IM_COL32(255, 255, 255, 230), 3.0f * app.device_pixel_ratio);
            draw_text(dl, app.font_small, tp, cal, text);
            break;
        }
    }
    dl->PopClipRect();
}
