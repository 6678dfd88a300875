// ecg/read.cpp: format sniffing, dispatch to the per-format readers, and what every record gets after
// reading: limits, consistency checks, lead ids from names, derived limb leads, standard lead order.
#include "ecg/readers.h"

#include "core/text.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <string>

namespace kalium {
namespace ecg {

std::string file_extension(std::string_view name) {
    size_t slash = name.find_last_of("/\\");
    if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
    size_t dot = name.find_last_of('.');
    if (dot == std::string_view::npos || dot == 0) return "";
    std::string ext(name.substr(dot + 1));
    for (char &c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return ext;
}

namespace {

// The first characters of a text file as ASCII: UTF-16 (either byte order, with or without BOM) is
// squashed by dropping its zero bytes, a UTF-8 BOM is skipped. Enough to see an XML root element.
std::string ascii_prefix(const uint8_t *data, size_t size, size_t max_chars) {
    std::string out;
    size_t start = 0;
    if (size >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF) start = 3;
    for (size_t i = start; i < size && out.size() < max_chars; i++) {
        if (data[i] == 0 || data[i] == 0xFE || data[i] == 0xFF) continue;
        out.push_back(static_cast<char>(data[i]));
    }
    return out;
}

// Name of the XML document's root element, "" when the text does not look like XML.
std::string xml_root_name(const uint8_t *data, size_t size) {
    const std::string text = ascii_prefix(data, size, 8192);
    size_t pos = 0;
    while (true) {
        pos = text.find('<', pos);
        if (pos == std::string::npos || pos + 1 >= text.size()) return "";
        char next = text[pos + 1];
        if (next == '?' || next == '!') {  // declaration, comment, doctype
            size_t end = text.find('>', pos);
            if (end == std::string::npos) return "";
            pos = end + 1;
            continue;
        }
        size_t end = pos + 1;
        while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end])) && text[end] != '>' &&
               text[end] != '/')
            end++;
        std::string name = text.substr(pos + 1, end - pos - 1);
        size_t colon = name.find(':');  // namespace prefix
        return colon == std::string::npos ? name : name.substr(colon + 1);
    }
}

// A wrong scale is worse than no reading: when the limb leads' typical peak-to-peak (the median over I, II,
// III of the 99th minus 1st percentile) is outside what any human ECG shows, say so. Real QRS complexes in
// limb leads span about 0.2-6 mV (0.2-5.7 mV over the 1,195 hmc ECGs); the thresholds leave a wide margin
// and catch unit mix-ups (uV read as mV, a wrong gain), not subtle miscalibration.
void warn_implausible_amplitude(ecg_record &record) {
    std::vector<float> spans_uv;
    for (lead_id id : {lead_id::I, lead_id::II, lead_id::III}) {
        const ecg_lead *lead = record.find(id);
        if (!lead) continue;
        std::vector<float> v;
        v.reserve(lead->samples_uv.size());
        for (float x : lead->samples_uv)
            if (std::isfinite(x)) v.push_back(x);
        if (v.size() < 100) continue;
        const size_t lo = v.size() / 100, hi = v.size() - 1 - v.size() / 100;
        std::nth_element(v.begin(), v.begin() + static_cast<long>(lo), v.end());
        const float p1 = v[lo];
        std::nth_element(v.begin(), v.begin() + static_cast<long>(hi), v.end());
        spans_uv.push_back(v[hi] - p1);
    }
    if (spans_uv.empty()) return;
    std::sort(spans_uv.begin(), spans_uv.end());
    const float span_mv = spans_uv[spans_uv.size() / 2] / 1000.0f;
    char text[200];
    if (span_mv > 12.0f) {
        std::snprintf(text, sizeof(text), "limb-lead amplitudes look implausibly large (typical span %.1f mV; expected 0.3-5 mV): check the file's calibration", span_mv);
        record.warnings.push_back(text);
    } else if (span_mv > 0.0f && span_mv < 0.05f) {
        std::snprintf(text, sizeof(text), "limb-lead amplitudes look implausibly small (typical span %.3f mV; expected 0.3-5 mV): check the file's calibration", span_mv);
        record.warnings.push_back(text);
    }
}

status check_and_finish(ecg_record &record, const std::string &format) {
    const char *f = format.c_str();
    if (!(record.fs_hz > 0.0) || !std::isfinite(record.fs_hz) || record.fs_hz > 100000.0)
        return status::error(status_code::bad_format, "%s: sampling rate %g Hz is not usable (expected 1-100000 Hz)", f, record.fs_hz);
    if (record.leads.empty()) return status::error(status_code::bad_format, "%s: the file has no ECG leads", f);
    if (record.leads.size() > k_max_leads)
        return status::error(status_code::too_large, "%s: %zu leads (kalium reads at most %zu)", f, record.leads.size(), k_max_leads);
    const size_t n = record.leads.front().samples_uv.size();
    for (const ecg_lead &lead : record.leads)
        if (lead.samples_uv.size() != n)
            return status::error(status_code::bad_format, "%s: lead %s has %zu samples but lead %s has %zu (leads must share one time base)",
                                 f, lead.name.c_str(), lead.samples_uv.size(), record.leads.front().name.c_str(), n);
    if (n == 0) return status::error(status_code::bad_format, "%s: the leads have no samples", f);
    if (n * record.leads.size() > k_max_total_samples)
        return status::error(status_code::too_large, "%s: %zu leads x %zu samples (%.0f s) exceeds kalium's limit of %zu samples in all",
                             f, record.leads.size(), n, n / record.fs_hz, k_max_total_samples);
    if (static_cast<double>(n) / record.fs_hz > k_max_duration_s)
        return status::error(status_code::too_large, "%s: the recording lasts %.1f h (%zu samples at %g Hz); kalium reads at most %.0f h",
                             f, static_cast<double>(n) / record.fs_hz / 3600.0, n, record.fs_hz, k_max_duration_s / 3600.0);
    // Lead ids from names; a second lead with the same standard name keeps its name but is not the standard lead.
    bool seen[k_standard_lead_count] = {};
    for (ecg_lead &lead : record.leads) {
        if (lead.id == lead_id::other) lead.id = lead_id_from_label(lead.name);
        if (lead.id != lead_id::other) {
            int i = static_cast<int>(lead.id);
            if (seen[i]) {
                record.warnings.push_back("lead " + lead.name + " appears twice; the second copy is kept as an extra channel");
                lead.id = lead_id::other;
                continue;
            }
            seen[i] = true;
            lead.name = lead_id_name(lead.id);
        }
    }
    ecg_derive_missing_limb_leads(record);
    ecg_sort_leads(record);
    warn_implausible_amplitude(record);
    if (record.median) {
        for (ecg_lead &lead : record.median->leads)
            if (lead.id == lead_id::other) lead.id = lead_id_from_label(lead.name);
    }
    return status();
}

}  // namespace
}  // namespace ecg

std::string ecg_sniff_format(const uint8_t *data, size_t size) {
    if (!data || size == 0) return "";
    if (ecg::sniff_dicom(data, size)) return "dicom";
    if (ecg::sniff_scp_ecg(data, size)) return "scp-ecg";
    if (ecg::sniff_edf(data, size)) return "edf";
    // WFDB before XML: header comments may hold "<age>"-style tags that look like an XML root element
    // (LUDB, macecgdb), and no XML document has a record line "name nsig" before its first '<'.
    if (ecg::sniff_wfdb_header(data, size)) return "wfdb";
    const std::string root = ecg::xml_root_name(data, size);
    if (!root.empty()) {
        if (starts_with_nocase(root, "restingecgdata")) return "philips-xml";
        if (root == "RestingECG") return "ge-muse-xml";
        if (root == "AnnotatedECG") return "hl7-aecg";
        return "";  // some other XML document
    }
    if (ecg::sniff_csv(data, size)) return "csv";
    return "";
}

result<ecg_record> ecg_read(const named_bytes &file, const std::vector<named_bytes> &companions,
                            const read_options &options) {
    const char *name = file.name.c_str();
    if (!file.data && file.size) return status::error(status_code::invalid_argument, "%s: no data", name);
    if (file.size == 0) return status::error(status_code::bad_format, "%s: the file is empty", name);
    if (file.size > k_max_file_bytes)
        return status::error(status_code::too_large, "%s: %zu bytes exceeds kalium's limit of %zu MiB per file", name,
                             file.size, k_max_file_bytes >> 20);
    const std::string format = ecg_sniff_format(file.data, file.size);
    result<ecg_record> read = status::error(status_code::internal, "unreachable");
    if (format == "wfdb") read = ecg::read_wfdb(file, companions);
    else if (format == "philips-xml") read = ecg::read_philips_xml(file);
    else if (format == "ge-muse-xml") read = ecg::read_ge_muse_xml(file);
    else if (format == "hl7-aecg") read = ecg::read_hl7_aecg(file);
    else if (format == "scp-ecg") read = ecg::read_scp_ecg(file);
    else if (format == "dicom") read = ecg::read_dicom(file);
    else if (format == "edf") read = ecg::read_edf(file);
    else if (format == "csv") read = ecg::read_csv(file, options);
    else {
        const std::string ext = ecg::file_extension(file.name);
        if (ext == "dat" || ext == "mat")
            return status::error(status_code::bad_format, "%s: looks like a WFDB signal file; give it together with its header (.hea)", name);
        return status::error(status_code::bad_format,
                             "%s: not an ECG format kalium reads (WFDB, Philips XML, GE MUSE XML, HL7 aECG, SCP-ECG, "
                             "DICOM, EDF, CSV)", name);
    }
    if (!read.ok()) {
        // Prefix the file name so messages from batches say which file failed.
        return status(read.error().code(), file.name + ": " + read.error().message());
    }
    ecg_record record = std::move(read).value();
    record.source_name = file.name;
    record.format = format;
    status st = ecg::check_and_finish(record, format);
    if (!st.ok()) return status(st.code(), file.name + ": " + st.message());
    return record;
}

std::vector<ecg_read_outcome> ecg_read_all(const std::vector<named_bytes> &files, const read_options &options) {
    std::vector<ecg_read_outcome> outcomes;
    // WFDB headers first, so we know which signal files they consume.
    std::vector<bool> consumed(files.size(), false);
    std::vector<std::string> formats(files.size());
    for (size_t i = 0; i < files.size(); i++) formats[i] = ecg_sniff_format(files[i].data, files[i].size);
    auto base_name = [](std::string name) {
        size_t slash = name.find_last_of("/\\");
        return slash == std::string::npos ? name : name.substr(slash + 1);
    };
    for (size_t i = 0; i < files.size(); i++) {
        if (formats[i] != "wfdb") continue;
        // A header consumes the signal files it names and the files of its own record name, whether or not
        // the record then reads.
        std::string stem = base_name(files[i].name);
        if (size_t dot = stem.find_last_of('.'); dot != std::string::npos) stem.erase(dot);
        std::vector<std::string> tokens;
        std::string token;
        for (size_t k = 0; k <= files[i].size; k++) {
            char c = k < files[i].size ? static_cast<char>(files[i].data[k]) : ' ';
            if (std::isspace(static_cast<unsigned char>(c))) {
                if (!token.empty()) tokens.push_back(token);
                token.clear();
            } else {
                token.push_back(c);
            }
        }
        for (size_t j = 0; j < files.size(); j++) {
            if (j == i || formats[j] == "wfdb") continue;
            const std::string other = base_name(files[j].name);
            // Files of the same record name (signal files, and annotation files such as 100.atr or LUDB's 1.ii,
            // which kalium does not read) belong to the record and are not reported on their own.
            const std::string ext = ecg::file_extension(other);
            const bool named = std::find(tokens.begin(), tokens.end(), other) != tokens.end();
            const bool same_record = !ext.empty() && other.substr(0, other.size() - ext.size() - 1) == stem;
            if (named || (same_record && formats[j].empty())) consumed[j] = true;
        }
    }
    for (size_t i = 0; i < files.size(); i++) {
        if (consumed[i]) continue;
        ecg_read_outcome outcome;
        outcome.name = files[i].name;
        result<ecg_record> r = ecg_read(files[i], files, options);
        if (r.ok()) outcome.record = std::move(r).value();
        else outcome.error = r.error();
        outcomes.push_back(std::move(outcome));
    }
    return outcomes;
}

}  // namespace kalium
