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
};

}  // namespace equiconv
