// What every operator's GPU threads share, as plain functions that compile for the host too:
// reading the sphere through a plan (one tap's bilinear sample; every read of an input pixel,
// for the adjoints), the launch shape and the index type. Each op's kernels (its elements.h)
// are built from these; the CUDA kernels are loops over them, and tests run the very same
// functions on the CPU (tests/cuda_host/) where no GPU is available.
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

// The bilinear sample of tap k (= output row * taps + tap) at output column q.
template <typename acc_t, typename scalar_t>
EQUICONV_HD acc_t tap_sample(const scalar_t* channel, const PlanView<acc_t>& v, int64_t k, int64_t q) {
  const int64_t er = v.tap_rc[2 * k], ec = v.tap_rc[2 * k + 1] + q * v.stride_w;
  const acc_t* w = v.tap_weight + 4 * k;
  // A corner of weight zero is not read into the sum: 0 * NaN would spread a NaN the tap
  // does not sample. The branch is the same across a warp (neighbouring q share the tap).
  acc_t value(0);
  for (int c = 0; c < 4; ++c) {
    if (w[c] != acc_t(0)) value += w[c] * extended_value(channel, v, er + (c >> 1), ec + (c & 1));
  }
  return value;
}

// Calls visit(r, t, q, weight) for every (output row r, tap t, output column q) whose bilinear
// read takes in input pixel (y, x), with that corner's non-zero weight, in a fixed order: the
// adjoints gather with it, each input pixel by one thread, without atomics (deterministic).
template <typename acc_t, typename Visit>
EQUICONV_HD void for_each_read(const PlanView<acc_t>& v, int64_t y, int64_t x, Visit visit) {
  const int64_t s = v.stride_w;
  for (int64_t a = v.src_row_start[y]; a < v.src_row_start[y + 1]; ++a) {
    const int64_t er = v.src_row_ext[a];
    const int64_t key = v.ext_row_shift[er] * v.width + x;
    for (int64_t b = v.src_col_start[key]; b < v.src_col_start[key + 1]; ++b) {
      const int64_t ec = v.src_col_ext[b];
      for (int64_t e = v.entry_start[er]; e < v.entry_start[er + 1]; ++e) {
        const int64_t k = v.entry[e] >> 1, bottom = v.entry[e] & 1;
        const int64_t r = k / v.taps, t = k - r * v.taps;
        const acc_t* w = v.tap_weight + 4 * k + 2 * bottom;
        for (int64_t right = 0; right < 2; ++right) {
          const int64_t d = ec - v.tap_rc[2 * k + 1] - right;  // = q * stride_w if read
          if (d < 0) continue;
          const int64_t q = d / s;
          if (q * s == d && q < v.out_w && w[right] != acc_t(0)) visit(r, t, q, w[right]);
        }
      }
    }
  }
}

// The launch shape of every kernel: a grid-stride loop over at most kMaxBlocks blocks.
constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = int64_t(1) << 20;

// The largest index a kernel forms: an element of a (channels * taps)-row column buffer or of the
// image batch (what the convolution's kernels index; other ops index less).
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

}  // namespace cuda
}  // namespace equiconv
