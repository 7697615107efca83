// The work of one GPU thread of the sampling kernels, as plain functions that compile for the
// host too: the CUDA kernels (kernels.cu) are loops over these, and tests run the very same
// functions on the CPU (tests/cuda_host/) where no GPU is available.
//
// Columns layout (what the GEMMs read): [channels * taps, images, out_h * out_w], i.e. for each
// (channel, tap) one row holding every output pixel of every image of the chunk. Neighbouring
// threads take neighbouring output columns, so reads of the input and writes of the columns are
// coalesced, and the per-(row, tap) weights and offsets are the same across a warp.
#pragma once

#include <cstdint>

#include "../plan_view.h"

#if defined(__CUDACC__)
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#define EQUICONV_HD __host__ __device__ __forceinline__
#else
#define EQUICONV_HD inline
#endif

namespace equiconv {
namespace cuda {

// Explicit conversions between storage and accumulation types (torch builds CUDA code with the
// implicit half/bfloat16 conversions switched off).
template <typename to_t, typename from_t>
struct Convert {
  static EQUICONV_HD to_t apply(from_t v) { return static_cast<to_t>(v); }
};
#if defined(__CUDACC__)
template <> struct Convert<float, __half> {
  static __device__ __forceinline__ float apply(__half v) { return __half2float(v); }
};
template <> struct Convert<__half, float> {
  static __device__ __forceinline__ __half apply(float v) { return __float2half_rn(v); }
};
template <> struct Convert<float, __nv_bfloat16> {
  static __device__ __forceinline__ float apply(__nv_bfloat16 v) { return __bfloat162float(v); }
};
template <> struct Convert<__nv_bfloat16, float> {
  static __device__ __forceinline__ __nv_bfloat16 apply(float v) { return __float2bfloat16_rn(v); }
};
#endif

// Called qualified (cuda::convert): for c10::Half / c10::BFloat16 on the host, argument-dependent
// lookup would also find c10::convert.
template <typename to_t, typename from_t>
EQUICONV_HD to_t convert(from_t v) { return Convert<to_t, from_t>::apply(v); }

// The extended image at (er, ec), read straight from the channel through the boundary tables
// (wrap, pole crossing, zeros) instead of from a materialised extended copy.
template <typename acc_t, typename scalar_t>
EQUICONV_HD acc_t extended_value(const scalar_t* channel, const PlanView<acc_t>& v, int64_t er,
                                 int64_t ec) {
  const int64_t row = v.ext_row_src[er];
  if (row < 0) return acc_t(0);
  const int64_t col = v.ext_col_src[v.ext_row_shift[er] * v.ext_w + ec];
  return col < 0 ? acc_t(0) : cuda::convert<acc_t>(channel[row * v.width + col]);
}

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
    const index_t k = r * taps + t;
    const int64_t er = v.tap_rc[2 * k], ec = v.tap_rc[2 * k + 1] + q * v.stride_w;
    const acc_t* w = v.tap_weight + 4 * k;
    // A corner of weight zero is not read into the sum: 0 * NaN would spread a NaN the tap
    // does not sample. The branch is the same across a warp (neighbouring q share the tap).
    acc_t value(0);
    for (int c = 0; c < 4; ++c) {
      if (w[c] != acc_t(0)) value += w[c] * extended_value(channel, v, er + (c >> 1), ec + (c & 1));
    }
    out[t * tap_stride] = cuda::convert<scalar_t>(value);
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
  const int64_t s = v.stride_w;
  acc_t acc(0);
  for (int64_t a = v.src_row_start[y]; a < v.src_row_start[y + 1]; ++a) {
    const int64_t er = v.src_row_ext[a];
    const int64_t key = v.ext_row_shift[er] * v.width + x;
    for (int64_t b = v.src_col_start[key]; b < v.src_col_start[key + 1]; ++b) {
      const int64_t ec = v.src_col_ext[b];
      for (int64_t e = v.entry_start[er]; e < v.entry_start[er + 1]; ++e) {
        const int64_t k = v.entry[e] >> 1, bottom = v.entry[e] & 1;
        const int64_t r = k / v.taps, t = k - r * v.taps;
        const acc_t* w = v.tap_weight + 4 * k + 2 * bottom;
        const scalar_t* g = base + t * tap_stride + r * v.out_w;
        for (int64_t right = 0; right < 2; ++right) {
          const int64_t d = ec - v.tap_rc[2 * k + 1] - right;  // = q * stride_w if read
          if (d < 0) continue;
          const int64_t q = d / s;
          if (q * s == d && q < v.out_w && w[right] != acc_t(0)) acc += w[right] * cuda::convert<acc_t>(g[q]);
        }
      }
    }
  }
  grad_input[i] = cuda::convert<scalar_t>(acc);
}

// The launch shape of both kernels: a grid-stride loop over at most kMaxBlocks blocks.
constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = int64_t(1) << 20;

// The largest index either kernel forms: an element of the columns or of the image batch.
template <typename acc_t>
int64_t largest_index(const PlanView<acc_t>& v, int64_t channels, int64_t images) {
  const int64_t columns = images * channels * v.taps * v.out_h * v.out_w;
  const int64_t input = images * channels * v.height * v.width;
  return columns > input ? columns : input;
}

// Whether 32-bit indices hold every index of a call, including the grid-stride loop's last
// step past the end (at most one grid of threads beyond `largest`).
inline bool fits_int32(int64_t largest) {
  return largest <= int64_t(INT32_MAX) - kThreads * kMaxBlocks;
}

// Calls launch(index_t{}) with the narrowest index type for a call of kernel sizes (plan,
// channels, images).
template <typename acc_t, typename Launch>
void with_index_type(const PlanView<acc_t>& v, int64_t channels, int64_t images, Launch launch) {
  if (fits_int32(largest_index(v, channels, images))) {
    launch(int32_t{});
  } else {
    launch(int64_t{});
  }
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
