// The work of one GPU thread of equi_conv2d's kernels, on csrc/cuda/sampling_elements.h (plain
// functions that compile for the host too: tests/cuda_host/ runs them on the CPU).
//
// Columns layout (what the GEMMs read): [channels * taps, images, band pixels], i.e. for each
// (channel, tap) one row holding every output pixel of a band of output rows of every image of
// the chunk (the whole image unless one image's columns exceed the driver's budget). Neighbouring
// threads take neighbouring output columns, so reads of the input and writes of the columns are
// coalesced, and the per-(row, tap) weights and offsets are the same across a warp.
#pragma once

#include "../../cuda/sampling_elements.h"

namespace equiconv {
namespace cuda {

// Output rows [begin, end) of the layer: what one call of the kernels covers.
struct RowBand {
  int64_t begin, end;
  EQUICONV_HD int64_t rows() const { return end - begin; }
};

// Thread i of im2col: pixel p of the band of image n, channel c, all taps.
template <typename scalar_t, typename acc_t, typename index_t>
EQUICONV_HD void im2col_element(index_t i, const scalar_t* input, scalar_t* columns,
                                const PlanView<acc_t>& v, index_t channels, index_t images, RowBand band) {
  // index_t (int32 when every index fits) keeps the divisions cheap.
  const index_t wo = static_cast<index_t>(v.out_w), taps = static_cast<index_t>(v.taps);
  const index_t pixels = static_cast<index_t>(band.rows()) * wo;
  const index_t p = i % pixels, nc = i / pixels;
  const index_t n = nc % images, c = nc / images;
  const index_t rb = p / wo, q = p - rb * wo, r = static_cast<index_t>(band.begin) + rb;
  const scalar_t* channel = input + (n * channels + c) * static_cast<index_t>(v.height * v.width);
  scalar_t* out = columns + (c * taps * images + n) * pixels + p;
  const index_t tap_stride = images * pixels;
  for (index_t t = 0; t < taps; ++t) {
    out[t * tap_stride] = cuda::convert<scalar_t>(tap_sample(channel, v, int32_t(r * taps + t), int32_t(q)));
  }
}

// Thread i of the adjoint: the gradient of input pixel (n, c, y, x), gathered in a fixed order
// from every (extended position, tap, corner, output column of the band) that read it. No
// atomics, so the result is deterministic. Reads of rows outside the band are skipped: the
// driver sums the bands' results when it splits an image.
template <typename scalar_t, typename acc_t, typename index_t>
EQUICONV_HD void col2im_element(index_t i, const scalar_t* columns, scalar_t* grad_input,
                                const PlanView<acc_t>& v, index_t channels, index_t images, RowBand band) {
  const index_t width = static_cast<index_t>(v.width), height = static_cast<index_t>(v.height);
  const index_t x = i % width, rest = i / width;
  const index_t y = rest % height, nc = rest / height;
  const index_t n = nc / channels, c = nc - n * channels;
  const index_t wo = static_cast<index_t>(v.out_w), pixels = static_cast<index_t>(band.rows()) * wo;
  const index_t tap_stride = images * pixels, r0 = static_cast<index_t>(band.begin), r1 = static_cast<index_t>(band.end);
  const scalar_t* base = columns + (c * static_cast<index_t>(v.taps) * images + n) * pixels;
  acc_t acc(0);
  for_each_read(v, int32_t(y), int32_t(x), [&](int32_t r, int32_t t, int32_t q, acc_t w) {
    if (r < r0 || r >= r1) return;
    acc += w * cuda::convert<acc_t>(base[t * tap_stride + (r - r0) * wo + q]);
  });
  grad_input[i] = cuda::convert<scalar_t>(acc);
}

// The two kernels as types, each over a band of output rows: how many threads a call runs and
// the work of thread i, reading `src` and writing `dst`. The CUDA launcher and the host
// emulator both take these.
struct Im2col {
  RowBand band;
  template <typename acc_t>
  int64_t threads(const PlanView<acc_t>& v, int64_t channels, int64_t images) const {
    return images * channels * band.rows() * v.out_w;
  }
  template <typename scalar_t, typename acc_t, typename index_t>
  EQUICONV_HD void run(index_t i, const scalar_t* src, scalar_t* dst, const PlanView<acc_t>& v,
                       index_t channels, index_t images) const {
    im2col_element<scalar_t, acc_t, index_t>(i, src, dst, v, channels, images, band);
  }
};

struct Col2im {
  RowBand band;
  template <typename acc_t>
  int64_t threads(const PlanView<acc_t>& v, int64_t channels, int64_t images) const {
    return images * channels * v.height * v.width;
  }
  template <typename scalar_t, typename acc_t, typename index_t>
  EQUICONV_HD void run(index_t i, const scalar_t* src, scalar_t* dst, const PlanView<acc_t>& v,
                       index_t channels, index_t images) const {
    col2im_element<scalar_t, acc_t, index_t>(i, src, dst, v, channels, images, band);
  }
};

}  // namespace cuda
}  // namespace equiconv
