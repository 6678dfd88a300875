// ecg/files.cpp: see files.h.
#include "ecg/files.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/stat.h>

namespace kalium {

namespace {

std::string dir_of(const std::string &path) {
    const size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
}

std::string base_of(const std::string &path) {
    const size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

bool read_file_bytes(const std::string &path, std::vector<uint8_t> &bytes, std::string &error) {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) {
        error = path + ": " + std::strerror(errno);
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        error = path + ": not a regular file";
        return false;
    }
    if (static_cast<uint64_t>(st.st_size) > k_max_file_bytes) {
        error = path + ": " + std::to_string(st.st_size) + " bytes exceeds kalium's limit of " +
                std::to_string(k_max_file_bytes >> 20) + " MiB per file";
        return false;
    }
    FILE *f = std::fopen(path.c_str(), "rb");
    if (!f) {
        error = path + ": " + std::strerror(errno);
        return false;
    }
    bytes.resize(static_cast<size_t>(st.st_size));
    const size_t got = bytes.empty() ? 0 : std::fread(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
    if (got != bytes.size()) {
        error = path + ": read " + std::to_string(got) + " of " + std::to_string(bytes.size()) + " bytes";
        return false;
    }
    return true;
}

std::vector<std::string> wfdb_named_files(const uint8_t *header, size_t size, const std::string &header_name) {
    std::vector<std::string> names;
    size_t i = 0;
    while (i < size) {
        while (i < size && std::isspace(header[i])) i++;
        const size_t start = i;
        while (i < size && !std::isspace(header[i])) i++;
        std::string token(reinterpret_cast<const char *>(header) + start, i - start);
        if (token.empty() || token.find('/') != std::string::npos || token.find('.') == std::string::npos ||
            token == header_name || std::find(names.begin(), names.end(), token) != names.end())
            continue;
        names.push_back(std::move(token));
    }
    return names;
}

ecg_file load_ecg_file(const std::string &path) {
    ecg_file file;
    file.path = path;
    if (!read_file_bytes(path, file.bytes, file.error)) return file;
    if (ecg_sniff_format(file.bytes.data(), file.bytes.size()) != "wfdb") return file;
    for (const std::string &name : wfdb_named_files(file.bytes.data(), file.bytes.size(), base_of(path))) {
        ecg_file companion;
        companion.path = dir_of(path) + name;
        struct stat st;
        std::string ignored;  // a named file that is absent or unreadable is reported by the reader, by name
        if (stat(companion.path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && read_file_bytes(companion.path, companion.bytes, ignored))
            file.companions.push_back(std::move(companion));
    }
    return file;
}

result<ecg_record> read_ecg_file(const ecg_file &file, const read_options &options) {
    if (!file.error.empty()) return status(status_code::io_error, file.error);
    std::vector<named_bytes> companions;
    for (const ecg_file &c : file.companions) companions.push_back({base_of(c.path), c.bytes.data(), c.bytes.size()});
    return ecg_read({base_of(file.path), file.bytes.data(), file.bytes.size()}, companions, options);
}

}  // namespace kalium
