// ecg/read-dicom.cpp: DICOM waveform objects (ECG and hemodynamic) read with a small parser of our own.
//
// What it implements (DICOM PS3.10 file format, PS3.5 data encoding, PS3.3 C.10.9 Waveform module):
//   - Part 10 files: 128-byte preamble, "DICM", file meta group (0002) in explicit VR little endian;
//   - transfer syntaxes Explicit VR Little Endian (1.2.840.10008.1.2.1) and Implicit VR Little Endian
//     (1.2.840.10008.1.2). Big endian, deflated and compressed syntaxes are refused as `unsupported`;
//   - sequences (SQ, and UN holding a sequence) of defined and undefined length, items of defined and
//     undefined length, item and sequence delimiters, at most k_max_sequence_depth levels deep. Every
//     length is checked against the end of what encloses it (file, item, sequence) before it is used;
//   - SOP classes 12-lead ECG, General ECG, Ambulatory ECG and Hemodynamic Waveform Storage.
// How the waveform becomes microvolts (PS3.3 C.10.9.1.4): each multiplex group of the Waveform Sequence
// (5400,0100) holds Number of Channels (003A,0005), Number of Samples (003A,0010), Sampling Frequency
// (003A,001A) and Waveform Data (5400,1010) interleaved by sample (C1S1 C2S1 ... CnS1 C1S2 ...). Per
// channel (Channel Definition Sequence 003A,0200): Channel Sensitivity (003A,0210) is the value of one
// sample unit in the units of Channel Sensitivity Units (003A,0211), the Correction Factor (003A,0212)
// multiplies it, and Channel Baseline (003A,0213) is the offset of sample value 0 from true 0 in those same
// units. So value = raw * sensitivity * correction + baseline, in the units, then scaled to microvolts.
// Channels whose units are not volts (pressure, respiration) are dropped with a warning.
// The group labelled RHYTHM (Multiplex Group Label 003A,0020), or else the first group not labelled as a
// median beat, gives the leads; a MEDIAN BEAT group gives record.median. Cart measurements and statements
// come from the Waveform Annotation Sequence (0040,B020) when it simply states them.
// Not supported: waveform sample interpretations other than signed/unsigned 8/16/32-bit integers (mu-law
// and A-law are audio encodings), channel sample skew (warned about), encapsulated (compressed) data.
#include "ecg/readers.h"

#include "core/bytes.h"
#include "core/format.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace kalium::ecg {

// DICOM Part 10: a 128-byte preamble, then "DICM".
bool sniff_dicom(const uint8_t *data, size_t size) {
    return size >= 132 && data[128] == 'D' && data[129] == 'I' && data[130] == 'C' && data[131] == 'M';
}

namespace {

constexpr int k_max_sequence_depth = 16;
constexpr size_t k_max_elements_per_dataset = size_t(1) << 20;  // real ECG files have a few hundred
constexpr size_t k_max_items_per_sequence = size_t(1) << 20;
constexpr uint32_t k_undefined_length = 0xFFFFFFFFu;
constexpr size_t k_preamble_bytes = 128;

constexpr uint32_t make_tag(uint16_t group, uint16_t element) { return (uint32_t(group) << 16) | element; }

// Tags this reader uses (names as in PS3.6).
constexpr uint32_t k_tag_media_sop_class = make_tag(0x0002, 0x0002);
constexpr uint32_t k_tag_transfer_syntax = make_tag(0x0002, 0x0010);
constexpr uint32_t k_tag_sop_class = make_tag(0x0008, 0x0016);
constexpr uint32_t k_tag_acquisition_date = make_tag(0x0008, 0x0022);
constexpr uint32_t k_tag_content_date = make_tag(0x0008, 0x0023);
constexpr uint32_t k_tag_acquisition_datetime = make_tag(0x0008, 0x002A);
constexpr uint32_t k_tag_acquisition_time = make_tag(0x0008, 0x0032);
constexpr uint32_t k_tag_content_time = make_tag(0x0008, 0x0033);
constexpr uint32_t k_tag_manufacturer = make_tag(0x0008, 0x0070);
constexpr uint32_t k_tag_model_name = make_tag(0x0008, 0x1090);
constexpr uint32_t k_tag_code_value = make_tag(0x0008, 0x0100);
constexpr uint32_t k_tag_coding_scheme = make_tag(0x0008, 0x0102);
constexpr uint32_t k_tag_code_meaning = make_tag(0x0008, 0x0104);
constexpr uint32_t k_tag_patient_id = make_tag(0x0010, 0x0020);
constexpr uint32_t k_tag_birth_date = make_tag(0x0010, 0x0030);
constexpr uint32_t k_tag_patient_sex = make_tag(0x0010, 0x0040);
constexpr uint32_t k_tag_patient_age = make_tag(0x0010, 0x1010);
constexpr uint32_t k_tag_originality = make_tag(0x003A, 0x0004);
constexpr uint32_t k_tag_channel_count = make_tag(0x003A, 0x0005);
constexpr uint32_t k_tag_sample_count = make_tag(0x003A, 0x0010);
constexpr uint32_t k_tag_sampling_frequency = make_tag(0x003A, 0x001A);
constexpr uint32_t k_tag_group_label = make_tag(0x003A, 0x0020);
constexpr uint32_t k_tag_channel_definitions = make_tag(0x003A, 0x0200);
constexpr uint32_t k_tag_channel_label = make_tag(0x003A, 0x0203);
constexpr uint32_t k_tag_channel_source = make_tag(0x003A, 0x0208);
constexpr uint32_t k_tag_channel_sensitivity = make_tag(0x003A, 0x0210);
constexpr uint32_t k_tag_sensitivity_units = make_tag(0x003A, 0x0211);
constexpr uint32_t k_tag_correction_factor = make_tag(0x003A, 0x0212);
constexpr uint32_t k_tag_channel_baseline = make_tag(0x003A, 0x0213);
constexpr uint32_t k_tag_channel_skew = make_tag(0x003A, 0x0215);
constexpr uint32_t k_tag_measurement_units = make_tag(0x0040, 0x08EA);
constexpr uint32_t k_tag_concept_name = make_tag(0x0040, 0xA043);
constexpr uint32_t k_tag_numeric_value = make_tag(0x0040, 0xA30A);
constexpr uint32_t k_tag_annotations = make_tag(0x0040, 0xB020);
constexpr uint32_t k_tag_unformatted_text = make_tag(0x0070, 0x0006);
constexpr uint32_t k_tag_waveform_sequence = make_tag(0x5400, 0x0100);
constexpr uint32_t k_tag_bits_allocated = make_tag(0x5400, 0x1004);
constexpr uint32_t k_tag_sample_interpretation = make_tag(0x5400, 0x1006);
constexpr uint32_t k_tag_waveform_data = make_tag(0x5400, 0x1010);
// Item, item delimiter and sequence delimiter (group FFFE).
constexpr uint32_t k_tag_item = make_tag(0xFFFE, 0xE000);
constexpr uint32_t k_tag_item_delimiter = make_tag(0xFFFE, 0xE00D);
constexpr uint32_t k_tag_sequence_delimiter = make_tag(0xFFFE, 0xE0DD);

std::string tag_text(uint32_t tag) { return format("(%04X,%04X)", unsigned(tag >> 16), unsigned(tag & 0xFFFF)); }

// ---------------------------------------------------------------------------------------------------------
// The data-set parser. Elements keep their value's place in the file; sequences are parsed into items only
// when asked for, so unknown sequences cost one bounded scan and nothing more.

struct element {
    uint32_t tag = 0;
    char vr[3] = {0, 0, 0};         // explicit VR as written; "" in implicit VR
    size_t header_offset = 0;       // where the element starts in the file
    size_t value_offset = 0;        // where its value starts
    size_t value_length = 0;        // bytes of value (for an undefined length: up to the sequence delimiter)
    size_t end_offset = 0;          // first byte after the element (after its delimiter, if any)
    bool undefined_length = false;
    bool contents_explicit = true;  // VR encoding of the items inside (UN contents are implicit VR)
    int depth = 0;                  // nesting level of the data set holding this element (0 = top)
};
using dataset = std::vector<element>;

bool is_long_vr(const char *vr) {
    static const char *const k_long[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"};
    for (const char *v : k_long)
        if (vr[0] == v[0] && vr[1] == v[1]) return true;
    return false;
}

class dicom_parser {
public:
    explicit dicom_parser(byte_span file) : file_(file) {}

    // Reads one element header at `pos`, which must lie before `end` (the end of what encloses it), and for
    // an undefined length finds the sequence delimiter. Fills `out` including end_offset.
    status read_element(size_t pos, size_t end, bool explicit_vr, int depth, element &out) const {
        out = element();
        out.header_offset = pos;
        out.depth = depth;
        uint16_t group = 0, number = 0;
        if (pos > end || end - pos < 8 || !file_.le(pos, group) || !file_.le(pos + 2, number))
            return status::error(status_code::bad_format, "dicom: element header at offset %zu runs past the end of its %s (offset %zu)",
                                 pos, depth == 0 ? "data set" : "item", end);
        out.tag = make_tag(group, number);
        uint32_t length = 0;
        size_t header_bytes = 8;
        if (explicit_vr) {
            out.vr[0] = static_cast<char>(file_.data[pos + 4]);
            out.vr[1] = static_cast<char>(file_.data[pos + 5]);
            if (!std::isupper(static_cast<unsigned char>(out.vr[0])) || !std::isupper(static_cast<unsigned char>(out.vr[1])))
                return status::error(status_code::bad_format, "dicom: element %s at offset %zu: value representation is not two capital letters",
                                     tag_text(out.tag).c_str(), pos);
            if (is_long_vr(out.vr)) {
                header_bytes = 12;
                if (end - pos < 12 || !file_.le(pos + 8, length))
                    return status::error(status_code::bad_format, "dicom: element %s at offset %zu: header runs past offset %zu",
                                         tag_text(out.tag).c_str(), pos, end);
            } else {
                uint16_t short_length = 0;
                file_.le(pos + 6, short_length);
                length = short_length;
            }
            out.contents_explicit = !(out.vr[0] == 'U' && out.vr[1] == 'N');
        } else {
            file_.le(pos + 4, length);
            out.contents_explicit = false;
        }
        out.value_offset = pos + header_bytes;
        if (length == k_undefined_length) {
            const bool may_be_undefined = !explicit_vr || (out.vr[0] == 'S' && out.vr[1] == 'Q') || (out.vr[0] == 'U' && out.vr[1] == 'N');
            if (!may_be_undefined)
                return status::error(status_code::unsupported, "dicom: element %s at offset %zu: undefined length with VR %s "
                                     "(encapsulated data is not supported)", tag_text(out.tag).c_str(), pos, out.vr);
            out.undefined_length = true;
            return find_sequence_end(out, end);
        }
        if (length > end - out.value_offset)
            return status::error(status_code::bad_format, "dicom: element %s at offset %zu: length %u runs past the end of its %s (offset %zu)",
                                 tag_text(out.tag).c_str(), pos, length, depth == 0 ? "data set" : "item", end);
        out.value_length = length;
        out.end_offset = out.value_offset + length;
        return status();
    }

    // Parses the elements of a data set from `begin`. With `until_item_delimiter` the data set is an item of
    // undefined length and must end with an item delimiter before `end`; `stop` is then the byte after it.
    status parse_dataset(size_t begin, size_t end, bool explicit_vr, int depth, bool until_item_delimiter, size_t &stop,
                         dataset &out) const {
        size_t pos = begin;
        while (pos < end) {
            uint16_t group = 0, number = 0;
            if (end - pos < 4 || !file_.le(pos, group) || !file_.le(pos + 2, number))
                return status::error(status_code::bad_format, "dicom: element header at offset %zu runs past offset %zu", pos, end);
            if (group == 0xFFFE) {
                if (until_item_delimiter && make_tag(group, number) == k_tag_item_delimiter) {
                    if (end - pos < 8)
                        return status::error(status_code::bad_format, "dicom: item delimiter at offset %zu runs past offset %zu", pos, end);
                    stop = pos + 8;
                    return status();
                }
                return status::error(status_code::bad_format, "dicom: unexpected %s at offset %zu inside a data set",
                                     tag_text(make_tag(group, number)).c_str(), pos);
            }
            if (out.size() >= k_max_elements_per_dataset)
                return status::error(status_code::too_large, "dicom: more than %zu elements in one data set", k_max_elements_per_dataset);
            element e;
            status st = read_element(pos, end, explicit_vr, depth, e);
            if (!st.ok()) return st;
            out.push_back(e);
            pos = e.end_offset;
        }
        if (until_item_delimiter)
            return status::error(status_code::bad_format, "dicom: item at offset %zu has no item delimiter before offset %zu", begin - 8, end);
        stop = pos;
        return status();
    }

    // The items of a sequence element, each parsed as a data set.
    status items(const element &sequence, std::vector<dataset> &out) const {
        out.clear();
        const int depth = sequence.depth + 1;
        if (depth > k_max_sequence_depth)
            return status::error(status_code::bad_format, "dicom: sequence %s at offset %zu is nested more than %d levels deep",
                                 tag_text(sequence.tag).c_str(), sequence.header_offset, k_max_sequence_depth);
        const size_t end = sequence.value_offset + sequence.value_length;
        size_t pos = sequence.value_offset;
        while (pos < end) {
            uint32_t item_tag = 0, length = 0;
            if (!read_item_header(pos, end, item_tag, length))
                return status::error(status_code::bad_format, "dicom: sequence %s: item header at offset %zu runs past offset %zu",
                                     tag_text(sequence.tag).c_str(), pos, end);
            if (item_tag != k_tag_item)
                return status::error(status_code::bad_format, "dicom: sequence %s: expected an item at offset %zu, found %s",
                                     tag_text(sequence.tag).c_str(), pos, tag_text(item_tag).c_str());
            if (out.size() >= k_max_items_per_sequence)
                return status::error(status_code::too_large, "dicom: sequence %s has more than %zu items", tag_text(sequence.tag).c_str(),
                                     k_max_items_per_sequence);
            dataset item;
            size_t stop = 0;
            if (length == k_undefined_length) {
                status st = parse_dataset(pos + 8, end, sequence.contents_explicit, depth, true, stop, item);
                if (!st.ok()) return st;
            } else {
                if (length > end - (pos + 8))
                    return status::error(status_code::bad_format, "dicom: sequence %s: item at offset %zu has length %u, past the sequence end (offset %zu)",
                                         tag_text(sequence.tag).c_str(), pos, length, end);
                status st = parse_dataset(pos + 8, pos + 8 + length, sequence.contents_explicit, depth, false, stop, item);
                if (!st.ok()) return st;
            }
            out.push_back(std::move(item));
            pos = stop;
        }
        return status();
    }

    const byte_span &file() const { return file_; }

private:
    bool read_item_header(size_t pos, size_t end, uint32_t &tag, uint32_t &length) const {
        uint16_t group = 0, number = 0;
        if (pos > end || end - pos < 8 || !file_.le(pos, group) || !file_.le(pos + 2, number) || !file_.le(pos + 4, length)) return false;
        tag = make_tag(group, number);
        return true;
    }

    // Walks the items of an undefined-length sequence up to its delimiter (parsing undefined-length items,
    // whose end is only known that way) and sets the element's value_length and end_offset.
    status find_sequence_end(element &sequence, size_t end) const {
        const int depth = sequence.depth + 1;
        if (depth > k_max_sequence_depth)
            return status::error(status_code::bad_format, "dicom: sequence %s at offset %zu is nested more than %d levels deep",
                                 tag_text(sequence.tag).c_str(), sequence.header_offset, k_max_sequence_depth);
        size_t pos = sequence.value_offset;
        while (true) {
            uint32_t item_tag = 0, length = 0;
            if (!read_item_header(pos, end, item_tag, length))
                return status::error(status_code::bad_format, "dicom: undefined-length sequence %s at offset %zu is never closed "
                                     "(no sequence delimiter before offset %zu)", tag_text(sequence.tag).c_str(), sequence.header_offset, end);
            if (item_tag == k_tag_sequence_delimiter) {
                sequence.value_length = pos - sequence.value_offset;
                sequence.end_offset = pos + 8;
                return status();
            }
            if (item_tag != k_tag_item)
                return status::error(status_code::bad_format, "dicom: sequence %s: expected an item at offset %zu, found %s",
                                     tag_text(sequence.tag).c_str(), pos, tag_text(item_tag).c_str());
            if (length == k_undefined_length) {
                dataset scratch;
                size_t stop = 0;
                status st = parse_dataset(pos + 8, end, sequence.contents_explicit, depth, true, stop, scratch);
                if (!st.ok()) return st;
                pos = stop;
            } else {
                if (length > end - (pos + 8))
                    return status::error(status_code::bad_format, "dicom: sequence %s: item at offset %zu has length %u, past offset %zu",
                                         tag_text(sequence.tag).c_str(), pos, length, end);
                pos += 8 + size_t(length);
            }
        }
    }

    byte_span file_;
};

// ---------------------------------------------------------------------------------------------------------
// Element values.

const element *find(const dataset &ds, uint32_t tag) {
    for (const element &e : ds)
        if (e.tag == tag) return &e;
    return nullptr;
}

std::string trim(std::string s) {
    auto blank = [](char c) { return c == ' ' || c == '\0' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && blank(s.back())) s.pop_back();
    size_t start = 0;
    while (start < s.size() && blank(s[start])) start++;
    return s.substr(start);
}

// A text value without its padding; "" when absent.
std::string text_value(const dicom_parser &p, const dataset &ds, uint32_t tag) {
    const element *e = find(ds, tag);
    std::string s;
    if (!e || e->undefined_length || !p.file().text(e->value_offset, e->value_length, s)) return "";
    return trim(s);
}

// The first of a multi-valued text ("a\b").
std::string first_value(const std::string &s) { return trim(s.substr(0, s.find('\\'))); }

// A decimal string as a number; false when it is empty or not entirely a finite number.
bool parse_decimal(const std::string &text, double &out) {
    const std::string s = first_value(text);
    if (s.empty() || s.size() > 64) return false;
    char *end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size() || !std::isfinite(v)) return false;
    out = v;
    return true;
}

// Outcome of reading a number field: absent, present and valid, or present and broken.
enum class field { absent, ok, broken };

field decimal_value(const dicom_parser &p, const dataset &ds, uint32_t tag, double &out) {
    if (!find(ds, tag)) return field::absent;
    return parse_decimal(text_value(p, ds, tag), out) ? field::ok : field::broken;
}

// An unsigned binary value (US or UL) of `bytes` bytes.
field unsigned_value(const dicom_parser &p, const dataset &ds, uint32_t tag, size_t bytes, uint32_t &out) {
    const element *e = find(ds, tag);
    if (!e) return field::absent;
    if (e->undefined_length || e->value_length != bytes) return field::broken;
    if (bytes == 2) {
        uint16_t v = 0;
        if (!p.file().le(e->value_offset, v)) return field::broken;
        out = v;
    } else {
        if (!p.file().le(e->value_offset, out)) return field::broken;
    }
    return field::ok;
}

status sequence_items(const dicom_parser &p, const dataset &ds, uint32_t tag, std::vector<dataset> &out) {
    out.clear();
    const element *e = find(ds, tag);
    if (!e) return status();
    return p.items(*e, out);
}

// A coded entry: (0008,0100) value, (0008,0102) scheme, (0008,0104) meaning.
struct code {
    std::string value, scheme, meaning;
};

status first_code(const dicom_parser &p, const dataset &ds, uint32_t tag, code &out) {
    out = code();
    std::vector<dataset> items;
    status st = sequence_items(p, ds, tag, items);
    if (!st.ok() || items.empty()) return st;
    out.value = text_value(p, items[0], k_tag_code_value);
    out.scheme = text_value(p, items[0], k_tag_coding_scheme);
    out.meaning = text_value(p, items[0], k_tag_code_meaning);
    return status();
}

std::string lower(std::string s) {
    for (char &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool contains_nocase(const std::string &text, const char *word) { return lower(text).find(word) != std::string::npos; }

// ---------------------------------------------------------------------------------------------------------
// Leads and units.

// SCP-ECG (5.6.3-9-N) and MDC (2:N) lead codes share one numbering (SCP-ECG table 3.6.3.9 / ISO 11073).
lead_id lead_from_number(long n) {
    switch (n) {
    case 1: return lead_id::I;
    case 2: return lead_id::II;
    case 3: return lead_id::V1;
    case 4: return lead_id::V2;
    case 5: return lead_id::V3;
    case 6: return lead_id::V4;
    case 7: return lead_id::V5;
    case 8: return lead_id::V6;
    case 61: return lead_id::III;
    case 62: return lead_id::aVR;
    case 63: return lead_id::aVL;
    case 64: return lead_id::aVF;
    default: return lead_id::other;
    }
}

lead_id lead_from_code(const code &c) {
    std::string number;
    const std::string scheme = lower(c.scheme);
    if (scheme == "scpecg" && c.value.rfind("5.6.3-9-", 0) == 0) number = c.value.substr(8);
    else if ((scheme == "mdc" || scheme == "mdc_ecg") && c.value.rfind("2:", 0) == 0) number = c.value.substr(2);
    else if (c.value.rfind("MDC_ECG_LEAD_", 0) == 0) return lead_id_from_label(c.value);
    if (number.empty() || number.size() > 4) return lead_id::other;
    for (char ch : number)
        if (!std::isdigit(static_cast<unsigned char>(ch))) return lead_id::other;
    return lead_from_number(std::strtol(number.c_str(), nullptr, 10));
}

// "Lead I (Einthoven)" -> "Lead I": the lead name without a parenthesised remark.
std::string without_remark(const std::string &s) { return trim(s.substr(0, s.find('('))); }

// Microvolts per unit of a voltage unit (UCUM code or meaning); 0 when the unit is not a voltage.
double microvolts_per_unit(const code &units) {
    const std::string v = units.value, m = lower(units.meaning);
    if (v == "uV" || m == "microvolt" || m == "microvolts") return 1.0;
    if (v == "mV" || m == "millivolt" || m == "millivolts") return 1000.0;
    if (v == "V" || m == "volt" || m == "volts") return 1e6;
    if (v == "nV" || m == "nanovolt" || m == "nanovolts") return 1e-3;
    return 0.0;
}

// ---------------------------------------------------------------------------------------------------------
// Multiplex groups.

struct channel {
    std::string name;
    lead_id id = lead_id::other;
    std::string units;          // as written (code value)
    double uv_per_unit = 0.0;   // microvolts per stored sample unit (sensitivity x correction, in uV)
    double baseline_uv = 0.0;   // offset of stored value 0 from true 0, in uV
    bool is_voltage = false;
};

struct multiplex_group {
    size_t number = 0;  // 1-based, for messages
    std::string label, originality;
    uint32_t channel_count = 0, sample_count = 0;
    double fs_hz = 0.0;
    uint32_t bytes_per_sample = 0;
    bool is_signed = true;
    size_t data_offset = 0, data_length = 0;
    std::vector<channel> channels;
};

status read_channel(const dicom_parser &p, const dataset &ds, const multiplex_group &g, size_t index, channel &out,
                    std::vector<std::string> &warnings) {
    code source;
    status st = first_code(p, ds, k_tag_channel_source, source);
    if (!st.ok()) return st;
    const std::string label = text_value(p, ds, k_tag_channel_label);
    out.id = lead_from_code(source);
    if (out.id == lead_id::other) out.id = lead_id_from_label(without_remark(source.meaning));
    if (out.id == lead_id::other) out.id = lead_id_from_label(without_remark(label));
    if (out.id != lead_id::other) out.name = lead_id_name(out.id);
    else if (!source.meaning.empty()) out.name = source.meaning;
    else if (!label.empty()) out.name = label;
    else out.name = format("channel %zu", index + 1);

    double sensitivity = 0.0, correction = 1.0, baseline = 0.0, skew = 0.0;
    const field f_sensitivity = decimal_value(p, ds, k_tag_channel_sensitivity, sensitivity);
    const field f_correction = decimal_value(p, ds, k_tag_correction_factor, correction);
    const field f_baseline = decimal_value(p, ds, k_tag_channel_baseline, baseline);
    const char *where = "dicom: waveform group %zu, channel %zu (%s): %s %s '%s' is not a number";
    if (f_sensitivity == field::broken)
        return status::error(status_code::bad_format, where, g.number, index + 1, out.name.c_str(), "channel sensitivity",
                             tag_text(k_tag_channel_sensitivity).c_str(), text_value(p, ds, k_tag_channel_sensitivity).c_str());
    if (f_correction == field::broken)
        return status::error(status_code::bad_format, where, g.number, index + 1, out.name.c_str(), "sensitivity correction factor",
                             tag_text(k_tag_correction_factor).c_str(), text_value(p, ds, k_tag_correction_factor).c_str());
    if (f_baseline == field::broken)
        return status::error(status_code::bad_format, where, g.number, index + 1, out.name.c_str(), "channel baseline",
                             tag_text(k_tag_channel_baseline).c_str(), text_value(p, ds, k_tag_channel_baseline).c_str());
    if (decimal_value(p, ds, k_tag_channel_skew, skew) == field::ok && skew != 0.0)
        warnings.push_back(format("channel %s has a sample skew of %g s, which is ignored", out.name.c_str(), skew));

    code units;
    st = first_code(p, ds, k_tag_sensitivity_units, units);
    if (!st.ok()) return st;
    out.units = !units.value.empty() ? units.value : units.meaning;
    const double uv_per_unit = microvolts_per_unit(units);
    if (f_sensitivity == field::absent || uv_per_unit == 0.0) {
        // Not an electrical channel (or one in arbitrary units): not a lead.
        out.is_voltage = false;
        return status();
    }
    out.uv_per_unit = sensitivity * correction * uv_per_unit;
    out.baseline_uv = baseline * uv_per_unit;
    if (!(std::fabs(out.uv_per_unit) > 0.0) || !std::isfinite(out.uv_per_unit))
        return status::error(status_code::bad_format, "dicom: waveform group %zu, channel %zu (%s): sensitivity %g x correction %g is not usable",
                             g.number, index + 1, out.name.c_str(), sensitivity, correction);
    out.is_voltage = true;
    return status();
}

// Reads and checks one multiplex group's description (not its samples).
status read_group(const dicom_parser &p, const dataset &ds, size_t number, multiplex_group &g, std::vector<std::string> &warnings) {
    g = multiplex_group();
    g.number = number;
    g.label = text_value(p, ds, k_tag_group_label);
    g.originality = text_value(p, ds, k_tag_originality);
    const char *missing = "dicom: waveform group %zu: %s %s is missing";
    const char *broken = "dicom: waveform group %zu: %s %s is not valid";
    field f = unsigned_value(p, ds, k_tag_channel_count, 2, g.channel_count);
    if (f != field::ok)
        return status::error(status_code::bad_format, f == field::absent ? missing : broken, number, "number of channels",
                             tag_text(k_tag_channel_count).c_str());
    if (g.channel_count == 0) return status::error(status_code::bad_format, "dicom: waveform group %zu: 0 channels", number);
    if (g.channel_count > k_max_leads)
        return status::error(status_code::too_large, "dicom: waveform group %zu: %u channels (kalium reads at most %zu)", number,
                             g.channel_count, k_max_leads);
    f = unsigned_value(p, ds, k_tag_sample_count, 4, g.sample_count);
    if (f != field::ok)
        return status::error(status_code::bad_format, f == field::absent ? missing : broken, number, "number of samples",
                             tag_text(k_tag_sample_count).c_str());
    if (g.sample_count == 0) return status::error(status_code::bad_format, "dicom: waveform group %zu: 0 samples", number);
    if (size_t(g.sample_count) * g.channel_count > k_max_total_samples)
        return status::error(status_code::too_large, "dicom: waveform group %zu: %u channels x %u samples exceeds kalium's limit of %zu samples",
                             number, g.channel_count, g.sample_count, k_max_total_samples);
    f = decimal_value(p, ds, k_tag_sampling_frequency, g.fs_hz);
    if (f != field::ok)
        return status::error(status_code::bad_format, "dicom: waveform group %zu: sampling frequency %s '%s' is %s", number,
                             tag_text(k_tag_sampling_frequency).c_str(), text_value(p, ds, k_tag_sampling_frequency).c_str(),
                             f == field::absent ? "missing" : "not a number");
    if (!(g.fs_hz > 0.0) || g.fs_hz > 100000.0)
        return status::error(status_code::bad_format, "dicom: waveform group %zu: sampling frequency %g Hz is not usable", number, g.fs_hz);

    uint32_t bits = 0;
    f = unsigned_value(p, ds, k_tag_bits_allocated, 2, bits);
    if (f != field::ok)
        return status::error(status_code::bad_format, f == field::absent ? missing : broken, number, "waveform bits allocated",
                             tag_text(k_tag_bits_allocated).c_str());
    const std::string interpretation = text_value(p, ds, k_tag_sample_interpretation);
    struct encoding { const char *name; uint32_t bits; bool is_signed; };
    static const encoding k_encodings[] = {{"SB", 8, true}, {"UB", 8, false}, {"SS", 16, true},
                                           {"US", 16, false}, {"SL", 32, true}, {"UL", 32, false}};
    bool known = false;
    for (const encoding &e : k_encodings) {
        if (interpretation != e.name) continue;
        if (bits != e.bits)
            return status::error(status_code::bad_format, "dicom: waveform group %zu: %u bits allocated does not fit sample interpretation %s",
                                 number, bits, e.name);
        g.bytes_per_sample = bits / 8;
        g.is_signed = e.is_signed;
        known = true;
    }
    if (!known)
        return status::error(status_code::unsupported, "dicom: waveform group %zu: sample interpretation '%s' (%u bits) is not supported "
                             "(SB, UB, SS, US, SL, UL are)", number, interpretation.c_str(), bits);

    const element *data = find(ds, k_tag_waveform_data);
    if (!data || data->undefined_length)
        return status::error(status_code::bad_format, "dicom: waveform group %zu: waveform data %s is missing", number,
                             tag_text(k_tag_waveform_data).c_str());
    const size_t needed = size_t(g.sample_count) * g.channel_count * g.bytes_per_sample;
    if (data->value_length < needed)
        return status::error(status_code::bad_format, "dicom: waveform group %zu: waveform data has %zu bytes but %u channels x %u samples x %u "
                             "bytes need %zu", number, data->value_length, g.channel_count, g.sample_count, g.bytes_per_sample, needed);
    g.data_offset = data->value_offset;
    g.data_length = needed;

    std::vector<dataset> definitions;
    status st = sequence_items(p, ds, k_tag_channel_definitions, definitions);
    if (!st.ok()) return st;
    if (definitions.size() != g.channel_count)
        return status::error(status_code::bad_format, "dicom: waveform group %zu: %zu channel definitions %s for %u channels", number,
                             definitions.size(), tag_text(k_tag_channel_definitions).c_str(), g.channel_count);
    g.channels.resize(g.channel_count);
    for (size_t c = 0; c < definitions.size(); c++) {
        st = read_channel(p, definitions[c], g, c, g.channels[c], warnings);
        if (!st.ok()) return st;
    }
    return status();
}

// The group's voltage channels as leads in microvolts; the others are named in a warning.
std::vector<ecg_lead> decode_group(const byte_span &file, const multiplex_group &g, std::vector<std::string> &warnings) {
    std::vector<ecg_lead> leads;
    const size_t stride = size_t(g.channel_count) * g.bytes_per_sample;
    for (size_t c = 0; c < g.channels.size(); c++) {
        const channel &ch = g.channels[c];
        if (!ch.is_voltage) {
            warnings.push_back(format("waveform group %zu (%s): channel %s is not in volts (units '%s') and is not read", g.number,
                                      g.label.c_str(), ch.name.c_str(), ch.units.c_str()));
            continue;
        }
        ecg_lead lead;
        lead.name = ch.name;
        lead.id = ch.id;
        lead.units = ch.units;
        lead.gain_adu_per_mv = 1000.0 / ch.uv_per_unit;
        lead.baseline_adu = ch.baseline_uv == 0.0 ? 0.0 : -ch.baseline_uv / ch.uv_per_unit;
        lead.samples_uv.resize(g.sample_count);
        size_t offset = g.data_offset + c * g.bytes_per_sample;
        for (size_t s = 0; s < g.sample_count; s++, offset += stride) {
            double raw = 0.0;
            // read_group checked that the whole block lies in the file; these reads cannot fail.
            if (g.bytes_per_sample == 1) {
                uint8_t v = file.data[offset];
                raw = g.is_signed ? double(int8_t(v)) : double(v);
            } else if (g.bytes_per_sample == 2) {
                uint16_t v = 0;
                file.le(offset, v);
                raw = g.is_signed ? double(int16_t(v)) : double(v);
            } else {
                uint32_t v = 0;
                file.le(offset, v);
                raw = g.is_signed ? double(int32_t(v)) : double(v);
            }
            lead.samples_uv[s] = static_cast<float>(raw * ch.uv_per_unit + ch.baseline_uv);
        }
        leads.push_back(std::move(lead));
    }
    return leads;
}

// ---------------------------------------------------------------------------------------------------------
// Metadata.

bool all_digits(const std::string &s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    return true;
}

// DA "YYYYMMDD" (or the old "YYYY.MM.DD") and TM "HHMMSS.frac" (or "HH:MM:SS") to ISO 8601, to the
// precision stated (fractions of seconds and time zones are dropped). "" when the date is not valid.
std::string iso_date_time(std::string date, std::string time) {
    std::string d;
    for (char c : date)
        if (c != '.' && c != '-') d.push_back(c);
    if (d.size() != 8 || !all_digits(d)) return "";
    const int month = std::atoi(d.substr(4, 2).c_str()), day = std::atoi(d.substr(6, 2).c_str());
    if (month < 1 || month > 12 || day < 1 || day > 31) return "";
    std::string iso = d.substr(0, 4) + "-" + d.substr(4, 2) + "-" + d.substr(6, 2);
    std::string t;
    for (char c : time.substr(0, time.find('.')))
        if (c != ':') t.push_back(c);
    if (!all_digits(t) || (t.size() != 2 && t.size() != 4 && t.size() != 6)) return iso;
    if (std::atoi(t.substr(0, 2).c_str()) > 23) return iso;
    iso += "T" + t.substr(0, 2);
    iso += t.size() >= 4 ? ":" + t.substr(2, 2) : ":00";
    if (t.size() == 6) iso += ":" + t.substr(4, 2);
    return iso;
}

// The acquisition time as ISO 8601: Acquisition DateTime, else Acquisition Date + Time, else Content Date + Time.
std::string start_time(const dicom_parser &p, const dataset &ds) {
    const std::string dt = text_value(p, ds, k_tag_acquisition_datetime);
    if (dt.size() >= 8) {
        std::string time = dt.substr(8);
        time = time.substr(0, time.find_first_of("+-"));  // drop a time-zone offset
        const std::string iso = iso_date_time(dt.substr(0, 8), time);
        if (!iso.empty()) return iso;
    }
    std::string iso = iso_date_time(text_value(p, ds, k_tag_acquisition_date), text_value(p, ds, k_tag_acquisition_time));
    if (iso.empty()) iso = iso_date_time(text_value(p, ds, k_tag_content_date), text_value(p, ds, k_tag_content_time));
    return iso;
}

// AS "045Y" / "006M" / "010W" / "020D" in years.
std::optional<double> age_years(const std::string &as) {
    if (as.size() < 2) return std::nullopt;
    const std::string number = as.substr(0, as.size() - 1);
    if (!all_digits(number) || number.size() > 3) return std::nullopt;
    const double n = std::atof(number.c_str());
    switch (as.back()) {
    case 'Y': return n;
    case 'M': return n / 12.0;
    case 'W': return n * 7.0 / 365.25;
    case 'D': return n / 365.25;
    default: return std::nullopt;
    }
}

// Completed years between two ISO dates ("YYYY-MM-DD..."), when both are full dates.
std::optional<double> years_between(const std::string &birth, const std::string &when) {
    if (birth.size() < 10 || when.size() < 10) return std::nullopt;
    const int by = std::atoi(birth.substr(0, 4).c_str()), wy = std::atoi(when.substr(0, 4).c_str());
    int years = wy - by;
    if (when.substr(5, 5) < birth.substr(5, 5)) years--;
    if (years < 0 || years > 150) return std::nullopt;
    return double(years);
}

void read_patient(const dicom_parser &p, const dataset &ds, ecg_record &record) {
    record.patient.id = text_value(p, ds, k_tag_patient_id);
    const std::string sex = text_value(p, ds, k_tag_patient_sex);
    if (sex == "M") record.patient.sex = "male";
    else if (sex == "F") record.patient.sex = "female";
    record.patient.age_years = age_years(text_value(p, ds, k_tag_patient_age));
    if (!record.patient.age_years) {
        // No Patient's Age: the completed years from Patient's Birth Date to the acquisition, both stated.
        const std::string birth = iso_date_time(text_value(p, ds, k_tag_birth_date), "");
        record.patient.age_years = years_between(birth, record.start_time);
    }
}

// Cart measurements and statements from the Waveform Annotation Sequence: numeric annotations named by
// their concept (SCP-ECG / MDC meanings such as "PR Interval") and free-text statements.
status read_annotations(const dicom_parser &p, const dataset &ds, ecg_record &record) {
    std::vector<dataset> annotations;
    status st = sequence_items(p, ds, k_tag_annotations, annotations);
    if (!st.ok()) return st;
    std::optional<double> rr_ms;
    for (const dataset &a : annotations) {
        const std::string text = text_value(p, a, k_tag_unformatted_text);
        if (!text.empty()) record.statements.push_back(text);
        double value = 0.0;
        if (decimal_value(p, a, k_tag_numeric_value, value) != field::ok) continue;
        code concept, units;
        st = first_code(p, a, k_tag_concept_name, concept);
        if (!st.ok()) return st;
        st = first_code(p, a, k_tag_measurement_units, units);
        if (!st.ok()) return st;
        const std::string name = lower(concept.meaning);
        const bool seconds = units.value == "s";
        const double ms = seconds ? value * 1000.0 : value;
        auto take_interval = [&](std::optional<double> &slot) {
            if (!slot && ms > 0.0) slot = ms;  // 0 is how carts say "not measured"
        };
        auto take_axis = [&](std::optional<double> &slot) {
            if (!slot && std::fabs(value) <= 360.0) slot = value;
        };
        if (name == "rr interval") take_interval(rr_ms);
        else if (name == "pr interval") take_interval(record.cart.pr_ms);
        else if (name == "qrs duration") take_interval(record.cart.qrs_ms);
        else if (name == "qt interval") take_interval(record.cart.qt_ms);
        else if (name == "qtc interval") take_interval(record.cart.qtc_ms);
        else if (name == "p axis") take_axis(record.cart.p_axis_deg);
        else if (name == "qrs axis") take_axis(record.cart.qrs_axis_deg);
        else if (name == "t axis") take_axis(record.cart.t_axis_deg);
        else if ((name == "heart rate" || name == "ventricular heart rate" || name == "ventricular rate") && !record.cart.hr_bpm && value > 0.0)
            record.cart.hr_bpm = value;
    }
    // Carts often state the RR interval rather than the rate.
    if (!record.cart.hr_bpm && rr_ms) record.cart.hr_bpm = 60000.0 / *rr_ms;
    return status();
}

struct sop_class {
    const char *uid;
    const char *name;
};
const sop_class k_sop_classes[] = {
    {"1.2.840.10008.5.1.4.1.1.9.1.1", "12-lead ECG waveform storage"},
    {"1.2.840.10008.5.1.4.1.1.9.1.2", "general ECG waveform storage"},
    {"1.2.840.10008.5.1.4.1.1.9.1.3", "ambulatory ECG waveform storage"},
    {"1.2.840.10008.5.1.4.1.1.9.2.1", "hemodynamic waveform storage"},
};

// Which multiplex groups hold the rhythm and the median beats, by Multiplex Group Label: a group labelled
// RHYTHM, else the first not labelled as a median/representative beat; a group labelled MEDIAN (or
// REPRESENTATIVE) for the median.
void choose_groups(const std::vector<std::string> &labels, int &rhythm, int &median) {
    rhythm = median = -1;
    auto is_median = [](const std::string &label) { return contains_nocase(label, "median") || contains_nocase(label, "representative"); };
    for (size_t i = 0; i < labels.size(); i++) {
        if (rhythm < 0 && contains_nocase(labels[i], "rhythm")) rhythm = int(i);
        if (median < 0 && is_median(labels[i])) median = int(i);
    }
    for (size_t i = 0; i < labels.size() && rhythm < 0; i++)
        if (!is_median(labels[i])) rhythm = int(i);
}

status read_file_meta(const dicom_parser &p, size_t &pos, std::string &transfer_syntax, std::string &media_sop_class) {
    const byte_span &file = p.file();
    pos = k_preamble_bytes + 4;
    dataset meta;
    uint16_t group = 0;
    while (file.le(pos, group) && group == 0x0002) {
        element e;
        status st = p.read_element(pos, file.size, true, 0, e);
        if (!st.ok()) return status(st.code(), st.message() + " (file meta information)");
        meta.push_back(e);
        pos = e.end_offset;
    }
    transfer_syntax = text_value(p, meta, k_tag_transfer_syntax);
    media_sop_class = text_value(p, meta, k_tag_media_sop_class);
    if (transfer_syntax.empty())
        return status::error(status_code::bad_format, "dicom: the file meta information has no transfer syntax %s",
                             tag_text(k_tag_transfer_syntax).c_str());
    return status();
}

}  // namespace

result<ecg_record> read_dicom(const named_bytes &file) {
    if (!file.data || !sniff_dicom(file.data, file.size))
        return status::error(status_code::bad_format, "dicom: no \"DICM\" marker after the 128-byte preamble (not a DICOM Part 10 file)");
    const dicom_parser p(byte_span(file.data, file.size));

    size_t pos = 0;
    std::string transfer_syntax, media_sop_class;
    status st = read_file_meta(p, pos, transfer_syntax, media_sop_class);
    if (!st.ok()) return st;
    bool explicit_vr = true;
    if (transfer_syntax == "1.2.840.10008.1.2.1") explicit_vr = true;
    else if (transfer_syntax == "1.2.840.10008.1.2") explicit_vr = false;
    else if (transfer_syntax == "1.2.840.10008.1.2.2")
        return status::error(status_code::unsupported, "dicom: transfer syntax Explicit VR Big Endian (%s) is not supported", transfer_syntax.c_str());
    else if (transfer_syntax == "1.2.840.10008.1.2.1.99")
        return status::error(status_code::unsupported, "dicom: transfer syntax Deflated Explicit VR Little Endian (%s) is not supported",
                             transfer_syntax.c_str());
    else
        return status::error(status_code::unsupported, "dicom: transfer syntax %s is not supported (only explicit and implicit VR little endian are)",
                             transfer_syntax.c_str());

    dataset top;
    size_t stop = 0;
    st = p.parse_dataset(pos, file.size, explicit_vr, 0, false, stop, top);
    if (!st.ok()) return st;

    ecg_record record;
    std::string sop = text_value(p, top, k_tag_sop_class);
    if (sop.empty()) sop = media_sop_class;
    for (const sop_class &c : k_sop_classes)
        if (sop == c.uid) record.format_detail = c.name;
    if (record.format_detail.empty())
        return status::error(status_code::unsupported, "dicom: SOP class '%s' is not an ECG or hemodynamic waveform (an image or another object?)",
                             sop.c_str());

    std::vector<dataset> group_items;
    st = sequence_items(p, top, k_tag_waveform_sequence, group_items);
    if (!st.ok()) return st;
    if (group_items.empty())
        return status::error(status_code::bad_format, "dicom: no waveform sequence %s (or it is empty)", tag_text(k_tag_waveform_sequence).c_str());
    std::vector<std::string> labels;
    for (const dataset &item : group_items) labels.push_back(text_value(p, item, k_tag_group_label));
    int rhythm = -1, median = -1;
    choose_groups(labels, rhythm, median);
    if (rhythm < 0) return status::error(status_code::bad_format, "dicom: the waveform sequence has only median-beat groups, no rhythm");
    for (size_t i = 0; i < labels.size(); i++)
        if (int(i) != rhythm && int(i) != median)
            record.warnings.push_back(format("waveform group %zu (%s) is not read", i + 1, labels[i].c_str()));

    multiplex_group r;
    st = read_group(p, group_items[size_t(rhythm)], size_t(rhythm) + 1, r, record.warnings);
    if (!st.ok()) return st;
    record.fs_hz = r.fs_hz;
    record.leads = decode_group(p.file(), r, record.warnings);
    if (record.leads.empty())
        return status::error(status_code::bad_format, "dicom: waveform group %zu (%s) has no channel in volts", r.number, r.label.c_str());
    if (median >= 0) {
        // The median beats are optional: a group that cannot be read costs a warning, not the record.
        multiplex_group m;
        st = read_group(p, group_items[size_t(median)], size_t(median) + 1, m, record.warnings);
        ecg_median_beats beats;
        beats.fs_hz = m.fs_hz;
        if (st.ok()) beats.leads = decode_group(p.file(), m, record.warnings);
        else record.warnings.push_back("median beats not read: " + st.message());
        if (!beats.leads.empty()) record.median = std::move(beats);
    }

    record.start_time = start_time(p, top);
    read_patient(p, top, record);
    const std::string manufacturer = text_value(p, top, k_tag_manufacturer), model = text_value(p, top, k_tag_model_name);
    record.device = trim(manufacturer + " " + model);
    st = read_annotations(p, top, record);
    if (!st.ok()) return st;
    return record;
}

}  // namespace kalium::ecg
