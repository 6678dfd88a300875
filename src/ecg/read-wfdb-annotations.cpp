// ecg/read-wfdb-annotations.cpp: WFDB annotation files in MIT format (see kalium.h, wfdb_read_annotations).
//
// The file is a sequence of 16-bit little-endian words. In each word the top 6 bits are a code A and the low
// 10 bits a value I. A = 1..49 is an annotation: its time is the previous annotation's plus I samples. The
// pseudo-codes change what surrounds it: SKIP (59) precedes an annotation and adds the 32-bit interval in the
// next two words (high word first) to the time; NUM (60), SUB (61) and CHN (62) set the number, subtype and
// channel of the annotation before them (number and channel persist to later annotations, subtype does not);
// AUX (63) is followed by I bytes of text (padded to an even count) for the annotation before it. A word of 0
// ends the file.
#include "kalium.h"

#include <cstring>

namespace kalium {

namespace {

constexpr int k_skip = 59, k_num = 60, k_sub = 61, k_chn = 62, k_aux = 63;

// The mnemonics of WFDB's standard codes (lib/ecgmap.h, lib/annot.c), index = code.
const char k_symbols[] = " NLRaVFJASEj/Q~ | sT*D\"=pB^t+u?![]en@xf()r";

}  // namespace

bool wfdb_is_beat_code(int code) {
    switch (code) {
    case 1: case 2: case 3: case 4: case 5: case 6: case 7: case 8: case 9: case 10: case 11: case 12: case 13:
    case 25: case 30: case 34: case 35: case 38: case 41:
        return true;
    default:
        return false;
    }
}

result<std::vector<wfdb_annotation>> wfdb_read_annotations(const uint8_t *data, size_t size, const std::string &name) {
    std::vector<wfdb_annotation> out;
    if (!data && size) return status::error(status_code::invalid_argument, "wfdb annotations: %s: no data", name.c_str());
    if (size % 2)
        return status::error(status_code::bad_format, "wfdb annotations: %s: %zu bytes is not a whole number of 16-bit words",
                             name.c_str(), size);
    auto word_at = [&](size_t offset) { return static_cast<unsigned>(data[offset]) | (static_cast<unsigned>(data[offset + 1]) << 8); };
    int64_t time = 0;
    int channel = 0, number = 0;
    bool ended = false;
    size_t offset = 0;
    while (offset + 2 <= size) {
        const unsigned word = word_at(offset);
        const int a = static_cast<int>(word >> 10), value = static_cast<int>(word & 0x3ff);
        const size_t at = offset;
        offset += 2;
        if (word == 0) {
            ended = true;
            break;
        }
        if (a == k_skip) {
            if (offset + 4 > size)
                return status::error(status_code::bad_format, "wfdb annotations: %s: SKIP at byte %zu lacks its 32-bit interval",
                                     name.c_str(), at);
            // PDP-11 order: the high 16 bits first, each word little-endian.
            const uint32_t interval = (static_cast<uint32_t>(word_at(offset)) << 16) | word_at(offset + 2);
            time += static_cast<int32_t>(interval);
            offset += 4;
            continue;
        }
        if (a == k_num || a == k_sub || a == k_chn || a == k_aux) {
            if (out.empty())
                return status::error(status_code::bad_format, "wfdb annotations: %s: pseudo-code %d at byte %zu precedes any annotation",
                                     name.c_str(), a, at);
            wfdb_annotation &last = out.back();
            if (a == k_num) number = last.number = value;
            if (a == k_sub) last.subtype = value;
            if (a == k_chn) channel = last.channel = value;
            if (a == k_aux) {
                if (offset + static_cast<size_t>(value) > size)
                    return status::error(status_code::bad_format,
                                         "wfdb annotations: %s: AUX at byte %zu announces %d bytes, only %zu remain",
                                         name.c_str(), at, value, size - offset);
                const char *text = reinterpret_cast<const char *>(data + offset);
                last.aux.assign(text, strnlen(text, static_cast<size_t>(value)));
                offset += static_cast<size_t>(value + (value & 1));
            }
            continue;
        }
        if (a == 0 || a > 49)
            return status::error(status_code::bad_format, "wfdb annotations: %s: code %d at byte %zu is not an annotation code (1-49)",
                                 name.c_str(), a, at);
        time += value;
        wfdb_annotation ann;
        ann.sample = time;
        ann.code = a;
        ann.symbol = a < static_cast<int>(sizeof k_symbols - 1) ? k_symbols[a] : '?';
        ann.channel = channel;
        ann.number = number;
        out.push_back(std::move(ann));
    }
    if (!ended && offset != size)
        return status::error(status_code::bad_format, "wfdb annotations: %s: truncated at byte %zu", name.c_str(), offset);
    return out;
}

}  // namespace kalium
