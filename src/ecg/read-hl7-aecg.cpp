// ecg/read-hl7-aecg.cpp: the HL7 v3 annotated ECG (aECG, FDA) reader (see readers.h for the contract).
//
// What it reads: the HL7 v3 "Annotated ECG" XML document (ANSI/HL7 V3 ECG R1-2004, message PORT_MT020001, the
// format the FDA accepts for ECGs of clinical trials), root element <AnnotatedECG> in namespace urn:hl7-org:v3.
// Elements are matched by local name, so a namespace prefix (<hl7:AnnotatedECG>) changes nothing.
//   - The waveforms: AnnotatedECG/component/series with code RHYTHM. Its component/sequenceSet holds one
//     component/sequence per signal: the time sequence (code TIME_ABSOLUTE with a GLIST_TS value, or
//     TIME_RELATIVE with GLIST_PQ) whose <increment> value + unit (s, ms, us) gives the sampling interval and
//     whose GLIST_TS <head> is the time of the first sample; and one sequence per lead (code MDC_ECG_LEAD_I ...
//     MDC_ECG_LEAD_V6, or any other MDC_ECG_LEAD_ code), value xsi:type SLIST_PQ: <origin> and <scale> (value +
//     voltage unit: nV, uV, mV, V) and <digits>, whitespace-separated integers. The physical value of a digit d
//     is origin + scale x d, returned in microvolts; each lead keeps gain 1000 / scale(uV) ADC units per mV and
//     baseline -origin / scale.
//   - Representative beats: series/derivation/derivedSeries (or a series of its own) with code
//     REPRESENTATIVE_BEAT, same layout -> record.median. If they cannot be read they are dropped with a warning.
//   - Measurements (-> record.cart): the annotations directly in an annotationSet (component/annotation) of the
//     rhythm series, then of the representative-beat series, the first value of each kind winning:
//     MDC_ECG_HEART_RATE, MDC_ECG_TIME_PD_PR, _QRS, _QT, _QTc, MDC_ECG_ANGLE_P_FRONT, _QRS_FRONT, _T_FRONT.
//     Per-beat values (nested in MDC_ECG_BEAT annotations) are not the cart's global measurements and are not read.
//   - Statements (-> record.statements, in file order, without repeats): the text of MDC_ECG_INTERPRETATION
//     annotations and of their nested MDC_ECG_INTERPRETATION_STATEMENT / _SUMMARY annotations, and the display
//     name of top-level rhythm annotations (MDC_ECG_RHY, e.g. "Sinus Rhythm").
//   - Patient: componentOf/timepointEvent/componentOf/subjectAssignment/subject/trialSubject (id extension,
//     subjectDemographicPerson administrativeGenderCode and birthTime); the age from the "Reported Age"
//     observation (LOINC 21612-7) when present, else completed years from birthTime to the acquisition date.
//   - start_time: the GLIST_TS head of the rhythm series, else its effectiveTime/low, else the document's
//     effectiveTime (low or center), converted from HL7 TS (YYYYMMDDHHMMSS.fff+ZZZZ) to ISO 8601.
//   - device: series/author/seriesAuthor: manufacturerOrganization name, manufacturedSeriesDevice
//     manufacturerModelName (or modelNumber) and softwareName.
// Not supported: time given as an explicit list of sample times (SLIST_TS / SLIST_PQ time sequences), i.e.
// uneven sampling; lead values other than SLIST_PQ (a lead sequence of another type is an error); more than one
// sequenceSet per series (the first is read, with a warning); annotations other than the above (wave onsets and
// offsets, beat classes) are not read.
#include "ecg/readers.h"
#include "ecg/xml.h"

#include "core/format.h"
#include "core/text.h"

#include <pugixml.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

namespace kalium::ecg {
namespace {

constexpr const char *k_format = "hl7-aecg";

// ---- XML access by local name ----------------------------------------------------------------------------

const char *local_name(const char *qualified) {
    const char *colon = std::strrchr(qualified, ':');
    return colon ? colon + 1 : qualified;
}

bool is_element(pugi::xml_node node, const char *local) {
    return node.type() == pugi::node_element && std::strcmp(local_name(node.name()), local) == 0;
}

pugi::xml_node child(pugi::xml_node parent, const char *local) {
    for (pugi::xml_node c : parent.children())
        if (is_element(c, local)) return c;
    return pugi::xml_node();
}

std::vector<pugi::xml_node> children(pugi::xml_node parent, const char *local) {
    std::vector<pugi::xml_node> out;
    for (pugi::xml_node c : parent.children())
        if (is_element(c, local)) out.push_back(c);
    return out;
}

// The first element reached by following `steps` child by child (a null node when a step is missing).
pugi::xml_node descend(pugi::xml_node node, std::initializer_list<const char *> steps) {
    for (const char *step : steps) node = child(node, step);
    return node;
}

// Attribute by local name (xsi:type is "type"), trimmed; "" when absent.
std::string attribute(pugi::xml_node node, const char *local) {
    for (pugi::xml_attribute a : node.attributes())
        if (std::strcmp(local_name(a.name()), local) == 0) return trimmed(a.value());
    return "";
}

// The code of an act: <code code="..."/>.
std::string code_of(pugi::xml_node act) { return attribute(child(act, "code"), "code"); }

bool starts_with(const std::string &s, const char *prefix) { return s.rfind(prefix, 0) == 0; }

// ---- units ------------------------------------------------------------------------------------------------

// Microvolts per unit of a UCUM voltage unit; 0 when not a voltage kalium knows.
double uv_per_unit(const std::string &unit) {
    if (unit == "uV" || unit == "\xC2\xB5V" || unit == "\xCE\xBCV") return 1.0;  // u, micro sign, Greek mu
    if (unit == "mV") return 1000.0;
    if (unit == "V") return 1e6;
    if (unit == "nV") return 1e-3;
    return 0.0;
}

// Seconds per unit of a UCUM time unit; 0 when not a time kalium knows.
double seconds_per_unit(const std::string &unit) {
    if (unit == "s") return 1.0;
    if (unit == "ms") return 1e-3;
    if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") return 1e-6;
    return 0.0;
}

// A physical quantity <x value="..." unit="..."/>.
struct quantity {
    double value = 0.0;
    std::string unit;
};

// Reads a quantity; "" on success, else what is wrong with it.
std::string read_quantity(pugi::xml_node node, quantity &out) {
    if (!node) return "is missing";
    const std::string text = attribute(node, "value");
    if (!parse_number(text, out.value)) return "value '" + text + "' is not a number";
    out.unit = attribute(node, "unit");
    return "";
}

// ---- HL7 time stamps ----------------------------------------------------------------------------------------

bool digits_at(const std::string &s, size_t from, size_t count) {
    if (from + count > s.size()) return false;
    for (size_t i = from; i < from + count; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

// HL7 TS "YYYY[MM[DD[HH[MM[SS[.f...]]]]]][+-ZZZZ]" -> ISO 8601 to the same precision ("2002-11-22T09:10:00",
// fractions kept unless all zero, zone as +HH:MM). Returns "" when the text is not a TS.
std::string hl7_ts_to_iso(const std::string &ts) {
    size_t zone = ts.find_first_of("+-");
    const std::string stamp = ts.substr(0, zone);
    const std::string offset = zone == std::string::npos ? "" : ts.substr(zone);
    const size_t dot = stamp.find('.');
    const std::string whole = stamp.substr(0, dot), fraction = dot == std::string::npos ? "" : stamp.substr(dot + 1);
    const size_t n = whole.size();
    if (!digits_at(whole, 0, n) || (n != 4 && n != 6 && n != 8 && n != 10 && n != 12 && n != 14)) return "";
    if (!fraction.empty() && (n != 14 || !digits_at(fraction, 0, fraction.size()))) return "";
    if (!offset.empty() && (offset.size() != 5 || !digits_at(offset, 1, 4))) return "";
    std::string iso = whole.substr(0, 4);
    if (n >= 6) iso += "-" + whole.substr(4, 2);
    if (n >= 8) iso += "-" + whole.substr(6, 2);
    if (n >= 10) iso += "T" + whole.substr(8, 2);
    if (n >= 12) iso += ":" + whole.substr(10, 2);
    if (n >= 14) iso += ":" + whole.substr(12, 2);
    if (fraction.find_first_not_of('0') != std::string::npos) iso += "." + fraction;
    if (!offset.empty() && n >= 10) iso += offset.substr(0, 3) + ":" + offset.substr(3, 2);
    return iso;
}

// ---- waveforms ----------------------------------------------------------------------------------------------

// Parses the whitespace-separated integers of <digits> into microvolts, origin + scale x digit. Counts them
// first, so that nothing beyond `samples_left` is allocated.
status parse_digits(const char *text, double origin_uv, double scale_uv, size_t samples_left, const std::string &at,
                    std::vector<float> &out) {
    size_t count = 0;
    for (const char *p = text; *p;) {
        while (*p && is_space(*p)) p++;
        if (!*p) break;
        count++;
        while (*p && !is_space(*p)) p++;
    }
    if (count == 0) return status::error(status_code::bad_format, "%s: <digits> is empty (0 samples)", at.c_str());
    if (count > samples_left)
        return status::error(status_code::too_large, "%s: %zu digits exceed kalium's limit of %zu samples in all", at.c_str(), count,
                             k_max_total_samples);
    out.clear();
    out.reserve(count);
    for (const char *p = text; *p;) {
        while (*p && is_space(*p)) p++;
        if (!*p) break;
        const char *token = p;
        while (*p && !is_space(*p)) p++;
        const char *first = (*token == '+' && p - token > 1 && token[1] != '-') ? token + 1 : token;  // from_chars takes no '+'
        long long digit = 0;
        const std::from_chars_result parsed = std::from_chars(first, p, digit);
        if (parsed.ec != std::errc() || parsed.ptr != p) {
            const std::string shown(token, static_cast<size_t>(std::min<ptrdiff_t>(p - token, 24)));
            return status::error(status_code::bad_format, "%s: <digits> value %zu '%s' is not an integer", at.c_str(), out.size() + 1,
                                 shown.c_str());
        }
        out.push_back(static_cast<float>(origin_uv + scale_uv * static_cast<double>(digit)));
    }
    return status();
}

// A lead's name from its sequence code: the standard name for the 12 leads ("MDC_ECG_LEAD_AVR" -> "aVR"), else
// the code without its MDC_ECG_LEAD_ prefix ("V3R"), else the code itself.
std::string lead_name_of(const std::string &code) {
    const lead_id id = lead_id_from_label(code);
    if (id != lead_id::other) return lead_id_name(id);
    if (starts_with(code, "MDC_ECG_LEAD_") && code.size() > 13) return code.substr(13);
    return code;
}

// One SLIST_PQ lead sequence value.
status read_lead_value(pugi::xml_node value, const std::string &at, size_t samples_left, ecg_lead &lead) {
    quantity scale, origin;
    std::string problem = read_quantity(child(value, "scale"), scale);
    if (!problem.empty()) return status::error(status_code::bad_format, "%s: <scale> %s", at.c_str(), problem.c_str());
    const double scale_uv_per_unit = uv_per_unit(scale.unit);
    if (scale_uv_per_unit == 0.0)
        return status::error(status_code::unsupported, "%s: <scale> unit '%s' is not a voltage unit (nV, uV, mV, V)", at.c_str(),
                             scale.unit.c_str());
    const double scale_uv = scale.value * scale_uv_per_unit;
    if (scale_uv == 0.0) return status::error(status_code::bad_format, "%s: <scale> is 0", at.c_str());

    // <origin> is mandatory in HL7, but a missing one can only mean 0.
    double origin_uv = 0.0;
    if (pugi::xml_node origin_node = child(value, "origin")) {
        problem = read_quantity(origin_node, origin);
        if (!problem.empty()) return status::error(status_code::bad_format, "%s: <origin> %s", at.c_str(), problem.c_str());
        const double origin_uv_per_unit = uv_per_unit(origin.unit);
        if (origin_uv_per_unit == 0.0 && origin.value != 0.0)
            return status::error(status_code::unsupported, "%s: <origin> unit '%s' is not a voltage unit (nV, uV, mV, V)", at.c_str(),
                                 origin.unit.c_str());
        origin_uv = origin.value * origin_uv_per_unit;
    }
    pugi::xml_node digits = child(value, "digits");
    if (!digits) return status::error(status_code::bad_format, "%s: the SLIST_PQ value has no <digits>", at.c_str());
    status st = parse_digits(digits.child_value(), origin_uv, scale_uv, samples_left, at, lead.samples_uv);
    if (!st.ok()) return st;
    lead.gain_adu_per_mv = 1000.0 / scale_uv;
    lead.baseline_adu = -origin_uv / scale_uv;
    lead.units = scale.unit;
    return status();
}

struct waveforms {
    double fs_hz = 0.0;
    std::string first_sample_ts;  // GLIST_TS head, "" for relative time
    std::vector<ecg_lead> leads;
};

// The time sequence: sampling rate from <increment>, start from a GLIST_TS <head>.
status read_time_sequence(pugi::xml_node value, const std::string &at, waveforms &out) {
    const std::string type = attribute(value, "type");
    pugi::xml_node increment = child(value, "increment");
    if (!increment && !type.empty() && type != "GLIST_TS" && type != "GLIST_PQ")
        return status::error(status_code::unsupported, "%s: time given as %s (kalium reads evenly spaced samples: GLIST_TS or GLIST_PQ)",
                             at.c_str(), type.c_str());
    quantity step;
    const std::string problem = read_quantity(increment, step);
    if (!problem.empty())
        return status::error(status_code::bad_format, "%s: <increment> (the sampling interval) %s", at.c_str(), problem.c_str());
    const double s_per_unit = seconds_per_unit(step.unit);
    if (s_per_unit == 0.0)
        return status::error(status_code::unsupported, "%s: <increment> unit '%s' is not a time unit (s, ms, us)", at.c_str(),
                             step.unit.c_str());
    const double step_s = step.value * s_per_unit;
    if (!(step_s > 0.0))
        return status::error(status_code::bad_format, "%s: <increment> %g %s is not a positive sampling interval", at.c_str(), step.value,
                             step.unit.c_str());
    double fs_hz = 1.0 / step_s;
    // 0.002 s is not exact in binary: give the whole rate the file means when it is within rounding of one.
    if (std::fabs(fs_hz - std::round(fs_hz)) < 1e-9 * fs_hz) fs_hz = std::round(fs_hz);
    out.fs_hz = fs_hz;
    if (type == "GLIST_TS") out.first_sample_ts = attribute(child(value, "head"), "value");
    return status();
}

// The first sequenceSet of a series (rhythm or representative beats). `where` names it in messages.
result<waveforms> read_sequence_set(pugi::xml_node series, const std::string &where, size_t &samples_left,
                                    std::vector<std::string> &warnings) {
    std::vector<pugi::xml_node> sets;
    for (pugi::xml_node component : children(series, "component"))
        if (pugi::xml_node set = child(component, "sequenceSet")) sets.push_back(set);
    if (sets.empty()) return status::error(status_code::bad_format, "%s: %s has no component/sequenceSet", k_format, where.c_str());
    if (sets.size() > 1)
        warnings.push_back(format("%s has %zu sequenceSets; only the first is read", where.c_str(), sets.size()));

    waveforms out;
    bool have_time = false;
    for (pugi::xml_node component : children(sets.front(), "component")) {
        pugi::xml_node sequence = child(component, "sequence");
        if (!sequence) continue;
        const std::string code = code_of(sequence);
        const std::string at = format("%s: %s: sequence %s", k_format, where.c_str(), code.empty() ? "(no code)" : code.c_str());
        pugi::xml_node value = child(sequence, "value");
        const std::string type = attribute(value, "type");
        if (code == "TIME_ABSOLUTE" || code == "TIME_RELATIVE") {
            if (have_time) {
                warnings.push_back(where + ": a second time sequence is ignored");
                continue;
            }
            status st = read_time_sequence(value, at, out);
            if (!st.ok()) return st;
            have_time = true;
            continue;
        }
        const bool is_lead = starts_with(code, "MDC_ECG_LEAD_");
        if (type != "SLIST_PQ") {
            if (is_lead)
                return status::error(status_code::unsupported, "%s: value of type '%s' (kalium reads SLIST_PQ lead values)", at.c_str(),
                                     type.c_str());
            warnings.push_back(where + ": sequence " + code + " of type '" + type + "' is not an ECG lead; ignored");
            continue;
        }
        if (out.leads.size() == k_max_leads)
            return status::error(status_code::too_large, "%s: %s has more than %zu leads", k_format, where.c_str(), k_max_leads);
        ecg_lead lead;
        lead.name = lead_name_of(code);
        status st = read_lead_value(value, at, samples_left, lead);
        if (!st.ok()) return st;
        if (!out.leads.empty() && lead.samples_uv.size() != out.leads.front().samples_uv.size())
            return status::error(status_code::bad_format, "%s: %zu digits but lead %s has %zu (leads must have one length)", at.c_str(),
                                 lead.samples_uv.size(), out.leads.front().name.c_str(), out.leads.front().samples_uv.size());
        samples_left -= lead.samples_uv.size();
        out.leads.push_back(std::move(lead));
    }
    if (!have_time)
        return status::error(status_code::bad_format, "%s: %s has no TIME_ABSOLUTE or TIME_RELATIVE sequence (the sampling interval)",
                             k_format, where.c_str());
    if (out.leads.empty()) return status::error(status_code::bad_format, "%s: %s has no lead sequences (0 leads)", k_format, where.c_str());
    return out;
}

// ---- annotations ------------------------------------------------------------------------------------------

struct measurement_code {
    const char *code;
    std::optional<double> ecg_measurements::*member;
    enum { time_ms, rate_bpm, angle_deg } kind;
};

const measurement_code k_measurements[] = {
    {"MDC_ECG_HEART_RATE", &ecg_measurements::hr_bpm, measurement_code::rate_bpm},
    {"MDC_ECG_TIME_PD_PR", &ecg_measurements::pr_ms, measurement_code::time_ms},
    {"MDC_ECG_TIME_PD_QRS", &ecg_measurements::qrs_ms, measurement_code::time_ms},
    {"MDC_ECG_TIME_PD_QT", &ecg_measurements::qt_ms, measurement_code::time_ms},
    {"MDC_ECG_TIME_PD_QTc", &ecg_measurements::qtc_ms, measurement_code::time_ms},
    {"MDC_ECG_ANGLE_P_FRONT", &ecg_measurements::p_axis_deg, measurement_code::angle_deg},
    {"MDC_ECG_ANGLE_QRS_FRONT", &ecg_measurements::qrs_axis_deg, measurement_code::angle_deg},
    {"MDC_ECG_ANGLE_T_FRONT", &ecg_measurements::t_axis_deg, measurement_code::angle_deg},
};

// The factor from `unit` to the measurement's kalium unit; 0 when the unit does not fit.
double measurement_factor(const measurement_code &m, const std::string &unit) {
    switch (m.kind) {
        case measurement_code::time_ms: return seconds_per_unit(unit) * 1000.0;
        case measurement_code::rate_bpm:
            return (unit == "bpm" || unit == "/min" || unit == "1/min" || unit == "{beats}/min" || unit == "{beat}/min") ? 1.0 : 0.0;
        case measurement_code::angle_deg: return unit == "deg" ? 1.0 : 0.0;
    }
    return 0.0;
}

void add_statement(ecg_record &record, const std::string &text) {
    if (text.empty()) return;
    for (const std::string &s : record.statements)
        if (s == text) return;
    record.statements.push_back(text);
}

void read_measurement(pugi::xml_node annotation, const measurement_code &m, ecg_record &record) {
    if (record.cart.*m.member) return;  // the first annotation set that states it wins
    quantity q;
    const std::string problem = read_quantity(child(annotation, "value"), q);
    if (!problem.empty()) {
        record.warnings.push_back(std::string(m.code) + " annotation: value " + problem + "; ignored");
        return;
    }
    const double factor = measurement_factor(m, q.unit);
    if (factor == 0.0) {
        record.warnings.push_back(std::string(m.code) + " annotation: unit '" + q.unit + "' is not understood; ignored");
        return;
    }
    record.cart.*m.member = q.value * factor;
}

// Measurements and statements from the top-level annotations of one annotationSet.
void read_annotation_set(pugi::xml_node set, ecg_record &record) {
    for (pugi::xml_node component : children(set, "component")) {
        pugi::xml_node annotation = child(component, "annotation");
        const std::string code = code_of(annotation);
        for (const measurement_code &m : k_measurements)
            if (code == m.code) read_measurement(annotation, m, record);
        if (code == "MDC_ECG_INTERPRETATION" || code == "MDC_ECG_INTERPRETATION_STATEMENT" || code == "MDC_ECG_INTERPRETATION_SUMMARY") {
            add_statement(record, trimmed(child(annotation, "value").child_value()));
            for (pugi::xml_node nested : children(annotation, "component")) {
                pugi::xml_node inner = child(nested, "annotation");
                const std::string inner_code = code_of(inner);
                if (inner_code == "MDC_ECG_INTERPRETATION_STATEMENT" || inner_code == "MDC_ECG_INTERPRETATION_SUMMARY")
                    add_statement(record, trimmed(child(inner, "value").child_value()));
            }
        } else if (code == "MDC_ECG_RHY") {
            add_statement(record, attribute(child(annotation, "value"), "displayName"));
        }
    }
}

void read_annotations(pugi::xml_node series, ecg_record &record) {
    for (pugi::xml_node subject_of : children(series, "subjectOf"))
        for (pugi::xml_node set : children(subject_of, "annotationSet")) read_annotation_set(set, record);
}

// ---- patient and device -------------------------------------------------------------------------------------

// Completed years from an HL7 birth date to an ISO acquisition date; false when either lacks a full date.
bool completed_years(const std::string &birth_ts, const std::string &iso_date, double &years) {
    if (!digits_at(birth_ts, 0, 8) || iso_date.size() < 10 || !digits_at(iso_date, 0, 4) || !digits_at(iso_date, 5, 2) ||
        !digits_at(iso_date, 8, 2))
        return false;
    const int by = std::atoi(birth_ts.substr(0, 4).c_str()), bm = std::atoi(birth_ts.substr(4, 2).c_str()),
              bd = std::atoi(birth_ts.substr(6, 2).c_str());
    const int y = std::atoi(iso_date.substr(0, 4).c_str()), m = std::atoi(iso_date.substr(5, 2).c_str()),
              d = std::atoi(iso_date.substr(8, 2).c_str());
    int age = y - by;
    if (m < bm || (m == bm && d < bd)) age--;
    if (age < 0) return false;
    years = age;
    return true;
}

// Years per UCUM age unit; 0 when not one.
double years_per_unit(const std::string &unit) {
    if (unit == "a") return 1.0;
    if (unit == "mo") return 1.0 / 12.0;
    if (unit == "wk") return 7.0 / 365.25;
    if (unit == "d") return 1.0 / 365.25;
    if (unit == "h") return 1.0 / (365.25 * 24.0);
    return 0.0;
}

void read_patient(pugi::xml_node root, ecg_record &record) {
    pugi::xml_node subject = descend(root, {"componentOf", "timepointEvent", "componentOf", "subjectAssignment", "subject", "trialSubject"});
    pugi::xml_node id = child(subject, "id");
    record.patient.id = attribute(id, "extension");
    if (record.patient.id.empty()) record.patient.id = attribute(id, "root");
    pugi::xml_node person = child(subject, "subjectDemographicPerson");
    const std::string sex = attribute(child(person, "administrativeGenderCode"), "code");
    if (sex == "M") record.patient.sex = "male";
    else if (sex == "F") record.patient.sex = "female";
    const std::string birth = attribute(child(person, "birthTime"), "value");

    double birth_age = 0.0;
    const bool have_birth_age = completed_years(birth, record.start_time, birth_age);
    for (pugi::xml_node variable : children(root, "controlVariable")) {
        pugi::xml_node observation = child(variable, "relatedObservation");
        if (code_of(observation) != "21612-7") continue;  // LOINC "Reported Age"
        quantity age;
        if (!read_quantity(child(observation, "value"), age).empty() || years_per_unit(age.unit) == 0.0 || age.value < 0.0) {
            record.warnings.push_back("the reported age is not an age in a known unit; ignored");
            continue;
        }
        record.patient.age_years = age.value * years_per_unit(age.unit);
        if (have_birth_age && std::fabs(*record.patient.age_years - birth_age) >= 1.0)
            record.warnings.push_back(format("the reported age (%g years) disagrees with the birth date %s (%g years at the recording)",
                                             *record.patient.age_years, birth.c_str(), birth_age));
        break;
    }
    if (!record.patient.age_years && have_birth_age) record.patient.age_years = birth_age;
}

std::string device_of(pugi::xml_node series) {
    pugi::xml_node author = descend(series, {"author", "seriesAuthor"});
    pugi::xml_node device = child(author, "manufacturedSeriesDevice");
    std::string model = trimmed(child(device, "manufacturerModelName").child_value());
    if (model.empty()) model = trimmed(child(device, "modelNumber").child_value());
    const std::string maker = trimmed(descend(author, {"manufacturerOrganization", "name"}).child_value());
    const std::string software = trimmed(child(device, "softwareName").child_value());
    std::string out = maker;
    if (!model.empty()) out += (out.empty() ? "" : " ") + model;
    if (!software.empty()) out += (out.empty() ? "software " : ", software ") + software;
    return out;
}

std::string start_time_of(pugi::xml_node root, pugi::xml_node rhythm, const std::string &first_sample_ts) {
    for (const std::string &ts : {first_sample_ts, attribute(descend(rhythm, {"effectiveTime", "low"}), "value"),
                                  attribute(descend(root, {"effectiveTime", "low"}), "value"),
                                  attribute(descend(root, {"effectiveTime", "center"}), "value")}) {
        const std::string iso = hl7_ts_to_iso(ts);
        if (!iso.empty()) return iso;
    }
    return "";
}

}  // namespace

result<ecg_record> read_hl7_aecg(const named_bytes &file) {
    pugi::xml_document doc;
    if (status loaded = xml_load(file, k_format, doc); !loaded.ok()) return loaded;
    const pugi::xml_node root = doc.document_element();
    if (!is_element(root, "AnnotatedECG"))
        return status::error(status_code::bad_format, "%s: the root element is <%s>, not <AnnotatedECG>", k_format, root.name());

    // The rhythm series, and representative beats beside it or derived from it.
    pugi::xml_node rhythm, representative;
    for (pugi::xml_node component : children(root, "component")) {
        pugi::xml_node series = child(component, "series");
        if (!series) continue;
        const std::string code = code_of(series);
        if (code == "RHYTHM" && !rhythm) rhythm = series;
        if (code == "REPRESENTATIVE_BEAT" && !representative) representative = series;
        for (pugi::xml_node derivation : children(series, "derivation")) {
            pugi::xml_node derived = child(derivation, "derivedSeries");
            if (code_of(derived) == "REPRESENTATIVE_BEAT" && !representative) representative = derived;
        }
    }
    if (!rhythm) return status::error(status_code::bad_format, "%s: the document has no component/series with code RHYTHM", k_format);

    ecg_record record;
    size_t samples_left = k_max_total_samples;
    result<waveforms> rhythm_waves = read_sequence_set(rhythm, "RHYTHM series", samples_left, record.warnings);
    if (!rhythm_waves.ok()) return rhythm_waves.error();
    record.fs_hz = rhythm_waves->fs_hz;
    record.leads = std::move(rhythm_waves->leads);
    record.format_detail = "HL7 v3 aECG";
    if (attribute(root, "schemaLocation").find("PORT_MT020001") != std::string::npos) record.format_detail += " (PORT_MT020001)";

    if (representative) {
        result<waveforms> beats = read_sequence_set(representative, "REPRESENTATIVE_BEAT series", samples_left, record.warnings);
        if (beats.ok()) {
            ecg_median_beats median;
            median.fs_hz = beats->fs_hz;
            median.leads = std::move(beats->leads);
            record.median = std::move(median);
        } else {
            record.warnings.push_back("the representative beats are not read: " + beats.error().message());
        }
    }

    record.start_time = start_time_of(root, rhythm, rhythm_waves->first_sample_ts);
    record.device = device_of(rhythm);
    read_patient(root, record);
    read_annotations(rhythm, record);
    if (representative) read_annotations(representative, record);
    return record;
}

}  // namespace kalium::ecg
