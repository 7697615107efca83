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

// Everything below indexes the plan's tables and one channel in 32 bits: build_plan refuses a
// geometry where a table value, a table index or an index within one channel's image or extended
// image could exceed 2^31 - 1 (and a stride_w that could), so the table look-ups and the divisions
// of the gathers stay 32-bit. Offsets across channels and images are the callers' (their index_t).
struct Dims32 {
  int32_t width, out_w, taps, stride_w, ext_w;
  template <typename acc_t>
  EQUICONV_HD explicit Dims32(const PlanView<acc_t>& v)
      : width(int32_t(v.width)), out_w(int32_t(v.out_w)), taps(int32_t(v.taps)), stride_w(int32_t(v.stride_w)),
        ext_w(int32_t(v.ext_w)) {}
};

// The extended image at (er, ec), read straight from the channel through the boundary tables
// (wrap, pole crossing, zeros) instead of from a materialised extended copy.
template <typename acc_t, typename scalar_t>
EQUICONV_HD acc_t extended_value(const scalar_t* channel, const PlanView<acc_t>& v, const Dims32& d, int32_t er,
                                 int32_t ec) {
  const int32_t row = v.ext_row_src[er];
  if (row < 0) return acc_t(0);
  const int32_t col = v.ext_col_src[v.ext_row_shift[er] * d.ext_w + ec];
  return col < 0 ? acc_t(0) : cuda::convert<acc_t>(channel[row * d.width + col]);
}

// The bilinear sample of tap k (= output row * taps + tap) at output column q.
template <typename acc_t, typename scalar_t>
EQUICONV_HD acc_t tap_sample(const scalar_t* channel, const PlanView<acc_t>& v, int32_t k, int32_t q) {
  const Dims32 d(v);
  const int32_t er = v.tap_rc[2 * k], ec = v.tap_rc[2 * k + 1] + q * d.stride_w;
  const acc_t* w = v.tap_weight + 4 * k;
  // A corner of weight zero is not read into the sum: 0 * NaN would spread a NaN the tap
  // does not sample. The branch is the same across a warp (neighbouring q share the tap).
  acc_t value(0);
  for (int c = 0; c < 4; ++c) {
    if (w[c] != acc_t(0)) value += w[c] * extended_value(channel, v, d, er + (c >> 1), ec + (c & 1));
  }
  return value;
}

// Calls visit(r, t, q, weight) for every (output row r, tap t, output column q) whose bilinear
// read takes in input pixel (y, x), with that corner's non-zero weight, in a fixed order: the
// adjoints gather with it, each input pixel by one thread, without atomics (deterministic).
template <typename acc_t, typename Visit>
EQUICONV_HD void for_each_read(const PlanView<acc_t>& v, int32_t y, int32_t x, Visit visit) {
  const Dims32 d(v);
  for (int32_t a = v.src_row_start[y]; a < v.src_row_start[y + 1]; ++a) {
    const int32_t er = v.src_row_ext[a];
    const int32_t key = v.ext_row_shift[er] * d.width + x;
    for (int32_t b = v.src_col_start[key]; b < v.src_col_start[key + 1]; ++b) {
      const int32_t ec = v.src_col_ext[b];
      for (int32_t e = v.entry_start[er]; e < v.entry_start[er + 1]; ++e) {
        const int32_t k = v.entry[e] >> 1, bottom = v.entry[e] & 1;
        const int32_t r = k / d.taps, t = k - r * d.taps;
        const acc_t* w = v.tap_weight + 4 * k + 2 * bottom;
        for (int32_t right = 0; right < 2; ++right) {
          const int32_t dist = ec - v.tap_rc[2 * k + 1] - right;  // = q * stride_w if read
          if (dist < 0) continue;
          const int32_t q = dist / d.stride_w;
          if (q * d.stride_w == dist && q < d.out_w && w[right] != acc_t(0)) visit(r, t, q, w[right]);
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
