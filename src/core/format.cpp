// core/format.cpp: printf-style formatting into std::string.
#include "core/format.h"

#include <cstdio>

namespace kalium {

std::string format_v(const char *format, va_list args) {
    va_list measure;
    va_copy(measure, args);
    int length = std::vsnprintf(nullptr, 0, format, measure);
    va_end(measure);
    if (length < 0) return std::string("(unformattable message: ") + format + ")";
    std::string text(static_cast<size_t>(length), '\0');
    std::vsnprintf(text.data(), text.size() + 1, format, args);
    return text;
}

std::string format(const char *format, ...) {
    va_list args;
    va_start(args, format);
    std::string text = format_v(format, args);
    va_end(args);
    return text;
}

}  // namespace kalium
