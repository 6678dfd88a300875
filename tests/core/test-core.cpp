// core/test-core.cpp: version, status/result and the log sink (kalium.h).
#include <catch2/catch.hpp>

#include "kalium.h"

#include <cstring>
#include <string>
#include <vector>

TEST_CASE("version string matches its parts", "[core]") {
    std::string expected = std::to_string(kalium::version_major()) + "." + std::to_string(kalium::version_minor()) +
                           "." + std::to_string(kalium::version_patch());
    CHECK(expected == kalium::version_string());
    std::string build = kalium::build_description();
#if defined(__wasm__)
    CHECK(build.rfind("wasm32 simd128", 0) == 0);
#else
    CHECK(build.rfind("native", 0) == 0);
#endif
}

TEST_CASE("status carries a code and a formatted message", "[core]") {
    kalium::status ok;
    CHECK(ok.ok());
    CHECK(ok.to_string() == "ok");

    kalium::status bad = kalium::status::error(kalium::status_code::bad_format, "%s: lead %d has %zu samples (expected %d)",
                                               "wfdb", 3, size_t(10), 5000);
    CHECK_FALSE(bad.ok());
    CHECK_FALSE(static_cast<bool>(bad));
    CHECK(bad.code() == kalium::status_code::bad_format);
    CHECK(bad.message() == "wfdb: lead 3 has 10 samples (expected 5000)");
    CHECK(bad.to_string() == "bad_format: wfdb: lead 3 has 10 samples (expected 5000)");

    // Long messages are never truncated.
    std::string long_field(5000, 'x');
    kalium::status long_status = kalium::status::error(kalium::status_code::invalid_argument, "field %s", long_field.c_str());
    CHECK(long_status.message().size() == 6 + 5000);
}

TEST_CASE("every status code has a distinct name", "[core]") {
    using kalium::status_code;
    const status_code codes[] = {status_code::ok,        status_code::invalid_argument, status_code::bad_format,
                                 status_code::unsupported, status_code::too_large,      status_code::out_of_memory,
                                 status_code::io_error,  status_code::internal};
    std::vector<std::string> names;
    for (status_code c : codes) names.emplace_back(kalium::status_code_name(c));
    for (size_t i = 0; i < names.size(); i++)
        for (size_t j = i + 1; j < names.size(); j++) CHECK(names[i] != names[j]);
    CHECK(names[2] == "bad_format");
}

TEST_CASE("result holds a value or an error", "[core]") {
    kalium::result<int> good(42);
    REQUIRE(good.ok());
    CHECK(good.value() == 42);

    kalium::result<std::string> bad(kalium::status::error(kalium::status_code::unsupported, "format %d", 7));
    CHECK_FALSE(bad.ok());
    CHECK(bad.error().code() == kalium::status_code::unsupported);
    CHECK(bad.error().message() == "format 7");

    // A result built from a success status without a value is a bug, reported as such.
    kalium::result<int> misuse{kalium::status()};
    CHECK_FALSE(misuse.ok());
    CHECK(misuse.error().code() == kalium::status_code::internal);
}

namespace {
struct captured_log {
    std::vector<std::pair<kalium::log_level, std::string>> lines;
};
void capture_sink(kalium::log_level level, const char *message, void *user) {
    static_cast<captured_log *>(user)->lines.emplace_back(level, message);
}
}  // namespace

TEST_CASE("log sink receives messages at or above the minimum level", "[core]") {
    captured_log log;
    kalium::log_set_sink(capture_sink, &log);
    kalium::log_set_min_level(kalium::log_level::warning);
    kalium::log_message(kalium::log_level::info, "dropped %d", 1);
    kalium::log_message(kalium::log_level::warning, "kept %d", 2);
    kalium::log_message(kalium::log_level::error, "kept %s", "three");
    kalium::log_set_min_level(kalium::log_level::info);
    kalium::log_set_sink(nullptr, nullptr);  // back to stderr; later messages must not reach `log`
    kalium::log_message(kalium::log_level::debug, "not captured");

    REQUIRE(log.lines.size() == 2);
    CHECK(log.lines[0].first == kalium::log_level::warning);
    CHECK(log.lines[0].second == "kept 2");
    CHECK(log.lines[1].first == kalium::log_level::error);
    CHECK(log.lines[1].second == "kept three");
    CHECK(std::strcmp(kalium::log_level_name(kalium::log_level::warning), "warning") == 0);
}
