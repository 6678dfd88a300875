// python/module.cpp: kalium_core, the C++ core as a Python module (pybind11), so that training reads ECG
// files and prepares network inputs with exactly the code the app and the CLI run.
//
//   import kalium_core as kc
//   rec = kc.read("ecg.xml")                        # or kc.read_bytes(name, data, companions=[(name, data)])
//   rec["samples_uv"]                               # (n_leads, n_samples) float32, microvolts
//   x = kc.prepare_input(rec["samples_uv"], rec["fs_hz"], rec["lead_names"])
//   x["values_mv"]                                  # (12, 1250) float32: the network input, mV
//   e = kc.measure(rec["samples_uv"], rec["fs_hz"], rec["lead_names"])
//   e["qt_ms"], e["qrs_axis_deg"]                   # the 8 EMPs (None when not measurable), e["warnings"]
//   m = kc.Model()                                  # the shipped weights (or a path), loaded once, sha256 checked
//   json.loads(m.predict_file("ecg.xml"))           # the prediction JSON of `kalium predict`, as one line of text
//   m.predict_bytes(name, data, companions), m.predict_record(kc.read(path))   # the same from bytes, a record
//
// Errors raise ValueError with the core's message (which names the file and what is wrong), except in the
// Model's predictions: a file that cannot be predicted gives {"file", "error", "error_code"}, as the CLI does.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

#include "core/measurement-fields.h"
#include "ecg/files.h"
#include "kalium.h"
#include "nn/predict-file.h"
#include "nn/prediction-json.h"

#include <cstdlib>
#include <memory>
#include <mutex>

namespace py = pybind11;
using namespace kalium;

namespace {

using float_array = py::array_t<float, py::array::c_style | py::array::forcecast>;

[[noreturn]] void raise(const status &error) { throw py::value_error(error.to_string()); }

py::object optional_number(const std::optional<double> &value) {
    return value ? py::object(py::float_(*value)) : py::object(py::none());
}

py::dict measurements_dict(const ecg_measurements &m) {
    py::dict d;
    for (const ecg_measurement_field &f : k_ecg_measurement_fields) d[f.key] = optional_number(m.*f.value);
    return d;
}

// (n_leads, n_samples) float32 copy of the leads' samples.
float_array leads_array(const std::vector<ecg_lead> &leads) {
    const size_t n = leads.empty() ? 0 : leads.front().samples_uv.size();
    float_array out({leads.size(), n});
    float *dst = out.mutable_data();
    for (size_t l = 0; l < leads.size(); l++)
        std::copy(leads[l].samples_uv.begin(), leads[l].samples_uv.end(), dst + l * n);
    return out;
}

py::dict record_dict(const ecg_record &r) {
    py::dict d;
    d["source_name"] = r.source_name;
    d["format"] = r.format;
    d["format_detail"] = r.format_detail;
    d["fs_hz"] = r.fs_hz;
    std::vector<std::string> names;
    std::vector<bool> derived;
    for (const ecg_lead &lead : r.leads) {
        names.push_back(lead.name);
        derived.push_back(lead.derived);
    }
    d["lead_names"] = names;
    d["lead_derived"] = derived;
    d["samples_uv"] = leads_array(r.leads);
    d["start_time"] = r.start_time;
    d["patient_id"] = r.patient.id;
    d["device"] = r.device;
    d["cart_measurements"] = measurements_dict(r.cart);
    d["statements"] = r.statements;
    d["warnings"] = r.warnings;
    return d;
}

read_options make_options(double csv_fs_hz, double csv_uv_per_unit) {
    read_options options;
    options.csv_fs_hz = csv_fs_hz;
    options.csv_uv_per_unit = csv_uv_per_unit;
    return options;
}

py::dict read_bytes(const std::string &name, const py::bytes &data,
                    const std::vector<std::pair<std::string, py::bytes>> &companions, double csv_fs_hz,
                    double csv_uv_per_unit) {
    // Keep the byte strings alive and their views valid for the duration of the read.
    const std::string file_bytes = data;
    std::vector<std::string> companion_bytes;
    for (const auto &c : companions) companion_bytes.push_back(std::string(c.second));
    named_bytes file{name, reinterpret_cast<const uint8_t *>(file_bytes.data()), file_bytes.size()};
    std::vector<named_bytes> others;
    for (size_t i = 0; i < companions.size(); i++)
        others.push_back({companions[i].first, reinterpret_cast<const uint8_t *>(companion_bytes[i].data()),
                          companion_bytes[i].size()});
    result<ecg_record> record = [&] {
        py::gil_scoped_release release;
        return ecg_read(file, others, make_options(csv_fs_hz, csv_uv_per_unit));
    }();
    if (!record) raise(record.error());
    return record_dict(record.value());
}

// Reads a file by path, as the CLI does (ecg/files.h): a WFDB header's companions are every file it names
// (.dat, .mat, .xyz, ...) that exists in its folder.
py::dict read_path(const std::string &path, double csv_fs_hz, double csv_uv_per_unit) {
    result<ecg_record> record = [&] {
        py::gil_scoped_release release;
        return read_ecg_file(load_ecg_file(path), make_options(csv_fs_hz, csv_uv_per_unit));
    }();
    if (!record) raise(record.error());
    return record_dict(record.value());
}

// A record from an array: leads named as the 12 standard leads (or by `lead_names`), fs_hz, microvolts.
ecg_record record_from_array(const float_array &samples_uv, double fs_hz, const std::vector<std::string> &lead_names) {
    if (samples_uv.ndim() != 2) throw py::value_error("samples_uv: expected a 2-D array (leads, samples)");
    const size_t n_leads = static_cast<size_t>(samples_uv.shape(0)), n = static_cast<size_t>(samples_uv.shape(1));
    if (!lead_names.empty() && lead_names.size() != n_leads)
        throw py::value_error("lead_names: " + std::to_string(lead_names.size()) + " names for " +
                              std::to_string(n_leads) + " leads");
    if (lead_names.empty() && n_leads != k_standard_lead_count)
        throw py::value_error("samples_uv: " + std::to_string(n_leads) +
                              " leads without lead_names; the 12 standard leads in order need no names");
    if (!(fs_hz > 0.0)) throw py::value_error("fs_hz: must be positive");
    ecg_record record;
    record.source_name = "<array>";
    record.format = "array";
    record.fs_hz = fs_hz;
    const float *src = samples_uv.data();
    for (size_t l = 0; l < n_leads; l++) {
        ecg_lead lead;
        lead.name = lead_names.empty() ? lead_id_name(static_cast<lead_id>(l)) : lead_names[l];
        lead.id = lead_id_from_label(lead.name);
        lead.units = "uV";
        lead.samples_uv.assign(src + l * n, src + (l + 1) * n);
        record.leads.push_back(std::move(lead));
    }
    ecg_derive_missing_limb_leads(record);
    ecg_sort_leads(record);
    return record;
}

py::dict prepare_input(const float_array &samples_uv, double fs_hz, const std::vector<std::string> &lead_names, bool check_quality) {
    ecg_record record = record_from_array(samples_uv, fs_hz, lead_names);
    result<network_input> input = [&] {
        py::gil_scoped_release release;
        // check_quality=False: the same values without the quality warnings (and without their ~3 ms), for
        // generated training data
        return check_quality ? ecg_prepare_input(record) : ecg_prepare_input(record, std::vector<quality_warning>{});
    }();
    if (!input) raise(input.error());
    float_array values({static_cast<size_t>(k_standard_lead_count), k_network_window_samples});
    std::copy(input->values_mv.begin(), input->values_mv.end(), values.mutable_data());
    std::vector<size_t> starts(input->window_start, input->window_start + k_standard_lead_count);
    py::dict d;
    d["values_mv"] = values;
    d["window_start"] = starts;
    d["warnings"] = input->warnings;
    return d;
}

// ecg_measure of a record given as an array (as prepare_input): the 8 EMPs (None when not measurable, with a
// warning saying why), both QTc formulas, the QRS complexes and which are dominant, the median beat and its
// fiducial points, and the quality findings (ECG12Net-2 is trained with these as the measured EMPs).
py::dict measure(const float_array &samples_uv, double fs_hz, const std::vector<std::string> &lead_names) {
    ecg_record record = record_from_array(samples_uv, fs_hz, lead_names);
    result<ecg_analysis> analysis = [&] {
        py::gil_scoped_release release;
        return ecg_measure(record);
    }();
    if (!analysis) raise(analysis.error());
    const ecg_analysis &a = analysis.value();
    py::dict d = measurements_dict(a.values);
    d["qtc_formula"] = a.qtc_formula;
    d["qtc_bazett_ms"] = optional_number(a.qtc_bazett_ms);
    d["qtc_fridericia_ms"] = optional_number(a.qtc_fridericia_ms);
    d["mains_hz"] = a.mains_hz;
    d["qrs_samples_500hz"] = a.qrs_samples;
    d["dominant"] = a.dominant;
    float_array median({a.median_uv.size(), a.median_length});
    for (size_t l = 0; l < a.median_uv.size(); l++) std::copy(a.median_uv[l].begin(), a.median_uv[l].end(), median.mutable_data() + l * a.median_length);
    d["median_uv"] = median;
    d["median_fiducial"] = a.median_fiducial;
    py::dict f;
    f["p_onset"] = optional_number(a.fiducials.p_onset_ms);
    f["p_peak"] = optional_number(a.fiducials.p_peak_ms);
    f["p_offset"] = optional_number(a.fiducials.p_offset_ms);
    f["qrs_onset"] = optional_number(a.fiducials.qrs_onset_ms);
    f["qrs_offset"] = optional_number(a.fiducials.qrs_offset_ms);
    f["t_peak"] = optional_number(a.fiducials.t_peak_ms);
    f["t_end"] = optional_number(a.fiducials.t_end_ms);
    d["fiducials_ms"] = f;
    py::list quality;
    for (const quality_warning &w : a.quality) {
        py::dict q;
        q["lead"] = w.lead;
        q["kind"] = w.kind;
        q["message"] = w.message;
        quality.append(q);
    }
    d["quality"] = quality;
    d["warnings"] = a.warnings;
    return d;
}

float_array to_array(const std::vector<float> &v) {
    float_array out(v.size());
    std::copy(v.begin(), v.end(), out.mutable_data());
    return out;
}

std::vector<float> from_array(const float_array &a) {
    if (a.ndim() != 1) throw py::value_error("samples: expected a 1-D array");
    return std::vector<float>(a.data(), a.data() + a.size());
}

// A record given as the dict kc.read returns (samples_uv, fs_hz, lead_names, and when present lead_derived,
// warnings, source_name), so that predicting it gives what predicting its file gives.
ecg_record record_from_dict(const py::dict &rec) {
    for (const char *key : {"samples_uv", "fs_hz", "lead_names"})
        if (!rec.contains(key)) throw py::value_error(std::string("record: no '") + key + "' (give the dict kalium_core.read returns)");
    ecg_record record = record_from_array(rec["samples_uv"].cast<float_array>(), rec["fs_hz"].cast<double>(),
                                          rec["lead_names"].cast<std::vector<std::string>>());
    if (rec.contains("source_name")) record.source_name = rec["source_name"].cast<std::string>();
    if (rec.contains("warnings")) record.warnings = rec["warnings"].cast<std::vector<std::string>>();
    if (rec.contains("lead_derived")) {
        // record_from_array sorted the leads; match the flags by name
        const auto names = rec["lead_names"].cast<std::vector<std::string>>();
        const auto derived = rec["lead_derived"].cast<std::vector<bool>>();
        if (derived.size() != names.size())
            throw py::value_error("record: " + std::to_string(derived.size()) + " lead_derived flags for " +
                                  std::to_string(names.size()) + " lead_names");
        for (ecg_lead &lead : record.leads)
            for (size_t i = 0; i < names.size(); i++)
                if (names[i] == lead.name) lead.derived = derived[i];
    }
    return record;
}

// ECG12Net loaded once from a weights file (with its .sha256 manifest when present, as `kalium predict`), and
// its predictions as the prediction JSON text of `kalium predict` (nn/prediction-json.h): the same code writes
// both, so a row of the archive scorer is a line of `kalium predict --format jsonl`.
class py_model {
public:
    py_model(const std::string &path, int threads, const std::string &precision, const std::string &expected_sha256) {
        if (threads < 1 || threads > 64) throw py::value_error("threads: must be 1-64 (got " + std::to_string(threads) + ")");
        model_options options;
        options.threads = threads;
        options.expected_sha256 = expected_sha256;
        if (precision == "int8") options.arithmetic = model_options::precision::int8;
        else if (precision == "f32-direct") options.winograd = false;
        else if (precision != "f32") throw py::value_error("precision: must be f32, f32-direct or int8 (got '" + precision + "')");
        path_ = path;
        if (path_.empty()) {
            const char *env = std::getenv("KALIUM_MODEL");
            path_ = env && *env ? env : KALIUM_DEFAULT_MODEL;
        }
        result<std::unique_ptr<k_model>> model = [&] {
            py::gil_scoped_release release;
            return load_model_file(path_, options);
        }();
        if (!model) raise(model.error());
        model_ = std::move(model).value();
    }

    const std::string &path() const { return path_; }
    const std::string &name() const { return model_->name(); }
    const std::string &sha256() const { return model_->sha256(); }

    std::string predict_file(const std::string &path, double csv_fs_hz, double csv_uv_per_unit) {
        py::gil_scoped_release release;
        const ecg_file file = load_ecg_file(path);
        return predict_locked(path, read_ecg_file(file, make_options(csv_fs_hz, csv_uv_per_unit)));
    }

    std::string predict_bytes(const std::string &name, const py::bytes &data,
                              const std::vector<std::pair<std::string, py::bytes>> &companions, double csv_fs_hz,
                              double csv_uv_per_unit) {
        const std::string file_bytes = data;
        std::vector<std::string> companion_bytes;
        for (const auto &c : companions) companion_bytes.push_back(std::string(c.second));
        py::gil_scoped_release release;
        std::vector<named_bytes> others;
        for (size_t i = 0; i < companions.size(); i++)
            others.push_back({companions[i].first, reinterpret_cast<const uint8_t *>(companion_bytes[i].data()), companion_bytes[i].size()});
        return predict_locked(name, ecg_read({name, reinterpret_cast<const uint8_t *>(file_bytes.data()), file_bytes.size()}, others,
                                             make_options(csv_fs_hz, csv_uv_per_unit)));
    }

    std::string predict_record_dict(const py::dict &rec, const std::string &file) {
        ecg_record record = record_from_dict(rec);
        const std::string name = file.empty() ? record.source_name : file;
        py::gil_scoped_release release;
        return predict_locked(name, std::move(record));
    }

private:
    // k_model::predict reuses one runtime and is not thread-safe: one prediction at a time per Model.
    std::string predict_locked(const std::string &file, const result<ecg_record> &record) {
        std::lock_guard<std::mutex> lock(mutex_);
        return json_text(prediction_file_json(file, predict_record(*model_, record)), -1);
    }

    std::string path_;
    std::unique_ptr<k_model> model_;
    std::mutex mutex_;
};

py::list write_wfdb(const float_array &samples_uv, double fs_hz, const std::vector<std::string> &lead_names,
                    const std::string &record_name) {
    const ecg_record record = record_from_array(samples_uv, fs_hz, lead_names);
    result<std::vector<written_file>> files = ecg_write_wfdb(record, record_name);
    if (!files) raise(files.error());
    py::list out;
    for (const written_file &f : files.value())
        out.append(py::make_tuple(f.name, py::bytes(reinterpret_cast<const char *>(f.bytes.data()), f.bytes.size())));
    return out;
}

}  // namespace

PYBIND11_MODULE(kalium_core, m) {
    m.doc() = "kalium's C++ core: ECG file readers, the network's input preparation and ECG12Net";
    m.attr("__version__") = version_string();
    m.attr("network_fs_hz") = k_network_fs_hz;
    m.attr("network_window_samples") = k_network_window_samples;
    std::vector<std::string> leads;
    for (int l = 0; l < k_standard_lead_count; l++) leads.push_back(lead_id_name(static_cast<lead_id>(l)));
    m.attr("standard_leads") = leads;

    m.def("read", &read_path, py::arg("path"), py::arg("csv_fs_hz") = 0.0, py::arg("csv_uv_per_unit") = 0.0,
          "Reads an ECG file (any supported format; for WFDB give the .hea: every file it names in its folder is "
          "read with it, as `kalium predict` does) -> dict with samples_uv (leads, samples) float32, fs_hz, "
          "lead_names, lead_derived, format, cart_measurements, warnings, ...");
    m.def("sniff_format", [](const py::bytes &data) {
        const std::string bytes = data;
        return ecg_sniff_format(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size());
    }, py::arg("data"), "The ECG format of a file's bytes, by content ('wfdb', 'philips-xml', ..., or '' if none)");
    m.def("wfdb_named_files", [](const py::bytes &header, const std::string &header_name) {
        const std::string bytes = header;
        return wfdb_named_files(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size(), header_name);
    }, py::arg("header"), py::arg("header_name"),
          "The file names a WFDB header names (its signal files), the companions read() and `kalium predict` load "
          "from its folder");
    m.def("write_wfdb", &write_wfdb, py::arg("samples_uv"), py::arg("fs_hz"), py::arg("lead_names") = std::vector<std::string>{},
          py::arg("record_name") = "record",
          "A record as WFDB format 16 (ecg_write_wfdb) -> [(file name, bytes)]: the .hea and the .dat");
    py::class_<py_model>(m, "Model", "ECG12Net loaded once from a .kmodel file (sha256-checked against PATH.sha256 "
                                     "when present); predictions are the prediction JSON text of `kalium predict`")
        .def(py::init<const std::string &, int, const std::string &, const std::string &>(), py::arg("path") = "",
             py::arg("threads") = 1, py::arg("precision") = "f32", py::arg("expected_sha256") = "",
             "path: the weights (default $KALIUM_MODEL, else the shipped model/ecg12net-1.kmodel); threads 1-64; "
             "precision f32, f32-direct or int8; expected_sha256: the file must have it (as well as its manifest's)")
        .def_property_readonly("path", &py_model::path)
        .def_property_readonly("name", &py_model::name)
        .def_property_readonly("sha256", &py_model::sha256)
        .def("predict_file", &py_model::predict_file, py::arg("path"), py::arg("csv_fs_hz") = 0.0,
             py::arg("csv_uv_per_unit") = 0.0,
             "Reads (with WFDB companions) and predicts one file -> one line of `kalium predict --format jsonl`: "
             "the prediction JSON, or {file, error, error_code}")
        .def("predict_bytes", &py_model::predict_bytes, py::arg("name"), py::arg("data"),
             py::arg("companions") = std::vector<std::pair<std::string, py::bytes>>{}, py::arg("csv_fs_hz") = 0.0,
             py::arg("csv_uv_per_unit") = 0.0, "predict_file for bytes; companions: [(name, bytes)] (WFDB signal files)")
        .def("predict_record", &py_model::predict_record_dict, py::arg("record"), py::arg("file") = "",
             "Predicts a record dict from read() (file: the JSON's \"file\", default the record's source_name)");
    m.def("read_bytes", &read_bytes, py::arg("name"), py::arg("data"),
          py::arg("companions") = std::vector<std::pair<std::string, py::bytes>>{}, py::arg("csv_fs_hz") = 0.0,
          py::arg("csv_uv_per_unit") = 0.0, "Reads an ECG from bytes; companions: [(name, bytes)] (WFDB .dat)");
    m.def("prepare_input", &prepare_input, py::arg("samples_uv"), py::arg("fs_hz"),
          py::arg("lead_names") = std::vector<std::string>{}, py::arg("check_quality") = true,
          "The network input of a record: resampled to 500 Hz, baseline removed, mV, the Philips-layout 2.5 s "
          "windows -> dict values_mv (12, 1250) float32, window_start (12), warnings (with the quality checks' "
          "unless check_quality=False; the values are the same either way)");
    m.def("measure", &measure, py::arg("samples_uv"), py::arg("fs_hz"), py::arg("lead_names") = std::vector<std::string>{},
          "The 8 ECG morphology parameters of a record (ecg_measure) -> dict hr_bpm, pr_ms, qrs_ms, qt_ms, qtc_ms "
          "(Bazett), p_axis_deg, qrs_axis_deg, t_axis_deg (None when not measurable), qtc_fridericia_ms, "
          "median_uv (12, n), fiducials_ms, quality, warnings");
    m.def("resample", [](const float_array &x, double fs_in_hz, double fs_out_hz) {
        return to_array(dsp_resample(from_array(x), fs_in_hz, fs_out_hz));
    }, py::arg("samples"), py::arg("fs_in_hz"), py::arg("fs_out_hz"), "Polyphase resampling of one lead");
    m.def("remove_baseline", [](const float_array &x, double fs_hz) {
        return to_array(dsp_remove_baseline(from_array(x), fs_hz));
    }, py::arg("samples"), py::arg("fs_hz"), "Baseline wander removal (200 ms then 600 ms moving median)");
}
