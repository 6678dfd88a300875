// ecg/read-wfdb.cpp: the wfdb reader (see readers.h for the contract). Not written yet.
#include "ecg/readers.h"

namespace kalium::ecg {

// A WFDB header: optional comment lines ('#'), then a record line "name[/segments] nsig [fs[/counter][(base)] ...]".
bool sniff_wfdb_header(const uint8_t *data, size_t size) {
    size_t i = 0;
    while (i < size) {
        // Skip blank and comment lines.
        while (i < size && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n')) i++;
        if (i < size && data[i] == '#') {
            while (i < size && data[i] != '\n') i++;
            continue;
        }
        break;
    }
    // Record name: printable, no spaces.
    size_t start = i;
    while (i < size && data[i] > ' ' && data[i] < 127) i++;
    if (i == start || i >= size || (data[i] != ' ' && data[i] != '\t')) return false;
    while (i < size && (data[i] == ' ' || data[i] == '\t')) i++;
    // Number of signals.
    size_t digits = 0;
    while (i < size && data[i] >= '0' && data[i] <= '9') { i++; digits++; }
    return digits > 0 && digits < 6 && (i == size || data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n');
}

result<ecg_record> read_wfdb(const named_bytes &header, const std::vector<named_bytes> &companions) {
    return status::error(status_code::unsupported, "wfdb: this reader is not written yet");
}

}  // namespace kalium::ecg
