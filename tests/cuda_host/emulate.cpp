// Runs the per-thread functions of the CUDA kernels (csrc/cuda/sampling_elements.h) on the host:
// one loop iteration per GPU thread, in the kernels' index order and with both index types.
// Built and called through ctypes by tests/test_cuda_host.py; pointers come from torch tensors.
#include <cstdint>

#include "cuda/sampling_elements.h"

using equiconv::PlanView;

namespace {

// dims: height, width, out_h, out_w, taps, stride_w, ext_h, ext_w
PlanView<double> make_view(const int64_t* dims, const int64_t* const* tables, const double* tap_weight) {
  return PlanView<double>{dims[0], dims[1], dims[2], dims[3], dims[4], dims[5], dims[6], dims[7],
                          tables[0], tap_weight, tables[1], tables[2], tables[3], tables[4],
                          tables[5], tables[6], tables[7], tables[8], tables[9], tables[10]};
}

// What the kernel launch does, one iteration per GPU thread, with the index type of the kernel.
template <typename Thread>
void for_each_element(int64_t total, int wide_index, Thread thread) {
  for (int64_t i = 0; i < total; ++i) {
    if (wide_index) {
      thread(i);
    } else {
      thread(static_cast<int32_t>(i));
    }
  }
}

}  // namespace

// tables: tap_offset, ext_row_src, ext_row_shift, ext_col_src, tap_rc, src_row_start, src_row_ext,
// src_col_start, src_col_ext, entry_start, entry (as in PlanView).
extern "C" void emulate_im2col(const double* input, double* columns, const int64_t* dims,
                               const int64_t* const* tables, const double* tap_weight, int64_t channels,
                               int64_t images, int wide_index) {
  const PlanView<double> v = make_view(dims, tables, tap_weight);
  for_each_element(images * channels * v.out_h * v.out_w, wide_index, [&](auto i) {
    using index_t = decltype(i);
    equiconv::cuda::im2col_element<double, double, index_t>(i, input, columns, v, index_t(channels), index_t(images));
  });
}

extern "C" void emulate_col2im(const double* columns, double* grad_input, const int64_t* dims,
                               const int64_t* const* tables, const double* tap_weight, int64_t channels,
                               int64_t images, int wide_index) {
  const PlanView<double> v = make_view(dims, tables, tap_weight);
  for_each_element(images * channels * v.height * v.width, wide_index, [&](auto i) {
    using index_t = decltype(i);
    equiconv::cuda::col2im_element<double, double, index_t>(i, columns, grad_input, v, index_t(channels),
                                                             index_t(images));
  });
}
