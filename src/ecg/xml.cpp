// ecg/xml.cpp: see xml.h.
#include "ecg/xml.h"

#include <cstdint>
#include <cstring>
#include <vector>

namespace kalium::ecg {

status xml_load(const named_bytes &file, const char *format, pugi::xml_document &doc) {
    if (!file.data || file.size == 0) return status::error(status_code::bad_format, "%s: the file is empty", format);
    // pugixml decodes UTF-16/32 with 2- and 4-byte loads straight from the buffer: a buffer that is not 4-byte
    // aligned (bytes in the middle of a larger one) is copied to an aligned one first (found by fuzzing, UBSan).
    std::vector<uint32_t> aligned;
    const void *bytes = file.data;
    if (reinterpret_cast<uintptr_t>(file.data) % alignof(uint32_t) != 0) {
        aligned.resize((file.size + 3) / 4);
        std::memcpy(aligned.data(), file.data, file.size);
        bytes = aligned.data();
    }
    const pugi::xml_parse_result parsed = doc.load_buffer(bytes, file.size, pugi::parse_default, pugi::encoding_auto);
    if (!parsed)
        return status::error(status_code::bad_format, "%s: not well-formed XML: %s (at character %lld of the decoded text)", format,
                             parsed.description(), static_cast<long long>(parsed.offset));
    return status();
}

}  // namespace kalium::ecg
