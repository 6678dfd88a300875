// fuzz-model-file.cpp: libFuzzer target for the weights-file parser (nn/model-file.h: magic, version, JSON
// header, tensor bounds, f16 widening) and the sha256 manifest parser. The XNNPACK runtime is not built.
#include "nn/model-file.h"

#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    kalium::result<kalium::model_file> r = kalium::model_file_parse(data, size, "model file");
    if (r.ok()) {
        for (const auto &entry : r->tensors)
            if (entry.second.values.size() != entry.second.count()) __builtin_trap();
    } else if (r.error().message().empty()) {
        __builtin_trap();
    }
    const std::string hex = kalium::sha256_from_manifest(std::string_view(reinterpret_cast<const char *>(data), size));
    if (!hex.empty() && hex.size() != 64) __builtin_trap();
    return 0;
}
