// ecg/read-ge-muse-xml.cpp: the GE Healthcare MUSE "RestingECG" XML reader (see readers.h for the contract).
//
// What it reads: the XML export of GE's MUSE cardiology system (root element <RestingECG>, usually declared
// ISO-8859-1 with <!DOCTYPE RestingECG SYSTEM "restecg.dtd">), as written by MUSE 7 to 9. GE publishes no
// open specification; the layout below is the one MUSE files show, and the one open-source MUSE readers
// agree on:
//   - <Waveform> elements, each with <WaveformType> "Rhythm" (the 10 s strip) or "Median" (one representative
//     beat per lead), <SampleBase> and <SampleExponent> (fs = SampleBase x 10^SampleExponent Hz) and one
//     <LeadData> per lead: <LeadID> (I, II, V1..V6; MUSE stores these 8 and the cart derives the others),
//     <LeadSampleCountTotal>, <LeadSampleSize> (bytes per sample, 2), <LeadByteCountTotal>,
//     <LeadAmplitudeUnitsPerBit> (e.g. 4.88) in <LeadAmplitudeUnits> (MICROVOLTS), optional <LeadDataCRC32>
//     (CRC-32, as zlib computes it, of the decoded bytes) and <WaveFormData>: base64 of little-endian int16.
//   - <RestingECGMeasurements> (the measurements as confirmed in MUSE; <OriginalRestingECGMeasurements>, the
//     cart's unedited ones, when the first is absent): VentricularRate (bpm), PRInterval, QRSDuration,
//     QTInterval, QTCorrected (ms), PAxis, RAxis, TAxis (degrees).
//   - <PatientDemographics> (PatientID, PatientAge + AgeUnits, Gender), <TestDemographics> (AcquisitionDate
//     MM-DD-YYYY, AcquisitionTime HH:MM:SS, AcquisitionDevice, AcquisitionSoftwareVersion, CartNumber),
//     <PharmaData>/<PharmaCartID>, <MuseInfo>/<MuseVersion> (-> format_detail).
//   - <Diagnosis> (confirmed; <OriginalDiagnosis>, the cart's own, when the first is absent): a list of
//     <DiagnosisStatement> holding <StmtText> fragments; a fragment flagged <StmtFlag>ENDSLINE</StmtFlag> ends a
//     line, so fragments are joined until one does ("Lateral infarct" + ", age undetermined").
// Rhythm -> record leads; Median -> record.median. The 8 stored leads are returned as stored: ecg_read derives
// III, aVR, aVL, aVF.
//
// Checks: each lead's decoded bytes must be exactly LeadSampleCountTotal x LeadSampleSize (and
// LeadByteCountTotal when stated); the leads of a waveform must have one length; a CRC-32 that disagrees with
// the data is a warning (the samples are still returned: the user decides). A Median waveform that cannot be
// read is dropped with a warning (the rhythm strip is what kalium needs); a Rhythm waveform that cannot be read
// fails the file.
// Not supported: sample sizes other than 2 bytes (MUSE writes no others), non-zero LeadOffsetFirstSample /
// LeadTimeOffset (leads starting at different times; warned about and read as if aligned), the binary
// MeasurementMatrix (per-lead amplitudes), QRSTimesTypes (beat times), the site fields (the record has no
// place for them).
#include "ecg/readers.h"
#include "ecg/xml.h"

#include "core/base64.h"
#include "core/bytes.h"
#include "core/format.h"
#include "core/text.h"

#include <pugixml.hpp>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace kalium::ecg {
namespace {

constexpr const char *k_format = "ge-muse-xml";

// ---- small text helpers ----------------------------------------------------------------------------------

// The trimmed text of `parent`'s child element `name` ("" when there is none).
std::string child_text(pugi::xml_node parent, const char *name) { return trimmed(parent.child(name).child_value()); }

// ---- CRC-32 (IEEE 802.3, reflected, the zlib/PNG one) ---------------------------------------------------------

struct crc32_table {
    uint32_t entries[256] = {};
    constexpr crc32_table() {
        for (uint32_t n = 0; n < 256; n++) {
            uint32_t c = n;
            for (int k = 0; k < 8; k++) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            entries[n] = c;
        }
    }
};

uint32_t crc32_of(const std::vector<uint8_t> &bytes) {
    static constexpr crc32_table table;  // constant data computed at compile time, not state
    uint32_t c = 0xFFFFFFFFu;
    for (uint8_t b : bytes) c = table.entries[(c ^ b) & 0xFFu] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

// ---- waveforms -----------------------------------------------------------------------------------------------

// Microvolts per unit of <LeadAmplitudeUnits>; 0 when the unit is not one kalium knows.
double uv_per_amplitude_unit(const std::string &units) {
    if (equals_nocase(units, "MICROVOLTS")) return 1.0;
    if (equals_nocase(units, "MILLIVOLTS")) return 1000.0;
    if (equals_nocase(units, "NANOVOLTS")) return 0.001;
    return 0.0;
}

struct waveform {
    double fs_hz = 0.0;
    std::vector<ecg_lead> leads;
};

// Reads one <LeadData>. `where` names the waveform ("Rhythm waveform"); `index` counts leads from 1.
// `samples_left` is what kalium's total-sample limit still allows; it is reduced by what this lead uses.
status read_lead(pugi::xml_node lead_data, const std::string &where, size_t index, size_t &samples_left,
                 std::vector<std::string> &warnings, ecg_lead &lead) {
    const std::string lead_name = child_text(lead_data, "LeadID");
    const std::string at = format("%s: %s lead %zu (%s)", k_format, where.c_str(), index,
                                  lead_name.empty() ? "no LeadID" : lead_name.c_str());
    if (lead_name.empty()) return status::error(status_code::bad_format, "%s: <LeadID> is missing or empty", at.c_str());

    unsigned long long sample_count = 0;
    const std::string count_text = child_text(lead_data, "LeadSampleCountTotal");
    if (!parse_count(count_text, ~0ull, sample_count) || sample_count == 0)
        return status::error(status_code::bad_format, "%s: <LeadSampleCountTotal> '%s' is not a positive whole number",
                             at.c_str(), count_text.c_str());
    if (sample_count > samples_left)
        return status::error(status_code::too_large, "%s: %llu samples exceed kalium's limit of %zu samples in all", at.c_str(),
                             sample_count, k_max_total_samples);

    unsigned long long sample_size = 2;
    const std::string size_text = child_text(lead_data, "LeadSampleSize");
    if (!size_text.empty() && !parse_count(size_text, 64, sample_size))
        return status::error(status_code::bad_format, "%s: <LeadSampleSize> '%s' is not a byte count", at.c_str(), size_text.c_str());
    if (sample_size != 2)
        return status::error(status_code::unsupported, "%s: samples of %llu bytes (kalium reads MUSE's 2-byte samples)", at.c_str(),
                             sample_size);

    double units_per_bit = 0.0;
    const std::string per_bit_text = child_text(lead_data, "LeadAmplitudeUnitsPerBit");
    if (!parse_number(per_bit_text, units_per_bit) || !(units_per_bit > 0.0))
        return status::error(status_code::bad_format, "%s: <LeadAmplitudeUnitsPerBit> '%s' is not a positive number", at.c_str(),
                             per_bit_text.c_str());
    const std::string units = child_text(lead_data, "LeadAmplitudeUnits");
    const double uv_per_unit = uv_per_amplitude_unit(units);
    if (uv_per_unit == 0.0)
        return status::error(status_code::unsupported,
                             "%s: <LeadAmplitudeUnits> '%s' is not a known amplitude unit (MICROVOLTS, MILLIVOLTS, NANOVOLTS)",
                             at.c_str(), units.c_str());
    const double uv_per_bit = units_per_bit * uv_per_unit;

    std::vector<uint8_t> bytes;
    if (!base64_decode(lead_data.child("WaveFormData").child_value(), bytes))
        return status::error(status_code::bad_format, "%s: <WaveFormData> is not valid base64", at.c_str());
    if (bytes.size() != sample_count * sample_size)
        return status::error(status_code::bad_format,
                             "%s: <LeadSampleCountTotal> %llu needs %llu bytes but <WaveFormData> decodes to %zu bytes", at.c_str(),
                             sample_count, sample_count * sample_size, bytes.size());
    unsigned long long byte_count = 0;
    const std::string byte_count_text = child_text(lead_data, "LeadByteCountTotal");
    if (!byte_count_text.empty() && (!parse_count(byte_count_text, ~0ull, byte_count) || byte_count != bytes.size()))
        return status::error(status_code::bad_format, "%s: <LeadByteCountTotal> '%s' disagrees with the %zu bytes of <WaveFormData>",
                             at.c_str(), byte_count_text.c_str(), bytes.size());

    const std::string crc_text = child_text(lead_data, "LeadDataCRC32");
    if (!crc_text.empty()) {
        unsigned long long stated_crc = 0;
        const uint32_t actual_crc = crc32_of(bytes);
        if (!parse_count(crc_text, 0xFFFFFFFFull, stated_crc))
            warnings.push_back(format("%s lead %s: <LeadDataCRC32> '%s' is not a CRC-32 value; the data was not checked",
                                      where.c_str(), lead_name.c_str(), crc_text.c_str()));
        else if (stated_crc != actual_crc)
            warnings.push_back(format("%s lead %s: CRC-32 of the samples is %u but the file states %llu: the data may be corrupt",
                                      where.c_str(), lead_name.c_str(), actual_crc, stated_crc));
    }
    for (const char *offset_field : {"LeadOffsetFirstSample", "LeadTimeOffset"}) {
        const std::string offset_text = child_text(lead_data, offset_field);
        double offset = 0.0;
        if (!offset_text.empty() && parse_number(offset_text, offset) && offset != 0.0)
            warnings.push_back(format("%s lead %s: <%s> is %s; kalium reads the leads as starting together", where.c_str(),
                                      lead_name.c_str(), offset_field, offset_text.c_str()));
    }

    const byte_span span(bytes.data(), bytes.size());
    lead.name = lead_name;
    lead.units = units;
    lead.gain_adu_per_mv = 1000.0 / uv_per_bit;
    lead.baseline_adu = 0.0;
    lead.samples_uv.resize(static_cast<size_t>(sample_count));
    for (size_t i = 0; i < lead.samples_uv.size(); i++) {
        int16_t adu = 0;
        span.le(i * 2, adu);  // in bounds: bytes.size() == 2 x sample_count was checked above
        lead.samples_uv[i] = static_cast<float>(adu * uv_per_bit);
    }
    samples_left -= static_cast<size_t>(sample_count);
    return status();
}

result<waveform> read_waveform(pugi::xml_node node, const std::string &where, size_t &samples_left,
                               std::vector<std::string> &warnings) {
    waveform out;
    double sample_base = 0.0, exponent = 0.0;
    const std::string base_text = child_text(node, "SampleBase");
    if (base_text.empty())
        return status::error(status_code::bad_format, "%s: %s: <SampleBase> (the sampling rate) is missing", k_format, where.c_str());
    if (!parse_number(base_text, sample_base) || !(sample_base > 0.0))
        return status::error(status_code::bad_format, "%s: %s: <SampleBase> '%s' is not a positive number", k_format, where.c_str(),
                             base_text.c_str());
    const std::string exponent_text = child_text(node, "SampleExponent");
    if (!exponent_text.empty() && (!parse_number(exponent_text, exponent) || exponent != std::floor(exponent) ||
                                   std::fabs(exponent) > 6.0))
        return status::error(status_code::bad_format, "%s: %s: <SampleExponent> '%s' is not a small whole number", k_format,
                             where.c_str(), exponent_text.c_str());
    out.fs_hz = sample_base * std::pow(10.0, exponent);

    size_t index = 0;
    for (pugi::xml_node lead_data : node.children("LeadData")) {
        index++;
        if (index > k_max_leads)
            return status::error(status_code::too_large, "%s: %s has more than %zu leads", k_format, where.c_str(), k_max_leads);
        ecg_lead lead;
        status st = read_lead(lead_data, where, index, samples_left, warnings, lead);
        if (!st.ok()) return st;
        if (!out.leads.empty() && lead.samples_uv.size() != out.leads.front().samples_uv.size())
            return status::error(status_code::bad_format, "%s: %s: lead %s has %zu samples but lead %s has %zu", k_format,
                                 where.c_str(), lead.name.c_str(), lead.samples_uv.size(), out.leads.front().name.c_str(),
                                 out.leads.front().samples_uv.size());
        out.leads.push_back(std::move(lead));
    }
    if (out.leads.empty())
        return status::error(status_code::bad_format, "%s: %s has no <LeadData> (0 leads)", k_format, where.c_str());
    unsigned long long stated_leads = 0;
    const std::string stated_text = child_text(node, "NumberofLeads");
    if (!stated_text.empty() && (!parse_count(stated_text, ~0ull, stated_leads) || stated_leads != out.leads.size()))
        warnings.push_back(format("%s: <NumberofLeads> says '%s' but it holds %zu leads", where.c_str(), stated_text.c_str(),
                                  out.leads.size()));
    return out;
}

// ---- metadata ------------------------------------------------------------------------------------------------

void read_measurements(pugi::xml_node root, ecg_measurements &cart) {
    pugi::xml_node m = root.child("RestingECGMeasurements");
    if (!m) m = root.child("OriginalRestingECGMeasurements");
    if (!m) return;
    struct field {
        const char *name;
        std::optional<double> ecg_measurements::*member;
    };
    const field fields[] = {
        {"VentricularRate", &ecg_measurements::hr_bpm}, {"PRInterval", &ecg_measurements::pr_ms},
        {"QRSDuration", &ecg_measurements::qrs_ms},     {"QTInterval", &ecg_measurements::qt_ms},
        {"QTCorrected", &ecg_measurements::qtc_ms},     {"PAxis", &ecg_measurements::p_axis_deg},
        {"RAxis", &ecg_measurements::qrs_axis_deg},     {"TAxis", &ecg_measurements::t_axis_deg},
    };
    for (const field &f : fields) {
        double value = 0.0;
        if (parse_number(child_text(m, f.name), value)) cart.*f.member = value;
    }
}

void read_patient(pugi::xml_node root, ecg_record &record) {
    pugi::xml_node p = root.child("PatientDemographics");
    if (!p) return;
    record.patient.id = child_text(p, "PatientID");
    const std::string gender = child_text(p, "Gender");
    if (equals_nocase(gender, "MALE")) record.patient.sex = "male";
    else if (equals_nocase(gender, "FEMALE")) record.patient.sex = "female";

    double age = 0.0;
    const std::string age_text = child_text(p, "PatientAge");
    if (age_text.empty()) return;
    if (!parse_number(age_text, age) || age < 0.0) {
        record.warnings.push_back("<PatientAge> '" + age_text + "' is not an age; ignored");
        return;
    }
    const std::string units = child_text(p, "AgeUnits");
    double years_per_unit = 0.0;
    if (units.empty() || equals_nocase(units, "YEARS")) years_per_unit = 1.0;
    else if (equals_nocase(units, "MONTHS")) years_per_unit = 1.0 / 12.0;
    else if (equals_nocase(units, "WEEKS")) years_per_unit = 7.0 / 365.25;
    else if (equals_nocase(units, "DAYS")) years_per_unit = 1.0 / 365.25;
    else if (equals_nocase(units, "HOURS")) years_per_unit = 1.0 / (365.25 * 24.0);
    if (years_per_unit == 0.0) {
        record.warnings.push_back("<AgeUnits> '" + units + "' is not a known unit; the patient's age is ignored");
        return;
    }
    record.patient.age_years = age * years_per_unit;
}

bool all_digits(const std::string &s, size_t from, size_t count) {
    if (from + count > s.size()) return false;
    for (size_t i = from; i < from + count; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

// AcquisitionDate "MM-DD-YYYY" and AcquisitionTime "HH:MM:SS" -> "YYYY-MM-DDTHH:MM:SS" (date only when the time is
// absent); "" with a warning when the date is not in that form.
std::string acquisition_time(pugi::xml_node test, std::vector<std::string> &warnings) {
    const std::string date = child_text(test, "AcquisitionDate"), time = child_text(test, "AcquisitionTime");
    if (date.empty()) return "";
    if (date.size() != 10 || !all_digits(date, 0, 2) || date[2] != '-' || !all_digits(date, 3, 2) || date[5] != '-' ||
        !all_digits(date, 6, 4)) {
        warnings.push_back("<AcquisitionDate> '" + date + "' is not MM-DD-YYYY; the start time is unknown");
        return "";
    }
    std::string iso = date.substr(6, 4) + "-" + date.substr(0, 2) + "-" + date.substr(3, 2);
    if (time.empty()) return iso;
    if (time.size() == 8 && all_digits(time, 0, 2) && time[2] == ':' && all_digits(time, 3, 2) && time[5] == ':' &&
        all_digits(time, 6, 2))
        return iso + "T" + time;
    if (time.size() == 5 && all_digits(time, 0, 2) && time[2] == ':' && all_digits(time, 3, 2)) return iso + "T" + time;
    warnings.push_back("<AcquisitionTime> '" + time + "' is not HH:MM:SS; only the date is kept");
    return iso;
}

void read_test(pugi::xml_node root, ecg_record &record) {
    pugi::xml_node test = root.child("TestDemographics");
    record.start_time = acquisition_time(test, record.warnings);
    // The device: what acquired the ECG, its software, and which cart it was.
    std::string device = child_text(test, "AcquisitionDevice");
    const std::string software = child_text(test, "AcquisitionSoftwareVersion");
    std::string cart = child_text(test, "CartNumber");
    if (cart.empty()) cart = child_text(root.child("PharmaData"), "PharmaCartID");
    auto append = [&device](const std::string &part) { device += (device.empty() ? "" : ", ") + part; };
    if (!software.empty()) append("software " + software);
    if (!cart.empty()) append("cart " + cart);
    record.device = device;
}

// Statements of <Diagnosis> (or, without it, <OriginalDiagnosis>): fragments joined up to the one flagged ENDSLINE.
void read_statements(pugi::xml_node root, ecg_record &record) {
    pugi::xml_node diagnosis = root.child("Diagnosis");
    if (!diagnosis.child("DiagnosisStatement")) diagnosis = root.child("OriginalDiagnosis");
    std::string line;
    for (pugi::xml_node statement : diagnosis.children("DiagnosisStatement")) {
        line += child_text(statement, "StmtText");
        bool ends_line = false;
        for (pugi::xml_node flag : statement.children("StmtFlag"))
            if (equals_nocase(trimmed(flag.child_value()), "ENDSLINE")) ends_line = true;
        if (ends_line) {
            if (!line.empty()) record.statements.push_back(line);
            line.clear();
        }
    }
    if (!line.empty()) record.statements.push_back(line);
}

}  // namespace

result<ecg_record> read_ge_muse_xml(const named_bytes &file) {
    pugi::xml_document doc;
    if (status loaded = xml_load(file, k_format, doc); !loaded.ok()) return loaded;
    const pugi::xml_node root = doc.document_element();
    if (std::strcmp(root.name(), "RestingECG") != 0)
        return status::error(status_code::bad_format, "%s: the root element is <%s>, not <RestingECG>", k_format, root.name());

    ecg_record record;
    const std::string muse_version = child_text(root.child("MuseInfo"), "MuseVersion");
    if (!muse_version.empty()) record.format_detail = "MUSE " + muse_version;

    size_t samples_left = k_max_total_samples;
    bool have_rhythm = false, have_any_waveform = false;
    for (pugi::xml_node node : root.children("Waveform")) {
        have_any_waveform = true;
        const std::string type = child_text(node, "WaveformType");
        if (equals_nocase(type, "Rhythm")) {
            if (have_rhythm) {
                record.warnings.push_back("the file has a second Rhythm waveform; only the first is read");
                continue;
            }
            result<waveform> rhythm = read_waveform(node, "Rhythm waveform", samples_left, record.warnings);
            if (!rhythm.ok()) return rhythm.error();
            record.fs_hz = rhythm->fs_hz;
            record.leads = std::move(rhythm->leads);
            have_rhythm = true;
        } else if (equals_nocase(type, "Median")) {
            if (record.median) {
                record.warnings.push_back("the file has a second Median waveform; only the first is read");
                continue;
            }
            result<waveform> median = read_waveform(node, "Median waveform", samples_left, record.warnings);
            if (!median.ok()) {
                record.warnings.push_back("the median beats are not read: " + median.error().message());
                continue;
            }
            ecg_median_beats beats;
            beats.fs_hz = median->fs_hz;
            beats.leads = std::move(median->leads);
            record.median = std::move(beats);
        } else {
            record.warnings.push_back("a Waveform of type '" + type + "' is not read (kalium reads Rhythm and Median)");
        }
    }
    if (!have_any_waveform) return status::error(status_code::bad_format, "%s: the file has no <Waveform> element", k_format);
    if (!have_rhythm)
        return status::error(status_code::bad_format, "%s: the file has no Waveform of <WaveformType> Rhythm (the ECG strip)", k_format);

    read_measurements(root, record.cart);
    read_patient(root, record);
    read_test(root, record);
    read_statements(root, record);
    return record;
}

}  // namespace kalium::ecg
