// core/base64.h: RFC 4648 base64 decoding (the waveforms in Philips and GE MUSE XML). No Debian library
// offers it for both the native and the wasm build, so it is ours.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace kalium {

// Decodes `text`, skipping whitespace. Returns false on any other character outside the alphabet, on
// padding in the middle, or on a length that is not a whole number of quanta; `out` is then unspecified.
bool base64_decode(std::string_view text, std::vector<uint8_t> &out);

}  // namespace kalium
