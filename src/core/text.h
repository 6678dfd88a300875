// core/text.h: small, exception-free text helpers the text-based readers share (XML and header fields).
#pragma once

#include <string>

namespace kalium {

// ' ', '\t', '\n', '\r'.
bool is_space(char c);
// `text` without leading and trailing whitespace.
std::string trimmed(const char *text);
// ASCII case-insensitive equality, and prefix test.
bool equals_nocase(const std::string &a, const char *b);
bool starts_with_nocase(const std::string &a, const char *prefix);
// A finite decimal number filling the whole text (strtod, not std::stod: no exceptions, no partial parses).
bool parse_number(const std::string &text, double &out);
// A non-negative whole number filling the whole text, at most `max`.
bool parse_count(const std::string &text, unsigned long long max, unsigned long long &out);

}  // namespace kalium
