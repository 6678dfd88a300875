// app/app.h: kalium's user interface as plain state + a frame function. Dear ImGui and WebGL2 only: no
// GLFW, no Emscripten (those live in src/platform, which owns the window and calls these functions).
//
// The app does not read files: the page (web/, its worker) reads, prepares and predicts, and hands the app
// each file's result (app-contract: kalium_web_file_queued / kalium_web_result / kalium_web_progress).
//
//   app_state app;
//   app.hooks = {...};                            // what the app asks of the page (each may be null)
//   app_init(app, device_pixel_ratio);            // after ImGui and its renderer exist
//   app_file_queued(app, id, name); app_set_result(app, id, json, signal, ...); app_set_progress(...)
//   each frame: app_frame(app);                   // between ImGui::NewFrame() and ImGui::Render()
//   if (app_report_wanted(app)) { render app_report_frame(app) offscreen; app_report_finish(app, rgba...) }
//   app_shutdown(app);
#pragma once

#include "entry.h"
#include "paper-grid.h"
#include "report.h"

#include <imgui.h>

#include <cstdint>
#include <string>
#include <vector>

enum class app_layout { l3x4_rhythm, l6x2, l12x1 };
const char *app_layout_name(app_layout layout);  // "3x4+II", "6x2", "12x1"

// Two vertical markers on one lead's strip (times in seconds from the record's start). They read the
// interval, its rate, and the trace's voltage at the later marker minus at the earlier one.
struct app_caliper {
    bool present = false;
    int lead = 1;
    int panel = -1;  // the strip of the layout it was made on (a lead can have two, e.g. II in 3x4+II)
    double t0_s = 0.0, t1_s = 0.0;
    int dragging = 0;  // 0 none, 1 moving t0, 2 moving t1 (a new caliper drags t1)
};

struct app_view {
    app_layout layout = app_layout::l3x4_rhythm;
    float speed_mm_s = 25.0f;
    float gain_mm_mv = 10.0f;
    bool overlay = true;             // class-activation heatmap on the traces
    float overlay_opacity = 0.5f;
    // How the heatmap is drawn: a band of colour that follows the trace (default), or whole columns of each
    // lead's strip (the first version's view, kept as an option). Toolbar "along trace | columns", key M.
    bool heatmap_columns = false;
    float zoom = 1.0f;               // on top of true millimetres
    ImVec2 pan_mm = ImVec2(0, 0);    // paper position at the view's top-left corner, millimetres
    bool caliper_mode = false;       // C: dragging on a trace measures instead of panning
    app_caliper caliper;
};

// What the app asks of the page (app-contract "app -> JS"). Each may be null (e.g. in tests).
struct app_platform_hooks {
    void (*open_file_picker)(void *user) = nullptr;
    void (*load_examples)(void *user) = nullptr;
    void (*select)(int id, void *user) = nullptr;
    void (*export_results)(const char *kind, void *user) = nullptr;  // "csv" or "json"
    void (*mirror_view)(const char *view_json, void *user) = nullptr;
    void (*download_bytes)(const char *name, const char *mime, const uint8_t *data, size_t size, void *user) = nullptr;
    void (*store_calibration)(float css_px_per_mm, void *user) = nullptr;  // remember it (localStorage)
    void *user = nullptr;
};

// Decimated trace points of one entry for one scale, in paper pixels (origin: the sheet's top-left).
struct app_trace_cache {
    int entry_id = -1;
    uint64_t generation = 0;
    float px_per_mm = 0, speed_mm_s = 0, gain_mm_mv = 0;
    app_layout layout = app_layout::l3x4_rhythm;
    std::vector<std::vector<ImVec2>> panels;  // one polyline per panel of the layout
};

struct app_calibration_dialog {
    bool open = false;
    float card_width_px = 0.0f;  // framebuffer pixels the user has dragged the card outline to
    bool dragging = false;
};

struct app_state {
    std::vector<app_entry> entries;  // in arrival order
    int selected_id = -1;
    int progress_done = 0, progress_total = 0;
    app_view view;
    app_platform_hooks hooks;
    paper_grid grid;
    app_trace_cache trace_cache;
    app_calibration_dialog calibration;
    std::vector<int> worklist_order;  // entry indices in the worklist's sort order
    int sort_column = -1;             // -1: arrival order
    bool sort_descending = false;
    bool report_requested = false;
    bool narrow = false;              // the stacked phone layout (window under k_app_narrow_css_px CSS px wide)
    bool menu_open = false;           // the narrow layout's menu (the top bar's actions) is open
    int narrow_panned_id = -1;        // the entry the narrow layout last opened at its trace's start
    float result_rect_css[4] = {};    // where the result panel is (x, y, w, h, CSS px), for the view mirror
    ImVec2 paper_origin_px = ImVec2(0, 0);  // the ECG view's top-left corner on screen (framebuffer px)
    bool report_mode = false;         // the frame being drawn is the PNG report
    // Where each lead's strip is on screen (CSS pixels), for the view mirror: tests find traces with it.
    struct screen_panel {
        int lead;
        double t_begin_s, t_end_s;
        float x_css, baseline_css, width_css;
    };
    std::vector<screen_panel> screen_panels;
    std::string last_mirror;          // last view JSON sent to the page
    std::string notice;               // a short message shown in the status bar (e.g. "report saved")
    float device_pixel_ratio = 1.0f;  // framebuffer pixels per CSS pixel; ImGui works in framebuffer pixels
    float css_px_per_mm = 96.0f / 25.4f;  // CSS pixels per millimetre (reference pixel until calibrated)
    bool calibrated = false;
    float px_per_mm = 96.0f / 25.4f;  // framebuffer pixels per millimetre: css_px_per_mm x device pixel ratio
    bool fonts_changed = false;       // set when the font atlas was rebuilt; the platform re-uploads it
    ImFont *font_body = nullptr;
    ImFont *font_small = nullptr;
    ImFont *font_title = nullptr;
    ImFont *font_huge = nullptr;
};

// Below this window width (CSS px) the side-by-side layout no longer fits: the app stacks the result, the ECG paper
// at full width and the worklist, and folds the top bar's actions into a menu.
constexpr float k_app_narrow_css_px = 760.0f;

// A two-finger pinch on the paper (the page's touch handler): zoom by `scale` about (x, y) in CSS pixels.
void app_pinch_zoom(app_state &app, float scale, float x_css, float y_css);

bool app_init(app_state &app, float device_pixel_ratio);
// Follow a new device pixel ratio (browser zoom, moving to another screen): rebuilds fonts at the new size
// and rescales the style so text stays sharp. Sets app.fonts_changed when it did.
void app_set_device_pixel_ratio(app_state &app, float device_pixel_ratio);
// A calibration remembered from an earlier visit (CSS pixels per millimetre); ignored unless plausible
// (app-state.cpp, with the entry lookup and selection below).
void app_set_calibration(app_state &app, float css_px_per_mm);
void app_frame(app_state &app);
void app_shutdown(app_state &app);

// From the page (app-contract "JS -> app").
void app_file_queued(app_state &app, int id, const char *name);
void app_set_result(app_state &app, int id, const char *result_json, const float *signal_uv, int lead_count,
                    int sample_count, const float *cam, int cam_count);
void app_set_progress(app_state &app, int done, int total);

// The entry lookup and the selection (app-state.cpp: the panels use them too).
app_entry *app_find_entry(app_state &app, int id);
app_entry *app_selected_entry(app_state &app);
// Selects entry `id` (tells the page when `tell_page`); returns false when there is no such entry.
bool app_select(app_state &app, int id, bool tell_page);
// The view state as app-contract's kalium.mirrorView JSON.
std::string app_view_json(const app_state &app);

// The PDF report of the selected ECG (src/report/report.h), handed to hooks.download_bytes as <ECG name>.pdf.
// False, with app.notice saying why, when no analysed ECG is selected.
bool app_export_pdf(app_state &app, kalium::report_paper paper);

// PNG report (report.cpp). The platform renders app_report_frame into an offscreen framebuffer of
// app_report_size() pixels, reads it back (RGBA, bottom row first as glReadPixels gives it) and calls
// app_report_finish, which encodes the PNG and hands it to hooks.download_bytes.
bool app_report_wanted(const app_state &app);
void app_report_size(const app_state &app, int &width_px, int &height_px);
void app_report_frame(app_state &app);
bool app_report_finish(app_state &app, const uint8_t *rgba_bottom_up, int width_px, int height_px);
