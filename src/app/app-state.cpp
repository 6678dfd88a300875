// app/app-state.cpp: the operations on app_state that both the frame (app.cpp) and the side panels (panels.cpp)
// use: finding and selecting entries, and setting the screen calibration (see app.h). They call nothing of
// app.cpp or panels.cpp, so the app's files depend one way: app.cpp -> panels.cpp -> app-state.cpp.
#include "app.h"

#include <cmath>

namespace {

constexpr float k_default_css_px_per_mm = 96.0f / 25.4f;  // CSS reference pixel

}  // namespace

void app_set_calibration(app_state &app, float css_px_per_mm) {
    // A screen between 30 and 600 dpi (in CSS pixels); anything else is a stale or corrupt value.
    if (!(css_px_per_mm >= 30.0f / 25.4f && css_px_per_mm <= 600.0f / 25.4f)) return;
    app.css_px_per_mm = css_px_per_mm;
    app.calibrated = std::fabs(css_px_per_mm - k_default_css_px_per_mm) > 1e-4f;
    app.px_per_mm = css_px_per_mm * app.device_pixel_ratio;
}

app_entry *app_find_entry(app_state &app, int id) {
    for (app_entry &e : app.entries)
        if (e.id == id) return &e;
    return nullptr;
}

app_entry *app_selected_entry(app_state &app) { return app_find_entry(app, app.selected_id); }

bool app_select(app_state &app, int id, bool tell_page) {
    if (!app_find_entry(app, id)) return false;
    if (id != app.selected_id) app.view.caliper.present = false;  // it measured another ECG
    app.selected_id = id;
    if (tell_page && app.hooks.select) app.hooks.select(id, app.hooks.user);
    return true;
}
