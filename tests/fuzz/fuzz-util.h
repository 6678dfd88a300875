// fuzz-util.h: shared by the libFuzzer targets (tests/fuzz/fuzz-*.cpp).
//
// Multi-file inputs (WFDB header + signal files, ecg_read_all): the fuzz input is a list of files joined by
// k_file_separator; each file starts with its name on one line ("100.hea\n<bytes>"). scripts/fuzz writes the
// seeds of these targets in this layout; a regression file replays through the same split.
#pragma once

#include "kalium.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kalium_fuzz {

constexpr std::string_view k_file_separator("\n\0KALIUM-NEXT-FILE\0\n", 20);
constexpr size_t k_max_name_chars = 80;

// Splits a fuzz input into named files (views into `data`). A chunk without a newline in its first
// k_max_name_chars bytes is named "file<i>" and keeps all its bytes.
inline std::vector<kalium::named_bytes> split_files(const uint8_t *data, size_t size) {
    std::vector<kalium::named_bytes> files;
    const std::string_view all(reinterpret_cast<const char *>(data), size);
    size_t start = 0;
    while (start <= size) {
        size_t end = all.find(k_file_separator, start);
        if (end == std::string_view::npos) end = size;
        std::string_view chunk = all.substr(start, end - start);
        kalium::named_bytes file;
        const size_t newline = chunk.substr(0, k_max_name_chars).find('\n');
        if (newline != std::string_view::npos) {
            file.name = std::string(chunk.substr(0, newline));
            chunk.remove_prefix(newline + 1);
        } else {
            file.name = "file" + std::to_string(files.size());
        }
        file.data = reinterpret_cast<const uint8_t *>(chunk.data());
        file.size = chunk.size();
        files.push_back(file);
        if (end == size) break;
        start = end + k_file_separator.size();
    }
    return files;
}

// A record that a reader returned must be self-consistent: what ecg_read promises its callers. Aborts (a
// finding for libFuzzer) when it is not.
inline void check_record(const kalium::ecg_record &record) {
    const size_t n = record.sample_count();
    for (const kalium::ecg_lead &lead : record.leads)
        if (lead.samples_uv.size() != n) __builtin_trap();
    if (record.leads.size() > kalium::k_max_leads) __builtin_trap();
    if (n * record.leads.size() > kalium::k_max_total_samples) __builtin_trap();
}

}  // namespace kalium_fuzz
