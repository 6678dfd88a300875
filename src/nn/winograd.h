// nn/winograd.h: Winograd F(4,3) for ECG12Net's k3 stride-1 convolutions along time (Lavin & Gray,
// "Fast Algorithms for Convolutional Neural Networks", 2016): 4 outputs of a 3-tap filter from 6 inputs with
// 6 multiplies instead of 12, interpolation points 0, 1, -1, 2, -2 and infinity. A layer becomes
//   input transform (here) -> 6 GEMMs cin -> cout, one per point (XNNPACK, a grouped 1x1 convolution)
//   -> output transform + bias + ReLU (here).
// The GEMMs do half the multiply-adds of the direct convolution; the transforms are a few adds per value.
// Layouts are NWC per lead: x [width][channels] with a pixel stride, V and M [tiles][6][channels].
#pragma once

#include <cstddef>
#include <vector>

namespace kalium {

constexpr size_t k_winograd_outputs = 4;  // outputs per tile
constexpr size_t k_winograd_points = 6;   // inputs per tile = GEMMs per layer

inline size_t winograd_tiles(size_t width) { return (width + k_winograd_outputs - 1) / k_winograd_outputs; }

// PyTorch filter [cout][cin][3] -> the 6 GEMMs' weights U [6][cout][cin] (G g per filter; computed in double).
std::vector<float> winograd_filter(const float *weight_oik, size_t cout, size_t cin);

// One lead: x [width][channels] (pixel stride x_stride >= channels) -> V [tiles][6][channels], with the 'same'
// padding of one zero sample on each side. `zeros` holds `channels` zeros.
void winograd_input(const float *x, size_t width, size_t channels, size_t x_stride, const float *zeros, float *v);

// One lead: M [tiles][6][channels] -> y [width][channels] (pixel stride y_stride) = max(0, A^T M + bias).
void winograd_output(const float *m, size_t width, size_t channels, const float *bias, float *y, size_t y_stride);

}  // namespace kalium
