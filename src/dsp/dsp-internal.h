// dsp/dsp-internal.h: helpers shared by the signal-processing files of src/dsp (not part of kalium.h).
#pragma once

#include <cstddef>
#include <vector>

namespace kalium::dsp {

constexpr double k_pi = 3.14159265358979323846;

// One second-order section, a0 normalised to 1: y = b0 x + b1 x1 + b2 x2 - a1 y1 - a2 y2.
struct biquad {
    double b0 = 1, b1 = 0, b2 = 0, a1 = 0, a2 = 0;
};

// Second-order sections by the bilinear transform with pre-warping (the usual audio-cookbook forms).
biquad biquad_lowpass(double corner_hz, double fs_hz, double q = 0.7071067811865476);
biquad biquad_highpass(double corner_hz, double fs_hz, double q = 0.7071067811865476);
biquad biquad_notch(double centre_hz, double fs_hz, double q);

// Runs the sections forward then backward (zero phase, squared magnitude). The ends are padded with an odd
// reflection of up to pad samples and each pass starts in the steady state of its first input, so a step or a
// slope at the ends does not ring. NaN samples must have been replaced before.
void filter_zero_phase(std::vector<float> &x, const std::vector<biquad> &sections, size_t pad);
// The same for several leads of one length at once (their recurrences run side by side: several times faster).
void filter_zero_phase_leads(std::vector<std::vector<float>> &leads, const std::vector<biquad> &sections, size_t pad);

// |H(f)| of the sections run once (not forward-backward).
double sections_gain(const std::vector<biquad> &sections, double f_hz, double fs_hz);

// Resampling for measurement and display (not for the network: dsp_resample is what it was trained on): the
// same design as dsp_resample with half its length, about 4x faster; NaN as 0.
std::vector<float> resample_for_measurement(const std::vector<float> &samples, double fs_in_hz, double fs_out_hz);

// Centred moving average of `width` samples (odd; edges average what lies inside the signal).
std::vector<float> moving_average(const std::vector<float> &x, size_t width);

// Median of a copy of the values (upper middle for an even count); 0 for none.
float median_of(std::vector<float> values);
double median_of(std::vector<double> values);

// Copy with NaN and infinities replaced by 0.
std::vector<float> finite_copy(const std::vector<float> &x);

}  // namespace kalium::dsp

namespace kalium::dsp {

// Amplitude (uV) of the sine at f_hz in x (first 60 s at most, Hann window).
double tone_amplitude_uv(const std::vector<float> &x, double fs_hz, double f_hz);
struct mains_line {
    double amplitude_uv = 0, prominence = 0;  // prominence: amplitude over the mean of the spectrum 2-4 Hz away
};
// At most the first 60 s of x, NaN as 0, times a Hann window; `weight` receives the window's sum.
std::vector<double> hann_windowed(const std::vector<float> &x, double fs_hz, double &weight);
double goertzel_amplitude(const std::vector<double> &windowed, double weight, double fs_hz, double f_hz);
mains_line measure_mains_line(const std::vector<double> &windowed, double weight, double fs_hz, double mains_hz);

}  // namespace kalium::dsp

namespace kalium {
struct ecg_record;
struct ecg_analysis;
template <class T> class result;
namespace dsp {
// ecg_measure without the quality checks (ecg_check_quality uses it for the lead-reversal check).
result<ecg_analysis> measure_core(const ecg_record &record);
// The same, leaving the 12 filtered 500 Hz leads it measured on in signal_500hz_uv.
result<ecg_analysis> measure_core(const ecg_record &record, std::vector<std::vector<float>> &signal_500hz_uv);
}  // namespace dsp
}  // namespace kalium

namespace kalium {
struct quality_warning;
namespace dsp {
// ecg_check_quality given the record's analysis (nullptr: no lead-reversal check).
std::vector<quality_warning> check_quality(const ecg_record &record, const ecg_analysis *analysis);
}  // namespace dsp
}  // namespace kalium
