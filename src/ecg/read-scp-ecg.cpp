// ecg/read-scp-ecg.cpp: the scp-ecg reader (see readers.h for the contract). Not written yet.
#include "ecg/readers.h"

#include <cstring>

namespace kalium::ecg {

// SCP-ECG: CRC (2 bytes), record length (4), then section 0, whose 16-byte header ends with the
// reserved bytes "SCPECG" at file offset 16.
bool sniff_scp_ecg(const uint8_t *data, size_t size) {
    return size >= 22 && std::memcmp(data + 16, "SCPECG", 6) == 0;
}

result<ecg_record> read_scp_ecg(const named_bytes &file) {
    return status::error(status_code::unsupported, "scp-ecg: this reader is not written yet");
}

}  // namespace kalium::ecg
