// platform/web-main.cpp: the browser runner. Owns the GLFW window (Emscripten's built-in GLFW on a WebGL2
// canvas), the ImGui backends and the browser's main loop; calls the app's frame function (src/app) once
// per animation frame. The only place that knows about Emscripten and GLFW.
//
// Files reach the app two ways, both as bytes:
//   - dropped on the canvas: Emscripten's GLFW writes them to /.glfw_dropped_files/<name> in the in-memory
//     filesystem and calls the drop callback, which reads each into memory and unlinks it;
//   - picked with the "Open ECG files" button or the page's <input type=file>: web/kalium-shell.js copies the
//     bytes into wasm memory and calls kalium_web_open_file().
// Files that arrive together (one drop, one pick) are read together at the next frame, so a WFDB header and
// its signal file pair up. Each result is announced to the page (window.kaliumShell.fileRead).
//
// HiDPI: the canvas's backing store is sized to its CSS size times devicePixelRatio, and ImGui works in
// those device pixels; the app scales fonts and style by the ratio, so text is rasterised at device
// resolution and stays sharp.
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

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace {

struct web_runner {
    GLFWwindow *window = nullptr;
    app_state app;
    int framebuffer_width_px = 0;
    int framebuffer_height_px = 0;
};

web_runner *g_runner = nullptr;  // for the exported C entry points; the main loop gets it as its argument

void log_to_console(kalium::log_level level, const char *message, void *) {
    std::string line = std::string("kalium: ") + message;
    switch (level) {
        case kalium::log_level::error: emscripten_console_error(line.c_str()); break;
        case kalium::log_level::warning: emscripten_console_warn(line.c_str()); break;
        default: emscripten_console_log(line.c_str()); break;
    }
}

void open_file_picker(void *) {
    EM_ASM({
        if (window.kaliumShell) window.kaliumShell.openFilePicker();
    });
}

// Mirrors each read file into the page (window.kaliumShell.fileRead) for screen readers and tests.
void announce_entry(const app_ecg_entry &entry, void *) {
    const std::string format = entry.record ? entry.record->format : std::string();
    const std::string summary = app_entry_summary(entry);
    const double leads = entry.record ? static_cast<double>(entry.record->leads.size()) : 0.0;
    EM_ASM(
        {
            if (window.kaliumShell)
                window.kaliumShell.fileRead(UTF8ToString($0), $1, UTF8ToString($2), $3, UTF8ToString($4), UTF8ToString($5));
        },
        entry.name.c_str(), static_cast<double>(entry.size_bytes), format.c_str(), leads, summary.c_str(), entry.error.c_str());
}

void open_file(web_runner &runner, std::string name, std::vector<uint8_t> bytes) {
    app_add_file(runner.app, std::move(name), std::move(bytes));
}

std::string base_name(const char *path) {
    std::string p(path);
    size_t slash = p.find_last_of('/');
    return slash == std::string::npos ? p : p.substr(slash + 1);
}

void on_drop(GLFWwindow *, int count, const char **paths) {
    for (int i = 0; i < count; i++) {
        FILE *f = std::fopen(paths[i], "rb");
        if (!f) {
            kalium::log_message(kalium::log_level::error, "drop: cannot open %s", paths[i]);
            continue;
        }
        std::vector<uint8_t> bytes;
        uint8_t buffer[1 << 16];
        size_t n;
        while ((n = std::fread(buffer, 1, sizeof(buffer), f)) > 0) bytes.insert(bytes.end(), buffer, buffer + n);
        std::fclose(f);
        std::remove(paths[i]);  // the in-memory copy is ours now; do not keep two
        open_file(*g_runner, base_name(paths[i]), std::move(bytes));
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
    }
    app_set_device_pixel_ratio(runner.app, static_cast<float>(ratio));
    if (runner.app.fonts_changed) {
        ImGui_ImplOpenGL3_DestroyFontsTexture();
        ImGui_ImplOpenGL3_CreateFontsTexture();
        runner.app.fonts_changed = false;
    }
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
    ImGui::NewFrame();
    app_frame(runner.app);
    ImGui::Render();
    glViewport(0, 0, runner.framebuffer_width_px, runner.framebuffer_height_px);
    glClearColor(0.97f, 0.97f, 0.98f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
}

}  // namespace

// Called by web/kalium-shell.js with a file picked through <input type=file>; `data` is owned by the caller.
extern "C" EMSCRIPTEN_KEEPALIVE void kalium_web_open_file(const char *name, const uint8_t *data, size_t size_bytes) {
    if (!g_runner || !name) return;
    std::vector<uint8_t> bytes(data, data + (data ? size_bytes : 0));
    open_file(*g_runner, name, std::move(bytes));
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
        EM_ASM({ if (window.kaliumShell) window.kaliumShell.fatal('This browser cannot create a WebGL2 context, which kalium needs to draw.'); });
        return 1;
    }
    glfwMakeContextCurrent(runner.window);

    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGui_ImplGlfw_InitForOpenGL(runner.window, /*install_callbacks=*/true);
    ImGui_ImplOpenGL3_Init("#version 300 es");

    runner.app.hooks.open_file_picker = open_file_picker;
    runner.app.hooks.entry_added = announce_entry;
    app_init(runner.app, static_cast<float>(ratio));
    glfwSetDropCallback(runner.window, on_drop);

    kalium::log_message(kalium::log_level::info, "%s (%s) ready", kalium::version_string(), kalium::build_description());
    EM_ASM({ if (window.kaliumShell) window.kaliumShell.ready(); });
    emscripten_set_main_loop_arg(frame, &runner, /*fps=*/0, /*simulate_infinite_loop=*/true);
    return 0;
}
