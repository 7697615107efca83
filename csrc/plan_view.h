// Raw-pointer view of a SamplingPlan: what every kernel (CPU or CUDA) takes. No torch types,
// so the CUDA translation units compile with nvcc alone. The tables are int32: build_plan refuses
// a geometry where any index within one channel's (extended) image or into a table would not fit,
// so kernels may index tables and one channel in 32 bits; offsets across channels or images
// (channel * ext_h * ext_w, ...) are still formed in 64 bits where they can exceed 2^31.
#pragma once

#include <cstdint>

namespace equiconv {

template <typename scalar_t>
struct PlanView {
  int64_t height, width;  // input image
  int64_t out_h, out_w;
  int64_t taps;           // kernel_h * kernel_w
  int64_t stride_w;
  int64_t ext_h, ext_w;   // extended (boundary-resolved) image
  const int32_t* tap_offset;     // [out_h * taps]
  const scalar_t* tap_weight;       // [out_h * taps * 4]: w00, w01, w10, w11
  const int32_t* ext_row_src;    // [ext_h]
  const int32_t* ext_row_shift;  // [ext_h]
  const int32_t* ext_col_src;    // [2 * ext_w]
  // For gathers (each output element summed in a fixed order, no atomics):
  const int32_t* tap_rc;         // [out_h * taps * 2]: extended (row, col) of tap_offset
  const int32_t* src_row_start;  // [height + 1]: CSR of the extended rows that copy input row y
  const int32_t* src_row_ext;
  const int32_t* src_col_start;  // [2 * width + 1]: CSR over (shift, x) of extended columns
  const int32_t* src_col_ext;    //   whose source (after the half-turn if shift) is column x
  const int32_t* entry_start;    // [ext_h + 1]: CSR over extended rows of the taps reading them,
  const int32_t* entry;          //   each as 2 * (r * taps + t) + (0: top, 1: bottom neighbour)
};

}  // namespace equiconv
