// core/measurement-fields.h: the 8 ECG measurements (ecg_measurements, kalium.h) as (key, member) pairs, in the
// order every output lists them: `kalium measure`, `kalium inspect`, the app contract's result_json and the
// Python module. Each writer keeps its own rule for a missing value (null, or the key left out) and rounding.
#pragma once

#include "kalium.h"

#include <array>
#include <optional>

namespace kalium {

struct ecg_measurement_field {
    const char *key;                                   // JSON / Python key, unit in the name
    std::optional<double> ecg_measurements::*value;    // the member it reads
};

inline constexpr std::array<ecg_measurement_field, 8> k_ecg_measurement_fields = {{
    {"hr_bpm", &ecg_measurements::hr_bpm},
    {"pr_ms", &ecg_measurements::pr_ms},
    {"qrs_ms", &ecg_measurements::qrs_ms},
    {"qt_ms", &ecg_measurements::qt_ms},
    {"qtc_ms", &ecg_measurements::qtc_ms},
    {"p_axis_deg", &ecg_measurements::p_axis_deg},
    {"qrs_axis_deg", &ecg_measurements::qrs_axis_deg},
    {"t_axis_deg", &ecg_measurements::t_axis_deg},
}};

}  // namespace kalium
