// fuzz-sniff.cpp: libFuzzer target for ecg_sniff_format (every sniffer, the XML root finder).
#include "kalium.h"

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string format = kalium::ecg_sniff_format(data, size);
    static const char *const known[] = {"", "wfdb", "philips-xml", "ge-muse-xml", "hl7-aecg", "scp-ecg", "dicom", "edf", "csv"};
    for (const char *k : known)
        if (format == k) return 0;
    __builtin_trap();  // a name outside ecg_record's list
}
