// ecg/xml.cpp: see xml.h.
#include "ecg/xml.h"

namespace kalium::ecg {

status xml_load(const named_bytes &file, const char *format, pugi::xml_document &doc) {
    if (!file.data || file.size == 0) return status::error(status_code::bad_format, "%s: the file is empty", format);
    const pugi::xml_parse_result parsed = doc.load_buffer(file.data, file.size, pugi::parse_default, pugi::encoding_auto);
    if (!parsed)
        return status::error(status_code::bad_format, "%s: not well-formed XML: %s (at character %lld of the decoded text)", format,
                             parsed.description(), static_cast<long long>(parsed.offset));
    return status();
}

}  // namespace kalium::ecg
