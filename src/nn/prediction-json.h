// nn/prediction-json.h: the JSON view of a k_prediction, one function for every client (`kalium predict`
// and the browser app's worker), so both print the same fields from the same code.
//
// Keys, in this order: k_plus (the continuous estimate, mEq/L), k_plus_display ("4.3", "<1.5", ">7.5"),
// group, group_label ("normal", ...), group_probs (keys <=2.5, 2.5-3.5, 3.5-5.5, 5.5-6.5, >=6.5; null when
// the model has no group head), then, for a model with a K+ distribution (else null): k_plus_range ([low, high]
// mEq/L), k_plus_range_level (0.8: the share of the population's K+ distribution inside the range),
// k_plus_balanced (the distribution's location: the estimate as if every group were equally likely),
// group_probs_balanced (the same keys as group_probs, equal group priors), population (whose prevalence
// k_plus, its range and group_probs assume), k_plus_flag ("hypokalemia", "hyperkalemia" or null: the ECG ranks
// among the population's most likely dyskalemic, as many as the population has; k_distribution in kalium.h); then
// reliability (the reliability mark, below) and reliability_reasons (why the estimate is less reliable: "paced
// rhythm" first, then each failed quality check; [] when none; ecg_reliability_reasons in kalium.h, never a wide
// QRS); then lead_k (each lead's own estimate), lead_attention (sums to 1), warnings, model ({name, sha256}).
// Two shapes of the same fields:
//   - prediction_json_shape::cli: group is the group's name ("3.5-5.5"); lead_k and lead_attention are
//     objects lead name -> value (what `kalium predict` has always printed); reliability is "ok" or "less
//     reliable" (ecg_reliability_status);
//   - prediction_json_shape::app: group is the index 0-4; lead_k and lead_attention are arrays of 12 in
//     standard lead order; reliability is the mark as the app shows it, "paced rhythm: less reliable" or ""
//     (ecg_reliability_text) (the app contract's result_json, read by the ImGui app and web/kalium-shell.js).
#pragma once

#include "kalium.h"

#include <nlohmann/json.hpp>

namespace kalium {

enum class prediction_json_shape { cli, app };

// Adds the prediction's keys (above) to `out`, which must be a JSON object (or null: it becomes one).
void prediction_json_add(nlohmann::ordered_json &out, const k_prediction &p, prediction_json_shape shape);

// The prediction JSON of one file, as `kalium predict` prints it (json, one element; jsonl, one line) and the
// Python module kalium_core returns it: {"file", then the keys above in the cli shape} when the file was
// predicted, else file_error_json. `file` is the path as the user gave it.
nlohmann::ordered_json prediction_file_json(const std::string &file, const result<k_prediction> &prediction);
// {"file", "error" (the status's message, which names the file and what is wrong), "error_code"
// (status_code_name)}: what every `kalium` command and kalium_core report for a file they could not use.
nlohmann::ordered_json file_error_json(const std::string &file, const status &error);
// The text of such JSON as kalium writes it: indent < 0 one line (JSONL), else pretty-printed; bytes that
// are not UTF-8 (Latin-1 statements in some files) are replaced, never thrown.
std::string json_text(const nlohmann::ordered_json &j, int indent);

}  // namespace kalium
