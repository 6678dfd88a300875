// ecg/read-wfdb.cpp: the WFDB (PhysioNet) reader: a text header (.hea) plus the binary signal files it names
// (see readers.h for the contract).
//
// Implements the single-segment record of the WFDB header(5) and signal(5) specifications (WFDB 10.x,
// https://physionet.org/physiotools/wag/header-5.htm and signal-5.htm):
//   - record line   name nsig [fs[/counter_fs[(base_counter)]] [nsamp [base_time [base_date]]]]  (fs default 250 Hz)
//   - signal lines  file format[xspf][:skew][+byte_offset] [gain[(baseline)][/units] [adcres [adczero [initval
//                   [checksum [blocksize [description]]]]]]]
//     gain 0 or missing means uncalibrated: 200 ADU per unit is assumed (WFDB_DEFGAIN) and a warning says so;
//     baseline defaults to adczero, initval (format 8 only) to adczero, units to mV.
//   - signal formats 8, 16, 24, 32, 61, 80, 160, 212, 310, 311, with several signals interleaved in one file
//     (a frame holds spf samples of each signal of the file, in header order; bit-packed formats pack the
//     file's sample stream regardless of signal boundaries), byte offsets, and the invalid-sample values
//     (-2^(bits-1): -32768 for 16/61/160, -2048 for 212, -512 for 310/311, ...) which become NaN.
//     Format 8 (first differences) has no invalid value.
//   - signal files that are MATLAB v4 .mat matrices, as the PhysioNet Challenges and wfdb2mat ship them
//     ("16+24"): the MAT v4 header is parsed and must agree with the WFDB header (element type vs format,
//     rows = samples per frame in the file, data offset = the "+N" byte offset).
//   - skew is applied (signal s at output frame t is stored frame t + skew_s, as libwfdb does).
//   - the per-signal checksum (16-bit sum of the first nsamp frames' samples, as stored) is verified when the
//     header gives one and the file holds nsamp frames; a mismatch is a warning, never an error.
//   - a signal file holding fewer frames than nsamp is read as far as it goes, with a warning; one holding no
//     complete frame is an error.
//   - comments: "Age: 78" / "<age>: 51" / "age: 81", "Sex: Male" / "<sex>: F", MIT-BIH "69 M ..." lines give
//     patient.age_years and patient.sex; Challenge "Dx: ..." lines and the lines after an empty LUDB
//     "<diagnoses>:" become statements (text kept as written; SNOMED codes are not translated).
//   - base time / date become start_time ("1990-10-01T10:22:05", or "10:22:05" when no date is given).
// Not supported (clear unsupported errors): multi-segment records ("name/nseg"), signals with different
// samples per frame (multi-frequency records), FLAC formats 508/516/524, format 0 (null) signals are left
// out with a warning.
// Channels whose units are not a voltage (NU, mmHg, %, ...) are left out with a warning: kalium records hold
// microvolts only, and such channels (PLETH, ABP, RESP) are never ECG leads.
// Signals are numbered from 1 in messages ("signal 3 (PLETH)"), header lines from 1 ("100.hea line 3").
#include "ecg/readers.h"

#include "core/bytes.h"
#include "core/format.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace kalium::ecg {

// A WFDB header: optional comment lines ('#'), then a record line "name[/segments] nsig [fs[/counter][(base)] ...]",
// then (unless the header stops there) a signal line "file format ..." whose file name is not a number, which
// tells a header from a space-separated numeric table ("1 2 3\n4 5 6\n").
bool sniff_wfdb_header(const uint8_t *data, size_t size) {
    auto is_space = [](uint8_t c) { return c == ' ' || c == '\t'; };
    auto skip_blank_and_comment_lines = [&](size_t i) {
        while (i < size) {
            while (i < size && (is_space(data[i]) || data[i] == '\r' || data[i] == '\n')) i++;
            if (i < size && data[i] == '#') {
                while (i < size && data[i] != '\n' && data[i] != '\r') i++;
                continue;
            }
            break;
        }
        return i;
    };
    size_t i = skip_blank_and_comment_lines(0);
    // Record name: printable, no spaces.
    size_t start = i;
    while (i < size && data[i] > ' ' && data[i] < 127) i++;
    if (i == start || i >= size || !is_space(data[i])) return false;
    while (i < size && is_space(data[i])) i++;
    // Number of signals.
    size_t digits = 0;
    while (i < size && data[i] >= '0' && data[i] <= '9') { i++; digits++; }
    if (digits == 0 || digits >= 6 || (i < size && !is_space(data[i]) && data[i] != '\r' && data[i] != '\n')) return false;
    // The first signal line, if any: a file name with a character no number has, then a format number.
    while (i < size && data[i] != '\n' && data[i] != '\r') i++;
    i = skip_blank_and_comment_lines(i);
    if (i >= size) return true;
    start = i;
    bool numeric = true;
    while (i < size && data[i] > ' ' && data[i] != 127) {  // file names may be UTF-8
        const uint8_t c = data[i++];
        if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E')) numeric = false;
    }
    if (i == start || numeric || i >= size || !is_space(data[i])) return false;
    while (i < size && is_space(data[i])) i++;
    return i < size && data[i] >= '0' && data[i] <= '9';
}

namespace {

constexpr double k_default_fs_hz = 250.0;           // WFDB_DEFFREQ
constexpr double k_default_gain_adu_per_unit = 200.0;  // WFDB_DEFGAIN

// ---- Text helpers -------------------------------------------------------------------------------------

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::string trim(const std::string &s) {
    size_t b = 0, e = s.size();
    while (b < e && is_blank(s[b])) b++;
    while (e > b && is_blank(s[e - 1])) e--;
    return s.substr(b, e - b);
}

std::string lower(std::string s) {
    for (char &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// The part of a path after its last '/' or '\'.
std::string base_name(const std::string &path) {
    size_t slash = path.find_last_of("/\\");
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string dir_name(const std::string &path) {
    size_t slash = path.find_last_of("/\\");
    return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

// A whole token as a signed integer (no sign other than '-', no trailing characters).
bool parse_int(const std::string &text, long long &out) {
    if (text.empty()) return false;
    const char *b = text.data(), *e = b + text.size();
    auto r = std::from_chars(b, e, out);
    return r.ec == std::errc() && r.ptr == e;
}

// A decimal number at the start of `text`; `used` receives how many characters it took (0: none).
bool parse_double_prefix(const std::string &text, double &out, size_t &used) {
    used = 0;
    if (text.empty()) return false;
    const char c0 = text[0];
    if (!(std::isdigit(static_cast<unsigned char>(c0)) || c0 == '-' || c0 == '+' || c0 == '.')) return false;
    char *end = nullptr;
    out = std::strtod(text.c_str(), &end);
    used = static_cast<size_t>(end - text.c_str());
    return used > 0 && std::isfinite(out);
}

bool parse_double(const std::string &text, double &out) {
    size_t used = 0;
    return parse_double_prefix(text, out, used) && used == text.size();
}

struct token {
    std::string text;
    size_t end = 0;  // offset in the line just past the token
};

std::vector<token> split_tokens(const std::string &line) {
    std::vector<token> tokens;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && is_blank(line[i])) i++;
        size_t start = i;
        while (i < line.size() && !is_blank(line[i])) i++;
        if (i > start) tokens.push_back({line.substr(start, i - start), i});
    }
    return tokens;
}

struct text_line {
    int number = 0;  // 1-based
    std::string text;
};

// Lines of the header; "\r\n", "\n" and a lone "\r" all end a line.
std::vector<text_line> split_lines(const named_bytes &header) {
    std::vector<text_line> lines;
    std::string current;
    int number = 1;
    for (size_t i = 0; i < header.size; i++) {
        const char c = static_cast<char>(header.data[i]);
        if (c == '\r' || c == '\n') {
            lines.push_back({number++, current});
            current.clear();
            if (c == '\r' && i + 1 < header.size && header.data[i + 1] == '\n') i++;
        } else {
            current.push_back(c);
        }
    }
    if (!current.empty()) lines.push_back({number, current});
    return lines;
}

// ---- Header model and parsing ---------------------------------------------------------------------

struct signal_spec {
    int line = 0;                   // header line number, for messages
    std::string file_name;          // as written in the header
    int format = 0;
    size_t samples_per_frame = 1;
    long long skew_samples = 0;
    long long byte_offset = 0;
    double gain_adu_per_unit = 0.0; // 0: not stated (uncalibrated)
    long long baseline_adu = 0;
    std::string units;              // as written; "" when not stated (mV)
    long long adc_zero = 0;
    long long initial_value = 0;
    bool has_checksum = false;
    long long checksum = 0;
    std::string description;
};

struct header_spec {
    std::string record_name;
    size_t signal_count = 0;
    double fs_hz = k_default_fs_hz;
    unsigned long long sample_count = 0;  // frames per signal; 0 when not stated
    std::string base_time, base_date;
    std::vector<signal_spec> signals;
    std::vector<std::string> comments;  // text after '#', trimmed, in file order
};

bool known_format(long long f) {
    switch (f) {
        case 0: case 8: case 16: case 24: case 32: case 61: case 80: case 160: case 212: case 310: case 311: return true;
        default: return false;
    }
}

// "212", "16x2", "16+24", "16x1+24", "212:3": format number then optional x<spf>, :<skew>, +<offset> in any order.
status parse_format_field(const std::string &text, const char *hea, int line, signal_spec &sig) {
    size_t i = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) i++;
    long long format = -1;
    if (i == 0 || i > 6 || !parse_int(text.substr(0, i), format))
        return status::error(status_code::bad_format, "wfdb: %s line %d: format field '%s' does not start with a format number",
                             hea, line, text.c_str());
    if (format == 508 || format == 516 || format == 524)
        return status::error(status_code::unsupported, "wfdb: %s line %d: format %lld (FLAC-compressed signal file) is not supported",
                             hea, line, format);
    if (!known_format(format))
        return status::error(status_code::bad_format, "wfdb: %s line %d: format %lld is not a WFDB signal format "
                             "(expected 8, 16, 24, 32, 61, 80, 160, 212, 310 or 311)", hea, line, format);
    sig.format = static_cast<int>(format);
    while (i < text.size()) {
        const char tag = text[i++];
        size_t start = i;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) i++;
        long long value = 0;
        if ((tag != 'x' && tag != ':' && tag != '+') || i == start || i - start > 12 || !parse_int(text.substr(start, i - start), value))
            return status::error(status_code::bad_format, "wfdb: %s line %d: format field '%s' is not format[xspf][:skew][+offset]",
                                 hea, line, text.c_str());
        if (tag == 'x') {
            if (value > 100000)
                return status::error(status_code::bad_format, "wfdb: %s line %d: %lld samples per frame in '%s' is absurd", hea, line,
                                     value, text.c_str());
            sig.samples_per_frame = value < 1 ? 1 : static_cast<size_t>(value);  // libwfdb reads x0 as 1
        } else if (tag == ':') {
            sig.skew_samples = value;
        } else {
            sig.byte_offset = value;
        }
    }
    return status();
}

// "200", "1000.0(0)/mV", "7247/mV", "1.253e+04/NU", "2000": gain[(baseline)][/units].
status parse_gain_field(const std::string &text, const char *hea, int line, signal_spec &sig, bool &has_baseline) {
    double gain = 0.0;
    size_t used = 0;
    if (!parse_double_prefix(text, gain, used))
        return status::error(status_code::bad_format, "wfdb: %s line %d: gain '%s' is not a number", hea, line, text.c_str());
    sig.gain_adu_per_unit = gain;
    std::string rest = text.substr(used);
    if (!rest.empty() && rest[0] == '(') {
        size_t close = rest.find(')');
        long long baseline = 0;
        if (close == std::string::npos || !parse_int(rest.substr(1, close - 1), baseline))
            return status::error(status_code::bad_format, "wfdb: %s line %d: baseline in gain field '%s' is not an integer in parentheses",
                                 hea, line, text.c_str());
        sig.baseline_adu = baseline;
        has_baseline = true;
        rest = rest.substr(close + 1);
    }
    if (!rest.empty()) {
        if (rest[0] != '/' || rest.size() == 1)
            return status::error(status_code::bad_format, "wfdb: %s line %d: gain field '%s' is not gain[(baseline)][/units]",
                                 hea, line, text.c_str());
        sig.units = rest.substr(1);
    }
    return status();
}

status parse_int_field(const std::string &text, const char *what, const char *hea, int line, long long &out) {
    if (!parse_int(text, out))
        return status::error(status_code::bad_format, "wfdb: %s line %d: %s '%s' is not an integer", hea, line, what, text.c_str());
    return status();
}

status parse_signal_line(const text_line &line, const char *hea, signal_spec &sig) {
    const std::vector<token> tokens = split_tokens(line.text);
    sig.line = line.number;
    if (tokens.size() < 2)
        return status::error(status_code::bad_format, "wfdb: %s line %d: signal line '%s' has no format field", hea, line.number,
                             trim(line.text).c_str());
    sig.file_name = tokens[0].text;
    status st = parse_format_field(tokens[1].text, hea, line.number, sig);
    if (!st.ok()) return st;
    bool has_baseline = false;
    if (tokens.size() > 2 && !(st = parse_gain_field(tokens[2].text, hea, line.number, sig, has_baseline)).ok()) return st;
    long long adc_resolution = 0, block_size = 0;
    if (tokens.size() > 3 && !(st = parse_int_field(tokens[3].text, "ADC resolution", hea, line.number, adc_resolution)).ok()) return st;
    if (tokens.size() > 4 && !(st = parse_int_field(tokens[4].text, "ADC zero", hea, line.number, sig.adc_zero)).ok()) return st;
    sig.initial_value = sig.adc_zero;
    if (tokens.size() > 5 && !(st = parse_int_field(tokens[5].text, "initial value", hea, line.number, sig.initial_value)).ok()) return st;
    if (tokens.size() > 6) {
        if (!(st = parse_int_field(tokens[6].text, "checksum", hea, line.number, sig.checksum)).ok()) return st;
        sig.has_checksum = true;
    }
    if (tokens.size() > 7 && !(st = parse_int_field(tokens[7].text, "block size", hea, line.number, block_size)).ok()) return st;
    if (!has_baseline) sig.baseline_adu = sig.adc_zero;
    if (tokens.size() > 8) sig.description = trim(line.text.substr(tokens[7].end));
    return status();
}

// "360", "250.0", "1000/1000(0)": fs[/counter_fs[(base_counter)]].
status parse_fs_field(const std::string &text, const char *hea, int line, double &fs_hz) {
    size_t used = 0;
    bool ok = parse_double_prefix(text, fs_hz, used) && fs_hz > 0.0;
    if (ok && used < text.size()) {
        std::string rest = text.substr(used);
        double counter = 0.0;
        size_t counter_used = 0;
        if (rest[0] != '/' || !parse_double_prefix(rest.substr(1), counter, counter_used)) {
            ok = false;
        } else {
            rest = rest.substr(1 + counter_used);
            double base = 0.0;
            if (!rest.empty() && !(rest.front() == '(' && rest.back() == ')' && parse_double(rest.substr(1, rest.size() - 2), base)))
                ok = false;
        }
    }
    if (!ok)
        return status::error(status_code::bad_format, "wfdb: %s line %d: sampling frequency '%s' is not a positive number",
                             hea, line, text.c_str());
    return status();
}

status parse_record_line(const text_line &line, const char *hea, header_spec &h) {
    const std::vector<token> tokens = split_tokens(line.text);
    const std::string &name = tokens[0].text;
    if (name.find('/') != std::string::npos)
        return status::error(status_code::unsupported, "wfdb: %s line %d: '%s' is a multi-segment record; multi-segment records are "
                             "not supported (read each segment's own header instead)", hea, line.number, name.c_str());
    h.record_name = name;
    long long nsig = 0;
    if (tokens.size() < 2)
        return status::error(status_code::bad_format, "wfdb: %s line %d: record line '%s' has no number of signals", hea, line.number,
                             trim(line.text).c_str());
    if (!parse_int(tokens[1].text, nsig) || nsig < 0)
        return status::error(status_code::bad_format, "wfdb: %s line %d: number of signals '%s' is not a valid count", hea, line.number,
                             tokens[1].text.c_str());
    if (nsig == 0)
        return status::error(status_code::bad_format, "wfdb: %s line %d: the record has 0 signals", hea, line.number);
    h.signal_count = static_cast<size_t>(nsig);
    if (tokens.size() > 2) {
        status st = parse_fs_field(tokens[2].text, hea, line.number, h.fs_hz);
        if (!st.ok()) return st;
    }
    if (tokens.size() > 3) {
        long long nsamp = 0;
        if (!parse_int(tokens[3].text, nsamp) || nsamp < 0)
            return status::error(status_code::bad_format, "wfdb: %s line %d: number of samples '%s' is not a non-negative integer",
                                 hea, line.number, tokens[3].text.c_str());
        h.sample_count = static_cast<unsigned long long>(nsamp);
    }
    if (tokens.size() > 4) h.base_time = tokens[4].text;
    if (tokens.size() > 5) h.base_date = tokens[5].text;
    return status();
}

status parse_header(const named_bytes &header, const char *hea, header_spec &h) {
    const std::vector<text_line> lines = split_lines(header);
    bool have_record_line = false;
    size_t signal_lines_seen = 0;
    for (const text_line &line : lines) {
        const std::string text = trim(line.text);
        if (text.empty()) continue;
        if (text[0] == '#') {
            h.comments.push_back(trim(text.substr(1)));
            continue;
        }
        if (!have_record_line) {
            status st = parse_record_line(line, hea, h);
            if (!st.ok()) return st;
            have_record_line = true;
        } else if (signal_lines_seen < h.signal_count) {
            signal_spec sig;
            status st = parse_signal_line(line, hea, sig);
            if (!st.ok()) return st;
            h.signals.push_back(std::move(sig));
            signal_lines_seen++;
        }
        // Further non-comment lines (info strings of old headers) are ignored, as libwfdb does.
    }
    if (!have_record_line) return status::error(status_code::bad_format, "wfdb: %s has no record line", hea);
    if (h.signals.size() != h.signal_count)
        return status::error(status_code::bad_format, "wfdb: %s: the record line declares %zu signals but the header has %zu signal lines",
                             hea, h.signal_count, h.signals.size());
    return status();
}

// ---- Metadata from the header ----------------------------------------------------------------------

// "HH:MM:SS[.fff]" (or MM:SS, SS) and "DD/MM/YYYY" -> ISO 8601; "" when the time is not understood.
std::string iso_start_time(const std::string &time, const std::string &date, std::vector<std::string> &warnings) {
    if (time.empty()) return "";
    int parts[3] = {0, 0, 0}, count = 0;
    std::string fraction;
    size_t i = 0;
    bool ok = true;
    while (ok && i < time.size()) {
        size_t start = i;
        while (i < time.size() && std::isdigit(static_cast<unsigned char>(time[i]))) i++;
        if (i == start || i - start > 2 || count == 3) { ok = false; break; }
        parts[count++] = std::atoi(time.substr(start, i - start).c_str());
        if (i < time.size() && time[i] == ':') { i++; continue; }
        if (i < time.size() && time[i] == '.') {
            fraction = time.substr(i);
            for (size_t k = 1; k < fraction.size(); k++)
                if (!std::isdigit(static_cast<unsigned char>(fraction[k]))) ok = false;
            if (fraction.size() < 2) ok = false;
            i = time.size();
        } else if (i < time.size()) {
            ok = false;
        }
    }
    if (ok && count > 0) {
        // Right-align: "12:30" is MM:SS, as libwfdb's strtim reads it.
        int h = 0, m = 0, s = 0;
        if (count == 3) { h = parts[0]; m = parts[1]; s = parts[2]; }
        else if (count == 2) { m = parts[0]; s = parts[1]; }
        else { s = parts[0]; }
        ok = h < 24 && m < 60 && s < 61;
        if (ok) {
            std::string out = format("%02d:%02d:%02d%s", h, m, s, fraction.c_str());
            if (date.empty()) return out;
            int d = 0, mo = 0, y = 0;
            char tail = 0;
            if (std::sscanf(date.c_str(), "%2d/%2d/%4d%c", &d, &mo, &y, &tail) == 3 && d >= 1 && d <= 31 && mo >= 1 && mo <= 12 &&
                y >= 1000)
                return format("%04d-%02d-%02dT%s", y, mo, d, out.c_str());
            warnings.push_back("wfdb: base date '" + date + "' is not DD/MM/YYYY; the start time has no date");
            return out;
        }
    }
    warnings.push_back("wfdb: base time '" + time + "' is not HH:MM:SS; the start time is left out");
    return "";
}

// The value after "key:" or "<key>:" in a comment (case-insensitive), up to the next '<' tag.
bool find_tagged_value(const std::string &comment, const std::string &key, std::string &value) {
    const std::string low = lower(comment);
    size_t pos = 0;
    while ((pos = low.find(key, pos)) != std::string::npos) {
        const bool boundary = pos == 0 || low[pos - 1] == '<' || is_blank(low[pos - 1]);
        size_t k = pos + key.size();
        if (k < low.size() && low[k] == '>') k++;
        while (k < low.size() && is_blank(low[k])) k++;
        if (boundary && k < low.size() && low[k] == ':') {
            size_t end = comment.find('<', k + 1);
            value = trim(comment.substr(k + 1, end == std::string::npos ? std::string::npos : end - k - 1));
            return true;
        }
        pos += key.size();
    }
    return false;
}

std::string sex_from_text(const std::string &text) {
    std::string word = lower(text.substr(0, text.find_first_of(" \t,;")));
    if (word == "m" || word == "male" || word == "man") return "male";
    if (word == "f" || word == "female" || word == "woman") return "female";
    return "";
}

std::optional<double> age_from_text(const std::string &text) {
    double age = 0.0;
    size_t used = 0;
    if (!parse_double_prefix(text, age, used) || age < 0.0 || age > 150.0) return std::nullopt;
    return age;
}

void apply_comments(const std::vector<std::string> &comments, ecg_record &record) {
    bool in_diagnoses = false;  // after an empty LUDB "<diagnoses>:" line
    for (const std::string &comment : comments) {
        if (comment.empty()) continue;
        std::string value;
        if (in_diagnoses && comment[0] != '<') {
            record.statements.push_back(comment);
            continue;
        }
        in_diagnoses = false;
        if (!record.patient.age_years && find_tagged_value(comment, "age", value)) record.patient.age_years = age_from_text(value);
        if (record.patient.sex.empty() && (find_tagged_value(comment, "sex", value) || find_tagged_value(comment, "gender", value)))
            record.patient.sex = sex_from_text(value);
        if (lower(comment.substr(0, 3)) == "dx:") record.statements.push_back(comment);
        if (find_tagged_value(comment, "<diagnoses", value)) {
            if (value.empty()) in_diagnoses = true;
            else if (lower(value) != "(none)" && lower(value) != "none") record.statements.push_back(value);
        }
        // MIT-BIH Arrhythmia Database: the first comment is "<age> <sex> ..." ("69 M 1085 1629 x1").
        const std::vector<token> t = split_tokens(comment);
        if (t.size() >= 2 && t[0].text.size() <= 3 && std::all_of(t[0].text.begin(), t[0].text.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
            (t[1].text == "M" || t[1].text == "F")) {
            if (!record.patient.age_years) record.patient.age_years = age_from_text(t[0].text);
            if (record.patient.sex.empty()) record.patient.sex = t[1].text == "M" ? "male" : "female";
        }
    }
}

// Microvolts in one unit of a voltage, nullopt for units that are not a voltage. Case-insensitive ("mv" occurs).
std::optional<double> microvolts_per_unit(const std::string &units) {
    if (units.empty()) return 1000.0;  // WFDB's default unit is the millivolt
    const std::string u = lower(units);
    if (u == "mv" || u == "millivolt" || u == "millivolts") return 1000.0;
    if (u == "uv" || u == "\xc2\xb5v" || u == "\xce\xbcv" || u == "microvolt" || u == "microvolts") return 1.0;
    if (u == "v" || u == "volt" || u == "volts") return 1e6;
    if (u == "nv") return 1e-3;
    return std::nullopt;
}

// ---- Signal formats ---------------------------------------------------------------------------------

// The stored value that marks an invalid sample (WFDB_INVALID_SAMPLE after decoding); format 8 has none.
std::optional<int64_t> invalid_value(int format) {
    switch (format) {
        case 16: case 61: case 160: return -32768;
        case 80: return -128;
        case 212: return -2048;
        case 310: case 311: return -512;
        case 24: return -8388608;
        case 32: return std::numeric_limits<int32_t>::min();
        default: return std::nullopt;
    }
}

// How many whole samples of the file's sample stream `bytes` bytes hold (partial bit-packed groups count
// the samples whose bits are all present).
size_t samples_in_bytes(int format, size_t bytes) {
    switch (format) {
        case 8: case 80: return bytes;
        case 16: case 61: case 160: return bytes / 2;
        case 24: return bytes / 3;
        case 32: return bytes / 4;
        case 212: return bytes / 3 * 2 + (bytes % 3 >= 2 ? 1 : 0);
        case 310: return bytes / 4 * 3 + (bytes % 4 >= 2 ? 1 : 0);
        case 311: return bytes / 4 * 3 + (bytes % 4 >= 2 ? bytes % 4 - 1 : 0);
        default: return 0;
    }
}

int64_t sign_extend(uint32_t value, int bits) {
    const uint32_t sign = 1u << (bits - 1);
    value &= (sign << 1) - 1;
    return static_cast<int64_t>(value ^ sign) - static_cast<int64_t>(sign);
}

// Sample k of the file's sample stream, as stored (format 8: the first difference). False when out of range.
bool stored_sample(int format, const byte_span &data, size_t k, int64_t &out) {
    uint8_t b0 = 0, b1 = 0, b2 = 0;
    uint16_t w0 = 0, w1 = 0;
    switch (format) {
        case 8: { int8_t v; if (!data.le(k, v)) return false; out = v; return true; }
        case 80: { if (!data.le(k, b0)) return false; out = static_cast<int64_t>(b0) - 128; return true; }
        case 16: { int16_t v; if (!data.le(2 * k, v)) return false; out = v; return true; }
        case 61: { int16_t v; if (!data.be(2 * k, v)) return false; out = v; return true; }
        case 160: { if (!data.le(2 * k, w0)) return false; out = static_cast<int64_t>(w0) - 32768; return true; }
        case 24: {
            if (!data.le(3 * k, w0) || !data.le(3 * k + 2, b2)) return false;
            out = sign_extend(static_cast<uint32_t>(w0) | static_cast<uint32_t>(b2) << 16, 24);
            return true;
        }
        case 32: { int32_t v; if (!data.le(4 * k, v)) return false; out = v; return true; }
        case 212: {
            // Two 12-bit samples in 3 bytes: the first is the low 12 bits of the first byte pair (LSB first); the
            // second takes its high 4 bits from the high nibble of byte 1 and its low 8 bits from byte 2.
            const size_t base = k / 2 * 3;
            if (!data.le(base + 1, b1)) return false;
            if (k % 2 == 0) {
                if (!data.le(base, b0)) return false;
                out = sign_extend(b0 | static_cast<uint32_t>(b1 & 0x0F) << 8, 12);
            } else {
                if (!data.le(base + 2, b2)) return false;
                out = sign_extend(b2 | static_cast<uint32_t>(b1 & 0xF0) << 4, 12);
            }
            return true;
        }
        case 310: {
            // Three 10-bit samples in two 16-bit LSB-first words: bits 1-10 of word 0, bits 1-10 of word 1, and
            // the top 5 bits of word 0 (low half) with the top 5 bits of word 1 (high half).
            const size_t base = k / 3 * 4;
            const size_t r = k % 3;
            if ((r != 1 && !data.le(base, w0)) || (r != 0 && !data.le(base + 2, w1))) return false;
            uint32_t v = r == 0 ? (w0 >> 1) : r == 1 ? (w1 >> 1) : ((w0 >> 11) & 0x1F) | ((w1 >> 11) & 0x1Fu) << 5;
            out = sign_extend(v, 10);
            return true;
        }
        case 311: {
            // Three 10-bit samples in the low 30 bits of a 32-bit LSB-first word.
            const size_t base = k / 3 * 4;
            const size_t r = k % 3;
            uint8_t lo = 0, hi = 0;
            if (!data.le(base + r, lo) || !data.le(base + r + 1, hi)) return false;
            const uint32_t pair = lo | static_cast<uint32_t>(hi) << 8;  // bytes r and r+1 hold sample r's bits
            out = sign_extend(pair >> (2 * r), 10);
            return true;
        }
        default: return false;
    }
}

// ---- Signal files -----------------------------------------------------------------------------------

// The signals stored in one file (consecutive header lines naming the same file).
struct signal_group {
    std::string file_name;
    std::vector<size_t> signals;     // indices into header_spec::signals
    int format = 0;
    long long byte_offset = 0;
    size_t samples_per_frame = 0;    // sum over the group's signals
    const named_bytes *file = nullptr;
    bool is_mat = false;
    byte_span data;                  // the sample bytes (after offset / MAT header)
    size_t frames = 0;               // complete frames the data holds
};

const named_bytes *find_companion(const std::string &wanted, const named_bytes &header, const std::vector<named_bytes> &companions) {
    const std::string want = base_name(wanted);
    const std::string header_dir = dir_name(header.name);
    const named_bytes *exact = nullptr, *folded = nullptr;
    for (const named_bytes &c : companions) {
        const std::string name = base_name(c.name);
        if (name == want) {
            if (dir_name(c.name) == header_dir) return &c;  // beside the header: the best match
            if (!exact) exact = &c;
        } else if (!folded && lower(name) == lower(want)) {
            folded = &c;
        }
    }
    return exact ? exact : folded;
}

// The MAT v4 matrix element type (P digit of the type field) that holds samples of a WFDB format, and its size.
bool mat_type_for_format(int format, int &precision, size_t &element_bytes, bool &big_endian) {
    big_endian = false;
    switch (format) {
        case 16: precision = 3; element_bytes = 2; return true;                       // int16
        case 61: precision = 3; element_bytes = 2; big_endian = true; return true;    // int16, big endian file
        case 32: precision = 2; element_bytes = 4; return true;                       // int32
        case 160: precision = 4; element_bytes = 2; return true;                      // uint16
        case 80: precision = 5; element_bytes = 1; return true;                       // uint8
        default: return false;
    }
}

// Checks the MATLAB v4 header of a .mat signal file against the WFDB header and returns its sample bytes.
// Level 4 MAT: five int32 (type MOPT, mrows, ncols, imagf, namlen), the name, then the column-major data; a
// WFDB matrix has one row per sample of a frame, so its columns are the frames, interleaved as WFDB expects.
status mat_v4_samples(const signal_group &g, const char *hea, byte_span &samples) {
    const byte_span all(g.file->data, g.file->size);
    const char *name = g.file_name.c_str();
    int32_t type = 0, rows = 0, cols = 0, imagf = 0, namlen = 0;
    if (!all.le(0, type)) return status::error(status_code::bad_format, "wfdb: %s: %zu bytes is too short for a MAT v4 header", name, all.size);
    bool big_endian = false;
    if (type < 0 || type >= 5000) {
        if (!all.be(0, type) || type / 1000 != 1)
            return status::error(status_code::bad_format, "wfdb: %s is not a MATLAB v4 file (type field %d)", name, type);
        big_endian = true;
    }
    auto get = [&](size_t offset, int32_t &v) { return big_endian ? all.be(offset, v) : all.le(offset, v); };
    if (!get(4, rows) || !get(8, cols) || !get(12, imagf) || !get(16, namlen))
        return status::error(status_code::bad_format, "wfdb: %s: %zu bytes is too short for a MAT v4 header", name, all.size);
    const int machine = type / 1000, order = type / 100 % 10, precision = type / 10 % 10, kind = type % 10;
    if (machine > 1 || order != 0 || kind != 0 || imagf != 0)
        return status::error(status_code::bad_format, "wfdb: %s: MAT v4 type %d (imaginary flag %d) is not a real numeric IEEE matrix",
                             name, type, imagf);
    int want_precision = 0;
    size_t element_bytes = 0;
    bool want_big_endian = false;
    if (!mat_type_for_format(g.format, want_precision, element_bytes, want_big_endian))
        return status::error(status_code::bad_format, "wfdb: %s: %s gives format %d, which a MAT v4 matrix cannot hold", name, hea, g.format);
    static const char *const type_names[] = {"double", "single", "int32", "int16", "uint16", "uint8"};
    if (precision != want_precision || (element_bytes > 1 && big_endian != want_big_endian))
        return status::error(status_code::bad_format, "wfdb: %s holds a %s %s-endian matrix but %s gives format %d (%s %s-endian)", name,
                             precision <= 5 ? type_names[precision] : "unknown", big_endian ? "big" : "little", hea, g.format,
                             type_names[want_precision], want_big_endian ? "big" : "little");
    if (namlen < 1 || namlen > 4096 || rows < 0 || cols < 0)
        return status::error(status_code::bad_format, "wfdb: %s: MAT v4 header has rows %d, columns %d, name length %d", name, rows, cols, namlen);
    const size_t data_offset = 20 + static_cast<size_t>(namlen);
    if (static_cast<long long>(data_offset) != g.byte_offset)
        return status::error(status_code::bad_format, "wfdb: %s: the MAT v4 header puts the samples at byte %zu but %s gives byte offset %lld",
                             name, data_offset, hea, g.byte_offset);
    if (static_cast<size_t>(rows) != g.samples_per_frame)
        return status::error(status_code::bad_format, "wfdb: %s holds a %d x %d matrix but %s describes %zu samples per frame in it "
                             "(expected %zu rows)", name, rows, cols, hea, g.samples_per_frame, g.samples_per_frame);
    if (data_offset > all.size)
        return status::error(status_code::bad_format, "wfdb: %s: %zu bytes is too short for its MAT v4 header (%zu bytes)", name, all.size, data_offset);
    const size_t matrix_bytes = static_cast<size_t>(rows) * static_cast<size_t>(cols) * element_bytes;  // < 2^31 * 2^31 * 4: no overflow
    samples = all.sub(data_offset, std::min(matrix_bytes, all.size - data_offset));
    return status();
}

// Groups the stored signals by file, finds each file among the companions and works out its sample bytes.
status open_groups(const header_spec &h, const named_bytes &header, const std::vector<named_bytes> &companions,
                   const std::vector<bool> &stored, const char *hea, std::vector<signal_group> &groups) {
    for (size_t s = 0; s < h.signals.size(); s++) {
        if (!stored[s]) continue;
        const signal_spec &sig = h.signals[s];
        if (groups.empty() || groups.back().file_name != sig.file_name) {
            for (const signal_group &g : groups)
                if (g.file_name == sig.file_name)
                    return status::error(status_code::bad_format, "wfdb: %s line %d: the signals of %s are not listed together", hea,
                                         sig.line, sig.file_name.c_str());
            signal_group g;
            g.file_name = sig.file_name;
            g.format = sig.format;
            g.byte_offset = sig.byte_offset;
            groups.push_back(g);
        }
        signal_group &g = groups.back();
        if (sig.format != g.format || sig.byte_offset != g.byte_offset)
            return status::error(status_code::bad_format, "wfdb: %s line %d: signal %zu has format %d+%lld but the earlier signals of %s "
                                 "have %d+%lld (one file has one format and one byte offset)", hea, sig.line, s + 1, sig.format,
                                 sig.byte_offset, sig.file_name.c_str(), g.format, g.byte_offset);
        g.signals.push_back(s);
        g.samples_per_frame += sig.samples_per_frame;
    }
    for (signal_group &g : groups) {
        g.file = find_companion(g.file_name, header, companions);
        if (!g.file)
            return status::error(status_code::bad_format, "wfdb: signal file %s named in %s was not given", base_name(g.file_name).c_str(), hea);
        if (!g.file->data && g.file->size)
            return status::error(status_code::invalid_argument, "wfdb: signal file %s has no data", g.file_name.c_str());
        if (g.file->size > k_max_file_bytes)
            return status::error(status_code::too_large, "wfdb: signal file %s has %zu bytes, beyond kalium's limit of %zu MiB per file",
                                 g.file_name.c_str(), g.file->size, k_max_file_bytes >> 20);
        g.is_mat = file_extension(g.file_name) == "mat";
        if (g.is_mat) {
            status st = mat_v4_samples(g, hea, g.data);
            if (!st.ok()) return st;
        } else {
            if (static_cast<unsigned long long>(g.byte_offset) > g.file->size)
                return status::error(status_code::bad_format, "wfdb: signal file %s has %zu bytes, fewer than the byte offset %lld that %s gives",
                                     g.file_name.c_str(), g.file->size, g.byte_offset, hea);
            g.data = byte_span(g.file->data, g.file->size).tail(static_cast<size_t>(g.byte_offset));
        }
        g.frames = samples_in_bytes(g.format, g.data.size) / g.samples_per_frame;
    }
    return status();
}

// Decodes one file's frames [0, frames) into the kept leads, and accumulates the checksum of the first
// `checksum_frames` frames of each signal.
status decode_group(const header_spec &h, const signal_group &g, size_t frames, size_t checksum_frames,
                    const std::vector<long long> &skew_frames, const std::vector<int> &lead_of_signal,
                    const std::vector<double> &uv_per_adu, size_t out_frames, ecg_record &record, std::vector<uint32_t> &sums) {
    const std::optional<int64_t> invalid = invalid_value(g.format);
    std::vector<int64_t> running(g.signals.size());  // format 8: the current value of each signal
    for (size_t j = 0; j < g.signals.size(); j++) running[j] = h.signals[g.signals[j]].initial_value;
    const float nan = std::numeric_limits<float>::quiet_NaN();
    size_t k = 0;  // index in the file's sample stream
    for (size_t f = 0; f < frames; f++) {
        for (size_t j = 0; j < g.signals.size(); j++) {
            const size_t s = g.signals[j];
            const signal_spec &sig = h.signals[s];
            const long long t = static_cast<long long>(f) - skew_frames[s];  // output frame of this stored frame
            const bool in_output = lead_of_signal[s] >= 0 && t >= 0 && static_cast<unsigned long long>(t) < out_frames;
            for (size_t c = 0; c < sig.samples_per_frame; c++) {
                int64_t v = 0;
                if (!stored_sample(g.format, g.data, k++, v))
                    return status::error(status_code::internal, "wfdb: %s: sample %zu lies outside the file", g.file_name.c_str(), k - 1);
                if (g.format == 8) v = running[j] += v;
                if (f < checksum_frames) sums[s] += static_cast<uint32_t>(v);
                if (in_output) {
                    float &out = record.leads[static_cast<size_t>(lead_of_signal[s])].samples_uv[static_cast<size_t>(t) * sig.samples_per_frame + c];
                    out = (invalid && v == *invalid) ? nan : static_cast<float>(static_cast<double>(v - sig.baseline_adu) * uv_per_adu[s]);
                }
            }
        }
    }
    return status();
}

std::string signal_label(const signal_spec &sig, size_t index) {
    return sig.description.empty() ? format("signal %zu", index + 1) : format("signal %zu (%s)", index + 1, sig.description.c_str());
}

}  // namespace

result<ecg_record> read_wfdb(const named_bytes &header, const std::vector<named_bytes> &companions) {
    if (!header.data && header.size) return status::error(status_code::invalid_argument, "wfdb: header has no data");
    const std::string hea_name = header.name.empty() ? std::string("the header") : base_name(header.name);
    const char *hea = hea_name.c_str();
    header_spec h;
    status st = parse_header(header, hea, h);
    if (!st.ok()) return st;

    ecg_record record;
    const size_t nsig = h.signals.size();

    // Which signals become leads: stored (format != 0) and in voltage units.
    std::vector<bool> stored(nsig), kept(nsig);
    std::vector<double> uv_per_adu(nsig, 0.0);
    std::vector<long long> skew_frames(nsig, 0);
    for (size_t s = 0; s < nsig; s++) {
        const signal_spec &sig = h.signals[s];
        stored[s] = sig.format != 0;
        if (!stored[s]) {
            record.warnings.push_back("wfdb: " + signal_label(sig, s) + " is a null signal (format 0) with no samples; left out");
            continue;
        }
        skew_frames[s] = static_cast<long long>(std::llround(static_cast<double>(sig.skew_samples) / static_cast<double>(sig.samples_per_frame)));
        const std::optional<double> uv = microvolts_per_unit(sig.units);
        if (!uv) {
            record.warnings.push_back("wfdb: " + signal_label(sig, s) + " is in " + sig.units + ", not a voltage; left out");
            continue;
        }
        kept[s] = true;
        double gain = sig.gain_adu_per_unit;
        if (gain == 0.0) {
            gain = k_default_gain_adu_per_unit;
            record.warnings.push_back("wfdb: " + signal_label(sig, s) + " has no gain (uncalibrated); assumed 200 ADU per " +
                                      (sig.units.empty() ? std::string("mV") : sig.units));
        }
        uv_per_adu[s] = *uv / gain;
    }

    std::vector<signal_group> groups;
    if (!(st = open_groups(h, header, companions, stored, hea, groups)).ok()) return st;

    // One sampling rate for all leads: every kept signal must have the same samples per frame.
    size_t spf = 0, first_kept = nsig;
    for (size_t s = 0; s < nsig; s++) {
        if (!kept[s]) continue;
        if (first_kept == nsig) { first_kept = s; spf = h.signals[s].samples_per_frame; continue; }
        if (h.signals[s].samples_per_frame != spf)
            return status::error(status_code::unsupported, "wfdb: %s has %zu samples per frame but %s has %zu; records whose signals have "
                                 "different sampling rates are not supported", signal_label(h.signals[s], s).c_str(),
                                 h.signals[s].samples_per_frame, signal_label(h.signals[first_kept], first_kept).c_str(), spf);
    }
    if (first_kept == nsig)
        return status::error(status_code::unsupported, "wfdb: %s has no signal in voltage units (mV, uV, V), so no ECG lead", hea);

    // Frames to read: what every kept signal's file holds (after skew), capped by the header's nsamp.
    std::vector<size_t> group_of(nsig, 0);
    for (size_t gi = 0; gi < groups.size(); gi++)
        for (size_t s : groups[gi].signals) group_of[s] = gi;
    size_t available = std::numeric_limits<size_t>::max();
    size_t shortest = 0;
    for (size_t s = 0; s < nsig; s++) {
        if (!kept[s]) continue;
        const signal_group &g = groups[group_of[s]];
        const long long skew = skew_frames[s];
        size_t frames = static_cast<unsigned long long>(skew) >= g.frames ? 0 : g.frames - static_cast<size_t>(skew);
        if (frames < available) { available = frames; shortest = group_of[s]; }
    }
    if (available == 0) {
        const signal_group &g = groups[shortest];
        return status::error(status_code::bad_format, "wfdb: signal file %s is truncated: it holds %zu bytes of samples, less than one "
                             "frame (%zu samples in format %d)", g.file_name.c_str(), g.data.size, g.samples_per_frame, g.format);
    }
    size_t out_frames = available;
    if (h.sample_count > 0) {
        if (h.sample_count < out_frames) out_frames = static_cast<size_t>(h.sample_count);
        else if (available < h.sample_count)
            record.warnings.push_back(format("wfdb: signal file %s holds %zu frames but %s says %llu; read %zu (%.1f s of %.1f s)",
                                             groups[shortest].file_name.c_str(), available, hea, h.sample_count, available,
                                             available / h.fs_hz, h.sample_count / h.fs_hz));
    }

    size_t kept_count = 0;
    for (size_t s = 0; s < nsig; s++) kept_count += kept[s] ? 1 : 0;
    if (out_frames > k_max_total_samples / spf / kept_count)
        return status::error(status_code::too_large, "wfdb: %zu leads x %zu samples exceeds kalium's limit of %zu samples in all",
                             kept_count, out_frames * spf, k_max_total_samples);
    // Checked here, before the samples are decoded, so a long recording costs no decoding (ecg_read checks again).
    if (static_cast<double>(out_frames) / h.fs_hz > k_max_duration_s)
        return status::error(status_code::too_large, "wfdb: the recording lasts %.1f h (%zu frames at %g Hz); kalium reads at most %.0f h",
                             static_cast<double>(out_frames) / h.fs_hz / 3600.0, out_frames, h.fs_hz, k_max_duration_s / 3600.0);

    // The leads, in header order.
    std::vector<int> lead_of_signal(nsig, -1);
    for (size_t s = 0; s < nsig; s++) {
        if (!kept[s]) continue;
        const signal_spec &sig = h.signals[s];
        ecg_lead lead;
        lead.name = sig.description.empty() ? format("signal %zu", s + 1) : sig.description;
        const double gain = sig.gain_adu_per_unit == 0.0 ? k_default_gain_adu_per_unit : sig.gain_adu_per_unit;
        lead.gain_adu_per_mv = gain * 1000.0 / *microvolts_per_unit(sig.units);
        lead.baseline_adu = static_cast<double>(sig.baseline_adu);
        lead.units = sig.units.empty() ? "mV" : sig.units;
        lead.samples_uv.assign(out_frames * spf, 0.0f);
        lead_of_signal[s] = static_cast<int>(record.leads.size());
        record.leads.push_back(std::move(lead));
    }

    // Decode each file; verify checksums where the header has them and the file holds all nsamp frames.
    std::vector<uint32_t> sums(nsig, 0);
    std::vector<bool> checkable(nsig, false);
    for (const signal_group &g : groups) {
        long long max_skew = 0;
        for (size_t s : g.signals) max_skew = std::max(max_skew, skew_frames[s]);
        const bool check = h.sample_count > 0 && g.frames >= h.sample_count;
        const size_t checksum_frames = check ? static_cast<size_t>(h.sample_count) : 0;
        const size_t needed = std::max(checksum_frames, out_frames + static_cast<size_t>(max_skew));
        const size_t frames = std::min(g.frames, needed);
        for (size_t s : g.signals) checkable[s] = check && h.signals[s].has_checksum;
        if (!(st = decode_group(h, g, frames, checksum_frames, skew_frames, lead_of_signal, uv_per_adu, out_frames, record, sums)).ok())
            return st;
    }
    for (size_t s = 0; s < nsig; s++) {
        if (!checkable[s]) continue;
        const uint16_t want = static_cast<uint16_t>(h.signals[s].checksum), got = static_cast<uint16_t>(sums[s]);
        if (want != got)
            record.warnings.push_back(format("wfdb: %s: checksum mismatch (header %d, samples %d): the signal file is damaged or does not "
                                             "belong to this header", signal_label(h.signals[s], s).c_str(), static_cast<int16_t>(want),
                                             static_cast<int16_t>(got)));
    }

    bool skewed = false;
    for (size_t s = 0; s < nsig; s++) skewed = skewed || (kept[s] && skew_frames[s] != 0);
    if (skewed) record.warnings.push_back("wfdb: the header gives inter-signal skew; it was applied");

    record.fs_hz = h.fs_hz * static_cast<double>(spf);
    std::string detail;
    for (const signal_group &g : groups) {
        const std::string f = std::to_string(g.format);
        if (("," + detail + ",").find("," + f + ",") == std::string::npos) detail += (detail.empty() ? "" : ",") + f;
    }
    for (const signal_group &g : groups)
        if (g.is_mat) { detail += " (MAT v4)"; break; }
    record.format_detail = detail;
    record.start_time = iso_start_time(h.base_time, h.base_date, record.warnings);
    apply_comments(h.comments, record);
    return record;
}

}  // namespace kalium::ecg
