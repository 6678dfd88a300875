// ecg/write.cpp: writing records as WFDB (format 16) and CSV, for `kalium convert` and round-trip tests.
#include "kalium.h"
#include "core/format.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>

namespace kalium {

namespace {

constexpr int16_t k_wfdb_invalid_16 = -32768;

// The gain (ADU per mV) a lead is written with: its own when the samples fit 16 bits at it, else the finest
// common gain that fits.
double choose_gain(const ecg_lead &lead) {
    float max_abs_uv = 0.0f;
    for (float v : lead.samples_uv)
        if (std::isfinite(v)) max_abs_uv = std::max(max_abs_uv, std::fabs(v));
    auto fits = [&](double gain) {
        return gain > 0.0 && std::fabs(lead.samples_uv.empty() ? 0.0 : max_abs_uv * gain / 1000.0 + std::fabs(lead.baseline_adu)) < 32767.0;
    };
    if (lead.gain_adu_per_mv > 0.0 && fits(lead.gain_adu_per_mv)) return lead.gain_adu_per_mv;
    for (double gain : {1000.0, 200.0, 100.0, 10.0, 1.0})
        if (fits(gain)) return gain;
    return 0.1;
}

bool valid_record_name(const std::string &name) {
    if (name.empty() || name.size() > 64) return false;
    for (char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
    return true;
}

std::string number(double v) { return format("%.10g", v); }

}  // namespace

result<std::vector<written_file>> ecg_write_wfdb(const ecg_record &record, const std::string &record_name) {
    if (!valid_record_name(record_name))
        return status::error(status_code::invalid_argument, "wfdb writer: record name '%s' must be 1-64 letters, digits or '_'", record_name.c_str());
    if (record.leads.empty() || record.sample_count() == 0 || !(record.fs_hz > 0.0))
        return status::error(status_code::invalid_argument, "wfdb writer: the record has no samples to write");
    const size_t n = record.sample_count();
    const size_t nsig = record.leads.size();
    std::vector<double> gains(nsig), baselines(nsig);
    std::vector<int16_t> adu(n * nsig);
    std::vector<int16_t> checksums(nsig, 0);
    for (size_t s = 0; s < nsig; s++) {
        const ecg_lead &lead = record.leads[s];
        gains[s] = choose_gain(lead);
        // Keep the original baseline only together with the original gain.
        baselines[s] = gains[s] == lead.gain_adu_per_mv ? std::round(lead.baseline_adu) : 0.0;
        uint16_t sum = 0;
        for (size_t t = 0; t < n; t++) {
            const float v = lead.samples_uv[t];
            int16_t a = k_wfdb_invalid_16;
            if (std::isfinite(v)) {
                double x = std::round(v * gains[s] / 1000.0 + baselines[s]);
                a = static_cast<int16_t>(std::clamp(x, -32767.0, 32767.0));
            }
            adu[t * nsig + s] = a;
            sum = static_cast<uint16_t>(sum + static_cast<uint16_t>(a));
        }
        checksums[s] = static_cast<int16_t>(sum);
    }
    written_file dat{record_name + ".dat", {}};
    dat.bytes.resize(adu.size() * 2);
    for (size_t k = 0; k < adu.size(); k++) {
        const uint16_t u = static_cast<uint16_t>(adu[k]);
        dat.bytes[2 * k] = static_cast<uint8_t>(u & 0xFF);
        dat.bytes[2 * k + 1] = static_cast<uint8_t>(u >> 8);
    }
    std::string hea = format("%s %zu %s %zu\n", record_name.c_str(), nsig, number(record.fs_hz).c_str(), n);
    for (size_t s = 0; s < nsig; s++) {
        const int16_t first = adu[s];
        hea += format("%s 16 %s(%s)/mV 16 0 %d %d 0 %s\n", dat.name.c_str(), number(gains[s]).c_str(),
                      number(baselines[s]).c_str(), first, checksums[s], record.leads[s].name.c_str());
    }
    hea += format("# written by kalium %s from %s (%s)\n", version_string(), record.source_name.c_str(), record.format.c_str());
    for (const ecg_lead &lead : record.leads)
        if (lead.derived) hea += "# lead " + lead.name + " was derived by kalium from other leads\n";
    written_file header{record_name + ".hea", std::vector<uint8_t>(hea.begin(), hea.end())};
    return std::vector<written_file>{std::move(header), std::move(dat)};
}

result<written_file> ecg_write_csv(const ecg_record &record, const std::string &file_name) {
    if (record.leads.empty() || record.sample_count() == 0 || !(record.fs_hz > 0.0))
        return status::error(status_code::invalid_argument, "csv writer: the record has no samples to write");
    std::string text = "time_s";
    for (const ecg_lead &lead : record.leads) text += "," + lead.name + " (uV)";
    text += "\n";
    const size_t n = record.sample_count();
    text.reserve(text.size() + n * record.leads.size() * 8);
    char cell[48];
    for (size_t t = 0; t < n; t++) {
        std::snprintf(cell, sizeof(cell), "%.6f", static_cast<double>(t) / record.fs_hz);
        text += cell;
        for (const ecg_lead &lead : record.leads) {
            const float v = lead.samples_uv[t];
            if (std::isfinite(v)) std::snprintf(cell, sizeof(cell), ",%.9g", static_cast<double>(v));
            else std::snprintf(cell, sizeof(cell), ",");
            text += cell;
        }
        text += "\n";
    }
    return written_file{file_name, std::vector<uint8_t>(text.begin(), text.end())};
}

}  // namespace kalium
