// ecg/read-edf.cpp: the edf reader (see readers.h for the contract). Not written yet.
#include "ecg/readers.h"

#include <cstring>

namespace kalium::ecg {

// EDF / EDF+: the 8-byte version field is "0" followed by seven spaces; the header is 256 bytes + 256 per signal.
bool sniff_edf(const uint8_t *data, size_t size) {
    return size >= 256 && std::memcmp(data, "0       ", 8) == 0;
}

result<ecg_record> read_edf(const named_bytes &file) {
    return status::error(status_code::unsupported, "edf: this reader is not written yet");
}

}  // namespace kalium::ecg
