// app/app.h: kalium's user interface as plain state + a frame function. Dear ImGui and WebGL2 only: no
// GLFW, no Emscripten (those live in src/platform, which owns the window and calls these functions).
//
//   app_state app;
//   app_init(app, device_pixel_ratio);     // after ImGui and its renderer exist
//   each frame: app_frame(app);            // between ImGui::NewFrame() and ImGui::Render()
//   app_add_file(app, name, bytes);        // whenever the platform receives a file; read at the next frame
//   app_shutdown(app);
#pragma once

#include "kalium.h"
#include "paper-grid.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

// One file the user gave us (dropped or picked), as bytes, waiting to be read.
struct app_file {
    std::string name;
    std::vector<uint8_t> bytes;
};

// One input after reading: an ECG record, or why there is none. WFDB signal files do not get an entry of
// their own; they are part of their header's record.
struct app_ecg_entry {
    std::string name;
    size_t size_bytes = 0;
    std::optional<kalium::ecg_record> record;
    std::string error;  // the reader's message when record is empty
};

// What the app asks of the platform. Each may be null (e.g. in tests).
struct app_platform_hooks {
    void (*open_file_picker)(void *user) = nullptr;                  // show the browser's file chooser
    void (*entry_added)(const app_ecg_entry &entry, void *user) = nullptr;  // mirror it (DOM, screen readers)
    void *user = nullptr;
};

struct app_state {
    std::vector<app_file> pending;          // received since the last frame; read together (WFDB .hea + .dat)
    std::vector<app_ecg_entry> entries;     // every file read so far, in order
    app_platform_hooks hooks;
    paper_grid grid;
    float device_pixel_ratio = 1.0f;  // framebuffer pixels per CSS pixel; ImGui works in framebuffer pixels
    float px_per_mm = 96.0f / 25.4f;  // framebuffer pixels per millimetre (CSS reference pixel until calibrated)
    bool fonts_changed = false;       // set when the font atlas was rebuilt; the platform re-uploads it
    ImFont *font_body = nullptr;
    ImFont *font_title = nullptr;
};

bool app_init(app_state &app, float device_pixel_ratio);
// Follow a new device pixel ratio (browser zoom, moving to another screen): rebuilds fonts at the new size
// and rescales the style so text stays sharp. Sets app.fonts_changed when it did.
void app_set_device_pixel_ratio(app_state &app, float device_pixel_ratio);
void app_frame(app_state &app);
void app_shutdown(app_state &app);
void app_add_file(app_state &app, std::string name, std::vector<uint8_t> bytes);
// Reads the pending files (called by app_frame; exposed for tests). Returns how many entries were added.
size_t app_read_pending(app_state &app);
// "philips-xml · 12 leads (4 derived) · 500 Hz · 10.0 s", or the error.
std::string app_entry_summary(const app_ecg_entry &entry);
