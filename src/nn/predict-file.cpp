// nn/predict-file.cpp: see predict-file.h.
#include "nn/predict-file.h"

#include "ecg/files.h"

namespace kalium {

result<std::unique_ptr<k_model>> load_model_file(const std::string &path, model_options options) {
    std::vector<uint8_t> bytes, manifest;
    std::string error;
    if (!read_file_bytes(path, bytes, error)) return status(status_code::io_error, "cannot read the model file " + error);
    if (read_file_bytes(path + ".sha256", manifest, error)) {
        const std::string sha256 = sha256_from_manifest(std::string(manifest.begin(), manifest.end()));
        if (sha256.empty()) return status(status_code::bad_format, path + ".sha256 holds no sha256");
        if (!options.expected_sha256.empty() && options.expected_sha256 != sha256)
            return status(status_code::invalid_argument, path + ".sha256 says " + sha256 + " but " + options.expected_sha256 +
                                                             " was expected");
        options.expected_sha256 = sha256;
    }
    auto model = k_model::load(bytes.data(), bytes.size(), options);
    if (!model) return status(model.error().code(), path + ": " + model.error().message());
    return model;
}

result<k_prediction> predict_record(k_model &model, const result<ecg_record> &record) {
    if (!record) return record.error();
    auto prepared = ecg_prepare_input(record.value());
    if (!prepared) return prepared.error();
    auto prediction = model.predict(prepared.value());
    if (!prediction) return prediction.error();
    k_prediction p = std::move(prediction).value();
    p.warnings.insert(p.warnings.begin(), record->warnings.begin(), record->warnings.end());
    return p;
}

}  // namespace kalium
