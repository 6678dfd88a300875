// nn/xnnpack-kernel-probe.h: which f32 GEMM micro-kernels XNNPACK's configuration picked on this machine.
// Reads XNNPACK's internal configuration tables (a test-only look under the public API).
#pragma once

#include <string>

// Name of the kernel XNNPACK uses for f32 convolutions (igemm) with fused ReLU and with min/max clamping
// at its preferred tile height, e.g. "f32_igemm_relu_4x8__wasmsimd_splat"; "other" when the pointer is
// none of the kernels this probe knows (natively: any of the x86 ISA variants).
std::string xnnpack_f32_igemm_relu_kernel_name();
std::string xnnpack_f32_igemm_minmax_kernel_name();
std::string xnnpack_f32_gemm_minmax_kernel_name();
