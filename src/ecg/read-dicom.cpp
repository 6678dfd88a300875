// ecg/read-dicom.cpp: the dicom reader (see readers.h for the contract). Not written yet.
#include "ecg/readers.h"

#include <cstring>

namespace kalium::ecg {

// DICOM Part 10: a 128-byte preamble, then "DICM".
bool sniff_dicom(const uint8_t *data, size_t size) {
    return size >= 132 && data[128] == 'D' && data[129] == 'I' && data[130] == 'C' && data[131] == 'M';
}

result<ecg_record> read_dicom(const named_bytes &file) {
    return status::error(status_code::unsupported, "dicom: this reader is not written yet");
}

}  // namespace kalium::ecg
