// ecg/read-hl7-aecg.cpp: the hl7-aecg reader (see readers.h for the contract). Not written yet.
#include "ecg/readers.h"

namespace kalium::ecg {

result<ecg_record> read_hl7_aecg(const named_bytes &file) {
    return status::error(status_code::unsupported, "hl7-aecg: this reader is not written yet");
}

}  // namespace kalium::ecg
