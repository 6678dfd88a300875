// core/format.h: printf-style formatting into std::string (internal to the core).
#pragma once

#include <cstdarg>
#include <string>

namespace kalium {

// vsnprintf into a std::string of the exact length; never truncates.
std::string format_v(const char *format, va_list args);
std::string format(const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

}  // namespace kalium
