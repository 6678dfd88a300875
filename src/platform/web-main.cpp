// platform/web-main.cpp: the browser runner. Owns the GLFW window (Emscripten's built-in GLFW on a WebGL2
// canvas), the ImGui backends and the browser's main loop; calls the app's frame function (src/app) once
// per animation frame. The only place that knows about Emscripten and GLFW.
//
// The app does not read files. The page (web/kalium-shell.js and its worker) takes files in, analyses them
// and calls the exported functions below (app-contract.md, "JS -> app"); the app calls back into the page
// through window.kalium (the EM_JS functions below, "app -> JS"). Buffers passed in belong to the caller:
// the app copies what it keeps before returning.
//
// HiDPI: the canvas's backing store is sized to its CSS size times devicePixelRatio, and ImGui works in
// those device pixels; the app scales fonts and style by the ratio, so text is rasterised at device
// resolution and stays sharp. The user's screen calibration (CSS pixels per millimetre) is kept in
// localStorage.
//
// PNG report: when the app asks for one, a second ImGui frame (the report page) is drawn into an offscreen
// framebuffer right after the visible frame, read back with glReadPixels and handed to the app to encode.
#include "app.h"
#include "kalium.h"

#include <imgui.h>
#include <imgui_impl_glfw.h>
#include <imgui_impl_opengl3.h>

#include <GLES3/gl3.h>
#include <GLFW/glfw3.h>
#include <emscripten.h>
#include <emscripten/console.h>
#include <emscripten/html5.h>

#include <cstring>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct web_runner {
    GLFWwindow *window = nullptr;
    app_state app;
    int framebuffer_width_px = 0;
    int framebuffer_height_px = 0;
    uint64_t drawn_hash = 0;  // of the draw data on the canvas now (0: nothing drawn yet)
};

web_runner *g_runner = nullptr;  // for the exported C entry points; the main loop gets it as its argument

// Frame costs since the last kalium_web_frame_stats() call (for the benchmark and the panning check).
struct frame_stats {
    int frames = 0, drawn = 0;
    double ui_ms = 0.0, gl_ms = 0.0, vertices = 0.0;
} g_frame_stats;

// A hash of everything a frame's GL output depends on: display size, each command's clip rectangle, texture,
// element range and callback, the vertex and index bytes, and the paper-grid regions the callbacks draw.
// A frame whose hash equals the one on the canvas is not drawn again: the canvas keeps showing it (WebGL only
// presents a drawing buffer that was drawn to), which saves the whole GPU cost of an idle frame.
uint64_t hash_bytes(uint64_t h, const void *data, size_t size) {
    const uint8_t *p = static_cast<const uint8_t *>(data);
    size_t i = 0;
    for (; i + 8 <= size; i += 8) {  // 8 bytes a step (FNV-1a over 64-bit words, then a final mix)
        uint64_t w;
        std::memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
    }
    for (; i < size; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h ^ (h >> 29);
}

uint64_t hash_frame(const ImDrawData &dd, const paper_grid &grid) {
    uint64_t h = 0xcbf29ce484222325ull;
    h = hash_bytes(h, &dd.DisplaySize, sizeof(dd.DisplaySize));
    for (int n = 0; n < dd.CmdListsCount; n++) {
        const ImDrawList *list = dd.CmdLists[n];
        h = hash_bytes(h, list->VtxBuffer.Data, static_cast<size_t>(list->VtxBuffer.Size) * sizeof(ImDrawVert));
        h = hash_bytes(h, list->IdxBuffer.Data, static_cast<size_t>(list->IdxBuffer.Size) * sizeof(ImDrawIdx));
        for (const ImDrawCmd &cmd : list->CmdBuffer) {
            const uintptr_t fields[4] = {reinterpret_cast<uintptr_t>(cmd.TextureId), cmd.VtxOffset, cmd.IdxOffset, cmd.ElemCount};
            h = hash_bytes(h, fields, sizeof(fields));
            h = hash_bytes(h, &cmd.ClipRect, sizeof(cmd.ClipRect));
            const uintptr_t callback = reinterpret_cast<uintptr_t>(cmd.UserCallback);
            h = hash_bytes(h, &callback, sizeof(callback));
        }
    }
    for (const paper_grid_region &r : grid.regions) {
        const float values[8] = {r.min_px.x, r.min_px.y, r.max_px.x, r.max_px.y, r.origin_px.x, r.origin_px.y, r.px_per_mm,
                                 r.framebuffer_height_px};
        h = hash_bytes(h, values, sizeof(values));
    }
    return h ? h : 1;
}

// ---- app -> page (window.kalium, defined by web/kalium-shell.js) ----------------------------------------
// Each checks that the page defines the function, so a missing one is a console warning, not a crash.

EM_JS(void, js_kalium_call, (const char *name_c), {
    var name = UTF8ToString(name_c);
    if (window.kalium && typeof window.kalium[name] === 'function') window.kalium[name]();
    else console.warn('kalium: window.kalium.' + name + ' is missing');
});
EM_JS(void, js_kalium_select, (int id), {
    if (window.kalium && typeof window.kalium.select === 'function') window.kalium.select(id);
    else console.warn('kalium: window.kalium.select is missing');
});
EM_JS(void, js_kalium_export_results, (const char *kind_c), {
    if (window.kalium && typeof window.kalium.exportResults === 'function') window.kalium.exportResults(UTF8ToString(kind_c));
    else console.warn('kalium: window.kalium.exportResults is missing');
});
EM_JS(void, js_kalium_mirror_view, (const char *json_c), {
    if (window.kalium && typeof window.kalium.mirrorView === 'function') window.kalium.mirrorView(UTF8ToString(json_c));
});
EM_JS(void, js_kalium_download_bytes, (const char *name_c, const char *mime_c, const uint8_t *data, size_t size), {
    // The bytes are freed when this returns: downloadBytes must copy them before it does.
    if (window.kalium && typeof window.kalium.downloadBytes === 'function')
        window.kalium.downloadBytes(UTF8ToString(name_c), UTF8ToString(mime_c), data, size);
    else console.warn('kalium: window.kalium.downloadBytes is missing');
});
EM_JS(double, js_load_calibration, (), {
    try {
        var v = parseFloat(window.localStorage.getItem('kalium.css_px_per_mm'));
        return isFinite(v) ? v : 0;
    } catch (e) {
        return 0;  // storage disabled (private mode, file://): the default scale is used
    }
});
EM_JS(void, js_store_calibration, (double css_px_per_mm), {
    try {
        if (css_px_per_mm > 0) window.localStorage.setItem('kalium.css_px_per_mm', String(css_px_per_mm));
        else window.localStorage.removeItem('kalium.css_px_per_mm');
    } catch (e) {
        console.warn('kalium: cannot remember the screen calibration: ' + e);
    }
});
EM_JS(void, js_ready, (), {
    if (window.kalium && typeof window.kalium.ready === 'function') window.kalium.ready();
    else if (window.kaliumShell && typeof window.kaliumShell.ready === 'function') window.kaliumShell.ready();
});
EM_JS(void, js_fatal, (const char *message_c), {
    var message = UTF8ToString(message_c);
    if (window.kalium && typeof window.kalium.fatal === 'function') window.kalium.fatal(message);
    else if (window.kaliumShell && typeof window.kaliumShell.fatal === 'function') window.kaliumShell.fatal(message);
    else console.error('kalium: ' + message);
});

void hook_open_file_picker(void *) { js_kalium_call("openFilePicker"); }
void hook_load_examples(void *) { js_kalium_call("loadExamples"); }
void hook_select(int id, void *) { js_kalium_select(id); }
void hook_export_results(const char *kind, void *) { js_kalium_export_results(kind); }
void hook_mirror_view(const char *json, void *) { js_kalium_mirror_view(json); }
void hook_download_bytes(const char *name, const char *mime, const uint8_t *data, size_t size, void *) {
    js_kalium_download_bytes(name, mime, data, size);
}
void hook_store_calibration(float css_px_per_mm, void *) { js_store_calibration(css_px_per_mm); }

void log_to_console(kalium::log_level level, const char *message, void *) {
    std::string line = std::string("kalium: ") + message;
    switch (level) {
        case kalium::log_level::error: emscripten_console_error(line.c_str()); break;
        case kalium::log_level::warning: emscripten_console_warn(line.c_str()); break;
        default: emscripten_console_log(line.c_str()); break;
    }
}

// Size the canvas's backing store to CSS size x devicePixelRatio (GLFW's window size is that store).
void sync_canvas_size(web_runner &runner) {
    double css_width = 0, css_height = 0;
    emscripten_get_element_css_size("#canvas", &css_width, &css_height);
    const double ratio = emscripten_get_device_pixel_ratio();
    const int width = std::max(1, static_cast<int>(std::lround(css_width * ratio)));
    const int height = std::max(1, static_cast<int>(std::lround(css_height * ratio)));
    if (width != runner.framebuffer_width_px || height != runner.framebuffer_height_px) {
        glfwSetWindowSize(runner.window, width, height);
        runner.framebuffer_width_px = width;
        runner.framebuffer_height_px = height;
        runner.drawn_hash = 0;  // resizing the canvas cleared it
    }
    app_set_device_pixel_ratio(runner.app, static_cast<float>(ratio));
    if (runner.app.fonts_changed) {
        ImGui_ImplOpenGL3_DestroyFontsTexture();
        ImGui_ImplOpenGL3_CreateFontsTexture();
        runner.app.fonts_changed = false;
    }
}

// Draws the report page into an offscreen framebuffer, reads it back and gives it to the app.
void render_report(web_runner &runner) {
    app_state &app = runner.app;
    int width = 0, height = 0;
    app_report_size(app, width, height);
    GLuint texture = 0, framebuffer = 0;
    glGenTextures(1, &texture);
    glBindTexture(GL_TEXTURE_2D, texture);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, width, height, 0, GL_RGBA, GL_UNSIGNED_BYTE, nullptr);
    glGenFramebuffers(1, &framebuffer);
    glBindFramebuffer(GL_FRAMEBUFFER, framebuffer);
    glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, texture, 0);
    std::vector<uint8_t> pixels;
    if (glCheckFramebufferStatus(GL_FRAMEBUFFER) == GL_FRAMEBUFFER_COMPLETE) {
        ImGui_ImplOpenGL3_NewFrame();
        ImGui_ImplGlfw_NewFrame();
        ImGuiIO &io = ImGui::GetIO();
        io.DisplaySize = ImVec2(static_cast<float>(width), static_cast<float>(height));
        io.DisplayFramebufferScale = ImVec2(1.0f, 1.0f);
        if (!(io.DeltaTime > 0.0f)) io.DeltaTime = 1.0f / 1000.0f;
        ImGui::NewFrame();
        app_report_frame(app);
        ImGui::Render();
        glViewport(0, 0, width, height);
        glClearColor(1.0f, 1.0f, 1.0f, 1.0f);
        glClear(GL_COLOR_BUFFER_BIT);
        ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
        pixels.resize(static_cast<size_t>(width) * static_cast<size_t>(height) * 4);
        glPixelStorei(GL_PACK_ALIGNMENT, 1);
        glReadPixels(0, 0, width, height, GL_RGBA, GL_UNSIGNED_BYTE, pixels.data());
    } else {
        kalium::log_message(kalium::log_level::error, "report: cannot create a %d x %d offscreen framebuffer", width, height);
    }
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
    glDeleteFramebuffers(1, &framebuffer);
    glDeleteTextures(1, &texture);
    app_report_finish(app, pixels.empty() ? nullptr : pixels.data(), width, height);
}

void frame(void *arg) {
    web_runner &runner = *static_cast<web_runner *>(arg);
    sync_canvas_size(runner);
    glfwPollEvents();
    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    // A frozen clock (e.g. a browser's virtual time) gives a zero time step, which ImGui rejects.
    ImGuiIO &io = ImGui::GetIO();
    if (!(io.DeltaTime > 0.0f)) io.DeltaTime = 1.0f / 1000.0f;
    const double t0_ms = emscripten_get_now();
    ImGui::NewFrame();
    app_frame(runner.app);
    ImGui::Render();
    const uint64_t hash = hash_frame(*ImGui::GetDrawData(), runner.app.grid);
    const double t1_ms = emscripten_get_now();
    if (hash != runner.drawn_hash) {
        glViewport(0, 0, runner.framebuffer_width_px, runner.framebuffer_height_px);
        glClearColor(0.965f, 0.969f, 0.976f, 1.0f);
        glClear(GL_COLOR_BUFFER_BIT);
        ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
        runner.drawn_hash = hash;
        g_frame_stats.drawn++;
    }
    const double t2_ms = emscripten_get_now();
    g_frame_stats.frames++;
    g_frame_stats.ui_ms += t1_ms - t0_ms;
    g_frame_stats.gl_ms += t2_ms - t1_ms;
    g_frame_stats.vertices += ImGui::GetDrawData()->TotalVtxCount;
    if (app_report_wanted(runner.app)) render_report(runner);
}

}  // namespace

// ---- page -> app (app-contract.md "JS -> app") ------------------------------------------------------------

// A file (or a WFDB .hea + .dat group) was taken in and is being analysed: a worklist row in state "working".
extern "C" EMSCRIPTEN_KEEPALIVE void kalium_web_file_queued(int id, const char *name) {
    if (!g_runner) return;
    app_file_queued(g_runner->app, id, name);
}

// The analysis of entry `id` is done or failed (result_json's "error"). Arrays are lead-major; see the contract.
extern "C" EMSCRIPTEN_KEEPALIVE void kalium_web_result(int id, const char *result_json, const float *signal_uv, int lead_count,
                                                       int sample_count, const float *cam, int cam_count) {
    if (!g_runner) return;
    app_set_result(g_runner->app, id, result_json, signal_uv, lead_count, sample_count, cam, cam_count);
}

// Batch progress: `done` of `total` files analysed in the current batch.
extern "C" EMSCRIPTEN_KEEPALIVE void kalium_web_progress(int done, int total) {
    if (!g_runner) return;
    app_set_progress(g_runner->app, done, total);
}

// A two-finger pinch on the canvas (web/kalium-shell.js): zoom by `scale` about (x, y), CSS pixels.
extern "C" EMSCRIPTEN_KEEPALIVE void kalium_web_pinch(float scale, float x_css, float y_css) {
    if (g_runner) app_pinch_zoom(g_runner->app, scale, x_css, y_css);
}

// A one-line message from the page for the app's status bar (e.g. the files a folder drop skipped).
extern "C" EMSCRIPTEN_KEEPALIVE void kalium_web_notice(const char *text) {
    if (g_runner && text) g_runner->app.notice = text;
}

// window.kalium.exportReport(kind): the selected ECG's report as a download. kind "pdf" (A4) or "pdf-letter"
// makes the PDF now (src/report) and returns 1; "png" asks for the PNG report (drawn at the next frame) and
// returns 1; 0 when there is no analysed ECG selected or the kind is unknown (app.notice says why).
extern "C" EMSCRIPTEN_KEEPALIVE int kalium_web_export_report(const char *kind) {
    if (!g_runner || !kind) return 0;
    app_state &app = g_runner->app;
    if (std::strcmp(kind, "pdf") == 0) return app_export_pdf(app, kalium::report_paper::a4) ? 1 : 0;
    if (std::strcmp(kind, "pdf-letter") == 0) return app_export_pdf(app, kalium::report_paper::letter) ? 1 : 0;
    if (std::strcmp(kind, "png") == 0) {
        const app_entry *e = app_selected_entry(app);
        if (!e || e->status != app_entry_status::done) return 0;
        app.report_requested = true;
        return 1;
    }
    app.notice = std::string("unknown report kind '") + kind + "' (pdf, pdf-letter or png)";
    return 0;
}

// Benchmark aid (not part of the page contract): a JSON line with the frames since the last call, how many
// were drawn (the others were identical to the canvas), the mean cost per frame (ImGui frame building + hash;
// GL submission) and vertices per frame, then resets the counters.
extern "C" EMSCRIPTEN_KEEPALIVE const char *kalium_web_frame_stats() {
    static char text[160];
    const frame_stats &s = g_frame_stats;
    const double n = s.frames > 0 ? s.frames : 1;
    std::snprintf(text, sizeof(text), "{\"frames\":%d,\"drawn\":%d,\"ui_ms\":%.3f,\"gl_ms\":%.3f,\"vertices\":%.0f}", s.frames,
                  s.drawn, s.ui_ms / n, s.gl_ms / n, s.vertices / n);
    g_frame_stats = frame_stats();
    return text;
}

int main() {
    kalium::log_set_sink(log_to_console, nullptr);
    if (!glfwInit()) {
        kalium::log_message(kalium::log_level::error, "web: GLFW failed to initialise");
        return 1;
    }
    glfwWindowHint(GLFW_CLIENT_API, GLFW_OPENGL_ES_API);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);  // WebGL2
    glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 0);

    static web_runner runner;
    g_runner = &runner;
    double css_width = 0, css_height = 0;
    emscripten_get_element_css_size("#canvas", &css_width, &css_height);
    const double ratio = emscripten_get_device_pixel_ratio();
    runner.framebuffer_width_px = std::max(1, static_cast<int>(std::lround(css_width * ratio)));
    runner.framebuffer_height_px = std::max(1, static_cast<int>(std::lround(css_height * ratio)));
    runner.window = glfwCreateWindow(runner.framebuffer_width_px, runner.framebuffer_height_px, "kalium", nullptr, nullptr);
    if (!runner.window) {
        kalium::log_message(kalium::log_level::error, "web: cannot create a WebGL2 context; this browser or GPU does not support WebGL2");
        js_fatal("This browser cannot create a WebGL2 context, which kalium needs to draw.");
        return 1;
    }
    glfwMakeContextCurrent(runner.window);

    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGui_ImplGlfw_InitForOpenGL(runner.window, /*install_callbacks=*/true);
    ImGui_ImplOpenGL3_Init("#version 300 es");

    app_platform_hooks &hooks = runner.app.hooks;
    hooks.open_file_picker = hook_open_file_picker;
    hooks.load_examples = hook_load_examples;
    hooks.select = hook_select;
    hooks.export_results = hook_export_results;
    hooks.mirror_view = hook_mirror_view;
    hooks.download_bytes = hook_download_bytes;
    hooks.store_calibration = hook_store_calibration;
    app_init(runner.app, static_cast<float>(ratio));
    app_set_calibration(runner.app, static_cast<float>(js_load_calibration()));
    // No GLFW drop callback: drops are the page's (web/kalium-shell.js takes them in and analyses them).

    kalium::log_message(kalium::log_level::info, "%s (%s) ready", kalium::version_string(), kalium::build_description());
    js_ready();
    emscripten_set_main_loop_arg(frame, &runner, /*fps=*/0, /*simulate_infinite_loop=*/true);
    return 0;
}
