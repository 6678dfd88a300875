// ecg/read-scp-ecg.cpp: the SCP-ECG reader (see readers.h for the contract).
//
// SCP-ECG, the "Standard Communications Protocol for computer-assisted electrocardiography" (EN 1064:2005+A1,
// ISO/IEEE 11073-91064), protocol versions 1.x, 2.x and the 3.0 sections below. A record is a CRC-CCITT
// (2 bytes) and a record length (4 bytes, the whole record), then numbered sections. Every section starts with
// a 16-byte header: CRC-CCITT of the rest of the section (2), section id (2), section length including the
// header (4), section version (1), protocol version (1), 6 reserved bytes ("SCPECG" in section 0 from 2.0 on).
// Section 0 holds one pointer per section: id (2), length (4), index (4, the 1-based byte position of the
// section in the record). All integers are little endian; the CRC is CCITT (polynomial 0x1021, start 0xFFFF).
//
// What is read, section by section:
//   0  pointers; every section used is checked against the record (id, length, bounds) and its CRC;
//   1  header tags: patient id (2), age (4, or from the date of birth (5) at the acquisition date), sex (8),
//      acquiring device (14: manufacturer, model, trade name), acquisition date (25) and time (26);
//   2  Huffman tables: the default table (19999) or the file's own tables, with table-switch codes;
//      0 tables means the data are plain 16-bit integers, as when section 2 is absent;
//   3  lead definitions: first and last sample of each lead (1-based), lead codes -> names ("I", "V1",
//      "aVR"...), the reference-beat-subtraction flag; leads of different spans share one time base and are
//      NaN outside their own span;
//   4  reference beat length and fiducial, the QRS subtraction zones and the protected zones;
//   5  reference (median) beats -> record.median (needs section 4 for their length when Huffman-coded);
//   6  rhythm data: AVM (nV per unit), sample interval (us), no / first / second differences, Huffman or
//      16-bit values, reference-beat subtraction (the decoded reference beat is added back over the
//      subtraction zone of every type-0 QRS, aligned on the fiducial points), and bimodal compression
//      (outside the protected zones the residual was stored decimated by the ratio of the section 6 and
//      section 5 sample intervals: each run of n samples as n / ratio averages followed by n % ratio plain
//      samples; the averages are interpolated linearly between the centres of their intervals);
//   7  global measurements -> record.cart: heart rate (ventricular rate, else 60000 / RR), PR, QRS, QT from
//      the first measurement block's onsets and offsets (ms), QTc, P / QRS / T axes;
//   8  full-text interpretive statements -> record.statements (section 11's statements when 8 is absent).
// Amplitudes: microvolts = value x AVM / 1000; gain_adu_per_mv = 10^6 / AVM.
//
// Not read: section 9 and 12+ (manufacturer specific, and 3.0's long-term data), section 10 (per-lead
// measurements: ecg_record has no place for them), patient names (not needed), the free-text tags (no place
// either). The optional smoothing filters some decoders run after bimodal reconstruction are not applied.
//
// Deviations from the standard that are tolerated, each with a warning: record or section CRC mismatches, a
// record length that disagrees with the file size, pointer indexes counted from 0 instead of 1, a section
// header length that disagrees with its pointer, and a lead whose 16-bit byte count saturated (65534 or
// 65535 bytes) on a lead longer than the data it can describe (the Contec ECG90A converter of
// RigacciOrg/ecg-contec stores 32767 of 37855 samples so): the samples the file lacks are NaN. Everything else inconsistent is a bad_format error naming the
// section, the field and the offset.
#include "ecg/readers.h"

#include "core/bytes.h"
#include "core/format.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdarg>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace kalium::ecg {

namespace {

constexpr size_t k_record_header_bytes = 6;    // CRC (2) + record length (4)
constexpr size_t k_section_header_bytes = 16;
constexpr size_t k_pointer_bytes = 10;         // id (2) + length (4) + index (4)
constexpr uint16_t k_default_huffman_table = 19999;
constexpr uint32_t k_saturated_lead_bytes = 0xFFFE;  // a 16-bit byte count at its (even) maximum
constexpr size_t k_max_huffman_codes = size_t(1) << 16;  // over all tables of section 2

// "scp-ecg: <message>" with the given code.
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
status fail(status_code code, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    std::string message = "scp-ecg: " + format_v(fmt, args);
    va_end(args);
    return status(code, std::move(message));
}

// ---- CRC-CCITT (polynomial 0x1021, initial value 0xFFFF, no reflection), table driven ----

struct crc_table {
    uint16_t entry[256];
};

constexpr crc_table make_crc_table() {
    crc_table table{};
    for (int i = 0; i < 256; i++) {
        uint16_t crc = static_cast<uint16_t>(i << 8);
        for (int bit = 0; bit < 8; bit++) crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021) : static_cast<uint16_t>(crc << 1);
        table.entry[i] = crc;
    }
    return table;
}

uint16_t crc_ccitt(byte_span bytes) {
    static constexpr crc_table table = make_crc_table();
    uint16_t crc = 0xFFFF;
    for (size_t i = 0; i < bytes.size; i++) crc = static_cast<uint16_t>((crc << 8) ^ table.entry[((crc >> 8) ^ bytes.data[i]) & 0xFF]);
    return crc;
}

// ---- small readers (callers have checked the bounds; a failed read leaves 0) ----

uint8_t u8_at(byte_span s, size_t offset) {
    uint8_t v = 0;
    s.le(offset, v);
    return v;
}
uint16_t u16_at(byte_span s, size_t offset) {
    uint16_t v = 0;
    s.le(offset, v);
    return v;
}
int16_t i16_at(byte_span s, size_t offset) {
    int16_t v = 0;
    s.le(offset, v);
    return v;
}
uint32_t u32_at(byte_span s, size_t offset) {
    uint32_t v = 0;
    s.le(offset, v);
    return v;
}

// True when the bytes are well-formed UTF-8 (then 8-bit text is not Latin-1: Latin-1 letters after ASCII
// almost never form valid multi-byte sequences).
bool is_utf8(byte_span s) {
    for (size_t i = 0; i < s.size;) {
        const uint8_t c = s.data[i];
        size_t extra = 0;
        if (c < 0x80) extra = 0;
        else if ((c & 0xE0) == 0xC0) extra = 1;
        else if ((c & 0xF0) == 0xE0) extra = 2;
        else if ((c & 0xF8) == 0xF0) extra = 3;
        else return false;
        if (extra > s.size - i - 1) return false;
        for (size_t k = 1; k <= extra; k++)
            if ((s.data[i + k] & 0xC0) != 0x80) return false;
        i += extra + 1;
    }
    return true;
}

// Text of a tag or statement: up to the first NUL, control characters dropped, trimmed. SCP text is 8-bit:
// UTF-8 is kept as it is (some writers use it), anything else is read as Latin-1 (the language code of tag
// 14 is not used to pick another code page).
std::string text_of(byte_span s) {
    size_t length = 0;
    while (length < s.size && s.data[length] != 0) length++;
    const byte_span text = s.sub(0, length);
    const bool utf8 = is_utf8(text);
    std::string out;
    for (size_t i = 0; i < text.size; i++) {
        const uint8_t c = text.data[i];
        if (c < 0x20 || c == 0x7F) {
            out.push_back(' ');
        } else if (c < 0x80 || utf8) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back(static_cast<char>(0xC0 | (c >> 6)));
            out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
        }
    }
    const size_t first = out.find_first_not_of(' ');
    if (first == std::string::npos) return "";
    return out.substr(first, out.find_last_not_of(' ') - first + 1);
}

// ---- record structure: header, section 0, section headers ----

struct section {
    uint16_t id = 0;
    size_t offset = 0;   // file offset of the section header
    byte_span body;      // the bytes after the 16-byte header
    uint8_t version = 0;
    uint8_t protocol = 0;
    // File offset of a body offset, for messages.
    size_t at(size_t body_offset) const { return offset + k_section_header_bytes + body_offset; }
    size_t end() const { return offset + k_section_header_bytes + body.size; }
};

struct record_structure {
    std::vector<section> sections;
    uint8_t protocol = 0;  // of section 0: 13 = 1.3, 20 = 2.0, 30 = 3.0
    const section *find(uint16_t id) const {
        for (const section &s : sections)
            if (s.id == id) return &s;
        return nullptr;
    }
};

// The sections kalium reads must be sound; the others (manufacturer sections, 3.0 additions) are skipped
// with a warning when their pointer is wrong.
bool section_is_read(uint16_t id) { return id <= 8 || id == 11; }

// Reads the section header at `offset` and checks it against the pointer. An error names the section.
result<section> read_section_header(byte_span record, uint16_t id, size_t offset, uint32_t pointer_length,
                                    std::vector<uint16_t> &crc_mismatches, std::vector<std::string> &warnings) {
    if (pointer_length < k_section_header_bytes)
        return fail(status_code::bad_format, "section %u: length %u is shorter than a section header (16 bytes)", id, pointer_length);
    if (!record.has(offset, pointer_length))
        return fail(status_code::bad_format, "section %u: its pointer gives %u bytes at offset %zu but the record ends at offset %zu", id,
                    pointer_length, offset, record.size);
    const uint16_t header_id = u16_at(record, offset + 2);
    if (header_id != id)
        return fail(status_code::bad_format, "section %u: the section header at offset %zu says section %u", id, offset, header_id);
    uint32_t length = u32_at(record, offset + 4);
    if (length != pointer_length) {
        if (length < k_section_header_bytes || !record.has(offset, length))
            return fail(status_code::bad_format, "section %u: header length %u at offset %zu does not fit the record (the pointer says %u bytes)", id,
                        length, offset + 4, pointer_length);
        warnings.push_back(format("section %u: its header says %u bytes but section 0 says %u; the header is followed", id, length, pointer_length));
    }
    section s;
    s.id = id;
    s.offset = offset;
    s.body = record.sub(offset + k_section_header_bytes, length - k_section_header_bytes);
    s.version = u8_at(record, offset + 8);
    s.protocol = u8_at(record, offset + 9);
    if (crc_ccitt(record.sub(offset + 2, length - 2)) != u16_at(record, offset)) crc_mismatches.push_back(id);
    return s;
}

result<record_structure> read_structure(byte_span file, std::vector<std::string> &warnings) {
    if (file.size < k_record_header_bytes + k_section_header_bytes)
        return fail(status_code::bad_format, "the file is %zu bytes, shorter than a record header and section 0's header (22 bytes)", file.size);
    // The record length bounds the sections; a length that disagrees with the file is a warning.
    const uint32_t record_length = u32_at(file, 2);
    byte_span record = file;
    if (record_length != file.size) {
        if (record_length >= k_record_header_bytes + k_section_header_bytes && record_length < file.size) {
            record = file.sub(0, record_length);
            warnings.push_back(format("%zu bytes after the %u-byte record are ignored", file.size - record_length, record_length));
        } else {
            warnings.push_back(format("the record length (%u bytes, offset 2) disagrees with the file size (%zu bytes); the file size is used",
                                      record_length, file.size));
        }
    }
    const uint16_t stored_crc = u16_at(file, 0);
    const uint16_t computed_crc = crc_ccitt(record.tail(2));
    if (stored_crc != computed_crc)
        warnings.push_back(format("record CRC 0x%04X (offset 0) does not match the computed CRC-CCITT 0x%04X; the data may be corrupt",
                                  stored_crc, computed_crc));

    // Section 0 follows the record header.
    const size_t s0 = k_record_header_bytes;
    if (u16_at(record, s0 + 2) != 0)
        return fail(status_code::bad_format, "section 0: expected at offset 6, found section id %u", u16_at(record, s0 + 2));
    const uint32_t s0_length = u32_at(record, s0 + 4);
    if (s0_length < k_section_header_bytes + k_pointer_bytes || !record.has(s0, s0_length))
        return fail(status_code::bad_format, "section 0: length %u (offset 10) does not fit the %zu-byte record", s0_length, record.size);
    std::vector<uint16_t> crc_mismatches;
    if (crc_ccitt(record.sub(s0 + 2, s0_length - 2)) != u16_at(record, s0)) crc_mismatches.push_back(0);

    record_structure out;
    out.protocol = u8_at(record, s0 + 9);
    section zero;
    zero.id = 0;
    zero.offset = s0;
    zero.body = record.sub(s0 + k_section_header_bytes, s0_length - k_section_header_bytes);
    zero.version = u8_at(record, s0 + 8);
    zero.protocol = out.protocol;
    out.sections.push_back(zero);
    const size_t pointer_count = zero.body.size / k_pointer_bytes;
    if (zero.body.size % k_pointer_bytes != 0)
        warnings.push_back(format("section 0: %zu bytes after the last whole pointer are ignored", zero.body.size % k_pointer_bytes));

    // Indexes are 1-based: section 0's own pointer says 7. Some writers count from 0 (it says 6).
    size_t index_base = 1;
    for (size_t p = 0; p < pointer_count; p++) {
        const size_t at = p * k_pointer_bytes;
        if (u16_at(zero.body, at) == 0 && u32_at(zero.body, at + 6) == s0) {
            index_base = 0;
            warnings.push_back("section 0: the section indexes count from 0 instead of 1 (not conformant); read as such");
        }
    }
    for (size_t p = 0; p < pointer_count; p++) {
        const size_t at = p * k_pointer_bytes;
        const uint16_t id = u16_at(zero.body, at);
        const uint32_t length = u32_at(zero.body, at + 2);
        const uint32_t index = u32_at(zero.body, at + 6);
        if (id == 0 || length == 0 || index == 0) continue;  // section 0 itself, or a section that is absent
        if (out.find(id)) {
            warnings.push_back(format("section 0: pointer %zu repeats section %u; the first one is used", p + 1, id));
            continue;
        }
        if (index < index_base + k_record_header_bytes) {
            if (!section_is_read(id)) continue;
            return fail(status_code::bad_format, "section %u: index %u (section 0 offset %zu) points into the record header", id, index,
                        zero.at(at + 6));
        }
        result<section> s = read_section_header(record, id, index - index_base, length, crc_mismatches, warnings);
        if (!s.ok()) {
            if (section_is_read(id)) return s.error();
            warnings.push_back(s.error().message().substr(9) + "; the section is not read");
            continue;
        }
        out.sections.push_back(s.value());
    }
    if (!crc_mismatches.empty()) {
        std::string list;
        for (uint16_t id : crc_mismatches) list += (list.empty() ? "" : ", ") + std::to_string(id);
        warnings.push_back("section CRC mismatch in section" + std::string(crc_mismatches.size() > 1 ? "s " : " ") + list +
                           "; the data may be corrupt");
    }
    return out;
}

// ---- section 1: header tags ----

// Manufacturer codes of tag 14 (byte 7).
const char *manufacturer_name(uint8_t code) {
    static const char *const names[] = {nullptr, "Burdick", "Cambridge Heart", "Compumed", "Datamed", "Fukuda", "Hewlett-Packard",
                                        "Marquette Electronics", "Mortara Instrument", "Nihon Kohden", "Okin", "Quinton", "Siemens",
                                        "Spacelabs", "Telemed", "Hellige", "ESA-OTE", "Schiller", "Picker-Schwarzer",
                                        "Elettronica-Trentina", "Zwonitz"};
    return code < sizeof(names) / sizeof(names[0]) ? names[code] : nullptr;
}

// Tag 14 (acquiring device): fixed part of 35 bytes (institution, department, device id, type, manufacturer,
// model description (6 chars), protocol revision, compatibility, language, capabilities, mains frequency,
// 16 reserved), then a counted string (analysing program revision) and NUL-terminated strings: serial
// number, system software, SCP implementation software, manufacturer trade name.
std::string device_of(byte_span v) {
    std::string maker = manufacturer_name(u8_at(v, 7)) ? manufacturer_name(u8_at(v, 7)) : "";
    const std::string model = text_of(v.sub(8, std::min<size_t>(6, v.size > 8 ? v.size - 8 : 0)));
    std::vector<std::string> strings;
    if (v.size > 35) {
        size_t pos = 36 + u8_at(v, 35);  // skip the counted analysing-program string
        while (pos < v.size && strings.size() < 4) {
            size_t end = pos;
            while (end < v.size && v.data[end] != 0) end++;
            strings.push_back(text_of(v.sub(pos, end - pos)));
            pos = end + 1;
        }
    }
    auto known = [](const std::string &s) {
        std::string lower;
        for (char c : s) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
        return !s.empty() && lower != "unknown";
    };
    if (strings.size() >= 4 && known(strings[3])) maker = strings[3];
    std::string device = maker;
    if (known(model)) device += (device.empty() ? "" : " ") + model;
    return device;
}

// Completed years between a birth date and a later date.
std::optional<double> age_at(int by, int bm, int bd, int y, int m, int d) {
    if (by <= 0 || bm < 1 || bm > 12 || bd < 1 || bd > 31 || y <= 0 || m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
    int years = y - by;
    if (m < bm || (m == bm && d < bd)) years--;
    if (years < 0 || years > 150) return std::nullopt;
    return static_cast<double>(years);
}

void read_header_tags(const section &s, ecg_record &record) {
    int birth[3] = {0, 0, 0}, date[3] = {0, 0, 0}, time[3] = {-1, -1, -1};
    std::optional<double> stated_age;
    size_t pos = 0;
    while (pos + 3 <= s.body.size) {
        const uint8_t tag = u8_at(s.body, pos);
        const uint16_t length = u16_at(s.body, pos + 1);
        if (tag == 255) break;
        if (!s.body.has(pos + 3, length)) {
            record.warnings.push_back(format("section 1: tag %u at offset %zu says %u bytes but the section ends at offset %zu; the rest of the "
                                             "header is not read",
                                             tag, s.at(pos), length, s.end()));
            break;
        }
        const byte_span v = s.body.sub(pos + 3, length);
        switch (tag) {
        case 2: record.patient.id = text_of(v); break;
        case 4:  // age: value (2), unit (1): 1 years, 2 months, 3 weeks, 4 days, 5 hours
            if (v.size >= 3 && u16_at(v, 0) > 0) {
                static const double years_per_unit[] = {0.0, 1.0, 1.0 / 12.0, 7.0 / 365.25, 1.0 / 365.25, 1.0 / 8766.0};
                const uint8_t unit = u8_at(v, 2);
                if (unit >= 1 && unit <= 5) stated_age = u16_at(v, 0) * years_per_unit[unit];
            }
            break;
        case 5:  // date of birth: year (2), month, day
            if (v.size >= 4) birth[0] = u16_at(v, 0), birth[1] = u8_at(v, 2), birth[2] = u8_at(v, 3);
            break;
        case 8:  // sex: 0 not known, 1 male, 2 female, 9 unspecified
            if (v.size >= 1) record.patient.sex = u8_at(v, 0) == 1 ? "male" : u8_at(v, 0) == 2 ? "female" : "";
            break;
        case 14: record.device = device_of(v); break;
        case 25:  // acquisition date: year (2), month, day
            if (v.size >= 4) date[0] = u16_at(v, 0), date[1] = u8_at(v, 2), date[2] = u8_at(v, 3);
            break;
        case 26:  // acquisition time: hour, minute, second
            if (v.size >= 3) time[0] = u8_at(v, 0), time[1] = u8_at(v, 1), time[2] = u8_at(v, 2);
            break;
        default: break;
        }
        pos += 3 + static_cast<size_t>(length);
    }
    record.patient.age_years = stated_age ? stated_age : age_at(birth[0], birth[1], birth[2], date[0], date[1], date[2]);
    const bool date_ok = date[0] > 0 && date[1] >= 1 && date[1] <= 12 && date[2] >= 1 && date[2] <= 31;
    const bool time_ok = time[0] >= 0 && time[0] < 24 && time[1] >= 0 && time[1] < 60 && time[2] >= 0 && time[2] < 61;
    if (date_ok && time_ok) record.start_time = format("%04d-%02d-%02dT%02d:%02d:%02d", date[0], date[1], date[2], time[0], time[1], time[2]);
    else if (date_ok) record.start_time = format("%04d-%02d-%02d", date[0], date[1], date[2]);
    else if (time_ok) record.start_time = format("%02d:%02d:%02d", time[0], time[1], time[2]);
}

// ---- section 3: lead definitions ----

// Lead codes of section 3 (EN 1064 table of lead identifications). Codes 31-60 and 111-120 are the
// "derived" leads of 2.x (calibration signals in 1.x): they keep a name that does not pass for the lead
// itself. "-aVR" would pass for aVR once its sign is dropped, hence "aVR inverted".
std::string lead_name(uint8_t code) {
    static const char *const names[] = {
        "unspecified", "I", "II", "V1", "V2", "V3", "V4", "V5", "V6", "V7", "V2R", "V3R", "V4R", "V5R", "V6R", "V7R", "X", "Y", "Z",
        "CC5", "CM5", "LA", "RA", "LL", "fI", "fE", "fC", "fA", "fM", "fF", "fH",
        "derived I", "derived II", "derived V1", "derived V2", "derived V3", "derived V4", "derived V5", "derived V6",
        "derived V7", "derived V2R", "derived V3R", "derived V4R", "derived V5R", "derived V6R", "derived V7R", "derived X",
        "derived Y", "derived Z", "derived CC5", "derived CM5", "derived LA", "derived RA", "derived LL", "derived fI",
        "derived fE", "derived fC", "derived fA", "derived fM", "derived fF", "derived fH",
        "III", "aVR", "aVL", "aVF", "aVR inverted", "V8", "V9", "V8R", "V9R", "D", "A", "J", "Defib", "Extern", "A1", "A2", "A3", "A4",
        "derived V8", "derived V9", "derived V8R", "derived V9R", "derived D", "derived A", "derived J",
        "Chest", "V", "VR", "VL", "VF", "MCL", "MCL1", "MCL2", "MCL3", "MCL4", "MCL5", "MCL6", "CC", "CC1", "CC2", "CC3", "CC4", "CC6",
        "CC7", "CM", "CM1", "CM2", "CM3", "CM4", "CM6",
        "derived III", "derived aVR", "derived aVL", "derived aVF", "derived aVR inverted", "derived Chest", "derived V",
        "derived VR", "derived VL", "derived VF",
        "CM7", "CH5", "CS5", "CB5", "CR5", "ML", "AB1", "AB2", "AB3", "AB4", "ES", "AS", "AI", "S", "derived Defib", "derived Extern",
        "derived A1", "derived A2", "derived A3", "derived A4", "derived MCL1", "derived MCL2", "derived MCL3", "derived MCL4",
        "derived MCL5", "derived MCL6", "RL", "CV5RL", "CV6LL", "CV6LU", "V10"};
    static_assert(sizeof(names) / sizeof(names[0]) == 152, "lead codes 0-151");
    if (code < sizeof(names) / sizeof(names[0])) return names[code];
    return format("lead code %u", code);
}

struct lead_definition {
    std::string name;
    uint32_t first = 0;  // 1-based sample numbers, inclusive
    uint32_t last = 0;
    size_t count() const { return static_cast<size_t>(last) - first + 1; }
};

struct lead_set {
    std::vector<lead_definition> leads;
    bool reference_beat_subtracted = false;
    uint32_t first = 0, last = 0;  // span of all leads
    size_t span() const { return static_cast<size_t>(last) - first + 1; }
};

result<lead_set> read_lead_definitions(const section &s) {
    if (s.body.size < 2) return fail(status_code::bad_format, "section 3: %zu bytes, too short for the lead count and flags", s.body.size);
    const size_t count = u8_at(s.body, 0);
    const uint8_t flags = u8_at(s.body, 1);
    if (count == 0) return fail(status_code::bad_format, "section 3: the record defines no leads (lead count 0 at offset %zu)", s.at(0));
    if (count > k_max_leads) return fail(status_code::too_large, "section 3: %zu leads (kalium reads at most %zu)", count, k_max_leads);
    if (!s.body.has(2, count * 9))
        return fail(status_code::bad_format, "section 3: %zu lead definitions need %zu bytes at offset %zu but the section ends at offset %zu", count,
                    count * 9, s.at(2), s.end());
    lead_set set;
    set.reference_beat_subtracted = (flags & 0x01) != 0;
    for (size_t k = 0; k < count; k++) {
        const size_t at = 2 + k * 9;
        lead_definition lead;
        lead.first = u32_at(s.body, at);
        lead.last = u32_at(s.body, at + 4);
        lead.name = lead_name(u8_at(s.body, at + 8));
        if (lead.first == 0)
            return fail(status_code::bad_format, "section 3: lead %zu (%s) starts at sample 0 (offset %zu); sample numbers start at 1", k + 1,
                        lead.name.c_str(), s.at(at));
        if (lead.last < lead.first)
            return fail(status_code::bad_format, "section 3: lead %zu (%s) ends at sample %u before it starts at sample %u (offset %zu)", k + 1,
                        lead.name.c_str(), lead.last, lead.first, s.at(at));
        set.first = k == 0 ? lead.first : std::min(set.first, lead.first);
        set.last = k == 0 ? lead.last : std::max(set.last, lead.last);
        set.leads.push_back(lead);
    }
    if (set.span() * count > k_max_total_samples)
        return fail(status_code::too_large, "section 3: %zu leads x %zu samples (samples %u-%u) exceeds kalium's limit of %zu samples in all", count,
                    set.span(), set.first, set.last, k_max_total_samples);
    return set;
}

// ---- section 2: Huffman tables ----

struct huffman_code {
    uint8_t prefix_bits = 0;  // bits that identify the code
    uint8_t total_bits = 0;   // prefix + the bits of a value that follows it
    bool switch_table = false;
    int16_t base_value = 0;   // the value, or the 1-based table to switch to
};

struct huffman_table {
    std::vector<huffman_code> codes;
    // Binary decoding tree: node 0 is the root; child[b] is the node after bit b, -1 when none; a leaf
    // holds the index of its code.
    struct node {
        int32_t child[2] = {-1, -1};
        int32_t code = -1;
    };
    std::vector<node> nodes;
};

struct huffman_tables {
    bool used = false;  // false: the data are plain 16-bit integers
    std::vector<huffman_table> tables;
};

// Adds a code to a table's tree; `bits` are in transmission order (SCP stores base codes bit-reversed, the
// first transmitted bit in the least significant bit). False when the code collides with another.
bool add_code(huffman_table &table, uint32_t bits_first_in_lsb, const huffman_code &code) {
    if (table.nodes.empty()) table.nodes.emplace_back();
    size_t n = 0;
    for (int i = 0; i < code.prefix_bits; i++) {
        if (table.nodes[n].code >= 0) return false;  // an earlier code is a prefix of this one
        const int bit = (bits_first_in_lsb >> i) & 1;
        if (table.nodes[n].child[bit] < 0) {
            table.nodes[n].child[bit] = static_cast<int32_t>(table.nodes.size());
            table.nodes.emplace_back();
        }
        n = static_cast<size_t>(table.nodes[n].child[bit]);
    }
    if (table.nodes[n].code >= 0 || table.nodes[n].child[0] >= 0 || table.nodes[n].child[1] >= 0) return false;
    table.nodes[n].code = static_cast<int32_t>(table.codes.size());
    table.codes.push_back(code);
    return true;
}

// The default table of EN 1064 annex: 0 is "0"; +-k (k = 1..8) is k ones, a zero and the sign (0 for +);
// nine ones and a zero announce an 8-bit value, ten ones a 16-bit value.
huffman_table default_huffman_table() {
    huffman_table table;
    auto add = [&](const char *bits, int16_t value, uint8_t value_bits) {
        uint32_t code = 0;
        uint8_t n = 0;
        for (; bits[n]; n++)
            if (bits[n] == '1') code |= uint32_t(1) << n;
        add_code(table, code, huffman_code{n, static_cast<uint8_t>(n + value_bits), false, value});
    };
    add("0", 0, 0);
    std::string ones;
    for (int16_t k = 1; k <= 8; k++) {
        ones += '1';
        add((ones + "00").c_str(), k, 0);
        add((ones + "01").c_str(), static_cast<int16_t>(-k), 0);
    }
    add("1111111110", 0, 8);
    add("1111111111", 0, 16);
    return table;
}

result<huffman_tables> read_huffman_tables(const section *s) {
    huffman_tables out;
    if (!s) return out;  // no section 2: plain 16-bit values
    if (s->body.size < 2) return fail(status_code::bad_format, "section 2: %zu bytes, too short for the number of Huffman tables", s->body.size);
    const uint16_t table_count = u16_at(s->body, 0);
    if (table_count == 0) return out;  // as some writers do for uncompressed data
    out.used = true;
    if (table_count == k_default_huffman_table) {
        out.tables.push_back(default_huffman_table());
        return out;
    }
    size_t pos = 2, total_codes = 0;
    for (size_t t = 0; t < table_count; t++) {
        if (!s->body.has(pos, 2))
            return fail(status_code::bad_format, "section 2: Huffman table %zu of %u starts at offset %zu, past the section end at offset %zu", t + 1,
                        table_count, s->at(pos), s->end());
        const uint16_t code_count = u16_at(s->body, pos);
        if (code_count == 0) return fail(status_code::bad_format, "section 2: Huffman table %zu has no codes (offset %zu)", t + 1, s->at(pos));
        total_codes += code_count;
        if (total_codes > k_max_huffman_codes)
            return fail(status_code::too_large, "section 2: more than %zu Huffman codes in all", k_max_huffman_codes);
        pos += 2;
        if (!s->body.has(pos, size_t(code_count) * 9))
            return fail(status_code::bad_format, "section 2: Huffman table %zu's %u codes need %zu bytes at offset %zu but the section ends at offset %zu",
                        t + 1, code_count, size_t(code_count) * 9, s->at(pos), s->end());
        huffman_table table;
        for (size_t c = 0; c < code_count; c++, pos += 9) {
            huffman_code code;
            code.prefix_bits = u8_at(s->body, pos);
            code.total_bits = u8_at(s->body, pos + 1);
            const uint8_t mode = u8_at(s->body, pos + 2);
            code.base_value = i16_at(s->body, pos + 3);
            const uint32_t bits = u32_at(s->body, pos + 5);
            code.switch_table = mode == 0;
            if (code.prefix_bits == 0 || code.prefix_bits > 32 || code.total_bits < code.prefix_bits || code.total_bits - code.prefix_bits > 32)
                return fail(status_code::bad_format, "section 2: table %zu code %zu (offset %zu) has %u prefix bits and %u bits in all", t + 1, c + 1,
                            s->at(pos), code.prefix_bits, code.total_bits);
            if (code.switch_table && (code.base_value < 1 || code.base_value > table_count || code.total_bits != code.prefix_bits))
                return fail(status_code::bad_format, "section 2: table %zu code %zu (offset %zu) switches to table %d of %u", t + 1, c + 1, s->at(pos),
                            code.base_value, table_count);
            if (!add_code(table, bits, code))
                return fail(status_code::bad_format, "section 2: table %zu code %zu (offset %zu) collides with an earlier code (a code is a prefix of "
                            "another)", t + 1, c + 1, s->at(pos));
        }
        out.tables.push_back(std::move(table));
    }
    return out;
}

// ---- decoding the samples of one lead (sections 5 and 6) ----

struct bit_reader {
    byte_span bytes;
    size_t bit = 0;
    size_t bits_left() const { return bytes.size * 8 - bit; }
    int next() {
        const int b = (bytes.data[bit >> 3] >> (7 - (bit & 7))) & 1;
        bit++;
        return b;
    }
};

int16_t wrap16(int64_t v) { return static_cast<int16_t>(static_cast<uint16_t>(static_cast<uint64_t>(v) & 0xFFFF)); }

struct decoded_lead {
    std::vector<int16_t> values;  // as many as the data held, at most the count asked for
};

// Decodes up to `count` values: Huffman codes with the tables (starting with table 1), or 16-bit integers;
// then undoes the difference encoding. Arithmetic wraps to 16 bits, as the 16-bit samples of the encoder did.
// Returns fewer values when the data end first; a bit pattern no code matches is an error.
result<decoded_lead> decode_lead(byte_span data, size_t count, const huffman_tables &huffman, int differences, const std::string &where) {
    decoded_lead out;
    std::vector<int32_t> raw;
    raw.reserve(std::min(count, huffman.used ? data.size * 8 : data.size / 2));
    if (!huffman.used) {
        for (size_t i = 0; i < count && data.has(2 * i, 2); i++) raw.push_back(i16_at(data, 2 * i));
    } else {
        bit_reader bits{data, 0};
        const huffman_table *table = &huffman.tables[0];
        while (raw.size() < count) {
            if (bits.bits_left() == 0) break;
            const size_t code_start = bits.bit;
            int32_t node = 0;
            while (table->nodes[static_cast<size_t>(node)].code < 0) {
                if (bits.bits_left() == 0) break;
                node = table->nodes[static_cast<size_t>(node)].child[bits.next()];
                if (node < 0)
                    return fail(status_code::bad_format, "%s: no Huffman code matches the bits at byte %zu bit %zu of the lead's data (sample %zu)",
                                where.c_str(), code_start / 8, code_start % 8, raw.size() + 1);
            }
            if (table->nodes[static_cast<size_t>(node)].code < 0) break;  // the data ended inside a code
            const huffman_code &code = table->codes[static_cast<size_t>(table->nodes[static_cast<size_t>(node)].code)];
            if (code.switch_table) {
                table = &huffman.tables[static_cast<size_t>(code.base_value - 1)];
                continue;
            }
            const int value_bits = code.total_bits - code.prefix_bits;
            if (bits.bits_left() < static_cast<size_t>(value_bits)) break;
            int64_t value = 0;
            if (value_bits > 0) {
                uint64_t u = 0;
                for (int b = 0; b < value_bits; b++) u = (u << 1) | static_cast<uint64_t>(bits.next());
                value = (u >> (value_bits - 1)) & 1 ? static_cast<int64_t>(u) - (int64_t(1) << value_bits) : static_cast<int64_t>(u);
            }
            // The value bits carry the original value; the base value (0 in the default table) is added.
            value += code.base_value;
            raw.push_back(static_cast<int32_t>(std::clamp<int64_t>(value, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max())));
        }
    }
    out.values.resize(raw.size());
    for (size_t i = 0; i < raw.size(); i++) {
        if (differences == 1 && i >= 1) out.values[i] = wrap16(int64_t(raw[i]) + out.values[i - 1]);
        else if (differences == 2 && i >= 2) out.values[i] = wrap16(int64_t(raw[i]) + 2 * int64_t(out.values[i - 1]) - out.values[i - 2]);
        else out.values[i] = wrap16(raw[i]);
    }
    return out;
}

// Sections 5 and 6 share their layout: AVM (2), sample interval (2), difference encoding (1), one byte
// (reserved in 5, bimodal compression in 6), a 16-bit byte count per lead, then each lead's data.
struct encoded_leads {
    uint16_t avm_nv = 0;
    uint16_t interval_us = 0;
    uint8_t differences = 0;
    uint8_t bimodal = 0;
    std::vector<byte_span> data;
    std::vector<uint16_t> declared_bytes;
};

result<encoded_leads> read_encoded_leads(const section &s, const lead_set &leads) {
    const size_t n = leads.leads.size();
    if (!s.body.has(0, 6 + 2 * n))
        return fail(status_code::bad_format, "section %u: its header and %zu lead byte counts need %zu bytes at offset %zu but the section ends at offset %zu",
                    s.id, n, 6 + 2 * n, s.at(0), s.end());
    encoded_leads out;
    out.avm_nv = u16_at(s.body, 0);
    out.interval_us = u16_at(s.body, 2);
    out.differences = u8_at(s.body, 4);
    out.bimodal = s.id == 6 ? u8_at(s.body, 5) : 0;
    if (out.avm_nv == 0) return fail(status_code::bad_format, "section %u: the amplitude value multiplier (AVM, offset %zu) is 0", s.id, s.at(0));
    if (out.interval_us == 0) return fail(status_code::bad_format, "section %u: the sample interval (offset %zu) is 0 us", s.id, s.at(2));
    if (out.differences > 2)
        return fail(status_code::bad_format, "section %u: difference encoding %u (offset %zu) is not 0, 1 or 2", s.id, out.differences, s.at(4));
    if (out.bimodal > 1) return fail(status_code::bad_format, "section 6: bimodal compression flag %u (offset %zu) is not 0 or 1", out.bimodal, s.at(5));
    size_t pos = 6 + 2 * n;
    for (size_t k = 0; k < n; k++) {
        const uint16_t bytes = u16_at(s.body, 6 + 2 * k);
        if (!s.body.has(pos, bytes))
            return fail(status_code::bad_format, "section %u: lead %zu (%s) has %u bytes of data at offset %zu but the section ends at offset %zu", s.id,
                        k + 1, leads.leads[k].name.c_str(), bytes, s.at(pos), s.end());
        out.data.push_back(s.body.sub(pos, bytes));
        out.declared_bytes.push_back(bytes);
        pos += bytes;
    }
    return out;
}

// ---- section 4: reference beat and QRS locations ----

struct qrs_zone {
    uint16_t type = 0;
    uint32_t start = 0, fiducial = 0, end = 0;  // 1-based rhythm sample numbers
};

struct protected_zone {
    uint32_t start = 0, end = 0;
};

struct qrs_locations {
    uint16_t reference_length_ms = 0;
    uint16_t reference_fiducial = 0;  // 1-based sample of the reference beat
    std::vector<qrs_zone> qrs;
    std::vector<protected_zone> protected_zones;
    bool has_protected_zones = false;
};

result<qrs_locations> read_qrs_locations(const section &s) {
    if (s.body.size < 6) return fail(status_code::bad_format, "section 4: %zu bytes, too short for its 6-byte header", s.body.size);
    qrs_locations out;
    out.reference_length_ms = u16_at(s.body, 0);
    out.reference_fiducial = u16_at(s.body, 2);
    const size_t count = u16_at(s.body, 4);
    if (!s.body.has(6, count * 14))
        return fail(status_code::bad_format, "section 4: %zu QRS complexes need %zu bytes at offset %zu but the section ends at offset %zu", count,
                    count * 14, s.at(6), s.end());
    for (size_t q = 0; q < count; q++) {
        const size_t at = 6 + q * 14;
        out.qrs.push_back(qrs_zone{u16_at(s.body, at), u32_at(s.body, at + 2), u32_at(s.body, at + 6), u32_at(s.body, at + 10)});
    }
    const size_t protected_at = 6 + count * 14;
    if (s.body.has(protected_at, count * 8)) {
        out.has_protected_zones = true;
        for (size_t q = 0; q < count; q++)
            out.protected_zones.push_back(protected_zone{u32_at(s.body, protected_at + q * 8), u32_at(s.body, protected_at + q * 8 + 4)});
    }
    return out;
}

// ---- bimodal compression ----

// The runs of one lead in storage order: a protected zone is stored sample by sample, the run between two
// zones as run / ratio averages then run % ratio plain samples.
struct bimodal_run {
    size_t first = 0;  // 0-based within the lead
    size_t length = 0;
    bool is_protected = false;
};

result<std::vector<bimodal_run>> bimodal_runs(const lead_definition &lead, const qrs_locations &q, const std::string &where) {
    std::vector<bimodal_run> runs;
    size_t next = lead.first;  // 1-based sample where the current run starts
    for (size_t z = 0; z < q.protected_zones.size(); z++) {
        const protected_zone &p = q.protected_zones[z];
        if (p.end < p.start)
            return fail(status_code::bad_format, "section 4: protected zone %zu ends at sample %u before it starts at sample %u", z + 1, p.end, p.start);
        if (p.end < lead.first || p.start > lead.last) continue;  // outside this lead
        const size_t start = std::max<size_t>(p.start, lead.first), end = std::min<size_t>(p.end, lead.last);
        if (start < next)
            return fail(status_code::bad_format, "%s: protected zone %zu (samples %u-%u) overlaps or precedes the one before it", where.c_str(), z + 1,
                        p.start, p.end);
        if (start > next) runs.push_back(bimodal_run{next - lead.first, start - next, false});
        runs.push_back(bimodal_run{start - lead.first, end - start + 1, true});
        next = end + 1;
    }
    if (next <= lead.last) runs.push_back(bimodal_run{next - lead.first, static_cast<size_t>(lead.last) + 1 - next, false});
    return runs;
}

size_t bimodal_stored_count(const std::vector<bimodal_run> &runs, size_t ratio) {
    size_t n = 0;
    for (const bimodal_run &r : runs) n += r.is_protected ? r.length : r.length / ratio + r.length % ratio;
    return n;
}

// Rebuilds the full-rate lead from its stored values. The averages of a run stand at the centres of their
// intervals and are joined by straight lines (held flat before the first and after the last centre).
std::vector<double> bimodal_expand(const std::vector<bimodal_run> &runs, size_t ratio, const std::vector<int16_t> &stored, size_t lead_count) {
    std::vector<double> out(lead_count, 0.0);
    size_t in = 0;
    for (const bimodal_run &r : runs) {
        if (r.is_protected) {
            for (size_t i = 0; i < r.length; i++) out[r.first + i] = stored[in++];
            continue;
        }
        const size_t averages = r.length / ratio, plain = r.length % ratio;
        const double half = (static_cast<double>(ratio) - 1.0) / 2.0;
        for (size_t i = 0; i < averages * ratio; i++) {
            const double position = (static_cast<double>(i) - half) / static_cast<double>(ratio);  // in units of averages
            double value;
            if (position <= 0.0) value = stored[in];
            else if (position >= static_cast<double>(averages - 1)) value = stored[in + averages - 1];
            else {
                const size_t k = static_cast<size_t>(position);
                const double t = position - static_cast<double>(k);
                value = stored[in + k] + t * (stored[in + k + 1] - stored[in + k]);
            }
            out[r.first + i] = value;
        }
        in += averages;
        for (size_t i = 0; i < plain; i++) out[r.first + averages * ratio + i] = stored[in++];
    }
    return out;
}

// ---- section 5: reference beats ----

struct reference_beats {
    double fs_hz = 0.0;
    uint16_t avm_nv = 0;
    uint16_t interval_us = 0;
    std::vector<std::vector<double>> samples_uv;  // per lead of section 3
};

result<reference_beats> read_reference_beats(const section &s, const lead_set &leads, const huffman_tables &huffman, const qrs_locations *q,
                                             bool needed, std::vector<std::string> &warnings, bool &skipped) {
    skipped = false;
    result<encoded_leads> enc = read_encoded_leads(s, leads);
    if (!enc.ok()) return enc.error();
    reference_beats out;
    out.avm_nv = enc->avm_nv;
    out.interval_us = enc->interval_us;
    out.fs_hz = 1e6 / enc->interval_us;
    // Samples per lead: the reference beat's length (section 4, ms) at the section's interval; plain 16-bit
    // data also tell it by their size.
    size_t count = 0;
    if (q && q->reference_length_ms > 0) {
        count = static_cast<size_t>(q->reference_length_ms) * 1000 / enc->interval_us;
    } else if (!huffman.used) {
        for (const byte_span &d : enc->data) count = std::max(count, d.size / 2);
    } else {
        if (needed)
            return fail(status_code::bad_format, "section 5: the reference beats are Huffman coded but section 4 does not give their length, so they "
                        "cannot be decoded");
        warnings.push_back("section 5: the reference beats are Huffman coded and section 4 does not give their length; they are not read");
        skipped = true;
        return out;
    }
    if (count == 0) return fail(status_code::bad_format, "section 5: the reference beat has no samples (length %u ms)", q ? q->reference_length_ms : 0);
    if (count * leads.leads.size() > k_max_total_samples)
        return fail(status_code::too_large, "section 5: %zu leads x %zu reference-beat samples exceeds kalium's limit", leads.leads.size(), count);
    for (size_t k = 0; k < leads.leads.size(); k++) {
        const std::string where = "section 5: lead " + std::to_string(k + 1) + " (" + leads.leads[k].name + ")";
        result<decoded_lead> d = decode_lead(enc->data[k], count, huffman, enc->differences, where);
        if (!d.ok()) return d.error();
        if (d->values.size() < count)
            return fail(status_code::bad_format, "%s: the data (%zu bytes) end after %zu of the reference beat's %zu samples", where.c_str(),
                        enc->data[k].size, d->values.size(), count);
        std::vector<double> uv(count);
        for (size_t i = 0; i < count; i++) uv[i] = d->values[i] * (enc->avm_nv / 1000.0);
        out.samples_uv.push_back(std::move(uv));
    }
    return out;
}

// ---- section 6: rhythm ----

struct rhythm_data {
    double fs_hz = 0.0;
    uint16_t avm_nv = 0;
    std::vector<std::vector<float>> samples_uv;  // per lead, on the common time base of lead_set
    std::string encoding;                         // for format_detail
};

std::string encoding_description(const huffman_tables &huffman, bool default_table, int differences, bool bimodal, bool subtracted) {
    std::string s = !huffman.used ? "16-bit values" : default_table ? "default Huffman table" : "custom Huffman tables";
    if (differences == 1) s += ", first differences";
    if (differences == 2) s += ", second differences";
    if (subtracted) s += ", reference beat subtracted";
    if (bimodal) s += ", bimodal compression";
    return s;
}

result<rhythm_data> read_rhythm(const section &s, const lead_set &leads, const huffman_tables &huffman, bool default_table,
                                const qrs_locations *q, const reference_beats *reference, std::vector<std::string> &warnings) {
    result<encoded_leads> enc = read_encoded_leads(s, leads);
    if (!enc.ok()) return enc.error();
    rhythm_data out;
    out.avm_nv = enc->avm_nv;
    const bool bimodal = enc->bimodal == 1;
    size_t ratio = 1;
    if (bimodal || leads.reference_beat_subtracted) {
        if (!reference || !q)
            return fail(status_code::bad_format, "section 6: %s needs the reference beats (section 5) and the QRS locations (section 4), which the "
                        "record lacks", bimodal ? "bimodal compression" : "reference beat subtraction (section 3 flag)");
        if (bimodal) {
            if (enc->interval_us % reference->interval_us != 0 || enc->interval_us / reference->interval_us < 2)
                return fail(status_code::bad_format, "section 6: bimodal compression with a sample interval of %u us, not a multiple of section 5's %u us",
                            enc->interval_us, reference->interval_us);
            if (!q->has_protected_zones)
                return fail(status_code::bad_format, "section 6: bimodal compression but section 4 has no protected zones");
            ratio = enc->interval_us / reference->interval_us;
            warnings.push_back(format("section 6: bimodal compression: outside the QRS complexes the rhythm was stored decimated by %zu and is "
                                      "interpolated back (lossy)", ratio));
        } else if (enc->interval_us != reference->interval_us) {
            return fail(status_code::unsupported, "section 6: reference beats subtracted at a sample interval of %u us from a rhythm at %u us "
                        "(resampling is not supported)", reference->interval_us, enc->interval_us);
        }
    }
    out.fs_hz = 1e6 / (enc->interval_us / static_cast<double>(ratio));
    out.encoding = encoding_description(huffman, default_table, enc->differences, bimodal, leads.reference_beat_subtracted);
    const double uv_per_unit = enc->avm_nv / 1000.0;
    const size_t span = leads.span();
    struct shortfall {
        std::string lead;
        uint16_t declared_bytes;
        size_t have, want;
    };
    std::vector<shortfall> short_leads;
    for (size_t k = 0; k < leads.leads.size(); k++) {
        const lead_definition &lead = leads.leads[k];
        const std::string where = "section 6: lead " + std::to_string(k + 1) + " (" + lead.name + ")";
        std::vector<bimodal_run> runs;
        size_t stored = lead.count();
        if (bimodal) {
            result<std::vector<bimodal_run>> r = bimodal_runs(lead, *q, where);
            if (!r.ok()) return r.error();
            runs = std::move(r).value();
            stored = bimodal_stored_count(runs, ratio);
        }
        result<decoded_lead> d = decode_lead(enc->data[k], stored, huffman, enc->differences, where);
        if (!d.ok()) return d.error();
        size_t usable = d->values.size();
        if (usable < stored) {
            // A lead longer than a 16-bit byte count can describe: keep what is there, the rest is missing.
            if (enc->declared_bytes[k] >= k_saturated_lead_bytes && !bimodal && !leads.reference_beat_subtracted) {
                short_leads.push_back(shortfall{lead.name, enc->declared_bytes[k], usable, stored});
            } else {
                return fail(status_code::bad_format, "%s: the data (%zu bytes) end after %zu of %zu samples", where.c_str(), enc->data[k].size, usable,
                            stored);
            }
        }
        std::vector<double> adu;
        if (bimodal) adu = bimodal_expand(runs, ratio, d->values, lead.count());
        else adu.assign(d->values.begin(), d->values.end());
        std::vector<double> uv(adu.size());
        for (size_t i = 0; i < adu.size(); i++) uv[i] = adu[i] * uv_per_unit;
        if (leads.reference_beat_subtracted) {
            // Add the reference beat back over the subtraction zone of every type-0 QRS, fiducial on fiducial.
            const std::vector<double> &beat = reference->samples_uv[k];
            for (size_t z = 0; z < q->qrs.size(); z++) {
                const qrs_zone &zone = q->qrs[z];
                if (zone.type != 0) continue;
                if (zone.end < zone.start)
                    return fail(status_code::bad_format, "section 4: QRS %zu's subtraction zone ends at sample %u before it starts at sample %u", z + 1,
                                zone.end, zone.start);
                for (int64_t t = std::max<int64_t>(zone.start, lead.first); t <= std::min<int64_t>(zone.end, lead.last); t++) {
                    const int64_t m = int64_t(q->reference_fiducial) - 1 + (t - int64_t(zone.fiducial));
                    if (m < 0 || m >= static_cast<int64_t>(beat.size())) continue;
                    uv[static_cast<size_t>(t - lead.first)] += beat[static_cast<size_t>(m)];
                }
            }
        }
        // On the common time base: NaN outside this lead's span and where the data ran out.
        std::vector<float> samples(span, std::numeric_limits<float>::quiet_NaN());
        const size_t offset = lead.first - leads.first;
        const size_t have = bimodal ? uv.size() : usable;
        for (size_t i = 0; i < have && i < uv.size(); i++) samples[offset + i] = static_cast<float>(uv[i]);
        out.samples_uv.push_back(std::move(samples));
    }
    // One warning for the leads whose byte count saturated alike (Contec: all twelve).
    for (size_t i = 0; i < short_leads.size(); i++) {
        const shortfall &f = short_leads[i];
        std::string names = f.lead;
        size_t alike = 1;
        while (i + 1 < short_leads.size() && short_leads[i + 1].have == f.have && short_leads[i + 1].want == f.want) {
            names += ", " + short_leads[++i].lead;
            alike++;
        }
        warnings.push_back(format("section 6: the 16-bit byte count of lead%s %s is at its maximum (%u bytes) and holds %zu of the %zu samples "
                                  "section 3 defines; the last %zu samples (%.2f s) are missing (NaN)",
                                  alike > 1 ? "s" : "", names.c_str(), f.declared_bytes, f.have, f.want, f.want - f.have,
                                  (f.want - f.have) / out.fs_hz));
    }
    return out;
}

// ---- sections 7, 8 and 11: the cart's measurements and statements ----

// SCP's "no value" markers: 29999 not computed, 29998 rejected lead, 19999 wave absent, 999 undefined axis.
bool measured(int v) { return v != 29999 && v != 29998 && v != 19999 && v != 999; }

void read_global_measurements(const section &s, ecg_record &record) {
    const byte_span b = s.body;
    if (b.size < 6) {
        record.warnings.push_back(format("section 7: %zu bytes, too short for its header; not read", b.size));
        return;
    }
    const size_t blocks = u8_at(b, 0), spikes = u8_at(b, 1);
    const uint16_t rr_ms = u16_at(b, 2);
    ecg_measurements m;
    if (blocks > 0 && b.has(6, 16)) {
        // The first block: onsets and offsets in ms from the reference beat's start, axes in degrees.
        const int p_on = u16_at(b, 6), qrs_on = u16_at(b, 10), qrs_off = u16_at(b, 12), t_off = u16_at(b, 14);
        const int axes[3] = {i16_at(b, 16), i16_at(b, 18), i16_at(b, 20)};
        if (measured(p_on) && measured(qrs_on) && qrs_on > p_on) m.pr_ms = qrs_on - p_on;
        if (measured(qrs_on) && measured(qrs_off) && qrs_off > qrs_on) m.qrs_ms = qrs_off - qrs_on;
        if (measured(qrs_on) && measured(t_off) && t_off > qrs_on) m.qt_ms = t_off - qrs_on;
        std::optional<double> *axis_out[3] = {&m.p_axis_deg, &m.qrs_axis_deg, &m.t_axis_deg};
        for (int i = 0; i < 3; i++)
            if (measured(axes[i]) && axes[i] >= -360 && axes[i] <= 360) *axis_out[i] = axes[i];
    } else if (blocks > 0) {
        record.warnings.push_back("section 7: the first measurement block runs past the section end; not read");
    }
    // After the blocks: pacemaker spikes (4 bytes each) and their details (6 bytes each), the QRS types
    // (count (2) + 1 byte each), then ventricular rate (2), atrial rate (2), QTc (2), formula (1).
    size_t pos = 6 + blocks * 16 + spikes * 4 + spikes * 6;
    std::optional<double> ventricular_rate;
    if (b.has(pos, 2)) {
        pos += 2 + u16_at(b, pos);
        if (b.has(pos, 6)) {
            const int rate = u16_at(b, pos), qtc = u16_at(b, pos + 4);
            if (measured(rate) && rate > 0 && rate < 400) ventricular_rate = rate;
            if (measured(qtc) && qtc > 0 && qtc < 2000) m.qtc_ms = qtc;
        }
    }
    if (ventricular_rate) m.hr_bpm = ventricular_rate;
    else if (measured(rr_ms) && rr_ms > 0) m.hr_bpm = 60000.0 / rr_ms;
    record.cart = m;
}

// Section 8: report type (1), date (4), time (3), statement count (1), then per statement: sequence number
// (1), length (2), NUL-terminated text. Section 11 is alike, with a statement type byte (1 coded, 2 text,
// 3 logic) before each statement's data, counted in its length; coded fields are NUL separated.
std::vector<std::string> read_statements(const section &s, std::vector<std::string> &warnings) {
    std::vector<std::string> out;
    const byte_span b = s.body;
    if (b.size < 9) return out;
    const size_t count = u8_at(b, 8);
    size_t pos = 9;
    for (size_t i = 0; i < count; i++) {
        if (!b.has(pos, 3)) {
            warnings.push_back(format("section %u: statement %zu of %zu starts past the section end; the rest are not read", s.id, i + 1, count));
            break;
        }
        const uint16_t length = u16_at(b, pos + 1);
        if (!b.has(pos + 3, length)) {
            warnings.push_back(format("section %u: statement %zu (offset %zu) says %u bytes but the section ends at offset %zu; the rest are not read",
                                      s.id, i + 1, s.at(pos), length, s.end()));
            break;
        }
        byte_span text = b.sub(pos + 3, length);
        if (s.id == 11 && text.size > 0) text = text.tail(1);  // the statement type
        // NULs separate the fields of coded statements; join them.
        std::string joined;
        size_t field = 0;
        for (size_t k = 0; k <= text.size; k++) {
            if (k == text.size || text.data[k] == 0) {
                const std::string part = text_of(text.sub(field, k - field));
                if (!part.empty()) joined += (joined.empty() ? "" : "; ") + part;
                field = k + 1;
            }
        }
        if (!joined.empty()) out.push_back(joined);
        pos += 3 + static_cast<size_t>(length);
    }
    return out;
}

std::string version_text(uint8_t v) { return v == 0 ? "" : format("%u.%u", v / 10, v % 10); }

}  // namespace

// SCP-ECG: CRC (2 bytes), record length (4), then section 0, whose 16-byte header has the section id 0 at
// offset 8 and, from version 2.0 on, the reserved bytes "SCPECG" at offset 16. Version 1.x files (zeros
// there) are recognised by section 0's first pointer, which points at section 0 itself with its length.
bool sniff_scp_ecg(const uint8_t *data, size_t size) {
    if (size >= 22 && std::memcmp(data + 16, "SCPECG", 6) == 0) return true;
    const byte_span b(data, size);
    if (size < 32 || u16_at(b, 8) != 0) return false;
    const uint32_t length = u32_at(b, 10);
    return length >= 26 && (length - 16) % 10 == 0 && u16_at(b, 22) == 0 && u32_at(b, 24) == length &&
           (u32_at(b, 28) == 7 || u32_at(b, 28) == 6);
}

result<ecg_record> read_scp_ecg(const named_bytes &file) {
    if (!file.data || file.size == 0) return fail(status_code::bad_format, "the file is empty");
    ecg_record record;
    result<record_structure> structure = read_structure(byte_span(file.data, file.size), record.warnings);
    if (!structure.ok()) return structure.error();
    const record_structure &rs = structure.value();

    const section *s3 = rs.find(3);
    const section *s6 = rs.find(6);
    if (!s3) return fail(status_code::bad_format, "the record has no lead definitions (section 3)");
    if (!s6) {
        if (rs.find(12)) return fail(status_code::unsupported, "the record holds long-term ECG data (section 12, SCP-ECG 3.0), which kalium does not read");
        return fail(status_code::bad_format, "the record has no rhythm data (section 6)%s", rs.find(5) ? "; it holds reference beats only" : "");
    }
    result<lead_set> leads = read_lead_definitions(*s3);
    if (!leads.ok()) return leads.error();
    const section *s2 = rs.find(2);
    result<huffman_tables> huffman = read_huffman_tables(s2);
    if (!huffman.ok()) return huffman.error();
    const bool default_table = s2 && s2->body.size >= 2 && u16_at(s2->body, 0) == k_default_huffman_table;

    std::optional<qrs_locations> q;
    if (const section *s4 = rs.find(4)) {
        result<qrs_locations> r = read_qrs_locations(*s4);
        if (!r.ok()) return r.error();
        q = std::move(r).value();
    }
    std::optional<reference_beats> reference;
    if (const section *s5 = rs.find(5)) {
        const bool needed = leads->reference_beat_subtracted || (s6->body.size >= 6 && u8_at(s6->body, 5) == 1);
        bool skipped = false;
        result<reference_beats> r = read_reference_beats(*s5, leads.value(), huffman.value(), q ? &*q : nullptr, needed, record.warnings, skipped);
        if (!r.ok()) return r.error();
        if (!skipped) reference = std::move(r).value();
    }
    result<rhythm_data> rhythm = read_rhythm(*s6, leads.value(), huffman.value(), default_table, q ? &*q : nullptr, reference ? &*reference : nullptr,
                                             record.warnings);
    if (!rhythm.ok()) return rhythm.error();

    record.fs_hz = rhythm->fs_hz;
    const double gain = 1e6 / rhythm->avm_nv;  // ADU per mV
    const std::string units = format("%u nV", rhythm->avm_nv);
    bool simultaneous = true;
    for (size_t k = 0; k < leads->leads.size(); k++) {
        ecg_lead lead;
        lead.name = leads->leads[k].name;
        lead.samples_uv = std::move(rhythm->samples_uv[k]);
        lead.gain_adu_per_mv = gain;
        lead.units = units;
        record.leads.push_back(std::move(lead));
        if (leads->leads[k].first != leads->first || leads->leads[k].last != leads->last) simultaneous = false;
    }
    if (!simultaneous)
        record.warnings.push_back("section 3: the leads are not all recorded over the same samples; each lead is NaN outside its own span");
    if (reference) {
        ecg_median_beats median;
        median.fs_hz = reference->fs_hz;
        for (size_t k = 0; k < leads->leads.size(); k++) {
            ecg_lead lead;
            lead.name = leads->leads[k].name;
            lead.samples_uv.assign(reference->samples_uv[k].begin(), reference->samples_uv[k].end());
            lead.gain_adu_per_mv = 1e6 / reference->avm_nv;
            lead.units = format("%u nV", reference->avm_nv);
            median.leads.push_back(std::move(lead));
        }
        record.median = std::move(median);
    }
    record.format_detail = version_text(rs.protocol);
    record.format_detail += (record.format_detail.empty() ? "" : ", ") + rhythm->encoding;

    if (const section *s1 = rs.find(1)) read_header_tags(*s1, record);
    if (const section *s7 = rs.find(7)) read_global_measurements(*s7, record);
    if (const section *s8 = rs.find(8)) record.statements = read_statements(*s8, record.warnings);
    if (record.statements.empty())
        if (const section *s11 = rs.find(11)) record.statements = read_statements(*s11, record.warnings);
    return record;
}

}  // namespace kalium::ecg
