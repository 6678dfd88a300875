// bench/bench-ecg12net.cpp: how long one ECG12Net prediction takes (kalium::k_model::predict, XNNPACK), a
// benchmark, not a test: it prints numbers. Run through scripts/bench (which also runs onnxruntime beside it,
// scripts/bench-inference.mjs), or by hand:
//
//   build/native/bin/bench-ecg12net [--json] [--runs N] [--warmup N] [--threads 1,2] [--model PATH]
//                                   [--ecg PATH] [--hmc-dir DIR] [--labels CSV] [--dump-input PATH]
//   node --no-experimental-fetch build/wasm/bin/bench-ecg12net.js --json        (wasm, node, 1 thread)
//   build/native/bin/bench-ecg12net --serve --threads 1,2     (stdin: "run <threads> <n>" lines, one JSON
//                                                              line of times back each; "quit")
//   build/native/bin/bench-ecg12net-profile --profile --threads 1 [--json]          (XNNPACK's time per layer)
//   node --no-experimental-fetch build/wasm/bin/bench-ecg12net-profile.js --profile [--tile 5x8-splat]
//
// The input is a real ECG: the first (by name) hmc CSV (build/data/hmc/ecg) that is not one of the 100
// validation ECGs (../shared/ecg/hmc/labels/dyskalemia-validation-label.csv), read with ecg_read and prepared
// with ecg_prepare_input. Each thread count gets its own k_model (load + XNNPACK runtime once), --warmup
// predictions, then --runs timed ones: wall time (and process CPU time natively) per predict, median and min.
// GFLOP/s counts 5.93 GFLOP per ECG (2.966 G multiply-adds, /work/shared/bench/RESULTS.md).
// Memory: natively the peak resident set (getrusage), in wasm the size of the linear memory after the runs
// (emscripten_get_heap_size: the most the page holds, since wasm memory only grows).
//
// The kb_* functions below are the same benchmark as a C API for JavaScript: the browser page
// (tests/bench/web) and scripts/bench-inference.mjs (node) load the bench-ecg12net-web module and call them.
#include "bench-util.h"

#include "kalium.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <dirent.h>

#if defined(__EMSCRIPTEN__)
#include <emscripten/emscripten.h>
#include <emscripten/heap.h>
#include <malloc.h>
#define KB_EXPORT extern "C" EMSCRIPTEN_KEEPALIVE
#else
#include <sys/resource.h>
#define KB_EXPORT extern "C"
#endif

#ifndef KALIUM_MODEL_PATH
#define KALIUM_MODEL_PATH "model/ecg12net-1.kmodel"
#endif
#ifndef KALIUM_HMC_DIR
#define KALIUM_HMC_DIR "build/data/hmc/ecg"
#endif
#ifndef KALIUM_SHARED_DIR
#define KALIUM_SHARED_DIR "../shared"
#endif

namespace {

constexpr double k_gflop_per_ecg = 5.93;

double now_ms() {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double cpu_ms() {
#if defined(__EMSCRIPTEN__)
    return 0.0;  // no CPU clock in wasm
#else
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
#endif
}

// Peak memory in bytes: native max RSS; wasm the linear memory's size.
double peak_memory_bytes() {
#if defined(__EMSCRIPTEN__)
    return static_cast<double>(emscripten_get_heap_size());
#else
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_maxrss) * 1024.0;  // Linux: kilobytes
#endif
}

// The hash ids of the 100 validation ECGs (second column of the label CSV, quoted).
std::set<std::string> validation_ids(const std::string &labels_csv) {
    std::set<std::string> ids;
    std::vector<uint8_t> bytes;
    if (!bench_load_file(labels_csv, bytes)) return ids;
    std::string text(bytes.begin(), bytes.end());
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        const std::string line = text.substr(pos, end - pos);
        pos = end + 1;
        const size_t c1 = line.find(',');
        if (c1 == std::string::npos) continue;
        const size_t c2 = line.find(',', c1 + 1);
        std::string id = line.substr(c1 + 1, (c2 == std::string::npos ? line.size() : c2) - c1 - 1);
        id.erase(std::remove(id.begin(), id.end(), '"'), id.end());
        if (!id.empty() && id != "hash_id") ids.insert(id);
    }
    return ids;
}

// The first *.csv of `dir` by name whose stem is not a validation ECG; "" if none.
std::string pick_ecg(const std::string &dir, const std::string &labels_csv) {
    const std::set<std::string> skip = validation_ids(labels_csv);
    std::vector<std::string> names;
    if (DIR *d = opendir(dir.c_str())) {
        while (dirent *e = readdir(d)) {
            const std::string name = e->d_name;
            if (name.size() > 4 && name.compare(name.size() - 4, 4, ".csv") == 0) names.push_back(name);
        }
        closedir(d);
    }
    std::sort(names.begin(), names.end());
    for (const std::string &name : names)
        if (!skip.count(name.substr(0, name.size() - 4))) return dir + "/" + name;
    return "";
}

// ---- the benchmark state (shared by main() and the kb_* API) ---------------------------------------------
struct bench_state {
    std::vector<std::unique_ptr<kalium::k_model>> models;  // slot -> model (nullptr when freed)
    std::vector<int> model_threads;
    kalium::network_input input;
    bool has_input = false;
    std::string ecg_name, error;
    double last_k = 0.0, last_cpu_ms = 0.0;
};
bench_state &state() {
    static bench_state s;
    return s;
}

struct summary {
    double median = 0, min = 0, mean = 0;
};
summary summarize(std::vector<double> v) {
    summary s;
    if (v.empty()) return s;
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    s.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    s.min = v.front();
    for (double x : v) s.mean += x / static_cast<double>(n);
    return s;
}

}  // namespace

// ---- C API for JavaScript (browser page, node) -------------------------------------------------------------

// The arithmetic of the models loaded from now on: 0 f32 (default), 1 int8 (model_options::precision).
static bool g_int8 = false;
KB_EXPORT void kb_set_int8(int on) { g_int8 = on != 0; }
// The f32 trunk of the models loaded from now on: 1 Winograd on XNNPACK operators (default), 0 the direct
// convolutions of the XNNPACK subgraph (model_options::winograd).
static bool g_winograd = true;
KB_EXPORT void kb_set_winograd(int on) { g_winograd = on != 0; }
static bool g_step_profile = false;  // --steps: model_options::profile

// Loads a weights file with `threads` worker threads; returns its slot (>= 0) or -1 (kb_error says why).
KB_EXPORT int kb_load_model(const uint8_t *data, size_t size, int threads) {
    kalium::model_options options;
    options.threads = threads;
    if (g_int8) options.arithmetic = kalium::model_options::precision::int8;
    options.winograd = g_winograd;
    options.profile = g_step_profile;
    auto m = kalium::k_model::load(data, size, options);
    if (!m) {
        state().error = m.error().to_string();
        return -1;
    }
    state().models.push_back(std::move(m.value()));
    state().model_threads.push_back(threads);
    return static_cast<int>(state().models.size()) - 1;
}

KB_EXPORT void kb_free_model(int slot) {
    if (slot >= 0 && static_cast<size_t>(slot) < state().models.size()) state().models[static_cast<size_t>(slot)].reset();
}

// Reads and prepares an ECG file (any format kalium reads); 0 on success, -1 (kb_error says why).
KB_EXPORT int kb_set_ecg(const uint8_t *data, size_t size, const char *name) {
    kalium::named_bytes file{name ? name : "ecg", data, size};
    auto record = kalium::ecg_read(file);
    if (!record) {
        state().error = record.error().to_string();
        return -1;
    }
    auto in = kalium::ecg_prepare_input(record.value());
    if (!in) {
        state().error = in.error().to_string();
        return -1;
    }
    state().input = std::move(in.value());
    state().has_input = true;
    state().ecg_name = file.name;
    return 0;
}

// One prediction with the model in `slot`: its wall time in ms, or -1 on failure.
KB_EXPORT double kb_predict(int slot) {
    bench_state &s = state();
    if (slot < 0 || static_cast<size_t>(slot) >= s.models.size() || !s.models[static_cast<size_t>(slot)] || !s.has_input) {
        s.error = "kb_predict: no such model, or no ECG set";
        return -1.0;
    }
    const double c0 = cpu_ms(), t0 = now_ms();
    auto p = s.models[static_cast<size_t>(slot)]->predict(s.input);
    const double t1 = now_ms(), c1 = cpu_ms();
    if (!p) {
        s.error = p.error().to_string();
        return -1.0;
    }
    s.last_k = p->k_meq_l;
    s.last_cpu_ms = c1 - c0;
    return t1 - t0;
}

KB_EXPORT double kb_last_k() { return state().last_k; }
KB_EXPORT double kb_last_cpu_ms() { return state().last_cpu_ms; }
KB_EXPORT double kb_peak_memory_bytes() { return peak_memory_bytes(); }
// wasm: the most memory malloc ever held (dlmalloc's max footprint), the need behind the heap size; 0 natively.
KB_EXPORT double kb_malloc_peak_bytes() {
#if defined(__EMSCRIPTEN__)
    return static_cast<double>(mallinfo().usmblks);
#else
    return 0.0;
#endif
}
KB_EXPORT const char *kb_error() { return state().error.c_str(); }
// The prepared input (12 x 1250 floats, mV, lead-major), for running other runtimes on the same numbers.
KB_EXPORT const float *kb_input() { return state().has_input ? state().input.values_mv.data() : nullptr; }
KB_EXPORT int kb_threads_supported() {
#if !defined(__EMSCRIPTEN__) || defined(__EMSCRIPTEN_PTHREADS__)
    return 1;
#else
    return 0;
#endif
}

namespace {
const char *target_name();
}

// ---- per-operator profile (target bench-ecg12net-profile only) ---------------------------------------------
// The engine creates its XNNPACK runtime without profiling; this build links with
// -Wl,--wrap=xnn_create_runtime_v3 so that the runtime it creates gets XNN_FLAG_BASIC_PROFILING, and then reads
// XNNPACK's per-operator times after each predict. Operators are mapped to ECG12Net-1's layers by their order
// (stem; per dense unit: 1x1 conv, k3 conv, 1x1 conv, [avg pool in the first unit of a block], concatenation).
#if defined(KALIUM_BENCH_PROFILE)
#include <xnnpack.h>
#include "xnnpack/config.h"
#include "xnnpack/gemm.h"
#include "xnnpack/igemm.h"
#if !defined(__EMSCRIPTEN__)
#include <dlfcn.h>
#endif

namespace {
xnn_runtime_t g_profiled_runtime = nullptr;
}

extern "C" enum xnn_status __real_xnn_create_runtime_v3(xnn_subgraph_t, xnn_weights_cache_t, pthreadpool_t, uint32_t, xnn_runtime_t *);
extern "C" enum xnn_status __wrap_xnn_create_runtime_v3(xnn_subgraph_t subgraph, xnn_weights_cache_t cache, pthreadpool_t pool,
                                                        uint32_t flags, xnn_runtime_t *runtime) {
    const xnn_status s = __real_xnn_create_runtime_v3(subgraph, cache, pool, flags | XNN_FLAG_BASIC_PROFILING, runtime);
    if (s == xnn_status_success) g_profiled_runtime = *runtime;
    return s;
}

namespace {

struct layer_info {
    std::string category;
    double macs = 0;
};

// ECG12Net-1's trunk as XNNPACK runs it, one entry per subgraph node, with its multiply-adds (12 leads).
std::vector<layer_info> ecg12net_layers() {
    std::vector<layer_info> out;
    const double leads = 12;
    size_t w = (1250 + 6 - 7) / 2 + 1, c = 32;
    out.push_back({"stem k7 s2 1->32", leads * double(w) * 32 * 7});
    const size_t units[] = {3, 3, 6, 6, 3};
    for (size_t b = 0; b < 5; b++)
        for (size_t u = 0; u <= units[b]; u++) {
            const bool pool = u == 0;
            const size_t w2 = pool ? (w + 2 - 3) / 2 + 1 : w;
            out.push_back({"conv 1x1 C->128", leads * double(w) * 128 * double(c)});
            out.push_back({pool ? "conv k3 s2 128->128" : "conv k3 s1 128->128", leads * double(w2) * 128 * 128 * 3});
            out.push_back({"conv 1x1 128->32", leads * double(w2) * 32 * 128});
            if (pool) out.push_back({"avg pool 2/2", 0});
            out.push_back({"concatenation (copies)", 0});
            w = w2;
            c += 32;
        }
    return out;
}

#if defined(__EMSCRIPTEN__)
#define KB_TILE(mr, v) \
    {#mr "x8-" #v, mr, (xnn_gemm_ukernel_fn) xnn_f32_gemm_relu_ukernel_##mr##x8__wasmsimd_##v, \
     (xnn_igemm_ukernel_fn) xnn_f32_igemm_relu_ukernel_##mr##x8__wasmsimd_##v}
struct kb_tile {
    const char *name;
    int mr;
    xnn_gemm_ukernel_fn gemm;
    xnn_igemm_ukernel_fn igemm;
};
// The f32 relu GEMM tiles of XNNPACK's PROD wasmsimd lists (ECG12Net's convolutions all take the relu kernels).
const kb_tile k_tiles[] = {KB_TILE(1, splat), KB_TILE(1, loadsplat), KB_TILE(3, splat), KB_TILE(3, loadsplat),
                           KB_TILE(4, splat), KB_TILE(4, loadsplat), KB_TILE(5, splat), KB_TILE(5, loadsplat),
                           KB_TILE(6, splat), KB_TILE(6, loadsplat)};
#endif

// --tile GEMM[,IGEMM] (wasm), e.g. 4x8-loadsplat,4x8-splat: an experiment, not a fix. Before the model is built,
// XNNPACK's f32 relu GEMM config (chosen by host: 4x8 splat where it detects x86) is overwritten with other tiles
// of the same width: GEMM for the 1x1 convolutions, IGEMM for the k3/k7 ones (both need the same MR).
bool set_gemm_tile(const std::string &spec) {
#if defined(__EMSCRIPTEN__)
    if (xnn_initialize(nullptr) != xnn_status_success) return false;
    auto *c = const_cast<xnn_gemm_config *>(xnn_init_f32_gemm_config());
    const size_t comma = spec.find(',');
    const std::string gemm = spec.substr(0, comma), igemm = comma == std::string::npos ? gemm : spec.substr(comma + 1);
    const kb_tile *g = nullptr, *i = nullptr;
    for (const kb_tile &t : k_tiles) {
        if (gemm == t.name) g = &t;
        if (igemm == t.name) i = &t;
    }
    if (!c || !g || !i || g->mr != i->mr) return false;
    c->relu.gemm[g->mr - 1] = xnn_init_hmp_gemm_ukernel(g->gemm);
    c->relu.igemm[i->mr - 1] = xnn_init_hmp_igemm_ukernel(i->igemm);
    c->mr = static_cast<uint8_t>(g->mr);
    return true;
#else
    (void) spec;
    return false;
#endif
}

std::string kernel_name(const void *fn) {
#if defined(__EMSCRIPTEN__)
    const xnn_gemm_config *c = xnn_init_f32_gemm_config();
    for (const kb_tile &t : k_tiles) {
        if (fn == (const void *) t.gemm) return std::string("f32_gemm_relu_") + t.name;
        if (fn == (const void *) t.igemm) return std::string("f32_igemm_relu_") + t.name;
    }
    (void) c;
    return "other";
#else
    Dl_info info{};
    if (fn && dladdr(fn, &info) && info.dli_sname) return info.dli_sname;
    return "(hidden symbol)";  // XNNPACK's kernels are hidden natively; the tile (MRxNR) says which family
#endif
}

int run_profile(int slot, int warmup, int runs, bool json);

}  // namespace

// For the page (bench-ecg12net-profile-web): choose the GEMM tiles before kb_load_model; 0 on success.
KB_EXPORT int kb_set_gemm_tile(const char *spec) { return set_gemm_tile(spec ? spec : "") ? 0 : -1; }

namespace {

int run_profile(int slot, int warmup, int runs, bool json) {
    if (!g_profiled_runtime) {
        std::fprintf(stderr, "bench-ecg12net: no profiled runtime (was the engine's runtime created?)\n");
        return 1;
    }
    for (int r = 0; r < warmup; r++) kb_predict(slot);
    std::vector<std::string> names;
    std::vector<double> total_us;
    double wall = 0;
    for (int r = 0; r < runs; r++) {
        const double ms = kb_predict(slot);
        if (ms < 0) return 1;
        wall += ms;
        size_t n_ops = 0, size = 0;
        xnn_get_runtime_profiling_info(g_profiled_runtime, xnn_profile_info_num_operators, sizeof n_ops, &n_ops, &size);
        std::vector<uint64_t> us(n_ops);
        xnn_get_runtime_profiling_info(g_profiled_runtime, xnn_profile_info_operator_timing, us.size() * sizeof(uint64_t), us.data(), &size);
        if (names.empty()) {
            std::vector<char> text;
            xnn_get_runtime_profiling_info(g_profiled_runtime, xnn_profile_info_operator_name, 0, nullptr, &size);
            text.resize(size);
            xnn_get_runtime_profiling_info(g_profiled_runtime, xnn_profile_info_operator_name, text.size(), text.data(), &size);
            for (size_t i = 0, start = 0; i < text.size(); i++)
                if (text[i] == '\0') {
                    names.emplace_back(&text[start], i - start);
                    start = i + 1;
                }
            total_us.assign(n_ops, 0.0);
        }
        for (size_t i = 0; i < n_ops && i < total_us.size(); i++) total_us[i] += static_cast<double>(us[i]);
    }
    const std::vector<layer_info> layers = ecg12net_layers();
    const bool mapped = layers.size() == names.size();
    struct agg {
        double us = 0, macs = 0;
        size_t count = 0;
        std::string op;
    };
    std::vector<std::pair<std::string, agg>> cats;
    double sum_us = 0;
    for (size_t i = 0; i < names.size(); i++) {
        const std::string key = mapped ? layers[i].category : names[i];
        auto it = std::find_if(cats.begin(), cats.end(), [&](const auto &p) { return p.first == key; });
        if (it == cats.end()) {
            cats.push_back({key, {}});
            it = cats.end() - 1;
        }
        it->second.us += total_us[i] / runs;
        it->second.macs += mapped ? layers[i].macs : 0;
        it->second.count++;
        it->second.op = names[i];
        sum_us += total_us[i] / runs;
    }
    const xnn_gemm_config *g = xnn_init_f32_gemm_config();
    const std::string relu_gemm = g ? kernel_name((const void *) g->relu.gemm[g->mr - 1].function[XNN_UARCH_DEFAULT]) : "";
    const std::string relu_igemm = g ? kernel_name((const void *) g->relu.igemm[g->mr - 1].function[XNN_UARCH_DEFAULT]) : "";
    if (json) {
        std::printf("{\"target\": \"%s\", \"runs\": %d, \"wall_ms\": %.3f, \"operators_ms\": %.3f, \"gemm_mr\": %d, \"gemm_nr\": %d, "
                    "\"relu_gemm\": \"%s\", \"relu_igemm\": \"%s\", \"layers\": [",
                    target_name(), runs, wall / runs, sum_us / 1e3, g ? g->mr : 0, g ? g->nr : 0, relu_gemm.c_str(), relu_igemm.c_str());
        for (size_t i = 0; i < cats.size(); i++)
            std::printf("%s\n  {\"layer\": \"%s\", \"xnnpack_op\": \"%s\", \"count\": %zu, \"ms\": %.3f, \"share\": %.4f, \"gmacs\": %.4f, "
                        "\"gflops\": %.2f}",
                        i ? "," : "", cats[i].first.c_str(), cats[i].second.op.c_str(), cats[i].second.count, cats[i].second.us / 1e3,
                        cats[i].second.us / sum_us, cats[i].second.macs / 1e9,
                        cats[i].second.us > 0 ? 2 * cats[i].second.macs / (cats[i].second.us * 1e3) : 0.0);
        std::printf("\n]}\n");
    } else {
        std::printf("per-operator profile (%s), mean of %d predictions: %.2f ms wall, %.2f ms in XNNPACK operators\n", target_name(), runs,
                    wall / runs, sum_us / 1e3);
        std::printf("f32 GEMM tile %dx%d; relu gemm %s; relu igemm %s\n", g ? g->mr : 0, g ? g->nr : 0, relu_gemm.c_str(), relu_igemm.c_str());
        std::printf("%-26s %-36s %5s %9s %7s %8s %8s\n", "layer", "XNNPACK operator", "count", "ms", "share", "GMAC", "GFLOP/s");
        for (const auto &[k, a] : cats)
            std::printf("%-26s %-36s %5zu %9.3f %6.1f%% %8.4f %8.1f\n", k.c_str(), a.op.c_str(), a.count, a.us / 1e3, 100 * a.us / sum_us,
                        a.macs / 1e9, a.us > 0 ? 2 * a.macs / (a.us * 1e3) : 0.0);
    }
    return 0;
}

}  // namespace
#endif

// ---- the command line ------------------------------------------------------------------------------------

namespace {

// --steps: the Winograd trunk's own time per kind of step (model_options::profile), e.g. to see what the
// transforms cost beside XNNPACK's products.
int run_steps(int slot, int warmup, int runs, bool json) {
    for (int r = 0; r < warmup; r++) kb_predict(slot);
    auto &model = *state().models[static_cast<size_t>(slot)];
    auto fresh = model.profile();  // warm-up runs are counted too: subtract them
    double wall = 0;
    for (int r = 0; r < runs; r++) {
        const double ms = kb_predict(slot);
        if (ms < 0) return 1;
        wall += ms;
    }
    auto steps = model.profile();
    const double total_runs = warmup + runs;
    double sum_ms = 0;
    for (size_t i = 0; i < steps.size(); i++) {
        steps[i].ms = (steps[i].ms * total_runs - fresh[i].ms * warmup) / runs;
        sum_ms += steps[i].ms;
    }
    if (json) std::printf("{\"target\": \"%s\", \"runs\": %d, \"wall_ms\": %.3f, \"steps\": [", target_name(), runs, wall / runs);
    else std::printf("trunk steps (%s, Winograd build), mean of %d predictions: %.2f ms wall, %.2f ms in the trunk\n%-34s %5s %9s %7s %8s %8s\n",
                     target_name(), runs, wall / runs, sum_ms, "step", "count", "ms", "share", "GMAC", "GFLOP/s");
    for (size_t i = 0; i < steps.size(); i++) {
        const auto &t = steps[i];
        const double gflops = t.ms > 0 ? 2 * t.macs / (t.ms * 1e6) : 0.0;
        if (json)
            std::printf("%s\n  {\"step\": \"%s\", \"count\": %zu, \"ms\": %.3f, \"share\": %.4f, \"gmacs\": %.4f, \"gflops\": %.2f}",
                        i ? "," : "", t.kind.c_str(), t.count, t.ms, t.ms / sum_ms, t.macs / 1e9, gflops);
        else
            std::printf("%-34s %5zu %9.3f %6.1f%% %8.4f %8.1f\n", t.kind.c_str(), t.count, t.ms, 100 * t.ms / sum_ms, t.macs / 1e9, gflops);
    }
    if (json) std::printf("\n]}\n");
    return 0;
}

int usage() {
    std::fprintf(stderr,
                 "usage: bench-ecg12net [--json] [--runs N] [--warmup N] [--threads 1,2] [--precision f32|int8] [--direct] [--model PATH]\n"
                 "                      [--ecg PATH] [--steps]   (--steps: the Winograd trunk's time per kind of step)\n"
                 "                      [--hmc-dir DIR] [--labels CSV] [--dump-input PATH] [--serve]\n"
                 "                      [--profile [--tile 6x8-splat]]   (bench-ecg12net-profile: XNNPACK's time per layer)\n");
    return 2;
}

std::vector<int> parse_threads(const char *text) {
    std::vector<int> out;
    for (const char *p = text; *p;) {
        char *end = nullptr;
        const long v = std::strtol(p, &end, 10);
        if (end == p || v < 1 || v > 64) return {};
        out.push_back(static_cast<int>(v));
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return {};
    }
    return out;
}

const char *target_name() {
#if defined(__EMSCRIPTEN__)
#if defined(__EMSCRIPTEN_PTHREADS__)
    return "wasm32 simd128 pthreads";
#else
    return "wasm32 simd128";
#endif
#else
    return "native";
#endif
}

}  // namespace

int main(int argc, char **argv) {
    bool json = false, serve = false, profile = false, steps = false;
    std::string tile;
    int runs = 10, warmup = 2;
    std::vector<int> threads{1, 2};
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
    threads = {1};
#endif
    std::string model_path = KALIUM_MODEL_PATH, ecg_path, hmc_dir = KALIUM_HMC_DIR, dump_input;
    std::string labels = std::string(KALIUM_SHARED_DIR) + "/ecg/hmc/labels/dyskalemia-validation-label.csv";
    for (int i = 1; i < argc; i++) {
        const std::string a = argv[i];
        const bool has_value = i + 1 < argc;
        if (a == "--json") json = true;
        else if (a == "--serve") serve = true;
        else if (a == "--profile") profile = true;
        else if (a == "--tile" && has_value) tile = argv[++i];
        else if (a == "--precision" && has_value) kb_set_int8(std::strcmp(argv[++i], "int8") == 0);
        else if (a == "--direct") kb_set_winograd(0);
        else if (a == "--steps") steps = true;
        else if (a == "--runs" && has_value) runs = std::atoi(argv[++i]);
        else if (a == "--warmup" && has_value) warmup = std::atoi(argv[++i]);
        else if (a == "--threads" && has_value) threads = parse_threads(argv[++i]);
        else if (a == "--model" && has_value) model_path = argv[++i];
        else if (a == "--ecg" && has_value) ecg_path = argv[++i];
        else if (a == "--hmc-dir" && has_value) hmc_dir = argv[++i];
        else if (a == "--labels" && has_value) labels = argv[++i];
        else if (a == "--dump-input" && has_value) dump_input = argv[++i];
        else return usage();
    }
    if (runs < 1 || warmup < 0 || threads.empty()) return usage();
    kalium::log_set_min_level(kalium::log_level::error);

    if (ecg_path.empty()) ecg_path = pick_ecg(hmc_dir, labels);
    std::vector<uint8_t> model_bytes, ecg_bytes;
    if (ecg_path.empty() || !bench_load_file(ecg_path, ecg_bytes)) {
        std::fprintf(stderr, "bench-ecg12net: no input ECG (looked for hmc CSVs in %s; configure the build to unpack them, or pass --ecg)\n",
                     hmc_dir.c_str());
        return 1;
    }
    if (!bench_load_file(model_path, model_bytes)) {
        std::fprintf(stderr, "bench-ecg12net: cannot read %s\n", model_path.c_str());
        return 1;
    }
    const std::string ecg_name = ecg_path.substr(ecg_path.find_last_of('/') + 1);
    if (kb_set_ecg(ecg_bytes.data(), ecg_bytes.size(), ecg_name.c_str()) != 0) {
        std::fprintf(stderr, "bench-ecg12net: %s: %s\n", ecg_path.c_str(), kb_error());
        return 1;
    }
    if (!dump_input.empty()) {
        FILE *f = std::fopen(dump_input.c_str(), "wb");
        const auto &v = state().input.values_mv;
        if (!f || std::fwrite(v.data(), sizeof(float), v.size(), f) != v.size()) {
            std::fprintf(stderr, "bench-ecg12net: cannot write %s\n", dump_input.c_str());
            return 1;
        }
        std::fclose(f);
    }
    const double memory_before = peak_memory_bytes();

    if (steps) {
        g_step_profile = true;
        const int slot = kb_load_model(model_bytes.data(), model_bytes.size(), threads.front());
        if (slot < 0) {
            std::fprintf(stderr, "bench-ecg12net: %s\n", kb_error());
            return 1;
        }
        return run_steps(slot, warmup, runs, json);
    }
    if (profile) {
#if defined(KALIUM_BENCH_PROFILE)
        kb_set_winograd(0);  // XNNPACK's per-operator profile exists for its subgraph runtime: the direct trunk
        if (!tile.empty() && !set_gemm_tile(tile)) {
            std::fprintf(stderr, "bench-ecg12net: --tile %s: not available in this build\n", tile.c_str());
            return 2;
        }
        const int slot = kb_load_model(model_bytes.data(), model_bytes.size(), threads.front());
        if (slot < 0) {
            std::fprintf(stderr, "bench-ecg12net: %s\n", kb_error());
            return 1;
        }
        return run_profile(slot, warmup, runs, json);
#else
        std::fprintf(stderr, "bench-ecg12net: --profile needs the bench-ecg12net-profile build\n");
        return 2;
#endif
    }

    if (serve) {
        // Load one model per thread count, then answer "run <threads> <n>" lines (for interleaved rounds).
        std::vector<int> slots;
        for (int t : threads) {
            const double t0 = now_ms();
            const int slot = kb_load_model(model_bytes.data(), model_bytes.size(), t);
            if (slot < 0) {
                std::fprintf(stderr, "bench-ecg12net: %s\n", kb_error());
                return 1;
            }
            slots.push_back(slot);
            std::printf("{\"loaded\": %d, \"load_ms\": %.3f}\n", t, now_ms() - t0);
        }
        std::printf("{\"ready\": true, \"ecg\": \"%s\", \"model\": \"%s\", \"target\": \"%s\"}\n", ecg_name.c_str(),
                    model_path.c_str(), target_name());
        std::fflush(stdout);
        char line[256];
        while (std::fgets(line, sizeof line, stdin)) {
            int t = 0, n = 0;
            if (std::strncmp(line, "quit", 4) == 0) break;
            if (std::sscanf(line, "run %d %d", &t, &n) != 2 || n < 1) {
                std::printf("{\"error\": \"bad command\"}\n");
                std::fflush(stdout);
                continue;
            }
            const auto it = std::find(threads.begin(), threads.end(), t);
            if (it == threads.end()) {
                std::printf("{\"error\": \"thread count %d not loaded\"}\n", t);
                std::fflush(stdout);
                continue;
            }
            const int slot = slots[static_cast<size_t>(it - threads.begin())];
            std::string ms = "[", cpu = "[";
            bool ok = true;
            for (int r = 0; r < n; r++) {
                const double w = kb_predict(slot);
                if (w < 0) {
                    ok = false;
                    break;
                }
                char buf[64];
                std::snprintf(buf, sizeof buf, "%s%.4f", r ? ", " : "", w);
                ms += buf;
                std::snprintf(buf, sizeof buf, "%s%.4f", r ? ", " : "", kb_last_cpu_ms());
                cpu += buf;
            }
            if (!ok) std::printf("{\"error\": \"predict failed: %s\"}\n", kb_error());
            else
                std::printf("{\"threads\": %d, \"ms\": %s], \"cpu_ms\": %s], \"k\": %.6f, \"peak_memory_bytes\": %.0f}\n", t,
                            ms.c_str(), cpu.c_str(), kb_last_k(), peak_memory_bytes());
            std::fflush(stdout);
        }
        return 0;
    }

    if (!json) {
        std::printf("ECG12Net (%s), %s, %d warm-up + %d timed predictions per thread count, %.2f GFLOP per ECG\n",
                    target_name(), ecg_name.c_str(), warmup, runs, k_gflop_per_ecg);
        std::printf("%8s %10s %10s %10s %10s %8s %12s %10s\n", "threads", "median ms", "min ms", "cpu ms", "load ms", "GFLOP/s",
                    "peak MB", "K mEq/L");
    } else {
        std::printf("{\"target\": \"%s\", \"ecg\": \"%s\", \"model\": \"%s\", \"gflop_per_ecg\": %.2f, \"warmup\": %d, \"runs\": %d, "
                    "\"memory_bytes_before_load\": %.0f, \"results\": [",
                    target_name(), ecg_name.c_str(), model_path.c_str(), k_gflop_per_ecg, warmup, runs, memory_before);
    }
    int failures = 0;
    bool first = true;
    for (int t : threads) {
        const double t0 = now_ms();
        const int slot = kb_load_model(model_bytes.data(), model_bytes.size(), t);
        const double load_ms = now_ms() - t0;
        if (slot < 0) {
            std::fprintf(stderr, "bench-ecg12net: threads %d: %s\n", t, kb_error());
            failures++;
            continue;
        }
        std::vector<double> wall, cpu;
        double first_ms = 0;
        bool ok = true;
        for (int r = 0; r < warmup + runs && ok; r++) {
            const double w = kb_predict(slot);
            if (w < 0) ok = false;
            if (r == 0) first_ms = w;
            if (r >= warmup) {
                wall.push_back(w);
                cpu.push_back(kb_last_cpu_ms());
            }
        }
        if (!ok) {
            std::fprintf(stderr, "bench-ecg12net: threads %d: %s\n", t, kb_error());
            failures++;
            continue;
        }
        const summary w = summarize(wall), c = summarize(cpu);
        const double gflops = k_gflop_per_ecg / (w.median * 1e-3), memory = peak_memory_bytes();
        if (json) {
            std::printf("%s\n  {\"threads\": %d, \"median_ms\": %.3f, \"min_ms\": %.3f, \"mean_ms\": %.3f, \"cpu_median_ms\": %.3f, "
                        "\"first_ms\": %.3f, \"load_ms\": %.3f, \"gflops\": %.2f, \"peak_memory_bytes\": %.0f, \"malloc_peak_bytes\": %.0f, "
                        "\"k\": %.6f, \"ms\": [",
                        first ? "" : ",", t, w.median, w.min, w.mean, c.median, first_ms, load_ms, gflops, memory, kb_malloc_peak_bytes(),
                        kb_last_k());
            for (size_t i = 0; i < wall.size(); i++) std::printf("%s%.3f", i ? ", " : "", wall[i]);
            std::printf("]}");
        } else {
            std::printf("%8d %10.2f %10.2f %10.2f %10.1f %8.1f %12.1f %10.4f\n", t, w.median, w.min, c.median, load_ms, gflops,
                        memory / 1048576.0, kb_last_k());
        }
        first = false;
        kb_free_model(slot);
    }
    if (json) std::printf("\n]}\n");
    return failures ? 1 : 0;
}
