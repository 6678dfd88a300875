// test-util.h: helpers shared by the Catch2 tests.
//   read_bytes(path)         the whole file, or FAIL naming the path
//   shared_ecg(relative)     path of a real ECG file in ../shared/ecg (read in place, never copied into the repo)
//   as_named(name, bytes)    a kalium::named_bytes view of a byte vector
#pragma once

#include <catch2/catch.hpp>

#include "kalium.h"

#include <cstdio>
#include <string>
#include <vector>

inline std::vector<uint8_t> read_bytes(const std::string &path) {
    std::vector<uint8_t> bytes;
    FILE *f = std::fopen(path.c_str(), "rb");
    if (!f) FAIL("cannot open test input " << path << " (tests run from the repository root; ../shared must be beside it)");
    uint8_t buffer[1 << 16];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof(buffer), f)) > 0) bytes.insert(bytes.end(), buffer, buffer + n);
    std::fclose(f);
    return bytes;
}

// KALIUM_SHARED_DIR is set by tests/CMakeLists.txt to <repo>/../shared.
inline std::string shared_ecg(const std::string &relative) { return std::string(KALIUM_SHARED_DIR) + "/ecg/" + relative; }

inline kalium::named_bytes as_named(const std::string &name, const std::vector<uint8_t> &bytes) {
    return kalium::named_bytes{name, bytes.data(), bytes.size()};
}

inline std::vector<uint8_t> text_bytes(const std::string &text) { return std::vector<uint8_t>(text.begin(), text.end()); }
