// core/base64.cpp: see base64.h.
#include "core/base64.h"

namespace kalium {

bool base64_decode(std::string_view text, std::vector<uint8_t> &out) {
    out.clear();
    out.reserve(text.size() / 4 * 3);
    uint32_t quantum = 0;
    int filled = 0;   // sextets in the current quantum
    int padding = 0;  // '=' seen
    for (char ch : text) {
        int value;
        if (ch >= 'A' && ch <= 'Z') value = ch - 'A';
        else if (ch >= 'a' && ch <= 'z') value = ch - 'a' + 26;
        else if (ch >= '0' && ch <= '9') value = ch - '0' + 52;
        else if (ch == '+') value = 62;
        else if (ch == '/') value = 63;
        else if (ch == '=') { padding++; value = -1; }
        else if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t') continue;
        else return false;
        if (value >= 0) {
            if (padding) return false;  // data after padding
            quantum = (quantum << 6) | static_cast<uint32_t>(value);
            filled++;
        } else {
            if (filled < 2 || padding > 2) return false;
            quantum <<= 6;
            filled++;
        }
        if (filled == 4) {
            out.push_back(static_cast<uint8_t>(quantum >> 16));
            if (padding < 2) out.push_back(static_cast<uint8_t>(quantum >> 8));
            if (padding < 1) out.push_back(static_cast<uint8_t>(quantum));
            quantum = 0;
            filled = 0;
            if (padding) padding = 3;  // nothing but whitespace may follow a padded quantum
        }
    }
    return filled == 0;
}

}  // namespace kalium
