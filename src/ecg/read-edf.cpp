// ecg/read-edf.cpp: EDF and EDF+ files (European Data Format, Kemp et al. 1992; EDF+, Kemp & Olivan 2003).
//
// Layout: a 256-byte ASCII header (version, patient, recording, start date dd.mm.yy, start time hh.mm.ss,
// header bytes, reserved ("EDF+C" / "EDF+D" in EDF+), number of data records (-1 while recording: then
// derived from the file size), record duration in seconds, number of signals), 256 more header bytes per
// signal (label, transducer, physical dimension, physical min/max, digital min/max, prefiltering, samples per
// record, reserved, each field stored for all signals in turn), then the data records, each holding every
// signal's samples for that record one signal after the other, as 16-bit little-endian two's complement.
// Physical value = phys_min + (digital - dig_min) * (phys_max - phys_min) / (dig_max - dig_min), in the
// signal's dimension (uV, mV or V here; converted to microvolts).
// Which signals become leads: "EDF Annotations" signals are skipped. If the signals whose labels name a
// standard lead ("I", "ECG V1", ...) share one rate, that is the record's rate; otherwise all data signals
// must share one. Signals at another rate, and signals not in volts, are dropped with a warning.
// EDF+D (discontinuous) files are read only when their time-keeping annotations show that the records follow
// each other without gaps (then with a warning); real gaps are refused as `unsupported`. Annotations other
// than the time keeping are not read. BDF (24-bit) files are not EDF and not read.
// Every header number is parsed strictly; errors name the field and the signal.
#include "ecg/readers.h"

#include "core/bytes.h"
#include "core/format.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace kalium::ecg {

// EDF / EDF+: the 8-byte version field is "0" followed by seven spaces; the header is 256 bytes + 256 per signal.
bool sniff_edf(const uint8_t *data, size_t size) {
    return size >= 256 && std::memcmp(data, "0       ", 8) == 0;
}

namespace {

constexpr size_t k_header_bytes = 256;
constexpr size_t k_signal_header_bytes = 256;
constexpr long k_max_signals = 9999;  // the field has 4 digits

struct edf_signal {
    std::string label, transducer, dimension, prefiltering;
    double physical_min = 0.0, physical_max = 0.0;
    long digital_min = 0, digital_max = 0;
    long samples_per_record = 0;
    size_t offset_in_record_bytes = 0;
    bool is_annotation = false;
};

struct edf_header {
    std::string patient, recording, start_date, start_time, reserved;
    long header_bytes = 0, record_count = 0, signal_count = 0;
    double record_duration_s = 0.0;
    std::vector<edf_signal> signals;
    size_t record_bytes = 0;
};

std::string trim(const std::string &s) {
    size_t b = 0, e = s.size();
    while (b < e && (s[b] == ' ' || s[b] == '\0')) b++;
    while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\0')) e--;
    return s.substr(b, e - b);
}

// The header field of `count` bytes at `offset`, without its space padding (the caller checked the bounds).
std::string field_text(const byte_span &file, size_t offset, size_t count) {
    std::string s;
    file.text(offset, count, s);
    return trim(s);
}

bool parse_integer(const std::string &s, long &out) {
    if (s.empty() || s.size() > 12) return false;
    size_t i = (s[0] == '+' || s[0] == '-') ? 1 : 0;
    if (i == s.size()) return false;
    for (size_t k = i; k < s.size(); k++)
        if (!std::isdigit(static_cast<unsigned char>(s[k]))) return false;
    errno = 0;
    out = std::strtol(s.c_str(), nullptr, 10);
    return errno == 0;
}

bool parse_real(const std::string &s, double &out) {
    if (s.empty()) return false;
    for (char c : s)  // strtod also takes "inf", "nan", hex floats: EDF has none of those
        if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '+' && c != 'e' && c != 'E') return false;
    char *end = nullptr;
    out = std::strtod(s.c_str(), &end);
    return end == s.c_str() + s.size() && std::isfinite(out);
}

// "signal 3 (V1)" for messages.
std::string signal_name(size_t index, const edf_signal &s) { return format("signal %zu (%s)", index + 1, s.label.c_str()); }

status not_a_number(const std::string &where, const char *field, const std::string &text) {
    return status::error(status_code::bad_format, "edf: %s: %s '%s' is not a number", where.c_str(), field, text.c_str());
}

status parse_main_header(const byte_span &file, edf_header &h) {
    h.patient = field_text(file, 8, 80);
    h.recording = field_text(file, 88, 80);
    h.start_date = field_text(file, 168, 8);
    h.start_time = field_text(file, 176, 8);
    h.reserved = field_text(file, 192, 44);
    const std::string header_bytes = field_text(file, 184, 8), records = field_text(file, 236, 8),
                      duration = field_text(file, 244, 8), signals = field_text(file, 252, 4);
    if (!parse_integer(header_bytes, h.header_bytes)) return not_a_number("header", "number of header bytes", header_bytes);
    if (!parse_integer(records, h.record_count)) return not_a_number("header", "number of data records", records);
    if (!parse_real(duration, h.record_duration_s)) return not_a_number("header", "duration of a data record", duration);
    if (!parse_integer(signals, h.signal_count)) return not_a_number("header", "number of signals", signals);
    if (h.signal_count <= 0 || h.signal_count > k_max_signals)
        return status::error(status_code::bad_format, "edf: header: %ld signals (expected 1 to %ld)", h.signal_count, k_max_signals);
    const size_t expected = k_header_bytes + size_t(h.signal_count) * k_signal_header_bytes;
    if (h.header_bytes < 0 || size_t(h.header_bytes) != expected)
        return status::error(status_code::bad_format, "edf: header: number of header bytes is %ld but %ld signals need 256 + %ld x 256 = %zu",
                             h.header_bytes, h.signal_count, h.signal_count, expected);
    if (file.size < expected)
        return status::error(status_code::bad_format, "edf: the file has %zu bytes, fewer than its %zu-byte header", file.size, expected);
    if (!(h.record_duration_s > 0.0))
        return status::error(status_code::bad_format, "edf: header: duration of a data record is %g s (must be more than 0)", h.record_duration_s);
    if (h.record_count < -1 || h.record_count == 0)
        return status::error(status_code::bad_format, "edf: header: number of data records is %ld (expected at least 1, or -1 when unknown)",
                             h.record_count);
    return status();
}

status parse_signal_headers(const byte_span &file, edf_header &h) {
    const size_t ns = size_t(h.signal_count);
    h.signals.resize(ns);
    // Field widths in the order the header stores them, each for all signals in turn.
    size_t offset = k_header_bytes;
    auto next_field = [&](size_t width, size_t i) { return field_text(file, offset + i * width, width); };
    for (size_t i = 0; i < ns; i++) h.signals[i].label = next_field(16, i);
    offset += ns * 16;
    for (size_t i = 0; i < ns; i++) h.signals[i].transducer = next_field(80, i);
    offset += ns * 80;
    for (size_t i = 0; i < ns; i++) h.signals[i].dimension = next_field(8, i);
    offset += ns * 8;
    struct number_field {
        const char *name;
        double edf_signal::*real;  // set for the physical fields
        long edf_signal::*integer;  // set for the digital fields
    };
    const number_field numbers[] = {{"physical minimum", &edf_signal::physical_min, nullptr},
                                    {"physical maximum", &edf_signal::physical_max, nullptr},
                                    {"digital minimum", nullptr, &edf_signal::digital_min},
                                    {"digital maximum", nullptr, &edf_signal::digital_max}};
    for (const number_field &f : numbers) {
        for (size_t i = 0; i < ns; i++) {
            edf_signal &s = h.signals[i];
            const std::string text = next_field(8, i);
            const bool ok = f.real ? parse_real(text, s.*f.real) : parse_integer(text, s.*f.integer);
            if (!ok) return not_a_number(signal_name(i, s), f.name, text);
        }
        offset += ns * 8;
    }
    for (size_t i = 0; i < ns; i++) h.signals[i].prefiltering = next_field(80, i);
    offset += ns * 80;
    for (size_t i = 0; i < ns; i++) {
        edf_signal &s = h.signals[i];
        const std::string text = next_field(8, i);
        if (!parse_integer(text, s.samples_per_record)) return not_a_number(signal_name(i, s), "number of samples per data record", text);
    }

    // Consistency, and where each signal lies inside a data record.
    size_t record_bytes = 0;
    for (size_t i = 0; i < ns; i++) {
        edf_signal &s = h.signals[i];
        const std::string where = signal_name(i, s);
        s.is_annotation = s.label == "EDF Annotations";
        if (s.samples_per_record < 1 || size_t(s.samples_per_record) > file.size / 2)
            return status::error(status_code::bad_format, "edf: %s: %ld samples per data record (expected 1 to what the file can hold)",
                                 where.c_str(), s.samples_per_record);
        if (!s.is_annotation) {
            if (s.digital_min >= s.digital_max)
                return status::error(status_code::bad_format, "edf: %s: digital minimum %ld is not below digital maximum %ld", where.c_str(),
                                     s.digital_min, s.digital_max);
            if (s.digital_min < -32768 || s.digital_max > 32767)
                return status::error(status_code::bad_format, "edf: %s: digital range %ld..%ld does not fit 16 bits", where.c_str(), s.digital_min,
                                     s.digital_max);
            if (s.physical_min == s.physical_max)
                return status::error(status_code::bad_format, "edf: %s: physical minimum equals physical maximum (%g)", where.c_str(), s.physical_min);
        }
        s.offset_in_record_bytes = record_bytes;
        record_bytes += size_t(s.samples_per_record) * 2;
        if (record_bytes > file.size)
            return status::error(status_code::bad_format, "edf: one data record would be %zu bytes, more than the whole file (%zu bytes)",
                                 record_bytes, file.size);
    }
    h.record_bytes = record_bytes;
    return status();
}

// The number of data records the file holds, checked against the header's count.
status count_records(const byte_span &file, edf_header &h, std::vector<std::string> &warnings) {
    const size_t data_bytes = file.size - size_t(h.header_bytes);
    const size_t available = data_bytes / h.record_bytes;
    if (h.record_count == -1) {
        if (available == 0)
            return status::error(status_code::bad_format, "edf: number of data records is -1 and the file holds no whole record (%zu data bytes, "
                                 "%zu per record)", data_bytes, h.record_bytes);
        h.record_count = long(available);
        warnings.push_back(format("the header's number of data records is -1 (recording not closed); %zu records read from the file size", available));
        if (data_bytes % h.record_bytes)
            warnings.push_back(format("%zu bytes after the last whole data record are ignored", data_bytes % h.record_bytes));
        return status();
    }
    if (size_t(h.record_count) > available)
        return status::error(status_code::bad_format, "edf: the header declares %ld data records of %zu bytes (%.0f bytes) but the file has only "
                             "%zu data bytes (truncated?)", h.record_count, h.record_bytes, double(h.record_count) * double(h.record_bytes), data_bytes);
    const size_t extra = data_bytes - size_t(h.record_count) * h.record_bytes;
    if (extra) warnings.push_back(format("%zu bytes after the last data record are ignored", extra));
    return status();
}

// Microvolts per unit of an EDF physical dimension; 0 when it is not a voltage.
double microvolts_per_unit(const std::string &dimension) {
    std::string d;
    for (char c : dimension) d.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (d == "uv" || d == "\xb5v" || d == "\xc2\xb5v") return 1.0;  // u, latin-1 and UTF-8 micro signs
    if (d == "mv") return 1000.0;
    if (d == "v") return 1e6;
    if (d == "nv") return 1e-3;
    return 0.0;
}

// Chooses the signals that become leads (indices into h.signals); warns about the others.
status choose_signals(const edf_header &h, std::vector<size_t> &chosen, std::vector<std::string> &warnings) {
    std::vector<size_t> data, ecg;
    for (size_t i = 0; i < h.signals.size(); i++) {
        if (h.signals[i].is_annotation) continue;
        data.push_back(i);
        if (lead_id_from_label(h.signals[i].label) != lead_id::other) ecg.push_back(i);
    }
    if (data.empty()) return status::error(status_code::bad_format, "edf: the file has only annotation signals, no data signals");
    const std::vector<size_t> &reference = ecg.empty() ? data : ecg;
    const long rate = h.signals[reference.front()].samples_per_record;
    for (size_t i : reference) {
        const edf_signal &s = h.signals[i], &first = h.signals[reference.front()];
        if (s.samples_per_record != rate)
            return status::error(status_code::unsupported, "edf: %s signals are sampled at different rates (%s at %g Hz, %s at %g Hz)",
                                 ecg.empty() ? "the" : "the ECG", first.label.c_str(), double(rate) / h.record_duration_s, s.label.c_str(),
                                 double(s.samples_per_record) / h.record_duration_s);
    }
    for (size_t i : data) {
        const edf_signal &s = h.signals[i];
        if (s.samples_per_record != rate) {
            warnings.push_back(format("signal %s at %g Hz is not at the ECG's %g Hz and is not read", s.label.c_str(),
                                      double(s.samples_per_record) / h.record_duration_s, double(rate) / h.record_duration_s));
        } else if (microvolts_per_unit(s.dimension) == 0.0) {
            warnings.push_back(format("signal %s is in '%s', not volts, and is not read", s.label.c_str(), s.dimension.c_str()));
        } else {
            chosen.push_back(i);
        }
    }
    if (chosen.empty()) return status::error(status_code::bad_format, "edf: no signal is in volts (uV, mV or V)");
    if (chosen.size() > k_max_leads)
        return status::error(status_code::too_large, "edf: %zu signals to read (kalium reads at most %zu)", chosen.size(), k_max_leads);
    return status();
}

// The onset (s) of a data record: the first TAL of its EDF Annotations signal, "+12.5\x14\x14\0...".
bool record_onset(const byte_span &file, const edf_header &h, size_t record, const edf_signal &annotations, double &onset_s) {
    const size_t start = size_t(h.header_bytes) + record * h.record_bytes + annotations.offset_in_record_bytes;
    const size_t length = size_t(annotations.samples_per_record) * 2;
    std::string text;
    for (size_t k = 0; k < length && k < 32; k++) {
        const uint8_t c = file.data[start + k];
        if (c == 0x14 || c == 0x15 || c == 0) break;
        text.push_back(static_cast<char>(c));
    }
    if (text.size() < 2 || (text[0] != '+' && text[0] != '-')) return false;
    return parse_real(text, onset_s);
}

// EDF+D: read only when the records follow each other without gaps.
status check_contiguous(const byte_span &file, const edf_header &h, std::vector<std::string> &warnings) {
    const edf_signal *annotations = nullptr;
    for (const edf_signal &s : h.signals)
        if (s.is_annotation) annotations = &s;
    if (!annotations)
        return status::error(status_code::bad_format, "edf: EDF+D file without an 'EDF Annotations' signal (EDF+ requires one for time keeping)");
    double first = 0.0;
    for (size_t r = 0; r < size_t(h.record_count); r++) {
        double onset = 0.0;
        if (!record_onset(file, h, r, *annotations, onset))
            return status::error(status_code::bad_format, "edf: EDF+D data record %zu has no time-keeping annotation", r + 1);
        if (r == 0) first = onset;
        const double expected = first + double(r) * h.record_duration_s;
        if (std::fabs(onset - expected) > 1e-6 + 1e-9 * std::fabs(expected))
            return status::error(status_code::unsupported, "edf: EDF+D (discontinuous): data record %zu starts at %g s, not %g s; recordings with "
                                 "gaps are not supported", r + 1, onset, expected);
    }
    warnings.push_back("EDF+D (discontinuous) file whose data records follow each other without gaps: read as continuous");
    return status();
}

// ---------------------------------------------------------------------------------------------------------
// Metadata.

std::vector<std::string> split_spaces(const std::string &s) {
    std::vector<std::string> out;
    std::string word;
    for (char c : s + " ") {
        if (c == ' ') {
            if (!word.empty()) out.push_back(word);
            word.clear();
        } else {
            word.push_back(c);
        }
    }
    return out;
}

// EDF+ "dd-MMM-yyyy" (e.g. "02-AUG-1951") to "yyyy-mm-dd"; "" when not a date.
std::string iso_from_edfplus_date(const std::string &s) {
    static const char *const k_months[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
    if (s.size() != 11 || s[2] != '-' || s[6] != '-') return "";
    std::string month = s.substr(3, 3);
    for (char &c : month) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    int m = 0;
    for (int k = 0; k < 12; k++)
        if (month == k_months[k]) m = k + 1;
    const std::string day = s.substr(0, 2), year = s.substr(7, 4);
    for (char c : day + year)
        if (!std::isdigit(static_cast<unsigned char>(c))) return "";
    if (m == 0) return "";
    return year + format("-%02d-", m) + day;
}

bool two_digits(const std::string &s, size_t at, int &out) {
    if (!std::isdigit(static_cast<unsigned char>(s[at])) || !std::isdigit(static_cast<unsigned char>(s[at + 1]))) return false;
    out = (s[at] - '0') * 10 + (s[at + 1] - '0');
    return true;
}

// Start date "dd.mm.yy" and time "hh.mm.ss" as ISO 8601. Years 85-99 are 19xx, 00-84 20xx, unless the
// EDF+ recording field states the full year (its "Startdate dd-MMM-yyyy" for the same day and month).
status start_time_iso(const edf_header &h, std::string &out) {
    int day = 0, month = 0, yy = 0, hour = 0, minute = 0, second = 0;
    const std::string &d = h.start_date, &t = h.start_time;
    if (d.size() != 8 || d[2] != '.' || d[5] != '.' || !two_digits(d, 0, day) || !two_digits(d, 3, month) || !two_digits(d, 6, yy) ||
        day < 1 || day > 31 || month < 1 || month > 12)
        return status::error(status_code::bad_format, "edf: header: start date '%s' is not dd.mm.yy", d.c_str());
    if (t.size() != 8 || t[2] != '.' || t[5] != '.' || !two_digits(t, 0, hour) || !two_digits(t, 3, minute) || !two_digits(t, 6, second) ||
        hour > 23 || minute > 59 || second > 60)
        return status::error(status_code::bad_format, "edf: header: start time '%s' is not hh.mm.ss", t.c_str());
    int year = yy >= 85 ? 1900 + yy : 2000 + yy;
    const std::vector<std::string> recording = split_spaces(h.recording);
    if (recording.size() >= 2 && recording[0] == "Startdate") {
        const std::string iso = iso_from_edfplus_date(recording[1]);
        if (!iso.empty() && std::atoi(iso.substr(5, 2).c_str()) == month && std::atoi(iso.substr(8, 2).c_str()) == day)
            year = std::atoi(iso.substr(0, 4).c_str());
    }
    out = format("%04d-%02d-%02dT%02d:%02d:%02d", year, month, day, hour, minute, second);
    return status();
}

// EDF+ patient field "code sex birthdate name ..." ('X' when unknown); plain EDF: the whole text is the id.
void read_patient(const edf_header &h, bool edf_plus, ecg_record &record) {
    if (!edf_plus) {
        record.patient.id = h.patient;
        return;
    }
    const std::vector<std::string> sub = split_spaces(h.patient);
    if (sub.size() >= 1 && sub[0] != "X") record.patient.id = sub[0];
    if (sub.size() >= 2) {
        if (sub[1] == "M") record.patient.sex = "male";
        else if (sub[1] == "F") record.patient.sex = "female";
    }
    if (sub.size() >= 3 && record.start_time.size() >= 10) {
        const std::string birth = iso_from_edfplus_date(sub[2]);
        if (!birth.empty()) {
            int years = std::atoi(record.start_time.substr(0, 4).c_str()) - std::atoi(birth.substr(0, 4).c_str());
            if (record.start_time.substr(5, 5) < birth.substr(5, 5)) years--;
            if (years >= 0 && years <= 150) record.patient.age_years = double(years);
        }
    }
}

// EDF+ recording field "Startdate dd-MMM-yyyy admincode technician equipment ...": the equipment.
std::string device_from_recording(const edf_header &h) {
    const std::vector<std::string> sub = split_spaces(h.recording);
    if (sub.size() >= 5 && sub[0] == "Startdate" && sub[4] != "X") return sub[4];
    return "";
}

// ---------------------------------------------------------------------------------------------------------
// Samples.

ecg_lead decode_signal(const byte_span &file, const edf_header &h, const edf_signal &s, std::vector<std::string> &warnings) {
    const double scale_uv = microvolts_per_unit(s.dimension);
    // physical_uv = a * digital + b
    const double a = scale_uv * (s.physical_max - s.physical_min) / double(s.digital_max - s.digital_min);
    const double b = scale_uv * s.physical_min - a * double(s.digital_min);
    ecg_lead lead;
    lead.name = s.label;
    lead.units = s.dimension;
    lead.gain_adu_per_mv = 1000.0 / a;
    lead.baseline_adu = b == 0.0 ? 0.0 : -b / a;
    const size_t per_record = size_t(s.samples_per_record);
    lead.samples_uv.resize(size_t(h.record_count) * per_record);
    int16_t lowest = INT16_MAX, highest = INT16_MIN;
    size_t out = 0;
    for (size_t r = 0; r < size_t(h.record_count); r++) {
        size_t offset = size_t(h.header_bytes) + r * h.record_bytes + s.offset_in_record_bytes;
        for (size_t k = 0; k < per_record; k++, offset += 2) {
            int16_t digital = 0;
            file.le(offset, digital);  // count_records checked that every record lies in the file
            if (digital < lowest) lowest = digital;
            if (digital > highest) highest = digital;
            lead.samples_uv[out++] = static_cast<float>(a * digital + b);
        }
    }
    if (lowest == highest)
        warnings.push_back(format("signal %s is flat (every sample is %d): probably not recorded", s.label.c_str(), int(lowest)));
    return lead;
}

}  // namespace

result<ecg_record> read_edf(const named_bytes &file_in) {
    if (!file_in.data || !sniff_edf(file_in.data, file_in.size))
        return status::error(status_code::bad_format, "edf: the file does not start with the EDF version field \"0       \"");
    const byte_span file(file_in.data, file_in.size);
    ecg_record record;
    edf_header h;
    status st = parse_main_header(file, h);
    if (!st.ok()) return st;
    st = parse_signal_headers(file, h);
    if (!st.ok()) return st;
    st = count_records(file, h, record.warnings);
    if (!st.ok()) return st;

    const bool edf_plus_c = h.reserved.rfind("EDF+C", 0) == 0, edf_plus_d = h.reserved.rfind("EDF+D", 0) == 0;
    record.format_detail = edf_plus_c ? "EDF+C" : edf_plus_d ? "EDF+D" : "EDF";
    if (edf_plus_d) {
        st = check_contiguous(file, h, record.warnings);
        if (!st.ok()) return st;
    }

    std::vector<size_t> chosen;
    st = choose_signals(h, chosen, record.warnings);
    if (!st.ok()) return st;
    const size_t per_lead = size_t(h.record_count) * size_t(h.signals[chosen.front()].samples_per_record);
    if (per_lead > k_max_total_samples / chosen.size())
        return status::error(status_code::too_large, "edf: %zu signals x %zu samples exceeds kalium's limit of %zu samples in all", chosen.size(),
                             per_lead, k_max_total_samples);
    record.fs_hz = double(h.signals[chosen.front()].samples_per_record) / h.record_duration_s;
    for (size_t i : chosen) record.leads.push_back(decode_signal(file, h, h.signals[i], record.warnings));

    st = start_time_iso(h, record.start_time);
    if (!st.ok()) return st;
    read_patient(h, edf_plus_c || edf_plus_d, record);
    record.device = device_from_recording(h);
    return record;
}

}  // namespace kalium::ecg
