// The work of one GPU thread of equi_conv2d's kernels, on csrc/cuda/sampling_elements.h (plain
// functions that compile for the host too: tests/cuda_host/ runs them on the CPU).
//
// Columns layout (what the GEMMs read): [channels * taps, images, out_h * out_w], i.e. for each
// (channel, tap) one row holding every output pixel of every image of the chunk. Neighbouring
// threads take neighbouring output columns, so reads of the input and writes of the columns are
// coalesced, and the per-(row, tap) weights and offsets are the same across a warp.
#pragma once

#include "../../cuda/sampling_elements.h"

namespace equiconv {
namespace cuda {

// Thread i of im2col: output pixel p of image n, channel c, all taps.
template <typename scalar_t, typename acc_t, typename index_t>
EQUICONV_HD void im2col_element(index_t i, const scalar_t* input, scalar_t* columns,
                                const PlanView<acc_t>& v, index_t channels, index_t images) {
  // index_t (int32 when every index fits) keeps the divisions cheap.
  const index_t wo = static_cast<index_t>(v.out_w), taps = static_cast<index_t>(v.taps);
  const index_t pixels = static_cast<index_t>(v.out_h) * wo;
  const index_t p = i % pixels, nc = i / pixels;
  const index_t n = nc % images, c = nc / images;
  const index_t r = p / wo, q = p - r * wo;
  const scalar_t* channel = input + (n * channels + c) * static_cast<index_t>(v.height * v.width);
  scalar_t* out = columns + (c * taps * images + n) * pixels + p;
  const index_t tap_stride = images * pixels;
  for (index_t t = 0; t < taps; ++t) {
    out[t * tap_stride] = cuda::convert<scalar_t>(tap_sample(channel, v, r * taps + t, q));
  }
}

// Thread i of the adjoint: the gradient of input pixel (n, c, y, x), gathered in a fixed order
// from every (extended position, tap, corner, output column) that read it. No atomics, so the
// result is deterministic.
template <typename scalar_t, typename acc_t, typename index_t>
EQUICONV_HD void col2im_element(index_t i, const scalar_t* columns, scalar_t* grad_input,
                                const PlanView<acc_t>& v, index_t channels, index_t images) {
  const index_t width = static_cast<index_t>(v.width), height = static_cast<index_t>(v.height);
  const index_t x = i % width, rest = i / width;
  const index_t y = rest % height, nc = rest / height;
  const index_t n = nc / channels, c = nc - n * channels;
  const index_t pixels = static_cast<index_t>(v.out_h * v.out_w), tap_stride = images * pixels;
  const scalar_t* base = columns + (c * static_cast<index_t>(v.taps) * images + n) * pixels;
  acc_t acc(0);
  for_each_read(v, y, x, [&](int64_t r, int64_t t, int64_t q, acc_t w) {
    acc += w * cuda::convert<acc_t>(base[t * tap_stride + r * v.out_w + q]);
  });
  grad_input[i] = cuda::convert<scalar_t>(acc);
}

// The two kernels as types: how many threads a call runs and the work of thread i, reading `src`
// and writing `dst`. The CUDA launcher and the host emulator both take these.
struct Im2col {
  template <typename acc_t>
  static int64_t threads(const PlanView<acc_t>& v, int64_t channels, int64_t images) {
    return images * channels * v.out_h * v.out_w;
  }
  template <typename scalar_t, typename acc_t, typename index_t>
  static EQUICONV_HD void run(index_t i, const scalar_t* src, scalar_t* dst, const PlanView<acc_t>& v,
                              index_t channels, index_t images) {
    im2col_element<scalar_t, acc_t, index_t>(i, src, dst, v, channels, images);
  }
};

struct Col2im {
  template <typename acc_t>
  static int64_t threads(const PlanView<acc_t>& v, int64_t channels, int64_t images) {
    return images * channels * v.height * v.width;
  }
  template <typename scalar_t, typename acc_t, typename index_t>
  static EQUICONV_HD void run(index_t i, const scalar_t* src, scalar_t* dst, const PlanView<acc_t>& v,
                              index_t channels, index_t images) {
    col2im_element<scalar_t, acc_t, index_t>(i, src, dst, v, channels, images);
  }
};

}  // namespace cuda
}  // namespace equiconv
