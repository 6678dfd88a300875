// fuzz-prepare.cpp: libFuzzer target for the preparation pipeline: the bytes are read as any ECG file
// (ecg_read) and every record a reader produces goes through ecg_prepare_input (resampling, baseline removal,
// the 12 lead windows). The network input must have 12 x 1250 finite values.
#include "fuzz-util.h"

#include <cmath>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    kalium::log_set_min_level(kalium::log_level::error);
    const std::vector<kalium::named_bytes> files = kalium_fuzz::split_files(data, size);
    const kalium::named_bytes &file = files.front();
    const std::vector<kalium::named_bytes> companions(files.begin() + 1, files.end());
    kalium::result<kalium::ecg_record> r = kalium::ecg_read(file, companions);
    if (!r.ok()) return 0;
    kalium::result<kalium::network_input> in = kalium::ecg_prepare_input(r.value());
    if (!in.ok()) {
        if (in.error().message().empty()) __builtin_trap();
        return 0;
    }
    if (in->values_mv.size() != kalium::k_standard_lead_count * kalium::k_network_window_samples) __builtin_trap();
    for (float v : in->values_mv)
        if (!std::isfinite(v)) __builtin_trap();  // NaN/inf must never reach the network
    return 0;
}
