// nn/winograd.cpp: the transforms of Winograd F(4,3) (see winograd.h). With d = 6 consecutive inputs and g the
// 3 taps of a cross-correlation (PyTorch's conv1d), y = A^T [(G g) . (B^T d)] gives y_i = sum_j g_j d_{i+j},
// i = 0..3, where
//   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
//   G   = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
//   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
// The inner loops run over channels (contiguous) and vectorise (SSE natively, wasm SIMD): what they write never
// overlaps what they read, which KALIUM_VECTORIZE tells the compiler (GCC does not vectorise them otherwise, and
// was 7x slower).
#include "nn/winograd.h"

#include <algorithm>

#if defined(__clang__)
#define KALIUM_VECTORIZE _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define KALIUM_VECTORIZE _Pragma("GCC ivdep")
#else
#define KALIUM_VECTORIZE
#endif

namespace kalium {

std::vector<float> winograd_filter(const float *weight_oik, size_t cout, size_t cin) {
    std::vector<float> u(k_winograd_points * cout * cin);
    const size_t plane = cout * cin;
    for (size_t o = 0; o < cout; o++)
        for (size_t i = 0; i < cin; i++) {
            const float *g = &weight_oik[(o * cin + i) * 3];
            const double g0 = g[0], g1 = g[1], g2 = g[2];
            const double points[k_winograd_points] = {g0 / 4.0,
                                                      -(g0 + g1 + g2) / 6.0,
                                                      -(g0 - g1 + g2) / 6.0,
                                                      g0 / 24.0 + g1 / 12.0 + g2 / 6.0,
                                                      g0 / 24.0 - g1 / 12.0 + g2 / 6.0,
                                                      g2};
            for (size_t p = 0; p < k_winograd_points; p++) u[p * plane + o * cin + i] = static_cast<float>(points[p]);
        }
    return u;
}

void winograd_input(const float *x, size_t width, size_t channels, size_t x_stride, const float *zeros, float *v) {
    const size_t tiles = winograd_tiles(width);
    for (size_t t = 0; t < tiles; t++) {
        // tile t covers outputs 4t..4t+3 and reads inputs 4t-1..4t+4
        const float *d[k_winograd_points];
        for (size_t k = 0; k < k_winograd_points; k++) {
            const size_t s = 4 * t + k;  // input sample s - 1
            d[k] = s >= 1 && s - 1 < width ? x + (s - 1) * x_stride : zeros;
        }
        const float *d0 = d[0], *d1 = d[1], *d2 = d[2], *d3 = d[3], *d4 = d[4], *d5 = d[5];
        float *out = v + t * k_winograd_points * channels;
        KALIUM_VECTORIZE
        for (size_t c = 0; c < channels; c++) {
            const float a1 = d1[c], a2 = d2[c], a3 = d3[c], a4 = d4[c];
            const float s14 = 4.0f * a1 - a3, s2 = a4 - 4.0f * a2;  // v1, v2 share these
            const float s13 = 2.0f * (a3 - a1), s2b = a4 - a2;      // v3, v4 share these
            out[c] = 4.0f * d0[c] - 5.0f * a2 + a4;
            out[channels + c] = s2 - s14;
            out[2 * channels + c] = s2 + s14;
            out[3 * channels + c] = s2b + s13;
            out[4 * channels + c] = s2b - s13;
            out[5 * channels + c] = 4.0f * a1 - 5.0f * a3 + d5[c];
        }
    }
}

void winograd_output(const float *m, size_t width, size_t channels, const float *bias, float *y, size_t y_stride) {
    const size_t tiles = winograd_tiles(width);
    const auto relu = [](float v) { return v > 0.0f ? v : 0.0f; };
    for (size_t t = 0; t < tiles; t++) {
        const float *mt = m + t * k_winograd_points * channels;
        const size_t first = 4 * t, count = std::min(k_winograd_outputs, width - first);
        float *yt = y + first * y_stride;
        if (count == k_winograd_outputs) {
            KALIUM_VECTORIZE
            for (size_t c = 0; c < channels; c++) {
                const float m0 = mt[c], m1 = mt[channels + c], m2 = mt[2 * channels + c], m3 = mt[3 * channels + c],
                            m4 = mt[4 * channels + c], m5 = mt[5 * channels + c], b = bias[c];
                const float p12 = m1 + m2, n12 = m1 - m2, p34 = m3 + m4, n34 = m3 - m4;
                yt[c] = relu(m0 + p12 + p34 + b);
                yt[y_stride + c] = relu(n12 + 2.0f * n34 + b);
                yt[2 * y_stride + c] = relu(p12 + 4.0f * p34 + b);
                yt[3 * y_stride + c] = relu(n12 + 8.0f * n34 + m5 + b);
            }
            continue;
        }
        for (size_t c = 0; c < channels; c++) {  // the last, partial tile: only `count` rows exist
            const float m0 = mt[c], m1 = mt[channels + c], m2 = mt[2 * channels + c], m3 = mt[3 * channels + c],
                        m4 = mt[4 * channels + c], m5 = mt[5 * channels + c];
            const float p12 = m1 + m2, n12 = m1 - m2, p34 = m3 + m4, n34 = m3 - m4;
            const float out[k_winograd_outputs] = {m0 + p12 + p34, n12 + 2.0f * n34, p12 + 4.0f * p34, n12 + 8.0f * n34 + m5};
            for (size_t i = 0; i < count; i++) yt[i * y_stride + c] = relu(out[i] + bias[c]);
        }
    }
}

}  // namespace kalium
