// ecg/xml.h: parsing an XML ECG file with pugixml, shared by the Philips, GE MUSE and HL7 aECG readers.
#pragma once

#include "kalium.h"

#include <pugixml.hpp>

namespace kalium::ecg {

// Parses `file` into `doc` (UTF-8, UTF-16 with a byte-order mark, or the encoding the declaration names).
// A document that is not well-formed XML is bad_format, "<format>: not well-formed XML: <why> (at character N
// of the decoded text)".
status xml_load(const named_bytes &file, const char *format, pugi::xml_document &doc);

}  // namespace kalium::ecg
