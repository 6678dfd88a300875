// nn/predict-file.h: predicting ECG files the way `kalium predict` does, for the native clients (the CLI and
// the Python module kalium_core, which the archive scorer runs on Dask workers), so both give the same JSON.
#pragma once

#include "kalium.h"

#include <memory>
#include <string>

namespace kalium {

// Loads a weights file from disk. When `path`.sha256 exists (the shipped manifest) it sets
// options.expected_sha256 from it, so a file that does not match is refused; a manifest without a sha256, or
// one that disagrees with a non-empty options.expected_sha256, is an error. Every error names the path.
result<std::unique_ptr<k_model>> load_model_file(const std::string &path, model_options options = {});

// One ECG's prediction as `kalium predict` makes it: ecg_prepare_input, then the model, with the reader's
// warnings put before preparation's and the model's. A failed read is passed through.
result<k_prediction> predict_record(k_model &model, const result<ecg_record> &record);

}  // namespace kalium
