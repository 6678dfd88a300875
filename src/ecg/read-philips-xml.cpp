// ecg/read-philips-xml.cpp: the philips-xml reader (see readers.h for the contract). Not written yet.
#include "ecg/readers.h"

namespace kalium::ecg {

result<ecg_record> read_philips_xml(const named_bytes &file) {
    return status::error(status_code::unsupported, "philips-xml: this reader is not written yet");
}

}  // namespace kalium::ecg
