// ecg/read-csv.cpp: ECGs exported as delimited text (CSV, semicolon-separated, tab-separated).
//
// There is no CSV standard for ECGs: carts, databases, spreadsheets and scripts each write their own. This reader
// takes what they commonly write and says, in record.warnings, everything it had to guess.
//
// Text: UTF-8 (with or without byte-order mark), Latin-1, or UTF-16 with a byte-order mark (Excel's "Unicode
// text"); lines end in LF, CRLF or CR; blank lines are skipped; lines starting with '#' are comments (metadata
// before the table). Cells may be quoted ("..." with "" for a quote; a quoted cell cannot span lines). The
// delimiter is found on the first row of numbers: tab if it has one, else ';' if it has one, else ','. With ';'
// or tab, a comma inside a number is a decimal comma ("1,25"). A trailing delimiter on every line is ignored.
//
// Layout, top to bottom: optional metadata lines, an optional header row (optionally followed by a row of
// units, "mV,mV,..."; a header written as a '#' comment, as numpy.savetxt does, is accepted), then one row per
// sample. The table starts at the first row of numbers that is followed by another row of numbers (or ends the
// file); the header is the line just before it when it has as many cells.
//   - Columns: lead names in any common spelling ("I", "Lead I", "leadI", "DI", "AVR", "V1", ...: ecg_read maps
//     them); unit annotations are read and removed ("I (mV)", "II [uV]", "V1_mV", "aVR (0.01 mV)").
//     Time-axis columns ("time", "t", "time_s", "Time [ms]", "ms", "sec") and sample counters ("sample",
//     "index", "n", a pandas row index) are not leads; a time column gives the sampling rate. Columns empty in
//     every row are dropped with a warning; single empty cells are missing samples (NaN), as are "nan", "NA",
//     "N/A", "null", "none".
//   - Without a header: 12 columns are taken as I, II, III, aVR, aVL, aVF, V1-V6 and 8 as I, II, V1-V6 (the
//     orders 12-lead exports use), any other count as channels "ch1", "ch2", ...; each with a warning. A first
//     column that rises at a uniform step in every row (20 rows or more) is a time axis or sample counter.
// Sampling rate, first that applies: (1) read_options.csv_fs_hz; (2) a metadata line ("Sampling Rate (Hz): 500",
// "fs=500", "# sampling_frequency: 500 Hz", "Sample interval: 2 ms"); (3) a time column; (4) the hmc layout
// below; (5) 500 Hz, with a warning.
// Amplitude unit, first that applies: (1) read_options.csv_uv_per_unit; (2) a metadata line ("Gain
// (digit/millivolt): 2048", "units: uV", "Resolution: 4.88 uV/digit", "mV per unit = 0.5"); (3) the column's
// annotation; (4) the hmc layout; (5) recognition from the amplitudes, with a warning (see choose_unit below).
// gain_adu_per_mv is 1000 / (uV per unit) when the column holds integers (ADC counts, kept exactly), 0 when it
// holds physical values with decimals (there is no ADC gain to keep; a gain of 1/mV would make the WFDB writer
// round millivolt values to whole millivolts).
//
// The hmc layout: the 1,195 emergency-department ECGs of the Taiwan human-machine competition (the ECG12Net
// group, Tri-Service General Hospital) are CSVs with exactly the header leadI,leadII,leadIII,leadaVR,leadaVL,
// leadaVF,leadV1,...,leadV6, 5000 rows of integers, and nothing else. Their publishers state 10 s at 500 Hz from a
// Philips cart, in units of 0.01 mV (the raw Philips values). Nothing in the files says so, and amplitude
// recognition alone would misjudge the few with a large artefact, so this exact layout is recognised and read as
// 500 Hz and 10 uV per unit, without warnings.
//
// Errors name the line and column: "csv: line 1234, column 5 (aVL): 'abc' is not a number". A row with too
// few cells is an error, except the last row of the file (a truncated export), which is dropped with a warning.
// Before allocating, rows x columns is checked against k_max_total_samples (too_large).
// Not supported: quoted cells spanning lines, space-separated columns, thousands separators, several records
// in one file.
#include "ecg/readers.h"

#include "core/format.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace kalium::ecg {

namespace {

constexpr size_t k_sniff_bytes = 65536;
constexpr size_t k_max_preamble_lines = 1000;  // the table must start within this many non-blank lines
constexpr size_t k_min_rows_for_axis_guess = 20;
constexpr double k_default_fs_hz = 500.0;
constexpr double k_max_fs_hz = 100000.0;

// ---- Text -------------------------------------------------------------------------------------------------

bool is_digit(char c) { return c >= '0' && c <= '9'; }

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

bool equals_nocase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); i++)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Lower case with the micro sign (UTF-8 U+00B5, Greek mu U+03BC, Latin-1 0xB5) written 'u', so "µV" reads "uv".
std::string fold_case(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); i++) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if ((c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xB5) ||
            (c == 0xCE && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xBC)) {
            out.push_back('u');
            i++;
        } else if (c == 0xB5) {
            out.push_back('u');
        } else {
            out.push_back(lower(static_cast<char>(c)));
        }
    }
    return out;
}

// Only the letters and digits, folded: "Sampling Rate (Hz)" -> "samplingratehz".
std::string alnum_key(std::string_view s) {
    std::string out;
    for (char c : fold_case(s))
        if (is_digit(c) || (c >= 'a' && c <= 'z')) out.push_back(c);
    return out;
}

// A text shown in a message: at most 40 characters, non-printable bytes as '?'.
std::string quoted_excerpt(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 40)) out.push_back(static_cast<unsigned char>(c) < 0x20 ? '?' : c);
    if (s.size() > 40) out += "...";
    return "'" + out + "'";
}

// Walks the lines of a text: "\n" or "\r\n" ends a line; in a file without any "\n", a lone "\r" does.
struct line_cursor {
    std::string_view text;
    char terminator = '\n';
    size_t offset = 0;       // where the next line starts
    size_t number = 0;       // 1-based number of the line last returned
    size_t line_offset = 0;  // where the line last returned starts

    bool next(std::string_view &line) {
        if (offset >= text.size()) return false;
        const char *start = text.data() + offset;
        const size_t left = text.size() - offset;
        const void *hit = std::memchr(start, terminator, left);
        const size_t length = hit ? static_cast<size_t>(static_cast<const char *>(hit) - start) : left;
        line = std::string_view(start, length);
        line_offset = offset;
        offset += length + (hit ? 1 : 0);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        number++;
        return true;
    }
};

char line_terminator(std::string_view text) {
    const std::string_view head = text.substr(0, k_sniff_bytes);
    return head.find('\n') == std::string_view::npos && head.find('\r') != std::string_view::npos ? '\r' : '\n';
}

// Blank: nothing but spaces (and tabs, unless tab is the delimiter: then a line of tabs is a row of empty cells).
bool is_blank(std::string_view line, char delimiter) {
    for (char c : line)
        if (c != ' ' && c != '\r' && !(c == '\t' && delimiter != '\t')) return false;
    return true;
}

bool is_comment(std::string_view line) {
    const std::string_view t = trim(line);
    return !t.empty() && t.front() == '#';
}

// The text after a comment marker ('#', '%' or "//") and spaces.
std::string_view strip_comment_marker(std::string_view line) {
    std::string_view t = trim(line);
    while (!t.empty() && (t.front() == '#' || t.front() == '%')) t.remove_prefix(1);
    if (starts_with(t, "//")) t.remove_prefix(2);
    return trim(t);
}

// ---- Cells --------------------------------------------------------------------------------------------------

struct cell {
    std::string_view text;  // without the quotes and the spaces around it ("" still doubled inside quotes)
    bool quoted = false;
};

// Splits a line into cells at `delimiter`. A cell may be wrapped in double quotes: then it may hold the delimiter,
// and "" inside stands for one quote; text after the closing quote is ignored. `out` is reused between lines.
void split_cells(std::string_view line, char delimiter, std::vector<cell> &out) {
    out.clear();
    const size_t n = line.size();
    size_t i = 0;
    while (true) {
        while (i < n && (line[i] == ' ' || (line[i] == '\t' && delimiter != '\t'))) i++;
        cell c;
        if (i < n && line[i] == '"') {
            const size_t start = ++i;
            while (i < n && !(line[i] == '"' && !(i + 1 < n && line[i + 1] == '"'))) i += line[i] == '"' ? 2 : 1;
            c.text = line.substr(start, std::min(i, n) - start);
            c.quoted = true;
            const void *hit = i < n ? std::memchr(line.data() + i, delimiter, n - i) : nullptr;
            i = hit ? static_cast<size_t>(static_cast<const char *>(hit) - line.data()) : n;
        } else {
            const void *hit = i < n ? std::memchr(line.data() + i, delimiter, n - i) : nullptr;
            const size_t end = hit ? static_cast<size_t>(static_cast<const char *>(hit) - line.data()) : n;
            c.text = trim(line.substr(i, end - i));
            i = end;
        }
        out.push_back(c);
        if (i >= n) break;
        i++;  // the delimiter; a delimiter at the very end leaves one more (empty) cell
    }
}

std::string unquote(const cell &c) {
    std::string out(c.text);
    if (c.quoted)
        for (size_t p = out.find("\"\""); p != std::string::npos; p = out.find("\"\"", p + 1)) out.erase(p, 1);
    return std::string(trim(out));
}

// A decimal number: sign, digits with an optional decimal point ('.', or ',' when `decimal_comma`), optional
// exponent, nothing else. Exact for up to 15 significant digits (one rounding, like strtod, but independent of
// the C locale and never throwing).
bool parse_number(std::string_view s, bool decimal_comma, double &value) {
    static const double k_powers_of_ten[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                             1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const size_t n = s.size();
    size_t i = 0;
    bool negative = false;
    if (i < n && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
    uint64_t mantissa = 0;
    long exponent = 0;
    bool any_digit = false;
    auto take_digit = [&](char c, bool fraction) {
        any_digit = true;
        if (mantissa <= (UINT64_MAX - 9) / 10) {
            mantissa = mantissa * 10 + static_cast<uint64_t>(c - '0');
            if (fraction) exponent--;
        } else if (!fraction) {
            exponent++;  // a digit beyond uint64's precision
        }
    };
    while (i < n && is_digit(s[i])) take_digit(s[i++], false);
    if (i < n && (s[i] == '.' || (decimal_comma && s[i] == ','))) {
        i++;
        while (i < n && is_digit(s[i])) take_digit(s[i++], true);
    }
    if (!any_digit) return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool exponent_negative = false;
        if (i < n && (s[i] == '+' || s[i] == '-')) exponent_negative = s[i++] == '-';
        if (i >= n || !is_digit(s[i])) return false;
        long e = 0;
        while (i < n && is_digit(s[i])) {
            if (e < 100000) e = e * 10 + (s[i] - '0');
            i++;
        }
        exponent += exponent_negative ? -e : e;
    }
    if (i != n) return false;
    double v;
    if (mantissa < (uint64_t(1) << 53) && exponent >= -22 && exponent <= 22)
        v = exponent >= 0 ? static_cast<double>(mantissa) * k_powers_of_ten[exponent]
                          : static_cast<double>(mantissa) / k_powers_of_ten[-exponent];
    else
        v = static_cast<double>(mantissa) * std::pow(10.0, static_cast<double>(std::max(-400L, std::min(400L, exponent))));
    if (!std::isfinite(v)) return false;
    value = negative ? -v : v;
    return true;
}

// "hh:mm:ss(.fff)" or "mm:ss(.fff)" as seconds (time columns of some exports).
bool parse_clock_time(std::string_view s, double &seconds) {
    const size_t first = s.find(':');
    if (first == std::string_view::npos || first == 0) return false;
    const size_t second = s.find(':', first + 1);
    std::string_view parts[3];
    size_t count = 0;
    if (second == std::string_view::npos) {
        parts[0] = s.substr(0, first);
        parts[1] = s.substr(first + 1);
        count = 2;
    } else {
        parts[0] = s.substr(0, first);
        parts[1] = s.substr(first + 1, second - first - 1);
        parts[2] = s.substr(second + 1);
        count = 3;
    }
    double total = 0.0;
    for (size_t k = 0; k < count; k++) {
        double v = 0.0;
        if (parts[k].empty() || !parse_number(parts[k], false, v) || v < 0.0) return false;
        if (k + 1 < count && (v != std::floor(v) || parts[k].find('.') != std::string_view::npos)) return false;
        total = total * 60.0 + v;
    }
    seconds = total;
    return true;
}

bool is_missing_marker(std::string_view s) {
    return s.empty() || equals_nocase(s, "nan") || equals_nocase(s, "na") || equals_nocase(s, "n/a") ||
           equals_nocase(s, "null") || equals_nocase(s, "none");
}

// A number in a cell; a comma is a decimal comma when the delimiter is not ',' or the cell is quoted.
bool parse_cell_number(const cell &c, char delimiter, double &value) {
    return parse_number(c.text, delimiter != ',' || c.quoted, value);
}

// A row of the table: every cell a number, a missing value or a clock time, and at least one number.
bool is_numeric_row(const std::vector<cell> &cells, char delimiter) {
    bool any_number = false;
    for (const cell &c : cells) {
        double v;
        if (parse_cell_number(c, delimiter, v) || parse_clock_time(c.text, v)) any_number = true;
        else if (!is_missing_marker(c.text)) return false;
    }
    return any_number;
}

char guess_delimiter(std::string_view line) {
    if (line.find('\t') != std::string_view::npos) return '\t';
    if (line.find(';') != std::string_view::npos) return ';';
    return ',';
}

const char *delimiter_name(char delimiter) {
    return delimiter == '\t' ? "tab" : delimiter == ';' ? "semicolon" : "comma";
}

// ---- Units ----------------------------------------------------------------------------------------------------

enum class time_unit { none, seconds, milliseconds, microseconds, unstated };

// Amplitude unit words, folded: microvolts per unit.
double amplitude_unit_uv(std::string_view word) {
    static const struct {
        const char *word;
        double uv;
    } k_units[] = {
        {"uv", 1.0},          {"microvolt", 1.0},   {"microvolts", 1.0}, {"mv", 1000.0},    {"millivolt", 1000.0},
        {"millivolts", 1000.0}, {"v", 1e6},         {"volt", 1e6},       {"volts", 1e6},    {"nv", 1e-3},
        {"nanovolt", 1e-3},   {"nanovolts", 1e-3},
    };
    for (const auto &u : k_units)
        if (word == u.word) return u.uv;
    return 0.0;
}

time_unit time_unit_word(std::string_view word) {
    if (word == "s" || word == "sec" || word == "secs" || word == "second" || word == "seconds") return time_unit::seconds;
    if (word == "ms" || word == "msec" || word == "millisecond" || word == "milliseconds") return time_unit::milliseconds;
    if (word == "us" || word == "usec" || word == "microsecond" || word == "microseconds") return time_unit::microseconds;
    return time_unit::none;
}

// An amplitude unit phrase: a unit word with an optional factor ("mV", "uV", "0.01 mV", "10 µV", "x10uV").
double amplitude_phrase_uv(std::string_view text) {
    std::string folded;
    for (char c : fold_case(trim(text)))
        if (c != ' ') folded.push_back(c);
    std::string_view s = folded;
    if (!s.empty() && (s.front() == 'x' || s.front() == '*')) s.remove_prefix(1);
    size_t split = 0;
    while (split < s.size() && (is_digit(s[split]) || s[split] == '.' || s[split] == ',')) split++;
    double factor = 1.0;
    if (split > 0 && !parse_number(s.substr(0, split), true, factor)) return 0.0;
    const double uv = amplitude_unit_uv(s.substr(split));
    return factor > 0.0 ? uv * factor : 0.0;
}

// What a column label says: the name without its unit annotation, and the unit.
struct label_parts {
    std::string name;
    double uv_per_unit = 0.0;    // 0 = no amplitude unit stated
    std::string unit_text;       // the annotation as written
    time_unit time = time_unit::none;
};

label_parts split_label(const std::string &label) {
    label_parts out;
    std::string_view s = trim(label);
    out.name = std::string(s);
    // "I (mV)", "II [uV]", "time (s)"
    if (!s.empty() && (s.back() == ')' || s.back() == ']')) {
        const char open = s.back() == ')' ? '(' : '[';
        const size_t at = s.rfind(open);
        if (at != std::string_view::npos) {
            const std::string_view inside = trim(s.substr(at + 1, s.size() - at - 2));
            const double uv = amplitude_phrase_uv(inside);
            const time_unit t = time_unit_word(alnum_key(inside));
            if (uv > 0.0 || t != time_unit::none) {
                out.name = std::string(trim(s.substr(0, at)));
                out.uv_per_unit = uv;
                out.time = t;
                out.unit_text = std::string(inside);
                return out;
            }
        }
    }
    // "V1_mV", "II uV", "time_ms" (a bare "V" suffix is not taken as volts: "lead_V" may be a name)
    const size_t at = s.find_last_of("_ ");
    if (at != std::string_view::npos && at > 0 && at + 1 < s.size()) {
        const std::string_view suffix = s.substr(at + 1);
        const std::string folded = fold_case(suffix);
        const double uv = folded == "v" ? 0.0 : amplitude_unit_uv(folded);
        const time_unit t = time_unit_word(folded);
        if (uv > 0.0 || t != time_unit::none) {
            out.name = std::string(trim(s.substr(0, at)));
            out.uv_per_unit = uv;
            out.time = t;
            out.unit_text = std::string(suffix);
        }
    }
    return out;
}

enum class column_role { lead, time, sample_index };

// Whether a column name (without unit) is a time axis or a sample counter rather than a lead.
column_role role_from_name(const std::string &name, time_unit &unit) {
    const std::string key = alnum_key(name);
    const time_unit word_unit = time_unit_word(key);
    if (word_unit != time_unit::none) {  // "ms", "sec", "seconds"
        unit = word_unit;
        return column_role::time;
    }
    static const char *const k_time_names[] = {"time", "t", "times", "timestamp", "elapsed", "elapsedtime", "timestamps"};
    for (const char *n : k_time_names)
        if (key == n) return column_role::time;
    static const char *const k_index_names[] = {"sample", "samples", "index", "idx", "n", "no", "nr", "row", "samplenumber",
                                                "sampleno", "samplenr", "sampleindex", "samplenum", "count", "id"};
    for (const char *n : k_index_names)
        if (key == n) return column_role::sample_index;
    return column_role::lead;
}

bool is_unit_word_cell(std::string_view text) {
    const std::string_view t = trim(text);
    if (t.empty()) return false;
    std::string_view inner = t;
    if (inner.size() >= 2 && ((inner.front() == '(' && inner.back() == ')') || (inner.front() == '[' && inner.back() == ']')))
        inner = inner.substr(1, inner.size() - 2);
    return amplitude_phrase_uv(inner) > 0.0 || time_unit_word(alnum_key(inner)) != time_unit::none;
}

std::string unit_name(double uv_per_unit) {
    if (uv_per_unit == 1.0) return "uV";
    if (uv_per_unit == 1000.0) return "mV";
    if (uv_per_unit == 1e6) return "V";
    if (uv_per_unit == 10.0) return "0.01 mV";
    if (uv_per_unit == 1e-3) return "nV";
    const double per_mv = 1000.0 / uv_per_unit;
    if (std::fabs(per_mv - std::round(per_mv)) < 1e-9 * per_mv) return format("ADU (%g per mV)", std::round(per_mv));
    return format("%g uV", uv_per_unit);
}

// ---- Metadata lines -----------------------------------------------------------------------------------------

struct csv_metadata {
    double fs_hz = 0.0;
    size_t fs_line = 0;
    double uv_per_unit = 0.0;
    size_t unit_line = 0;
    std::string date, time;
};

// The leading number of a text and what follows it ("500 Hz" -> 500, "Hz").
bool leading_number(std::string_view text, bool decimal_comma, double &value, std::string_view &rest) {
    const std::string_view t = trim(text);
    size_t end = 0;
    if (end < t.size() && (t[end] == '+' || t[end] == '-')) end++;
    while (end < t.size() && (is_digit(t[end]) || t[end] == '.' || (decimal_comma && t[end] == ',') || t[end] == 'e' || t[end] == 'E'))
        end++;
    // back off trailing characters that do not make a number ("500," "2e")
    while (end > 0 && !parse_number(t.substr(0, end), decimal_comma, value)) end--;
    if (end == 0) return false;
    rest = trim(t.substr(end));
    return true;
}

// Reads the unit statement of a metadata line into microvolts per unit; 0 when the line states none.
// `assumed` is set when the line is a bare "gain: 200" (read as ADC units per mV, the WFDB/EDF convention).
double metadata_uv_per_unit(std::string_view key, std::string_view value, bool decimal_comma, bool &assumed) {
    assumed = false;
    // Folded, without spaces, with unit words shortened and "per" written '/': "Gain (digit/millivolt)" ->
    // "gain(digit/mv)", "mV per unit" -> "mv/unit".
    auto normalise = [](std::string_view s) {
        std::string out;
        for (char c : fold_case(s))
            if (c != ' ' && c != '_') out.push_back(c);
        static const char *const k_rewrites[][2] = {{"millivolts", "mv"}, {"millivolt", "mv"}, {"microvolts", "uv"},
                                                    {"microvolt", "uv"},  {"nanovolts", "nv"}, {"nanovolt", "nv"},
                                                    {"volts", "v"},       {"volt", "v"},       {"per", "/"}};
        for (const auto &r : k_rewrites)
            for (size_t at = out.find(r[0]); at != std::string::npos; at = out.find(r[0], at)) out.replace(at, std::strlen(r[0]), r[1]);
        return out;
    };
    const std::string k = normalise(key), v = normalise(value);
    const std::string both = k + "=" + v;
    const std::string key_alnum = alnum_key(key);
    static const char *const k_unit_keys[] = {"unit", "units", "amplitudeunit", "amplitudeunits", "signalunit", "signalunits",
                                              "yunit", "yunits", "physicalunit", "physicalunits", "dimension", "valueunit",
                                              "valueunits", "leadunit", "leadunits"};
    const bool unit_key = std::find_if(std::begin(k_unit_keys), std::end(k_unit_keys),
                                       [&](const char *u) { return key_alnum == u; }) != std::end(k_unit_keys);
    const bool scale_key = contains(key_alnum, "gain") || contains(key_alnum, "resolution") || contains(key_alnum, "scale") ||
                           contains(key_alnum, "lsb") || contains(key_alnum, "avm") || contains(key_alnum, "amplitude") ||
                           contains(key_alnum, "calibration") || contains(key_alnum, "sensitivity") ||
                           contains(k, "mv/") || contains(k, "uv/") || contains(k, "nv/") || contains(k, "/mv") || contains(k, "/uv");
    if (unit_key) {
        const double uv = amplitude_phrase_uv(value);
        if (uv > 0.0) return uv;
    }
    if (!scale_key) return 0.0;
    double number = 0.0;
    std::string_view rest;
    if (!leading_number(value, decimal_comma, number, rest) || !(number > 0.0)) return 0.0;
    if (contains(both, "/mv")) return 1000.0 / number;  // ADC units per mV
    if (contains(both, "/uv")) return 1.0 / number;
    if (contains(both, "/nv")) return 1e-3 / number;
    if (contains(both, "/v") && !contains(both, "uv/") && !contains(both, "mv/") && !contains(both, "nv/")) return 1e6 / number;
    if (contains(both, "uv/") || contains(k, "(uv)") || contains(k, "[uv]")) return number;  // uV per ADC unit
    if (contains(both, "mv/") || contains(k, "(mv)") || contains(k, "[mv]")) return number * 1000.0;
    if (contains(both, "nv/") || contains(k, "(nv)") || contains(k, "[nv]")) return number * 1e-3;
    const double rest_uv = amplitude_phrase_uv(rest);  // "Resolution: 4.88 uV", "AVM: 5000 nV"
    if (rest_uv > 0.0) return number * rest_uv;
    if (contains(key_alnum, "gain") && rest.empty()) {
        assumed = true;
        return 1000.0 / number;
    }
    return 0.0;
}

// A rate or interval statement in Hz; 0 when the line states none.
double metadata_fs_hz(std::string_view key, std::string_view value, bool decimal_comma) {
    const std::string key_alnum = alnum_key(key);
    double number = 0.0;
    std::string_view rest;
    if (!leading_number(value, decimal_comma, number, rest) || !(number > 0.0)) return 0.0;
    const std::string unit = alnum_key(rest);
    static const char *const k_rate_parts[] = {"samplingrate", "samplerate", "samplingfrequency", "samplefrequency", "samplingfreq",
                                               "samplefreq", "samplespersecond", "frequencyhz", "ratehz"};
    static const char *const k_rate_keys[] = {"fs", "sr", "frequency", "freq", "rate", "hz", "fshz", "srate", "sps"};
    static const char *const k_interval_parts[] = {"samplinginterval", "sampleinterval", "samplingperiod", "sampleperiod"};
    static const char *const k_interval_keys[] = {"dt", "interval", "ts"};
    bool rate = false, interval = false;
    for (const char *p : k_rate_parts) rate = rate || contains(key_alnum, p);
    for (const char *p : k_rate_keys) rate = rate || key_alnum == p;
    for (const char *p : k_interval_parts) interval = interval || contains(key_alnum, p);
    for (const char *p : k_interval_keys) interval = interval || key_alnum == p;
    if (rate) return unit == "khz" || contains(key_alnum, "khz") ? number * 1000.0 : number;
    if (interval) {
        time_unit t = time_unit_word(unit);
        if (t == time_unit::none) {
            if (contains(key_alnum, "ms")) t = time_unit::milliseconds;
            else if (contains(key_alnum, "us")) t = time_unit::microseconds;
            else t = time_unit::seconds;
        }
        const double seconds = number * (t == time_unit::milliseconds ? 1e-3 : t == time_unit::microseconds ? 1e-6 : 1.0);
        return 1.0 / seconds;
    }
    return 0.0;
}

bool digits_at(std::string_view s, size_t at, size_t count) {
    if (at + count > s.size()) return false;
    for (size_t k = at; k < at + count; k++)
        if (!is_digit(s[k])) return false;
    return true;
}

// Reads one metadata line ("key: value", "key = value", "key,value", "key value"); what it does not understand
// is left alone.
void read_metadata_line(std::string_view line, size_t line_number, char delimiter, csv_metadata &meta, ecg_record &record) {
    const std::string_view text = strip_comment_marker(line);
    if (text.empty()) return;
    size_t split = text.find_first_of(":=");
    if (split == std::string_view::npos) {
        // "key,value", or "Sampling rate 500 Hz" (the key ends where the first number starts)
        const size_t cell_end = std::min(text.size(), text.find(delimiter));
        size_t digit = 0;
        while (digit < cell_end && !is_digit(text[digit])) digit++;
        if (digit < cell_end) split = digit;
        else if (cell_end < text.size()) split = cell_end;
        else return;
        if (split == 0) return;
    }
    const std::string_view key = trim(text.substr(0, split));
    std::string_view value = trim(text.substr(split + (split < text.size() && !is_digit(text[split]) ? 1 : 0)));
    // Spreadsheets pad metadata lines with delimiters ("Sampling rate,500,,,,"); quotes go too.
    while (!value.empty() && (value.back() == delimiter || value.back() == '"' || value.back() == ' ')) value.remove_suffix(1);
    while (!value.empty() && value.front() == '"') value.remove_prefix(1);
    if (key.empty() || value.empty()) return;
    const std::string key_alnum = alnum_key(key);
    const bool decimal_comma = delimiter != ',';  // in a comma-separated file, "1,000 Hz" is not 1 Hz

    if (const double fs = metadata_fs_hz(key, value, decimal_comma); fs > 0.0) {
        if (!(fs <= k_max_fs_hz) || !std::isfinite(fs)) {
            record.warnings.push_back(format("line %zu: sampling rate %s is not usable; ignored", line_number, quoted_excerpt(value).c_str()));
        } else if (meta.fs_hz == 0.0) {
            meta.fs_hz = fs;
            meta.fs_line = line_number;
            if (fs < 50.0)
                record.warnings.push_back(format("line %zu: a sampling rate of %g Hz is implausibly low for an ECG", line_number, fs));
        } else if (std::fabs(fs - meta.fs_hz) > 1e-9 * fs) {
            record.warnings.push_back(format("line %zu states a sampling rate of %g Hz but line %zu states %g Hz; %g Hz is used",
                                             line_number, fs, meta.fs_line, meta.fs_hz, meta.fs_hz));
        }
        return;
    }
    bool assumed = false;
    if (const double uv = metadata_uv_per_unit(key, value, decimal_comma, assumed); uv > 0.0) {
        if (!std::isfinite(uv) || uv < 1e-6 || uv > 1e7) {
            record.warnings.push_back(format("line %zu: amplitude unit %s is not usable; ignored", line_number, quoted_excerpt(text).c_str()));
        } else if (meta.uv_per_unit == 0.0) {
            meta.uv_per_unit = uv;
            meta.unit_line = line_number;
            if (assumed)
                record.warnings.push_back(format("line %zu: %s does not say per what; read as ADC units per mV (%g uV per unit)",
                                                 line_number, quoted_excerpt(text).c_str(), uv));
        } else if (std::fabs(uv - meta.uv_per_unit) > 1e-9 * uv) {
            record.warnings.push_back(format("line %zu states %g uV per unit but line %zu states %g; %g is used", line_number, uv,
                                             meta.unit_line, meta.uv_per_unit, meta.uv_per_unit));
        }
        return;
    }
    if (key_alnum == "patientid" || key_alnum == "patient" || key_alnum == "subject" || key_alnum == "subjectid") {
        if (record.patient.id.empty()) record.patient.id = std::string(value);
    } else if (key_alnum == "age" || key_alnum == "patientage" || key_alnum == "ageyears") {
        double years = 0.0;
        std::string_view rest;
        if (leading_number(value, decimal_comma, years, rest) && years >= 0.0 && years < 150.0 && (rest.empty() || alnum_key(rest) == "years" || alnum_key(rest) == "y"))
            record.patient.age_years = years;
    } else if (key_alnum == "sex" || key_alnum == "gender" || key_alnum == "patientsex") {
        const std::string v = alnum_key(value);
        if (v == "m" || v == "male") record.patient.sex = "male";
        else if (v == "f" || v == "female") record.patient.sex = "female";
    } else if (key_alnum == "device" || key_alnum == "cart" || key_alnum == "manufacturer" || key_alnum == "model" ||
               key_alnum == "instrument" || key_alnum == "equipment" || key_alnum == "recorder") {
        if (record.device.empty()) record.device = std::string(value);
    } else if (contains(key_alnum, "date") || contains(key_alnum, "time") || contains(key_alnum, "recorded") || key_alnum == "start") {
        // ISO 8601 only ("2019-03-01", "2019-03-01 10:22:05", "10:22:05"): other orders (03/01/2019) are ambiguous.
        if (digits_at(value, 0, 4) && value.size() >= 10 && value[4] == '-' && digits_at(value, 5, 2) && value[7] == '-' &&
            digits_at(value, 8, 2)) {
            if (meta.date.empty()) meta.date = std::string(value.substr(0, 10));
            const std::string_view rest = trim(value.substr(10));
            std::string_view clock = !rest.empty() && (rest.front() == 'T' || rest.front() == 't') ? rest.substr(1) : rest;
            if (digits_at(clock, 0, 2) && clock.size() >= 5 && clock[2] == ':' && digits_at(clock, 3, 2) && meta.time.empty())
                meta.time = std::string(clock.substr(0, clock.size() >= 8 && clock[5] == ':' && digits_at(clock, 6, 2) ? 8 : 5));
        } else if (digits_at(value, 0, 2) && value.size() >= 5 && value[2] == ':' && digits_at(value, 3, 2) && meta.time.empty()) {
            meta.time = std::string(value.substr(0, value.size() >= 8 && value[5] == ':' && digits_at(value, 6, 2) ? 8 : 5));
        }
    }
}

// ---- Finding the table ------------------------------------------------------------------------------------------

struct text_line {
    std::string_view text;
    size_t number = 0;  // 1-based
    size_t offset = 0;  // byte offset in the text
};

struct table_layout {
    char terminator = '\n';
    char delimiter = ',';
    size_t data_offset = 0;           // first data row
    size_t data_line = 0;
    size_t column_count = 0;
    bool has_header = false;
    size_t header_line = 0;
    std::vector<std::string> labels;  // header labels (empty strings when no header)
    std::vector<std::string> units;   // a row of units under the header, or empty
    std::vector<text_line> metadata;  // lines before the header (or before the data when there is none)
};

// Whether a header of `header` cells fits data rows of `data` cells, allowing a trailing delimiter on either.
bool header_fits(const std::vector<cell> &header, size_t data, const std::vector<cell> &first_row, size_t &columns) {
    if (header.size() == data) columns = data;
    else if (header.size() == data + 1 && header.back().text.empty()) columns = data;
    else if (data == header.size() + 1 && first_row.back().text.empty()) columns = header.size();
    else return false;
    return true;
}

bool names_a_column(const std::vector<cell> &cells) {
    for (const cell &c : cells) {
        time_unit t = time_unit::none;
        const label_parts parts = split_label(unquote(c));
        if (lead_id_from_label(parts.name) != lead_id::other || role_from_name(parts.name, t) != column_role::lead) return true;
    }
    return false;
}

status find_table(std::string_view text, table_layout &layout) {
    layout.terminator = line_terminator(text);
    line_cursor cursor{text, layout.terminator};
    std::vector<text_line> lines;  // the first non-blank lines, enough to find where the table starts
    std::string_view line;
    while (lines.size() <= k_max_preamble_lines && cursor.next(line))
        if (!is_blank(line, '\0')) lines.push_back({line, cursor.number, cursor.line_offset});
    if (lines.empty()) return status::error(status_code::bad_format, "csv: the file has no text");

    std::vector<cell> cells, next_cells;
    size_t data = lines.size();
    char delimiter = ',';
    for (size_t i = 0; i < lines.size() && data == lines.size(); i++) {
        if (is_comment(lines[i].text)) continue;
        delimiter = guess_delimiter(lines[i].text);
        split_cells(lines[i].text, delimiter, cells);
        if (!is_numeric_row(cells, delimiter)) continue;
        size_t j = i + 1;
        while (j < lines.size() && is_comment(lines[j].text)) j++;
        if (j < lines.size()) {  // a lone row of numbers among text is metadata ("500"), not the table
            split_cells(lines[j].text, delimiter, next_cells);
            if (!is_numeric_row(next_cells, delimiter)) continue;
        }
        data = i;
    }
    if (data == lines.size()) {
        if (lines.size() > k_max_preamble_lines)
            return status::error(status_code::bad_format, "csv: no rows of numbers in the first %zu non-blank lines", k_max_preamble_lines);
        const text_line &last = lines.back();
        if (!is_comment(last.text)) {
            split_cells(last.text, guess_delimiter(last.text), cells);
            if (cells.size() > 1)
                return status::error(status_code::bad_format, "csv: the file has a header row (line %zu, %zu columns) but no rows of numbers",
                                     last.number, cells.size());
        }
        return status::error(status_code::bad_format, "csv: no rows of numbers in the file");
    }
    layout.delimiter = delimiter;
    layout.data_offset = lines[data].offset;
    layout.data_line = lines[data].number;
    split_cells(lines[data].text, delimiter, cells);
    layout.column_count = cells.size();
    const std::vector<cell> first_row = cells;

    // The header: the line before the data, when it has as many cells (a '#' line too: numpy.savetxt writes so).
    size_t metadata_end = data;
    if (data > 0) {
        const text_line &candidate = lines[data - 1];
        const bool comment = is_comment(candidate.text);
        split_cells(comment ? strip_comment_marker(candidate.text) : candidate.text, delimiter, cells);
        size_t columns = 0;
        bool any_label = false;
        for (const cell &c : cells) any_label = any_label || !c.text.empty();
        // One cell saying "key: value" above a single column is metadata, not a header.
        const bool key_value = cells.size() == 1 && cells[0].text.find_first_of(":=") != std::string_view::npos;
        if (any_label && !key_value && !is_numeric_row(cells, delimiter) && header_fits(cells, first_row.size(), first_row, columns) &&
            (cells.size() > 1 || !comment)) {
            // A row of units under the names ("s,mV,mV"): the names are on the line before.
            bool units_row = !comment && data > 1 && !is_comment(lines[data - 2].text);
            bool any_unit = false;
            for (const cell &c : cells) {
                if (c.text.empty()) continue;
                any_unit = true;
                units_row = units_row && is_unit_word_cell(c.text);
            }
            std::vector<cell> names;
            size_t name_columns = 0;
            if (units_row && any_unit) {
                split_cells(lines[data - 2].text, delimiter, names);
                units_row = !is_numeric_row(names, delimiter) && header_fits(names, first_row.size(), first_row, name_columns) &&
                            name_columns == columns;
            }
            layout.has_header = true;
            layout.column_count = columns;
            if (units_row && any_unit) {
                for (size_t c = 0; c < columns; c++) layout.units.push_back(c < cells.size() ? unquote(cells[c]) : "");
                cells = names;
                layout.header_line = lines[data - 2].number;
                metadata_end = data - 2;
            } else {
                layout.header_line = candidate.number;
                metadata_end = data - 1;
            }
            for (size_t c = 0; c < columns; c++) layout.labels.push_back(c < cells.size() ? unquote(cells[c]) : "");
        } else if (!comment && cells.size() > 1 && !is_numeric_row(cells, delimiter) && names_a_column(cells)) {
            return status::error(status_code::bad_format, "csv: line %zu: the header row has %zu columns but the rows of numbers (line %zu) have %zu",
                                 candidate.number, cells.size(), layout.data_line, first_row.size());
        }
    }
    if (!layout.has_header) layout.labels.assign(layout.column_count, "");
    layout.metadata.assign(lines.begin(), lines.begin() + static_cast<std::ptrdiff_t>(metadata_end));
    return status();
}

// ---- Columns ------------------------------------------------------------------------------------------------

struct csv_column {
    size_t file_index = 0;         // 1-based, as in messages
    std::string label;             // as written in the header ("" when none)
    std::string name;              // lead name (label without its unit), set later for files without a header
    column_role role = column_role::lead;
    time_unit time = time_unit::none;
    double uv_per_unit = 0.0;      // stated by the file or the options; 0 = to be recognised
    bool unit_from_label = false;
    bool keep_times = false;       // store the values as doubles too (time axis, or a candidate one)
    std::vector<float> values;     // in microvolts when uv_per_unit was known while reading, else in file units
    std::vector<double> times;     // for time-axis candidates
    size_t missing = 0;
    bool all_integer = true;
    bool has_clock_time = false;

    std::string display() const { return label.empty() ? format("column %zu", file_index) : label; }
};

// Counts the data rows (non-blank, non-comment lines from the first data row on), to refuse an oversized table
// before allocating it; also finds where the last row starts.
size_t count_rows(std::string_view text, const table_layout &layout, size_t &last_row_offset) {
    line_cursor cursor{text, layout.terminator, layout.data_offset, layout.data_line - 1};
    std::string_view line;
    size_t rows = 0;
    while (cursor.next(line)) {
        if (is_blank(line, layout.delimiter) || is_comment(line)) continue;
        rows++;
        last_row_offset = cursor.line_offset;
    }
    return rows;
}

// Reads every data row into the columns.
status read_rows(std::string_view text, const table_layout &layout, std::vector<csv_column> &columns, size_t last_row_offset,
                 ecg_record &record) {
    line_cursor cursor{text, layout.terminator, layout.data_offset, layout.data_line - 1};
    const size_t ncols = columns.size();
    const char delimiter = layout.delimiter;
    std::vector<cell> cells;
    std::string_view line;
    size_t rows = 0;
    while (cursor.next(line)) {
        if (is_blank(line, delimiter) || is_comment(line)) continue;
        split_cells(line, delimiter, cells);
        if (cells.size() < ncols) {
            if (cursor.line_offset == last_row_offset && rows > 0) {
                record.warnings.push_back(format("line %zu, the last row, has %zu of the %zu columns and was dropped (a truncated file?)",
                                                 cursor.number, cells.size(), ncols));
                break;
            }
            return status::error(status_code::bad_format, "csv: line %zu has %zu cells but the table has %zu columns (%s is missing)",
                                 cursor.number, cells.size(), ncols, columns[cells.size()].display().c_str());
        }
        for (size_t c = ncols; c < cells.size(); c++)
            if (!cells[c].text.empty())
                return status::error(status_code::bad_format, "csv: line %zu has %zu cells but the table has %zu columns (cell %zu is %s)",
                                     cursor.number, cells.size(), ncols, c + 1, quoted_excerpt(cells[c].text).c_str());
        for (size_t c = 0; c < ncols; c++) {
            csv_column &col = columns[c];
            const cell &k = cells[c];
            double v = 0.0;
            bool number = parse_cell_number(k, delimiter, v);
            if (!number && col.keep_times && parse_clock_time(k.text, v)) {
                number = true;
                col.has_clock_time = true;
            }
            if (!number && !is_missing_marker(k.text))
                return status::error(status_code::bad_format, "csv: line %zu, column %zu (%s): %s is not a number", cursor.number, c + 1,
                                     col.display().c_str(), quoted_excerpt(k.text).c_str());
            if (!number) {
                col.missing++;
                v = NAN;
            } else if (col.all_integer && v != std::floor(v)) {
                col.all_integer = false;
            }
            if (col.keep_times) col.times.push_back(v);
            if (col.role == column_role::lead) {
                const double scaled = col.uv_per_unit > 0.0 ? v * col.uv_per_unit : v;
                col.values.push_back(static_cast<float>(scaled));
            }
        }
        rows++;
    }
    if (rows == 0) return status::error(status_code::bad_format, "csv: no complete row of numbers in the file");
    return status();
}

// The sampling rate a time column gives, 0 when it gives none. The rate comes from the whole span
// ((n - 1) / (last - first)), rounded to a whole number of Hz when within 0.01% of one (time columns are
// printed with limited decimals).
double rate_from_time_column(const csv_column &col, time_unit unit, ecg_record &record) {
    const std::vector<double> &t = col.times;
    const size_t n = t.size();
    if (n < 2) return 0.0;
    for (double v : t)
        if (!std::isfinite(v)) {
            record.warnings.push_back(format("time column %s has missing values; it does not give the sampling rate", col.display().c_str()));
            return 0.0;
        }
    const double step = (t[n - 1] - t[0]) / static_cast<double>(n - 1);
    if (!(step > 0.0)) {
        record.warnings.push_back(format("time column %s does not increase; it does not give the sampling rate", col.display().c_str()));
        return 0.0;
    }
    for (size_t k = 0; k < n; k++) {
        const double expected = t[0] + step * static_cast<double>(k);
        if (std::fabs(t[k] - expected) > 0.5 * step) {
            record.warnings.push_back(format("time column %s is not uniform (row %zu is at %g where a uniform axis has %g); the rate is "
                                             "taken from its mean step",
                                             col.display().c_str(), k + 1, t[k], expected));
            break;
        }
    }
    if (col.has_clock_time) unit = time_unit::seconds;
    if (unit == time_unit::none || unit == time_unit::unstated) {
        // An unstated unit: seconds when that gives a rate an ECG can have, else milliseconds.
        const bool seconds = 1.0 / step >= 10.0 && 1.0 / step <= k_max_fs_hz;
        unit = seconds ? time_unit::seconds : time_unit::milliseconds;
        record.warnings.push_back(format("time column %s does not state its unit; its step of %g is read as %s", col.display().c_str(), step,
                                         seconds ? "seconds" : "milliseconds"));
    }
    const double step_s = step * (unit == time_unit::milliseconds ? 1e-3 : unit == time_unit::microseconds ? 1e-6 : 1.0);
    double fs = 1.0 / step_s;
    if (std::fabs(fs - std::round(fs)) <= 1e-4 * fs) fs = std::round(fs);
    if (!(fs > 0.0) || fs > k_max_fs_hz) {
        record.warnings.push_back(format("time column %s gives %g Hz, which is not usable; ignored", col.display().c_str(), fs));
        return 0.0;
    }
    return fs;
}

// A column counting rows: integers rising by exactly 1.
bool is_row_counter(const csv_column &col) {
    const std::vector<double> &t = col.times;
    if (t.size() < 2) return false;
    for (size_t k = 0; k < t.size(); k++)
        if (!(t[k] == t[0] + static_cast<double>(k)) || t[k] != std::floor(t[k])) return false;
    return true;
}

// A column rising at a uniform step in every row (within half a step: time columns are rounded when printed).
bool rises_uniformly(const csv_column &col) {
    const std::vector<double> &t = col.times;
    const size_t n = t.size();
    if (n < k_min_rows_for_axis_guess) return false;
    for (size_t k = 1; k < n; k++)
        if (!(t[k] > t[k - 1])) return false;
    const double step = (t[n - 1] - t[0]) / static_cast<double>(n - 1);
    for (size_t k = 0; k < n; k++)
        if (std::fabs(t[k] - (t[0] + step * static_cast<double>(k))) > 0.5 * step) return false;
    return true;
}

bool is_hmc_layout(const table_layout &layout, const std::vector<csv_column> &columns) {
    static const char *const k_hmc_labels[] = {"leadI",  "leadII", "leadIII", "leadaVR", "leadaVL", "leadaVF",
                                               "leadV1", "leadV2", "leadV3",  "leadV4",  "leadV5",  "leadV6"};
    if (!layout.has_header || layout.delimiter != ',' || !layout.units.empty() || columns.size() != 12) return false;
    for (size_t c = 0; c < 12; c++) {
        const csv_column &col = columns[c];
        if (col.label != k_hmc_labels[c] || col.role != column_role::lead || col.values.size() != 5000 || !col.all_integer ||
            col.missing != 0)
            return false;
    }
    return true;
}

// ---- Recognising the amplitude unit ---------------------------------------------------------------------------

// A lead's robust peak, in its stored units: the 99th percentile of |value - median| (over at most 100,000 evenly
// spaced samples). The QRS complexes take ~10% of an ECG, so this lands near the R or S peaks while ignoring
// the odd spike; 0 for a lead with no values.
double robust_peak(const std::vector<float> &values) {
    const size_t stride = values.size() / 100000 + 1;
    std::vector<float> v;
    v.reserve(values.size() / stride + 1);
    for (size_t k = 0; k < values.size(); k += stride)
        if (std::isfinite(values[k])) v.push_back(values[k]);
    if (v.empty()) return 0.0;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    const float median = v[v.size() / 2];
    for (float &x : v) x = std::fabs(x - median);
    const size_t at = std::min(v.size() - 1, static_cast<size_t>(0.99 * static_cast<double>(v.size())));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(at), v.end());
    return v[at];
}

// Chooses the amplitude unit of leads that do not state one, from the typical robust peak (the median over the
// leads of robust_peak, so one lead with an artefact or a flat lead does not decide). Candidates: V, mV, 10 uV
// (0.01 mV, the raw unit of Philips carts; only for integers) and uV. The one chosen puts the typical peak
// closest, on a log scale, to 0.7 mV: the median of this measure over the 1,195 real 12-lead hmc ECGs (1st-99th
// percentile 0.28-1.76 mV). Integers with a typical peak below ~7 read as mV, 7-221 as 10 uV, above as uV;
// numbers with decimals below ~22 as mV, above as uV; below ~0.02 as V.
double choose_unit(const std::vector<const csv_column *> &leads, ecg_record &record) {
    std::vector<double> peaks;
    bool integers = true;
    for (const csv_column *col : leads) {
        const double p = robust_peak(col->values);
        if (p > 0.0) peaks.push_back(p);
        integers = integers && col->all_integer;
    }
    if (peaks.empty()) {
        record.warnings.push_back("amplitude unit not stated in the file and every lead is flat: read as uV");
        return 1.0;
    }
    std::nth_element(peaks.begin(), peaks.begin() + static_cast<std::ptrdiff_t>(peaks.size() / 2), peaks.end());
    const double typical = peaks[peaks.size() / 2];
    constexpr double k_typical_peak_mv = 0.7;
    static const struct {
        double uv;
        const char *name;
        bool integers_only;
    } k_candidates[] = {{1e6, "V", false}, {1000.0, "mV", false}, {10.0, "10 uV (0.01 mV)", true}, {1.0, "uV", false}};
    double best_uv = 1.0, best_distance = INFINITY;
    const char *best_name = "uV";
    for (const auto &c : k_candidates) {
        if (c.integers_only && !integers) continue;
        const double distance = std::fabs(std::log(typical * c.uv / 1000.0 / k_typical_peak_mv));
        if (distance < best_distance) {
            best_distance = distance;
            best_uv = c.uv;
            best_name = c.name;
        }
    }
    const double peak_mv = typical * best_uv / 1000.0;
    record.warnings.push_back(format(
        "amplitude unit not stated in the file: assumed %s per unit, because the leads' typical QRS peak (median over the leads of "
        "the 99th percentile of |value - median|) is %g units%s, which is %.2f mV in that unit and a QRS peak is typically "
        "0.3-3 mV; state the unit (a line 'units: uV', a column name like 'I (mV)', or the CSV unit option) if this is wrong",
        best_name, typical, integers ? " (integers)" : "", peak_mv));
    if (peak_mv < 0.1 || peak_mv > 10.0)
        record.warnings.push_back(format("the amplitudes (typical peak %g) are implausible for an ECG in any common unit", typical));
    return best_uv;
}

std::string join_names(const std::vector<std::string> &names) {
    std::string out;
    for (size_t k = 0; k < names.size(); k++) out += (k ? ", " : "") + names[k];
    return out;
}

// UTF-16 (Excel's "Unicode text") with a byte-order mark, as 8-bit text: ASCII stays, U+0080-U+00FF become their
// Latin-1 byte (so 'µ' is still recognised), anything else '?'.
bool utf16_byte_order(const uint8_t *data, size_t size, bool &big_endian) {
    if (size < 2) return false;
    if (data[0] == 0xFF && data[1] == 0xFE) big_endian = false;
    else if (data[0] == 0xFE && data[1] == 0xFF) big_endian = true;
    else return false;
    return true;
}

std::string utf16_to_8bit(const uint8_t *data, size_t size, bool big_endian) {
    std::string out;
    out.reserve(size / 2);
    for (size_t i = 2; i + 1 < size; i += 2) {
        const unsigned unit = big_endian ? (unsigned(data[i]) << 8 | data[i + 1]) : (unsigned(data[i + 1]) << 8 | data[i]);
        out.push_back(unit < 0x100 ? static_cast<char>(unit) : '?');
    }
    return out;
}

// The sniffer's test on text: no control characters, not markup, a row of numbers holding a delimiter, and from
// there on at least half of the non-blank, non-comment lines are rows of numbers. WFDB headers have no such
// rows (their numbers are separated by spaces), XML starts with '<'.
bool looks_like_table(std::string_view text) {
    size_t start = 0;
    while (start < text.size() && (text[start] == ' ' || text[start] == '\t' || text[start] == '\r' || text[start] == '\n')) start++;
    if (start < text.size() && (text[start] == '<' || text[start] == '{' || text[start] == '[')) return false;
    size_t numeric = 0, with_delimiter = 0, after_first = 0;
    bool line_numeric = true, line_digit = false, line_delimiter = false, line_blank = true, line_comment = false;
    for (size_t i = 0; i <= text.size(); i++) {
        const char c = i < text.size() ? text[i] : '\n';
        const unsigned char u = static_cast<unsigned char>(c);
        if (u < 0x20 && c != '\t' && c != '\r' && c != '\n') return false;  // binary
        if (c == '\n') {
            if (!line_blank && !line_comment) {
                // The table starts at a row of numbers with a delimiter; after it, single numbers count too
                // (a one-column tail, or a truncated sniff window).
                const bool row = line_numeric && line_digit && (line_delimiter || with_delimiter > 0);
                with_delimiter += row && line_delimiter;
                numeric += row;
                if (with_delimiter > 0) after_first++;
            }
            line_numeric = true;
            line_digit = line_delimiter = line_comment = false;
            line_blank = true;
            continue;
        }
        if (line_blank && c == '#') line_comment = true;
        if (c != ' ' && c != '\t' && c != '\r') line_blank = false;
        if (is_digit(c)) line_digit = true;
        else if (c == ',' || c == ';' || c == '\t') line_delimiter = true;
        else if (!std::strchr(" .-+eE\":\rnaNA", c)) line_numeric = false;
    }
    return with_delimiter >= 1 && numeric * 2 >= after_first;
}

}  // namespace

// Delimited text: a table of numbers with a delimiter (see looks_like_table), in the first 64 KiB.
bool sniff_csv(const uint8_t *data, size_t size) {
    if (!data || size == 0) return false;
    bool big_endian = false;
    if (utf16_byte_order(data, size, big_endian)) {
        const std::string text = utf16_to_8bit(data, std::min(size, 2 * k_sniff_bytes), big_endian);
        if (text.find('\0') != std::string::npos) return false;
        return looks_like_table(text);
    }
    size_t start = size >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF ? 3 : 0;
    const size_t n = std::min(size, k_sniff_bytes);
    return looks_like_table(std::string_view(reinterpret_cast<const char *>(data) + start, n - std::min(n, start)));
}

result<ecg_record> read_csv(const named_bytes &file, const read_options &options) {
    if (!file.data || file.size == 0) return status::error(status_code::bad_format, "csv: the file is empty");
    if (options.csv_fs_hz < 0.0 || !std::isfinite(options.csv_fs_hz) || options.csv_fs_hz > k_max_fs_hz)
        return status::error(status_code::invalid_argument, "csv: the sampling rate option is %g Hz (expected 0 to recognise, or 1-%g Hz)",
                             options.csv_fs_hz, k_max_fs_hz);
    if (options.csv_uv_per_unit < 0.0 || !std::isfinite(options.csv_uv_per_unit))
        return status::error(status_code::invalid_argument, "csv: the amplitude unit option is %g uV per unit (expected 0 to recognise, or > 0)",
                             options.csv_uv_per_unit);

    // The text, as 8-bit characters.
    std::string converted;
    std::string_view text;
    bool big_endian = false;
    if (utf16_byte_order(file.data, file.size, big_endian)) {
        converted = utf16_to_8bit(file.data, file.size, big_endian);
        text = converted;
    } else {
        const size_t bom = file.size >= 3 && file.data[0] == 0xEF && file.data[1] == 0xBB && file.data[2] == 0xBF ? 3 : 0;
        text = std::string_view(reinterpret_cast<const char *>(file.data) + bom, file.size - bom);
    }
    if (const size_t nul = text.find('\0'); nul != std::string_view::npos)
        return status::error(status_code::bad_format, "csv: character %zu is NUL: this is not a text file", nul);

    ecg_record record;
    table_layout layout;
    if (status st = find_table(text, layout); !st.ok()) return st;
    csv_metadata meta;
    for (const text_line &l : layout.metadata) read_metadata_line(l.text, l.number, layout.delimiter, meta, record);
    if (!meta.date.empty()) record.start_time = meta.time.empty() ? meta.date : meta.date + "T" + meta.time;

    // Columns, their names and what is known of their units before reading the numbers.
    std::vector<csv_column> columns(layout.column_count);
    for (size_t c = 0; c < columns.size(); c++) {
        csv_column &col = columns[c];
        col.file_index = c + 1;
        col.label = layout.labels[c];
        label_parts parts = split_label(col.label);
        if (!layout.units.empty() && !layout.units[c].empty()) {
            std::string u = layout.units[c];
            if (u.size() >= 2 && (u.front() == '(' || u.front() == '[')) u = u.substr(1, u.size() - 2);
            parts.uv_per_unit = amplitude_phrase_uv(u);
            parts.time = time_unit_word(alnum_key(u));
            parts.unit_text = u;
        }
        col.name = parts.name;
        time_unit named_unit = time_unit::none;
        col.role = layout.has_header ? role_from_name(parts.name, named_unit) : column_role::lead;
        if (parts.time != time_unit::none && col.role == column_role::lead && parts.name.empty()) col.role = column_role::time;
        if (col.role == column_role::time) col.time = parts.time != time_unit::none ? parts.time : named_unit != time_unit::none ? named_unit : time_unit::unstated;
        col.keep_times = col.role != column_role::lead || (c == 0 && !layout.has_header) ||
                         (layout.has_header && (parts.name.empty() || starts_with(alnum_key(parts.name), "unnamed")));
        if (col.role == column_role::lead) {
            if (options.csv_uv_per_unit > 0.0) col.uv_per_unit = options.csv_uv_per_unit;
            else if (meta.uv_per_unit > 0.0) col.uv_per_unit = meta.uv_per_unit;
            else if (parts.uv_per_unit > 0.0) col.uv_per_unit = parts.uv_per_unit;
            col.unit_from_label = parts.uv_per_unit > 0.0;
            if (parts.uv_per_unit > 0.0 && col.uv_per_unit != parts.uv_per_unit)
                record.warnings.push_back(format("column %s states %s, but %g uV per unit from %s is used", col.display().c_str(),
                                                 parts.unit_text.c_str(), col.uv_per_unit,
                                                 options.csv_uv_per_unit > 0.0 ? "the unit option" : format("line %zu", meta.unit_line).c_str()));
        }
    }

    // Refuse an oversized table before allocating it.
    size_t last_row_offset = layout.data_offset;
    const size_t rows = count_rows(text, layout, last_row_offset);
    if (rows > k_max_total_samples / std::max<size_t>(1, columns.size()))
        return status::error(status_code::too_large, "csv: %zu rows x %zu columns exceeds kalium's limit of %zu samples in all", rows,
                             columns.size(), k_max_total_samples);
    for (csv_column &col : columns) {
        if (col.role == column_role::lead) col.values.reserve(rows);
        if (col.keep_times) col.times.reserve(rows);
    }
    if (status st = read_rows(text, layout, columns, last_row_offset, record); !st.ok()) return st;

    // Columns that are axes, not leads.
    if (!layout.has_header && columns.size() > 1 && (rises_uniformly(columns[0]) || columns[0].has_clock_time)) {
        csv_column &first = columns[0];
        first.role = is_row_counter(first) ? column_role::sample_index : column_role::time;
        first.time = time_unit::unstated;
        record.warnings.push_back(first.role == column_role::sample_index
                                      ? "no header row: column 1 counts the rows and is read as a sample number, not a lead"
                                      : "no header row: column 1 rises uniformly and is read as a time axis, not a lead");
    }
    for (csv_column &col : columns)  // a pandas row index: an unnamed column counting rows
        if (layout.has_header && col.role == column_role::lead && col.keep_times && is_row_counter(col))
            col.role = column_role::sample_index;
    // A trailing delimiter on every line makes a last column with no name (or, without a header, of a count that
    // is no known layout) and no values.
    if (!columns.empty()) {
        const csv_column &last = columns.back();
        size_t lead_count = 0;
        for (const csv_column &col : columns) lead_count += col.role == column_role::lead;
        const bool empty = last.role == column_role::lead && last.missing == last.values.size();
        if (empty && (layout.has_header ? last.label.empty() : lead_count != 12 && lead_count != 8)) columns.pop_back();
    }

    // Lead names for files without a header.
    std::vector<csv_column *> leads;
    for (csv_column &col : columns)
        if (col.role == column_role::lead) leads.push_back(&col);
    if (!layout.has_header) {
        static const char *const k_twelve[] = {"I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"};
        static const char *const k_eight[] = {"I", "II", "V1", "V2", "V3", "V4", "V5", "V6"};
        if (leads.size() == 12 || leads.size() == 8) {
            for (size_t k = 0; k < leads.size(); k++) leads[k]->name = leads.size() == 12 ? k_twelve[k] : k_eight[k];
            record.warnings.push_back(leads.size() == 12
                                          ? "no header row: the 12 columns are assumed to be I, II, III, aVR, aVL, aVF, V1-V6 (the order 12-lead exports use)"
                                          : "no header row: the 8 columns are assumed to be I, II, V1-V6 (the order 8-lead exports use)");
        } else {
            for (size_t k = 0; k < leads.size(); k++) leads[k]->name = format("ch%zu", k + 1);
            record.warnings.push_back(format("no header row: the %zu columns are not a known lead layout and are read as channels ch1-ch%zu",
                                             leads.size(), leads.size()));
        }
    }
    for (csv_column *col : leads)
        if (col->name.empty()) col->name = format("ch%zu", col->file_index);

    // Empty leads are dropped; missing cells are NaN samples.
    std::vector<std::string> empty_names, partial;
    std::vector<csv_column *> kept;
    for (csv_column *col : leads) {
        if (col->missing == col->values.size()) empty_names.push_back(col->name);
        else {
            kept.push_back(col);
            if (col->missing) partial.push_back(format("%s (%zu)", col->name.c_str(), col->missing));
        }
    }
    if (!empty_names.empty())
        record.warnings.push_back(format("%s %s %s empty and %s dropped", empty_names.size() == 1 ? "column" : "columns",
                                         join_names(empty_names).c_str(), empty_names.size() == 1 ? "is" : "are",
                                         empty_names.size() == 1 ? "was" : "were"));
    if (!partial.empty())
        record.warnings.push_back("empty cells are read as missing samples (NaN) in " + join_names(partial));
    if (kept.empty()) return status::error(status_code::bad_format, "csv: no column holds ECG values");
    if (kept.size() > k_max_leads)
        return status::error(status_code::too_large, "csv: %zu lead columns (kalium reads at most %zu)", kept.size(), k_max_leads);
    const bool hmc = is_hmc_layout(layout, columns);

    // Sampling rate.
    double time_fs = 0.0;
    for (const csv_column &col : columns)
        if (col.role == column_role::time && (time_fs = rate_from_time_column(col, col.time, record)) > 0.0) break;
    if (options.csv_fs_hz > 0.0) record.fs_hz = options.csv_fs_hz;
    else if (meta.fs_hz > 0.0) record.fs_hz = meta.fs_hz;
    else if (time_fs > 0.0) record.fs_hz = time_fs;
    else if (hmc) record.fs_hz = 500.0;
    else {
        record.fs_hz = k_default_fs_hz;
        record.warnings.push_back(format("sampling rate not stated in the file (no metadata line, time column or option): assumed %g Hz",
                                         k_default_fs_hz));
    }
    if (time_fs > 0.0 && std::fabs(time_fs - record.fs_hz) > 0.005 * record.fs_hz)
        record.warnings.push_back(format("the time column gives %g Hz but %g Hz from %s is used", time_fs, record.fs_hz,
                                         options.csv_fs_hz > 0.0 ? "the sampling rate option" : format("line %zu", meta.fs_line).c_str()));

    // Amplitude units not stated: the hmc layout, else recognised.
    std::vector<const csv_column *> unknown;
    for (const csv_column *col : kept)
        if (!(col->uv_per_unit > 0.0)) unknown.push_back(col);
    if (!unknown.empty()) {
        const double uv = hmc ? 10.0 : choose_unit(unknown, record);
        for (csv_column *col : kept) {
            if (col->uv_per_unit > 0.0) continue;
            col->uv_per_unit = uv;
            for (float &v : col->values) v = static_cast<float>(static_cast<double>(v) * uv);
        }
    }

    for (csv_column *col : kept) {
        ecg_lead lead;
        lead.name = col->name;
        lead.samples_uv = std::move(col->values);
        lead.gain_adu_per_mv = col->all_integer ? 1000.0 / col->uv_per_unit : 0.0;
        lead.units = unit_name(col->uv_per_unit);
        record.leads.push_back(std::move(lead));
    }
    if (hmc) {
        record.format_detail = "hmc 12-lead export (Philips cart; 0.01 mV, 500 Hz)";
    } else {
        record.format_detail = format("%s-separated", delimiter_name(layout.delimiter));
        if (!layout.has_header) record.format_detail += ", no header row";
        if (!layout.metadata.empty()) record.format_detail += format(", %zu metadata lines", layout.metadata.size());
    }
    return record;
}

}  // namespace kalium::ecg
