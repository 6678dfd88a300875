// ecg/read-ge-muse-xml.cpp: the ge-muse-xml reader (see readers.h for the contract). Not written yet.
#include "ecg/readers.h"

namespace kalium::ecg {

result<ecg_record> read_ge_muse_xml(const named_bytes &file) {
    return status::error(status_code::unsupported, "ge-muse-xml: this reader is not written yet");
}

}  // namespace kalium::ecg
