// ecg/read-csv.cpp: the csv reader (see readers.h for the contract). Not written yet.
#include "ecg/readers.h"

namespace kalium::ecg {

// Delimited text: printable, a delimiter (comma, semicolon, tab) on the first lines, and at least one line
// that is all numbers.
bool sniff_csv(const uint8_t *data, size_t size) {
    const size_t n = size < 65536 ? size : 65536;
    size_t lines = 0, numeric_lines = 0, delimiters = 0;
    bool line_numeric = true, line_has_digit = false;
    for (size_t i = 0; i < n; i++) {
        const uint8_t c = data[i];
        if (c == 0 || (c < 32 && c != '\n' && c != '\r' && c != '\t')) return false;  // binary
        if (c == ',' || c == ';' || c == '\t') delimiters++;
        if (c == '\n') {
            lines++;
            if (line_numeric && line_has_digit) numeric_lines++;
            line_numeric = true;
            line_has_digit = false;
        } else if (c >= '0' && c <= '9') {
            line_has_digit = true;
        } else if (!(c == ',' || c == ';' || c == '\t' || c == ' ' || c == '.' || c == '-' || c == '+' || c == 'e' ||
                     c == 'E' || c == '\r')) {
            line_numeric = false;
        }
    }
    return delimiters > 0 && numeric_lines >= 1 && lines >= 2;
}

result<ecg_record> read_csv(const named_bytes &file, const read_options &options) {
    return status::error(status_code::unsupported, "csv: this reader is not written yet");
}

}  // namespace kalium::ecg
