// core/text.cpp: see text.h.
#include "core/text.h"

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
