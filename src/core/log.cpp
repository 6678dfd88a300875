// core/log.cpp: the process-wide log sink (see kalium.h, "Log sink").
#include "kalium.h"
#include "core/format.h"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace kalium {
namespace {

void log_sink_stderr(log_level level, const char *message, void *) {
    std::fprintf(stderr, "kalium: %s: %s\n", log_level_name(level), message);
}

struct log_state {
    std::mutex mutex;  // guards sink + user_data together, so a sink is never called with another's data
    log_sink_fn sink = log_sink_stderr;
    void *user_data = nullptr;
    std::atomic<int> min_level{static_cast<int>(log_level::info)};
};

log_state &state() {
    static log_state s;
    return s;
}

}  // namespace

const char *log_level_name(log_level level) {
    switch (level) {
        case log_level::debug: return "debug";
        case log_level::info: return "info";
        case log_level::warning: return "warning";
        case log_level::error: return "error";
    }
    return "unknown";
}

void log_set_sink(log_sink_fn sink, void *user_data) {
    std::lock_guard<std::mutex> lock(state().mutex);
    state().sink = sink ? sink : log_sink_stderr;
    state().user_data = sink ? user_data : nullptr;
}

void log_set_min_level(log_level level) { state().min_level = static_cast<int>(level); }

log_level log_min_level() { return static_cast<log_level>(state().min_level.load()); }

void log_message(log_level level, const char *format, ...) {
    if (static_cast<int>(level) < state().min_level.load()) return;
    va_list args;
    va_start(args, format);
    std::string message = format_v(format, args);
    va_end(args);
    std::lock_guard<std::mutex> lock(state().mutex);
    state().sink(level, message.c_str(), state().user_data);
}

}  // namespace kalium
