// Raw-pointer view of a SamplingPlan: what every kernel (CPU or CUDA) takes. No torch types,
// so the CUDA translation units compile with nvcc alone.
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
  const int64_t* tap_offset;     // [out_h * taps]
  const scalar_t* tap_weight;       // [out_h * taps * 4]: w00, w01, w10, w11
  const int64_t* ext_row_src;    // [ext_h]
  const int64_t* ext_row_shift;  // [ext_h]
  const int64_t* ext_col_src;    // [2 * ext_w]
  // For gathers (each output element summed in a fixed order, no atomics):
  const int64_t* tap_rc;         // [out_h * taps * 2]: extended (row, col) of tap_offset
  const int64_t* src_row_start;  // [height + 1]: CSR of the extended rows that copy input row y
  const int64_t* src_row_ext;
  const int64_t* src_col_start;  // [2 * width + 1]: CSR over (shift, x) of extended columns
  const int64_t* src_col_ext;    //   whose source (after the half-turn if shift) is column x
  const int64_t* entry_start;    // [ext_h + 1]: CSR over extended rows of the taps reading them,
  const int64_t* entry;          //   each as 2 * (r * taps + t) + (0: top, 1: bottom neighbour)
};

}  // namespace equiconv
