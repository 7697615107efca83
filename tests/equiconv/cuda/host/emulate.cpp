// Runs the per-thread functions of equi_conv2d's CUDA kernels (csrc/ops/equi_conv2d/elements.h) on the host:
// through host_threads.h, with either index type.
// Built and called through ctypes by tests/equiconv/cuda/test_cuda_host.py; pointers come from torch tensors.
#include <cstdint>

#include "host_threads.h"
#include "ops/equi_conv2d/elements.h"

using equiconv::PlanView;

namespace {

// dims: height, width, out_h, out_w, taps, stride_w, ext_h, ext_w
PlanView<double> make_view(const int64_t* dims, const int32_t* const* tables, const double* tap_weight) {
  return PlanView<double>{dims[0], dims[1], dims[2], dims[3], dims[4], dims[5], dims[6], dims[7],
                          tables[0], tap_weight, tables[1], tables[2], tables[3], tables[4],
                          tables[5], tables[6], tables[7], tables[8], tables[9], tables[10]};
}

template <typename Kind>
void emulate(const double* src, double* dst, const int64_t* dims, const int32_t* const* tables,
             const double* tap_weight, int64_t channels, int64_t images, int wide_index) {
  const Kind whole_image{{0, dims[2]}};  // every output row
  equiconv::cuda::run_threads(whole_image, src, dst, make_view(dims, tables, tap_weight), channels, images,
                              wide_index != 0);
}

}  // namespace

// tables: tap_offset, ext_row_src, ext_row_shift, ext_col_src, tap_rc, src_row_start, src_row_ext,
// src_col_start, src_col_ext, entry_start, entry (as in PlanView).
extern "C" void emulate_im2col(const double* input, double* columns, const int64_t* dims,
                               const int32_t* const* tables, const double* tap_weight, int64_t channels,
                               int64_t images, int wide_index) {
  emulate<equiconv::cuda::Im2col>(input, columns, dims, tables, tap_weight, channels, images, wide_index);
}

extern "C" void emulate_col2im(const double* columns, double* grad_input, const int64_t* dims,
                               const int32_t* const* tables, const double* tap_weight, int64_t channels,
                               int64_t images, int wide_index) {
  emulate<equiconv::cuda::Col2im>(columns, grad_input, dims, tables, tap_weight, channels, images, wide_index);
}
