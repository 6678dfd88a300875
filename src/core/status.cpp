// core/status.cpp: kalium::status, the error type every fallible call returns (see kalium.h).
#include "kalium.h"
#include "core/format.h"

namespace kalium {

const char *status_code_name(status_code code) {
    switch (code) {
        case status_code::ok: return "ok";
        case status_code::invalid_argument: return "invalid_argument";
        case status_code::bad_format: return "bad_format";
        case status_code::unsupported: return "unsupported";
        case status_code::too_large: return "too_large";
        case status_code::out_of_memory: return "out_of_memory";
        case status_code::io_error: return "io_error";
        case status_code::internal: return "internal";
    }
    return "unknown";
}

status status::error(status_code code, const char *format, ...) {
    va_list args;
    va_start(args, format);
    std::string message = format_v(format, args);
    va_end(args);
    return status(code, std::move(message));
}

std::string status::to_string() const {
    if (ok()) return "ok";
    return std::string(status_code_name(code_)) + ": " + message_;
}

}  // namespace kalium
