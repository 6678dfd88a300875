// fuzz-read-all.cpp: libFuzzer target for ecg_read_all on a set of named files (fuzz-util.h, split_files):
// WFDB pairing, sniffing, every reader and the checks every record gets.
#include "fuzz-util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    kalium::log_set_min_level(kalium::log_level::error);
    const std::vector<kalium::named_bytes> files = kalium_fuzz::split_files(data, size);
    const std::vector<kalium::ecg_read_outcome> outcomes = kalium::ecg_read_all(files);
    if (outcomes.size() > files.size()) __builtin_trap();
    for (const kalium::ecg_read_outcome &o : outcomes) {
        if (o.record) kalium_fuzz::check_record(*o.record);
        else if (o.error.ok() || o.error.message().empty()) __builtin_trap();  // a failure must say why
    }
    return 0;
}
