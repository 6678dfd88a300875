// core/text.cpp: see text.h.
#include "core/text.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace kalium {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string trimmed(const char *text) {
    const char *begin = text;
    while (*begin && is_space(*begin)) begin++;
    const char *end = begin + std::strlen(begin);
    while (end > begin && is_space(end[-1])) end--;
    return std::string(begin, end);
}

bool equals_nocase(const std::string &a, const char *b) {
    const size_t n = std::strlen(b);
    if (a.size() != n) return false;
    for (size_t i = 0; i < n; i++)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
    return true;
}

bool starts_with_nocase(const std::string &a, const char *prefix) {
    const size_t n = std::strlen(prefix);
    return a.size() >= n && equals_nocase(a.substr(0, n), prefix);
}

bool parse_number(const std::string &text, double &out) {
    if (text.empty()) return false;
    errno = 0;
    char *end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size() || errno == ERANGE || !std::isfinite(value)) return false;
    out = value;
    return true;
}

bool parse_count(const std::string &text, unsigned long long max, unsigned long long &out) {
    if (text.empty() || text[0] == '-' || text[0] == '+') return false;
    errno = 0;
    char *end = nullptr;
    const unsigned long long value = std::strtoull(text.c_str(), &end, 10);
    if (end != text.c_str() + text.size() || errno == ERANGE || value > max) return false;
    out = value;
    return true;
}

}  // namespace kalium
