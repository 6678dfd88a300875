// fuzz-reader.cpp: one libFuzzer target per ECG format (built once per format by tests/fuzz/CMakeLists.txt,
// KALIUM_FUZZ_FORMAT naming it). Inputs the sniffer recognises as that format go through ecg_read (the reader
// plus the checks every record gets); the others go to the reader directly, so the reader is also exercised on
// bytes its sniffer would turn away. WFDB inputs are a header and its signal files (fuzz-util.h, split_files).
#include "ecg/readers.h"
#include "fuzz-util.h"

#include <cmath>
#include <string>

#ifndef KALIUM_FUZZ_FORMAT
#error "KALIUM_FUZZ_FORMAT (\"wfdb\", \"philips-xml\", ...) must be defined"
#endif

namespace {

kalium::result<kalium::ecg_record> read_direct(const std::string &format, const kalium::named_bytes &file,
                                               const std::vector<kalium::named_bytes> &companions) {
    using namespace kalium::ecg;
    if (format == "wfdb") return read_wfdb(file, companions);
    if (format == "philips-xml") return read_philips_xml(file);
    if (format == "ge-muse-xml") return read_ge_muse_xml(file);
    if (format == "hl7-aecg") return read_hl7_aecg(file);
    if (format == "scp-ecg") return read_scp_ecg(file);
    if (format == "dicom") return read_dicom(file);
    if (format == "edf") return read_edf(file);
    return read_csv(file, kalium::read_options{});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const std::string format = KALIUM_FUZZ_FORMAT;
    kalium::log_set_min_level(kalium::log_level::error);
    std::vector<kalium::named_bytes> files;
    if (format == "wfdb") {
        files = kalium_fuzz::split_files(data, size);
    } else {
        files.push_back(kalium::named_bytes{"fuzz-input", data, size});
    }
    const kalium::named_bytes &file = files.front();
    const std::vector<kalium::named_bytes> companions(files.begin() + 1, files.end());
    const bool sniffed = kalium::ecg_sniff_format(file.data, file.size) == format;
    kalium::result<kalium::ecg_record> r =
        sniffed ? kalium::ecg_read(file, companions) : read_direct(format, file, companions);
    if (!r.ok()) {
        // Every refusal must say why.
        if (r.error().message().empty()) __builtin_trap();
        return 0;
    }
    if (sniffed) kalium_fuzz::check_record(r.value());
    // Touch every sample so a reader that leaves samples uninitialised or out of range shows up under ASan/UBSan.
    double sum = 0.0;
    for (const kalium::ecg_lead &lead : r.value().leads)
        for (float v : lead.samples_uv) sum += std::isfinite(v) ? v : 0.0;
    volatile double sink = sum;
    (void)sink;
    return 0;
}
