// app/app.h: kalium's user interface as plain state + a frame function. Dear ImGui and WebGL2 only: no
// GLFW, no Emscripten (those live in src/platform, which owns the window and calls these functions).
//
//   app_state app;
//   app_init(app, device_pixel_ratio);     // after ImGui and its renderer exist
//   each frame: app_frame(app);            // between ImGui::NewFrame() and ImGui::Render()
//   app_add_file(app, name, bytes);        // whenever the platform receives a file
//   app_shutdown(app);
#pragma once

#include "paper-grid.h"

#include <cstdint>
#include <string>
#include <vector>

// One file the user gave us (dropped or picked), as bytes. Later issues turn these into ECG records.
struct app_file {
    std::string name;
    std::vector<uint8_t> bytes;
};

// What the app asks of the platform. Each may be null (e.g. in tests).
struct app_platform_hooks {
    void (*open_file_picker)(void *user) = nullptr;  // show the browser's file chooser
    void *user = nullptr;
};

struct app_state {
    std::vector<app_file> files;
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
