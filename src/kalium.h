// kalium.h: the public API of kalium's core library, the only header its clients (CLI, web app, Python
// module, tests) include.
//
// kalium estimates serum potassium (K+) from a 12-lead ECG with ECG12Net (Lin CS et al., JMIR Med
// Inform 2020;8(3):e15931). Research use only; not a medical device.
//
// Basic usage (the parts marked "later" arrive with the reader, model and pipeline issues):
//
//   kalium::log_set_sink(my_sink, my_context);          // optional: route messages to your UI/logger
//   printf("kalium %s\n", kalium::version_string());
//   kalium::status st = some_kalium_call(...);
//   if (!st.ok()) fprintf(stderr, "%s\n", st.message().c_str());
//
// Errors: no exception crosses this header. Every fallible call returns a kalium::status (or a
// kalium::result<T>) carrying a code and a message of the form "<where>: <what> (got X, expected Y)".
//
// Index of this file
//   [SECTION] Version
//   [SECTION] Status and result
//   [SECTION] Log sink
#pragma once

#include <cstdarg>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace kalium {

// [SECTION] Version ------------------------------------------------------------------------------------

// "MAJOR.MINOR.PATCH", from the CMake project version.
const char *version_string();
int version_major();
int version_minor();
int version_patch();
// What this build is: target ("native x86_64", "wasm32 simd128") and build type.
const char *build_description();

// [SECTION] Status and result ---------------------------------------------------------------------------

enum class status_code {
    ok = 0,
    invalid_argument,  // the caller passed something the API does not accept
    bad_format,        // input bytes are not what they claim to be (truncated, inconsistent, corrupt)
    unsupported,       // well-formed input using a feature kalium does not handle
    too_large,         // input exceeds one of kalium's explicit limits
    out_of_memory,
    io_error,          // a file could not be opened, read or written
    internal,          // a bug in kalium or a dependency; the message says where
};

// Stable lower-case name of a code ("bad_format"), for logs and JSON.
const char *status_code_name(status_code code);

class status {
public:
    status() = default;  // success
    status(status_code code, std::string message) : code_(code), message_(std::move(message)) {}

    static status success() { return status(); }
    // printf-style message; the format should begin with where the problem is found.
    static status error(status_code code, const char *format, ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 2, 3)))
#endif
        ;

    bool ok() const { return code_ == status_code::ok; }
    explicit operator bool() const { return ok(); }
    status_code code() const { return code_; }
    const std::string &message() const { return message_; }
    // "bad_format: <message>", or "ok".
    std::string to_string() const;

private:
    status_code code_ = status_code::ok;
    std::string message_;
};

// A value or the status that says why there is none.
template <class T>
class result {
public:
    result(T value) : value_(std::move(value)) {}
    result(status error) : status_(std::move(error)) {
        if (status_.ok()) status_ = status(status_code::internal, "result: constructed from a success status without a value");
    }

    bool ok() const { return value_.has_value(); }
    explicit operator bool() const { return ok(); }
    const status &error() const { return status_; }
    // Precondition: ok(). Accessing the value of a failed result is a programming error.
    T &value() & { return *value_; }
    const T &value() const & { return *value_; }
    T &&value() && { return std::move(*value_); }
    T *operator->() { return &*value_; }
    const T *operator->() const { return &*value_; }

private:
    std::optional<T> value_;
    status status_;
};

// [SECTION] Log sink ------------------------------------------------------------------------------------

enum class log_level { debug = 0, info, warning, error };

const char *log_level_name(log_level level);

// Receives every message at or above the minimum level. `message` has no trailing newline and is valid
// only during the call. The sink may be called from any thread that calls into kalium.
using log_sink_fn = void (*)(log_level level, const char *message, void *user_data);

// Replace the sink; nullptr restores the default (stderr, "kalium: warning: ..."). Process-wide.
void log_set_sink(log_sink_fn sink, void *user_data);
// Messages below this level are dropped before formatting. Default: info.
void log_set_min_level(log_level level);
log_level log_min_level();

void log_message(log_level level, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

}  // namespace kalium
