// bench/bench-util.h: what the benchmark programs share: reading a whole file.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

// The file's bytes into `bytes`; false when it cannot be opened.
inline bool bench_load_file(const std::string &path, std::vector<uint8_t> &bytes) {
    FILE *f = std::fopen(path.c_str(), "rb");
    if (!f) return false;
    uint8_t buffer[1 << 16];
    size_t n;
    bytes.clear();
    while ((n = std::fread(buffer, 1, sizeof(buffer), f)) > 0) bytes.insert(bytes.end(), buffer, buffer + n);
    std::fclose(f);
    return true;
}
