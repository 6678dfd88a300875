// app/ecg-view.h: the ECG on paper. A layout places each lead's time span on a sheet measured in
// millimetres (25 or 50 mm/s, 5/10/20 mm/mV); the view maps the sheet to the screen at true millimetres
// (times zoom, minus pan), draws the grid (our shaders), calibration pulses, labels, the class-activation
// heatmap inside each lead's network window, the traces (decimated to <= 2 points per pixel column) and the
// caliper, and handles wheel/drag/caliper input.
#pragma once

#include "app.h"

#include <imgui.h>

#include <vector>

// One lead's strip on the sheet.
struct ecg_panel {
    int lead = 0;                   // 0..11, standard order
    double t_begin_s = 0.0, t_end_s = 0.0;
    float x_mm = 0.0f;              // where t_begin_s is drawn
    float y_top_mm = 0.0f, height_mm = 0.0f;
    float baseline_mm = 0.0f;       // 0 mV
};

struct ecg_sheet {
    float width_mm = 0.0f, height_mm = 0.0f;
    std::vector<ecg_panel> panels;
    std::vector<float> row_baselines_mm;  // one calibration pulse per row, at the row's left
    float pulse_x_mm = 2.0f;
};

// The sheet of a layout. duration_s: how much signal there is (12x1 shows all of it, the others 10 s).
ecg_sheet ecg_sheet_layout(app_layout layout, float speed_mm_s, float gain_mm_mv, double duration_s);

// Draws the entry (or empty paper when null) in [min_px, max_px] of the current window. interactive: handle
// mouse input (zoom, pan, caliper); false for the report. px_per_mm: true millimetres x zoom.
void ecg_view_draw(app_state &app, const app_entry *entry, ImVec2 min_px, ImVec2 max_px, float px_per_mm,
                   ImVec2 pan_mm, bool interactive);

// Caliper reading: interval (ms), rate (bpm) and the trace's voltage change (mV) between the markers.
struct ecg_caliper_reading {
    bool valid = false;
    double dt_ms = 0.0, bpm = 0.0, dv_mv = 0.0;
};
ecg_caliper_reading ecg_caliper_read(const app_state &app, const app_entry *entry);

// Colour of a K+ group (0..4; -1 grey) and of the heatmap at v in [0,1].
ImU32 ecg_group_colour(int group, float alpha = 1.0f);
ImU32 ecg_heat_colour(float v, float alpha);
