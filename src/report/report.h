// report/report.h: the printable PDF report of one analysed ECG, the same document from the command line
// (`kalium report`, src/cli/report.cpp) and from the browser app (the PDF button, key R,
// window.kalium.exportReport('pdf')). Both hand it an app_entry (entry.h) made from the analysis of
// analysis.h, so the two agree to the byte.
//
// One landscape page (A4 or Letter), all vector (printable at any resolution), drawn with libharu:
//   - a header: file name, patient id and acquisition time when the file has them, format, duration;
//   - the ECG in the standard 3x4 layout + a 10 s lead II rhythm strip at exactly 25 mm/s and 10 mm/mV on a
//     1 mm / 5 mm grid, a 1 mV x 200 ms calibration pulse per row, lead labels (derived leads marked *), and
//     the network's attention (class-activation map) as the colour of the trace inside each lead's 2.5 s window;
//   - the K+ estimate ("<1.5"/">7.5" outside 1.5-7.5 mEq/L) with its range, group, flag and the reliability
//     mark with its reasons; the 5 group probabilities; per-lead K+ (same display rule; "!" when far outside
//     the range) and attention; kalium's 8 measurements beside the cart's; the warnings;
//   - a footer: model name and sha256, and the research-use statement.
// Text is Helvetica (WinAnsi): characters outside it are written as their nearest ASCII ("<=", "-", "?").
#pragma once

#include "entry.h"
#include "kalium.h"

#include <cstdint>
#include <string>
#include <vector>

namespace kalium {

enum class report_paper { a4, letter };

struct report_options {
    report_paper paper = report_paper::a4;
    std::string producer = "kalium";  // the PDF's Producer field (e.g. "kalium 0.1.0")
};

// Where the ECG grid lies on the page (millimetres from the page's top-left corner): tests measure it there.
struct report_geometry {
    double page_width_mm = 0, page_height_mm = 0;
    double grid_left_mm = 0, grid_top_mm = 0, grid_width_mm = 0, grid_height_mm = 0;
    double speed_mm_s = 25.0, gain_mm_mv = 10.0;
    double minor_mm = 1.0, major_mm = 5.0;  // the grid's line spacing
};
report_geometry report_page_geometry(report_paper paper);

// The PDF of a finished entry (status done, with its display signal). An entry that failed, or has no signal,
// gives invalid_argument naming the file and why; a libharu failure gives internal with libharu's error code.
result<std::vector<uint8_t>> report_pdf(const app_entry &entry, const report_options &options = {});

// Whether a lead's own K+ estimate is far outside the estimate's range: outside 1.5-7.5 mEq/L (shown as "<1.5" or
// ">7.5"), or more than 1 mEq/L beyond the range (or the estimate, when there is no range). The app and the
// report mark such a lead with "!".
bool report_lead_k_far(double lead_k_meq_l, const app_result &result);

// The report's file name for an ECG file name: its base name with the extension replaced, "x.hea" -> "x.pdf".
std::string report_file_name(const std::string &ecg_file_name);

}  // namespace kalium
