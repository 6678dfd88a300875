// report/report.cpp: the PDF report on libharu (see report.h).
//
// Index of this file
//   [SECTION] Text: UTF-8 to WinAnsi, wrapping
//   [SECTION] Page helpers (millimetres from the top-left corner -> PDF points)
//   [SECTION] The ECG: grid, calibration pulses, traces with the attention colour, labels
//   [SECTION] The result: estimate, probabilities, per lead, measurements, warnings, footer
//   [SECTION] report_pdf
#include "report.h"
#include "analysis.h"

#include <hpdf.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

namespace kalium {

namespace {

constexpr double k_pt_per_mm = 72.0 / 25.4;
constexpr double k_row_mm = 25.0;           // one row of the 3x4 + rhythm layout
constexpr double k_baseline_mm = 15.0;      // a row's baseline below its top (room for tall R waves)
constexpr double k_pulse_mm = 5.0;          // the calibration pulse's column: 200 ms at 25 mm/s
constexpr double k_layout_s = 10.0;         // 4 columns of 2.5 s, and the 10 s rhythm strip
constexpr double k_column_s = 2.5;


// [SECTION] Text: UTF-8 to WinAnsi, wrapping -------------------------------------------------------------

// WinAnsi (cp1252) text for Helvetica: Latin-1 as is, a few typographic characters mapped, everything else
// as its nearest ASCII or '?'. Invalid UTF-8 bytes become '?'.
std::string win_ansi(const std::string &utf8) {
    std::string out;
    for (size_t i = 0; i < utf8.size();) {
        const unsigned char c = static_cast<unsigned char>(utf8[i]);
        uint32_t cp = 0;
        size_t n = 1;
        if (c < 0x80) cp = c;
        else if ((c & 0xE0) == 0xC0) cp = c & 0x1F, n = 2;
        else if ((c & 0xF0) == 0xE0) cp = c & 0x0F, n = 3;
        else if ((c & 0xF8) == 0xF0) cp = c & 0x07, n = 4;
        else cp = '?', n = 1;
        if (n > 1) {
            if (i + n > utf8.size()) {
                out += '?';
                break;
            }
            for (size_t k = 1; k < n; k++) {
                const unsigned char cc = static_cast<unsigned char>(utf8[i + k]);
                if ((cc & 0xC0) != 0x80) {
                    cp = '?';
                    n = k;
                    break;
                }
                cp = (cp << 6) | (cc & 0x3F);
            }
        }
        i += n;
        if (cp < 0x20) out += ' ';
        else if (cp < 0x7F || (cp >= 0xA0 && cp <= 0xFF)) out += static_cast<char>(cp);
        else if (cp == 0x2013) out += '\x96';            // en dash
        else if (cp == 0x2014) out += '\x97';            // em dash
        else if (cp == 0x2022) out += '\x95';            // bullet
        else if (cp == 0x2026) out += '\x85';            // ellipsis
        else if (cp == 0x2018 || cp == 0x2019) out += '\'';
        else if (cp == 0x201C || cp == 0x201D) out += '"';
        else if (cp == 0x2212) out += '-';               // minus sign
        else if (cp == 0x2264) out += "<=";
        else if (cp == 0x2265) out += ">=";
        else if (cp == 0x2192) out += "->";
        else out += '?';
    }
    return out;
}

// [SECTION] Page helpers --------------------------------------------------------------------------------

struct page_writer {
    HPDF_Doc doc = nullptr;
    HPDF_Page page = nullptr;
    HPDF_Font regular = nullptr, bold = nullptr;
    double height_mm = 0;

    double x(double mm) const { return mm * k_pt_per_mm; }
    double y(double mm_from_top) const { return (height_mm - mm_from_top) * k_pt_per_mm; }

    void colour(double r, double g, double b) {
        HPDF_Page_SetRGBStroke(page, static_cast<HPDF_REAL>(r), static_cast<HPDF_REAL>(g), static_cast<HPDF_REAL>(b));
        HPDF_Page_SetRGBFill(page, static_cast<HPDF_REAL>(r), static_cast<HPDF_REAL>(g), static_cast<HPDF_REAL>(b));
    }
    double text_width_mm(const std::string &text, bool is_bold, double size_pt) {
        HPDF_Page_SetFontAndSize(page, is_bold ? bold : regular, static_cast<HPDF_REAL>(size_pt));
        return HPDF_Page_TextWidth(page, text.c_str()) / k_pt_per_mm;
    }
    // One line of text with its baseline at (x_mm, y_mm); `text` is UTF-8. Returns its width in mm.
    double text(double x_mm, double y_mm, const std::string &utf8, double size_pt, bool is_bold = false) {
        const std::string t = win_ansi(utf8);
        HPDF_Page_BeginText(page);
        HPDF_Page_SetFontAndSize(page, is_bold ? bold : regular, static_cast<HPDF_REAL>(size_pt));
        HPDF_Page_TextOut(page, static_cast<HPDF_REAL>(x(x_mm)), static_cast<HPDF_REAL>(y(y_mm)), t.c_str());
        HPDF_Page_EndText(page);
        return text_width_mm(t, is_bold, size_pt);
    }
    // Text wrapped at word boundaries to width_mm, from baseline y_mm down; at most max_lines (the last one ends in
    // "..." when cut). Returns the baseline below the last line.
    double wrapped(double x_mm, double y_mm, double width_mm, const std::string &utf8, double size_pt, int max_lines,
                   bool is_bold = false) {
        const std::string t = win_ansi(utf8);
        const double line_mm = size_pt * 1.25 / k_pt_per_mm;
        std::vector<std::string> lines;
        std::string line;
        size_t i = 0;
        while (i < t.size()) {
            size_t end = t.find(' ', i);
            if (end == std::string::npos) end = t.size();
            const std::string word = t.substr(i, end - i);
            const std::string candidate = line.empty() ? word : line + " " + word;
            if (!line.empty() && text_width_mm(candidate, is_bold, size_pt) > width_mm) {
                lines.push_back(line);
                line = word;
            } else {
                line = candidate;
            }
            i = end + 1;
        }
        if (!line.empty()) lines.push_back(line);
        if (static_cast<int>(lines.size()) > max_lines) {
            lines.resize(static_cast<size_t>(max_lines));
            std::string &last = lines.back();
            while (!last.empty() && text_width_mm(last + "...", is_bold, size_pt) > width_mm) last.pop_back();
            last += "...";
        }
        for (const std::string &l : lines) {
            HPDF_Page_BeginText(page);
            HPDF_Page_SetFontAndSize(page, is_bold ? bold : regular, static_cast<HPDF_REAL>(size_pt));
            HPDF_Page_TextOut(page, static_cast<HPDF_REAL>(x(x_mm)), static_cast<HPDF_REAL>(y(y_mm)), l.c_str());
            HPDF_Page_EndText(page);
            y_mm += line_mm;
        }
        return y_mm;
    }
    void line(double x0_mm, double y0_mm, double x1_mm, double y1_mm) {
        HPDF_Page_MoveTo(page, static_cast<HPDF_REAL>(x(x0_mm)), static_cast<HPDF_REAL>(y(y0_mm)));
        HPDF_Page_LineTo(page, static_cast<HPDF_REAL>(x(x1_mm)), static_cast<HPDF_REAL>(y(y1_mm)));
    }
    void rect_fill(double x_mm, double y_mm, double w_mm, double h_mm) {
        HPDF_Page_Rectangle(page, static_cast<HPDF_REAL>(x(x_mm)), static_cast<HPDF_REAL>(y(y_mm + h_mm)),
                            static_cast<HPDF_REAL>(w_mm * k_pt_per_mm), static_cast<HPDF_REAL>(h_mm * k_pt_per_mm));
        HPDF_Page_Fill(page);
    }
};

// The app's group colours (src/app/ecg-view.cpp) as RGB.
void group_rgb(int group, double rgb[3]) {
    static const double colours[k_app_group_count][3] = {
        {0.09, 0.22, 0.62}, {0.18, 0.50, 0.86}, {0.13, 0.52, 0.24}, {0.88, 0.47, 0.02}, {0.76, 0.07, 0.09}};
    for (int i = 0; i < 3; i++) rgb[i] = group >= 0 && group < k_app_group_count ? colours[group][i] : 0.45;
}

// The app's attention ramp (teal -> blue -> violet, ecg_heat_colour), blended from the trace's black so that
// low attention leaves the trace black: the trace carries the heatmap (issue: heatmap along the trace).
void heat_rgb(double v, double rgb[3]) {
    static const double stops[3][3] = {{0.10, 0.75, 0.80}, {0.15, 0.35, 0.95}, {0.55, 0.10, 0.85}};
    v = std::clamp(v, 0.0, 1.0);
    const double *a = v < 0.5 ? stops[0] : stops[1], *b = v < 0.5 ? stops[1] : stops[2];
    const double f = v < 0.5 ? v * 2.0 : (v - 0.5) * 2.0;
    const double mix = std::clamp((v - 0.2) / 0.4, 0.0, 1.0);  // below 0.2 black, fully coloured from 0.6
    for (int i = 0; i < 3; i++) rgb[i] = (a[i] + (b[i] - a[i]) * f) * mix;
}

std::string format_number(const char *fmt, double v) {
    char text[64];
    std::snprintf(text, sizeof(text), fmt, v);
    return text;
}

std::string k_text(double k_meq_l) { return std::isfinite(k_meq_l) ? k_display(k_meq_l) : "-"; }

// [SECTION] The ECG ------------------------------------------------------------------------------------

// One strip of trace: lead `lead` from t_begin_s to t_end_s, starting at x_mm on the baseline y_mm.
struct strip {
    int lead;
    double t_begin_s, t_end_s, x_mm, baseline_mm;
};

void draw_grid(page_writer &w, const report_geometry &g) {
    // 1 mm lines first, then the 5 mm lines over them (one path each: few operators, exact positions).
    HPDF_Page_SetLineCap(w.page, HPDF_BUTT_END);
    w.colour(0.98, 0.80, 0.80);
    HPDF_Page_SetLineWidth(w.page, 0.25f);
    const int nx = static_cast<int>(std::lround(g.grid_width_mm / g.minor_mm));
    const int ny = static_cast<int>(std::lround(g.grid_height_mm / g.minor_mm));
    for (int i = 0; i <= nx; i++)
        if (i % 5) w.line(g.grid_left_mm + i * g.minor_mm, g.grid_top_mm, g.grid_left_mm + i * g.minor_mm, g.grid_top_mm + g.grid_height_mm);
    for (int i = 0; i <= ny; i++)
        if (i % 5) w.line(g.grid_left_mm, g.grid_top_mm + i * g.minor_mm, g.grid_left_mm + g.grid_width_mm, g.grid_top_mm + i * g.minor_mm);
    HPDF_Page_Stroke(w.page);
    w.colour(0.90, 0.50, 0.50);
    HPDF_Page_SetLineWidth(w.page, 0.6f);
    for (int i = 0; i <= nx; i += 5)
        w.line(g.grid_left_mm + i * g.minor_mm, g.grid_top_mm, g.grid_left_mm + i * g.minor_mm, g.grid_top_mm + g.grid_height_mm);
    for (int i = 0; i <= ny; i += 5)
        w.line(g.grid_left_mm, g.grid_top_mm + i * g.minor_mm, g.grid_left_mm + g.grid_width_mm, g.grid_top_mm + i * g.minor_mm);
    HPDF_Page_Stroke(w.page);
}

// The calibration pulse at the start of a row: 1 mV (10 mm) high, 200 ms (5 mm) wide, on the row's baseline.
void draw_pulse(page_writer &w, const report_geometry &g, double baseline_mm) {
    const double x0 = g.grid_left_mm + 1.0, h = g.gain_mm_mv, wd = 0.2 * g.speed_mm_s;
    HPDF_Page_MoveTo(w.page, static_cast<HPDF_REAL>(w.x(x0 - 1.0)), static_cast<HPDF_REAL>(w.y(baseline_mm)));
    for (auto [px, py] : {std::pair{x0, baseline_mm}, {x0, baseline_mm - h}, {x0 + wd, baseline_mm - h},
                          {x0 + wd, baseline_mm}, {x0 + wd + 1.0, baseline_mm}})
        HPDF_Page_LineTo(w.page, static_cast<HPDF_REAL>(w.x(px)), static_cast<HPDF_REAL>(w.y(py)));
    HPDF_Page_Stroke(w.page);
}

// A strip's trace. Inside the lead's 2.5 s network window the colour follows the attention (the CAM), quantised
// to a few levels so that each run of one colour is one path.
void draw_strip(page_writer &w, const app_entry &e, const report_geometry &g, const strip &s) {
    const double fs_hz = e.result.fs_hz;
    const int n = e.sample_count;
    const float *x = e.signal_uv.data() + static_cast<size_t>(s.lead) * static_cast<size_t>(n);
    const int i0 = std::max(0, static_cast<int>(std::floor(s.t_begin_s * fs_hz)));
    const int i1 = std::min(n - 1, static_cast<int>(std::ceil(s.t_end_s * fs_hz)));
    if (i1 <= i0) return;
    const bool has_cam = e.cam.size() == static_cast<size_t>(k_app_lead_count * k_app_window_samples) &&
                         std::fabs(fs_hz - k_app_window_fs_hz) < 1e-6;
    const int window_start = has_cam ? e.result.window_start[static_cast<size_t>(s.lead)] : 0;
    constexpr int k_levels = 6;
    auto level_at = [&](int i) {
        const int c = i - window_start;
        if (!has_cam || c < 0 || c >= k_app_window_samples) return 0;
        const float v = e.cam[static_cast<size_t>(s.lead) * k_app_window_samples + static_cast<size_t>(c)];
        return std::clamp(static_cast<int>(std::lround(v * (k_levels - 1))), 0, k_levels - 1);
    };
    auto point = [&](int i) {
        const double px = s.x_mm + (i / fs_hz - s.t_begin_s) * g.speed_mm_s;
        const double py = s.baseline_mm - x[i] / 1000.0 * g.gain_mm_mv;
        return std::pair{static_cast<HPDF_REAL>(w.x(px)), static_cast<HPDF_REAL>(w.y(py))};
    };
    int i = i0;
    while (i < i1) {
        const int level = level_at(i);
        int j = i + 1;
        while (j < i1 && level_at(j) == level) j++;
        double rgb[3];
        heat_rgb(static_cast<double>(level) / (k_levels - 1), rgb);
        w.colour(rgb[0], rgb[1], rgb[2]);
        auto [px, py] = point(i);
        HPDF_Page_MoveTo(w.page, px, py);
        for (int k = i + 1; k <= j; k++) {
            auto [qx, qy] = point(k);
            HPDF_Page_LineTo(w.page, qx, qy);
        }
        HPDF_Page_Stroke(w.page);
        i = j;
    }
}

void draw_ecg(page_writer &w, const app_entry &e, const report_geometry &g) {
    draw_grid(w, g);
    const double trace_x0 = g.grid_left_mm + k_pulse_mm + 1.0;  // traces start 1 mm after the pulse's column
    std::vector<strip> strips;
    for (int column = 0; column < 4; column++)
        for (int row = 0; row < 3; row++)
            strips.push_back({column * 3 + row, column * k_column_s, (column + 1) * k_column_s,
                              trace_x0 + column * k_column_s * g.speed_mm_s, g.grid_top_mm + row * k_row_mm + k_baseline_mm});
    strips.push_back({1, 0.0, k_layout_s, trace_x0, g.grid_top_mm + 3 * k_row_mm + k_baseline_mm});

    // Traces and pulses are clipped to the grid, as a cart's print keeps them on the paper.
    HPDF_Page_GSave(w.page);
    HPDF_Page_Rectangle(w.page, static_cast<HPDF_REAL>(w.x(g.grid_left_mm)), static_cast<HPDF_REAL>(w.y(g.grid_top_mm + g.grid_height_mm)),
                        static_cast<HPDF_REAL>(g.grid_width_mm * k_pt_per_mm), static_cast<HPDF_REAL>(g.grid_height_mm * k_pt_per_mm));
    HPDF_Page_Clip(w.page);
    HPDF_Page_EndPath(w.page);
    HPDF_Page_SetLineJoin(w.page, HPDF_ROUND_JOIN);
    HPDF_Page_SetLineCap(w.page, HPDF_ROUND_END);
    HPDF_Page_SetLineWidth(w.page, 0.5f);
    w.colour(0, 0, 0);
    for (int row = 0; row < 4; row++) draw_pulse(w, g, g.grid_top_mm + row * k_row_mm + k_baseline_mm);
    for (const strip &s : strips)
        if (s.lead < e.lead_count) draw_strip(w, e, g, s);
    // Column boundaries: a short tick where one lead's span ends and the next begins.
    w.colour(0, 0, 0);
    HPDF_Page_SetLineWidth(w.page, 0.5f);
    for (const strip &s : strips)
        if (s.t_begin_s > 0.0) w.line(s.x_mm, s.baseline_mm - 3.0, s.x_mm, s.baseline_mm + 3.0);
    HPDF_Page_Stroke(w.page);
    HPDF_Page_GRestore(w.page);

    // Lead labels above each strip's start (derived leads marked *).
    w.colour(0, 0, 0);
    bool any_derived = false;
    for (size_t k = 0; k < strips.size(); k++) {
        const strip &s = strips[k];
        const bool derived = static_cast<size_t>(s.lead) < e.result.lead_derived.size() && e.result.lead_derived[static_cast<size_t>(s.lead)];
        any_derived = any_derived || derived;
        std::string name = static_cast<size_t>(s.lead) < e.result.lead_names.size() ? e.result.lead_names[static_cast<size_t>(s.lead)]
                                                                                    : k_app_lead_names[s.lead];
        w.text(s.x_mm + 1.0, s.baseline_mm - 9.0, name + (derived ? "*" : "") + (k == strips.size() - 1 ? " (rhythm)" : ""), 8, true);
    }
    // Under the grid: the scales, the attention legend, what * means.
    const double below = g.grid_top_mm + g.grid_height_mm + 3.5;
    std::string scale = "25 mm/s   10 mm/mV   grid 1 mm / 5 mm   calibration pulse 1 mV, 200 ms";
    if (any_derived) scale += "   * derived from the recorded leads";
    w.colour(0.3, 0.3, 0.3);
    w.text(g.grid_left_mm, below, scale, 7);
    if (!e.cam.empty()) {
        // legend: the ramp from low to high attention
        const double lx = g.grid_left_mm + g.grid_width_mm - 70.0;
        w.text(lx, below, "network attention: low", 7);
        for (int i = 0; i < 20; i++) {
            double rgb[3];
            heat_rgb(i / 19.0, rgb);
            w.colour(rgb[0], rgb[1], rgb[2]);
            w.rect_fill(lx + 28.0 + i * 1.5, below - 2.2, 1.5, 2.4);
        }
        w.colour(0.3, 0.3, 0.3);
        w.text(lx + 59.0, below, "high", 7);
    }
}

// [SECTION] The result ---------------------------------------------------------------------------------

void draw_result(page_writer &w, const app_entry &e, const report_geometry &g) {
    const app_result &r = e.result;
    const double top = g.grid_top_mm + g.grid_height_mm + 10.0;
    const double left = g.grid_left_mm, right = g.grid_left_mm + g.grid_width_mm;

    // Column A: the estimate.
    double y = top;
    w.colour(0.3, 0.3, 0.3);
    w.text(left, y, "Estimated serum K+", 8);
    double rgb[3];
    group_rgb(r.group, rgb);
    w.colour(rgb[0], rgb[1], rgb[2]);
    y += 10.0;
    const double kw = w.text(left, y, r.has_k_plus ? r.k_plus_display : "-", 28, true);
    w.colour(0, 0, 0);
    w.text(left + kw + 2.0, y - 5.0, "mEq/L", 9);
    w.colour(rgb[0], rgb[1], rgb[2]);
    w.text(left + kw + 2.0, y, r.group_label.empty() ? "unknown group" : r.group_label, 9, true);
    y += 5.0;
    w.colour(0, 0, 0);
    if (r.has_k_range) {
        w.text(left, y, format_number("%.0f", r.k_range_level * 100.0) + " % range " + k_text(r.k_low) + " - " +
                            k_text(r.k_high) + " mEq/L (the estimate is its middle)", 8);
        y += 4.0;
    }
    if (!r.k_plus_flag.empty()) {
        group_rgb(r.k_plus_flag == "hypokalemia" ? 1 : 3, rgb);
        w.colour(rgb[0], rgb[1], rgb[2]);
        y = w.wrapped(left, y, 80.0, "Flagged: " + r.k_plus_flag + " more likely than for most ED patients. Check serum K+.", 8, 2, true);
    }
    if (!r.reliability_reasons.empty()) {
        w.colour(0.70, 0.25, 0.0);
        y = w.wrapped(left, y, 80.0, ecg_reliability_text(r.reliability_reasons), 8, 3, true);
    }
    if (r.has_group_probs) {
        y += 1.5;
        w.colour(0.3, 0.3, 0.3);
        w.text(left, y, r.population.empty() ? "Group probabilities" : "Group probabilities at an ED's prevalence", 7, true);
        y += 3.8;
        for (int k = 0; k < k_app_group_count; k++) {
            w.colour(0, 0, 0);
            w.text(left, y, k_app_group_keys[k], 7.5);
            w.colour(0.89, 0.90, 0.92);
            w.rect_fill(left + 14.0, y - 2.4, 40.0, 2.6);
            group_rgb(k, rgb);
            w.colour(rgb[0], rgb[1], rgb[2]);
            const double p = std::clamp(r.group_probs[k], 0.0, 1.0);
            if (p > 0) w.rect_fill(left + 14.0, y - 2.4, std::max(0.4, 40.0 * p), 2.6);
            w.colour(0, 0, 0);
            w.text(left + 56.0, y, format_number("%.0f %%", r.group_probs[k] * 100.0), 7.5);
            y += 3.6;
        }
        if (r.has_group_probs_balanced) {
            w.colour(0.35, 0.35, 0.35);
            std::string text = "If every group were equally likely:";
            for (int k = 0; k < k_app_group_count; k++)
                text += (k ? " / " : " ") + format_number("%.0f", r.group_probs_balanced[k] * 100.0);
            w.text(left, y, text + " %", 6.5);
        }
    }

    // Column B: per lead, two halves of 6 leads.
    const double bx = left + 88.0;
    y = top;
    w.colour(0.3, 0.3, 0.3);
    w.text(bx, y, "Per lead: own K+ estimate (mEq/L) and attention", 8);
    bool any_far = false;
    for (int half = 0; half < 2; half++) {
        const double cx = bx + half * 40.0;
        double ly = top + 5.0;
        w.colour(0.3, 0.3, 0.3);
        w.text(cx, ly, "Lead", 7, true);
        w.text(cx + 10.0, ly, "K+", 7, true);
        w.text(cx + 23.0, ly, "Attention", 7, true);
        for (int l = half * 6; l < half * 6 + 6; l++) {
            ly += 4.0;
            w.colour(0, 0, 0);
            w.text(cx, ly, static_cast<size_t>(l) < r.lead_names.size() ? r.lead_names[static_cast<size_t>(l)] : k_app_lead_names[l], 7.5);
            if (static_cast<size_t>(l) < r.lead_k.size()) {
                const double k = r.lead_k[static_cast<size_t>(l)];
                const bool far = report_lead_k_far(k, r);
                any_far = any_far || far;
                group_rgb(kalium::k_group_of(k), rgb);
                w.colour(rgb[0], rgb[1], rgb[2]);
                w.text(cx + 10.0, ly, k_text(k) + (far ? " !" : ""), 7.5, far);
            }
            if (static_cast<size_t>(l) < r.lead_attention.size()) {
                w.colour(0, 0, 0);
                w.text(cx + 23.0, ly, format_number("%.0f %%", r.lead_attention[static_cast<size_t>(l)] * 100.0), 7.5);
            }
        }
    }
    if (any_far) {
        w.colour(0.35, 0.35, 0.35);
        w.wrapped(bx, top + 33.0, 78.0, "! far from the estimate's range: that lead alone says little", 6.5, 2);
    }

    // Column C: measurements beside the cart's, then warnings.
    const double cx = left + 172.0, cw = right - cx;
    y = top;
    w.colour(0.3, 0.3, 0.3);
    w.text(cx, y, "Measurements", 8);
    w.text(cx + 24.0, y, "kalium", 7, true);
    w.text(cx + 42.0, y, "cart", 7, true);
    for (int k = 0; k < k_app_measurement_count; k++) {
        y += 3.6;
        auto value = [&](const app_measurements &m) {
            return m.present && m.has[k] ? format_number("%.0f ", m.value[k]) + k_app_measurement_units[k] : std::string("-");
        };
        w.colour(0, 0, 0);
        w.text(cx, y, k_app_measurement_labels[k], 7.5);
        w.text(cx + 24.0, y, value(r.measurements), 7.5);
        w.text(cx + 42.0, y, value(r.cart_measurements), 7.5);
    }
    y += 5.0;
    if (!r.warnings.empty()) {
        w.colour(0.62, 0.30, 0.0);
        w.text(cx, y, r.warnings.size() == 1 ? "Warning" : "Warnings", 7, true);
        y += 3.4;
        const double limit = g.page_height_mm - 22.0;
        for (size_t i = 0; i < r.warnings.size() && y < limit; i++) {
            if (i == 5 && r.warnings.size() > 6) {
                w.text(cx, y, "... and " + std::to_string(r.warnings.size() - 5) + " more", 6.5);
                break;
            }
            y = w.wrapped(cx, y, cw, "- " + r.warnings[i], 6.5, 2);
        }
    }

    // Footer: the model and the statement.
    const double fy = g.page_height_mm - 15.0;
    w.colour(0.2, 0.2, 0.2);
    w.text(left, fy, "Model: " + (r.model_name.empty() ? std::string("unknown") : r.model_name) + "   sha256 " +
                         (r.model_sha256.empty() ? std::string("unknown") : r.model_sha256), 6.5);
    w.colour(0.62, 0.22, 0.0);
    w.wrapped(left, fy + 3.2, right - left, k_model_statement, 6.5, 3);
}

void draw_header(page_writer &w, const app_entry &e, const report_geometry &g, const report_options &options) {
    const app_result &r = e.result;
    const double left = g.grid_left_mm, right = g.grid_left_mm + g.grid_width_mm;
    w.colour(0, 0, 0);
    w.text(left, 12.0, "kalium: serum potassium (K+) estimated from the 12-lead ECG", 12, true);
    const std::string ruo = "RESEARCH USE ONLY - NOT A MEDICAL DEVICE";
    w.colour(0.62, 0.22, 0.0);
    w.text(right - w.text_width_mm(ruo, true, 8), 12.0, ruo, 8, true);
    w.colour(0, 0, 0);
    std::string line = "File: " + (e.name.empty() ? r.file : e.name);
    if (!r.patient_id.empty()) line += "    Patient: " + r.patient_id;
    if (!r.start_time.empty()) line += "    Recorded: " + r.start_time;
    w.wrapped(left, 18.0, right - left - 60.0, line, 9, 1);
    std::string about = r.format;
    if (r.duration_s > 0) about += (about.empty() ? "" : ", ") + format_number("%.1f s", r.duration_s);
    if (r.display_truncated) about += " (first 60 s)";
    w.colour(0.3, 0.3, 0.3);
    w.text(right - w.text_width_mm(win_ansi(about), false, 8), 18.0, about, 8);
    (void)options;
}

// libharu reports errors through this handler (and then returns an error code from the call); the first is kept.
struct haru_error {
    HPDF_STATUS code = HPDF_OK, detail = 0;
};
void on_haru_error(HPDF_STATUS code, HPDF_STATUS detail, void *user) {
    haru_error *e = static_cast<haru_error *>(user);
    if (e->code == HPDF_OK) e->code = code, e->detail = detail;
}

}  // namespace

// [SECTION] report_pdf ---------------------------------------------------------------------------------

report_geometry report_page_geometry(report_paper paper) {
    report_geometry g;
    g.page_width_mm = paper == report_paper::letter ? 279.4 : 297.0;
    g.page_height_mm = paper == report_paper::letter ? 215.9 : 210.0;
    g.grid_width_mm = k_pulse_mm + 1.0 + k_layout_s * g.speed_mm_s + 4.0;  // 260 mm: pulse, 10 s, a margin
    g.grid_height_mm = 4 * k_row_mm;
    g.grid_left_mm = std::floor((g.page_width_mm - g.grid_width_mm) / 2.0);
    g.grid_top_mm = 23.0;
    return g;
}

bool report_lead_k_far(double lead_k_meq_l, const app_result &r) {
    if (!std::isfinite(lead_k_meq_l)) return false;
    if (lead_k_meq_l < 1.5 || lead_k_meq_l > 7.5) return true;
    const double low = r.has_k_range ? r.k_low : r.k_plus, high = r.has_k_range ? r.k_high : r.k_plus;
    if (!r.has_k_plus && !r.has_k_range) return false;
    return lead_k_meq_l < low - 1.0 || lead_k_meq_l > high + 1.0;
}

std::string report_file_name(const std::string &ecg_file_name) {
    std::string base = ecg_file_name;
    const size_t slash = base.find_last_of("/\\");
    if (slash != std::string::npos) base = base.substr(slash + 1);
    const size_t dot = base.find_last_of('.');
    if (dot != std::string::npos && dot > 0) base.resize(dot);
    if (base.empty()) base = "ecg";
    return base + ".pdf";
}

result<std::vector<uint8_t>> report_pdf(const app_entry &entry, const report_options &options) {
    const std::string file = entry.name.empty() ? entry.result.file : entry.name;
    if (entry.status != app_entry_status::done)
        return status(status_code::invalid_argument,
                      "report: " + file + ": no report for a file that was not analysed (" +
                          (entry.status == app_entry_status::working ? std::string("still analysing") : entry.result.error) + ")");
    if (entry.lead_count < 1 || entry.sample_count < 2 || entry.signal_uv.size() != static_cast<size_t>(entry.lead_count) * entry.sample_count)
        return status(status_code::invalid_argument, "report: " + file + ": the analysis has no display signal to draw");
    if (entry.result.window_start.size() != static_cast<size_t>(k_app_lead_count))
        return status(status_code::invalid_argument, "report: " + file + ": window_start must have 12 values");

    haru_error error;
    std::unique_ptr<std::remove_pointer_t<HPDF_Doc>, void (*)(HPDF_Doc)> doc(HPDF_New(on_haru_error, &error), HPDF_Free);
    if (!doc) return status(status_code::out_of_memory, "report: libharu could not create a document");
    HPDF_SetCompressionMode(doc.get(), HPDF_COMP_ALL);
    HPDF_SetInfoAttr(doc.get(), HPDF_INFO_TITLE, win_ansi("kalium report: " + file).c_str());
    HPDF_SetInfoAttr(doc.get(), HPDF_INFO_PRODUCER, win_ansi(options.producer).c_str());
    HPDF_SetInfoAttr(doc.get(), HPDF_INFO_CREATOR, "kalium");
    const report_geometry g = report_page_geometry(options.paper);
    page_writer w;
    w.doc = doc.get();
    w.page = HPDF_AddPage(doc.get());
    w.height_mm = g.page_height_mm;
    HPDF_Page_SetWidth(w.page, static_cast<HPDF_REAL>(g.page_width_mm * k_pt_per_mm));
    HPDF_Page_SetHeight(w.page, static_cast<HPDF_REAL>(g.page_height_mm * k_pt_per_mm));
    w.regular = HPDF_GetFont(doc.get(), "Helvetica", "WinAnsiEncoding");
    w.bold = HPDF_GetFont(doc.get(), "Helvetica-Bold", "WinAnsiEncoding");
    if (error.code == HPDF_OK && w.page && w.regular && w.bold) {
        draw_header(w, entry, g, options);
        draw_ecg(w, entry, g);
        draw_result(w, entry, g);
    }
    if (error.code == HPDF_OK) HPDF_SaveToStream(doc.get());
    std::vector<uint8_t> bytes;
    if (error.code == HPDF_OK) {
        bytes.resize(HPDF_GetStreamSize(doc.get()));
        HPDF_UINT32 size = static_cast<HPDF_UINT32>(bytes.size());
        HPDF_ReadFromStream(doc.get(), bytes.data(), &size);
        bytes.resize(size);
    }
    if (error.code != HPDF_OK || bytes.empty()) {
        char text[96];
        std::snprintf(text, sizeof(text), "libharu error 0x%04X (detail %u)", static_cast<unsigned>(error.code),
                      static_cast<unsigned>(error.detail));
        return status(status_code::internal, "report: " + file + ": " + text);
    }
    return bytes;
}

}  // namespace kalium
