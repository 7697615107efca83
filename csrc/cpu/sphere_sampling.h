// CPU kernels of the spherical im2col and its adjoint, for one image channel at a time.
// Templates over the scalar type (float32 or float64; bfloat16 is computed in float32),
// raw pointers only.
//
// Row invariance makes every (output row, tap) pair one set of four bilinear weights and one
// offset into the boundary-resolved "extended" image; along an output row the samples just
// advance by stride_w. So the inner loops are contiguous, branch-free and vectorisable.
#pragma once

#include <algorithm>
#include <cstdint>

#include <vector>

#include "../plan_view.h"

// The hot loops are also compiled for AVX-512 and AVX2 and picked when the library loads: the
// extension is built for baseline x86-64, and these loops are where its time goes.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define EQUICONV_VECTOR_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define EQUICONV_VECTOR_CLONES
#endif

namespace equiconv {
namespace cpu {

// Extended columns [begin, end) that copy the consecutive source columns from src on, or
// zeros where src < 0. A column map is a few such runs (the wrapped margins and the image), so
// extending and folding become copies and vector adds instead of lookups per element.
struct ColumnRun {
  int64_t begin, end, src;
};

// The runs of both column maps of the extended image: map s (0 unshifted, 1 half-turn) is
// runs[first[s]] .. runs[first[s + 1]].
struct ColumnRuns {
  std::vector<ColumnRun> runs;
  int64_t first[3];

  const ColumnRun* begin(int64_t s) const { return runs.data() + first[s]; }
  const ColumnRun* end(int64_t s) const { return runs.data() + first[s + 1]; }
};

template <typename scalar_t>
ColumnRuns column_runs(const PlanView<scalar_t>& v) {
  ColumnRuns out;
  for (int64_t s = 0; s < 2; ++s) {
    out.first[s] = static_cast<int64_t>(out.runs.size());
    const int32_t* col = v.ext_col_src + s * v.ext_w;
    for (int64_t c = 0; c < v.ext_w; ++c) {
      const int64_t src = std::max<int64_t>(col[c], -1);
      ColumnRun* last = out.runs.size() > size_t(out.first[s]) ? &out.runs.back() : nullptr;
      const bool continues =
          last && (src < 0 ? last->src < 0 : last->src >= 0 && src == last->src + c - last->begin);
      if (continues) {
        last->end = c + 1;
      } else {
        out.runs.push_back({c, c + 1, src});
      }
    }
  }
  out.first[2] = static_cast<int64_t>(out.runs.size());
  return out;
}

// ext[ext_h x ext_w] <- image[H x W] with wrap, pole crossing and zeros applied.
template <typename scalar_t>
void extend_image(const scalar_t* image, scalar_t* ext, const PlanView<scalar_t>& v,
                  const ColumnRuns& runs) {
  for (int64_t e = 0; e < v.ext_h; ++e) {
    scalar_t* dst = ext + e * v.ext_w;
    const int64_t row = v.ext_row_src[e];
    if (row < 0) {
      std::fill(dst, dst + v.ext_w, scalar_t(0));
      continue;
    }
    const scalar_t* src = image + row * v.width;
    const int64_t shift = v.ext_row_shift[e];
    for (const ColumnRun* r = runs.begin(shift); r != runs.end(shift); ++r) {
      if (r->src < 0) {
        std::fill(dst + r->begin, dst + r->end, scalar_t(0));
      } else {
        std::copy(src + r->src, src + r->src + (r->end - r->begin), dst + r->begin);
      }
    }
  }
}

// grad_image[H x W] = adjoint of extend_image applied to grad_ext (overwrites grad_image).
template <typename scalar_t>
EQUICONV_VECTOR_CLONES void fold_extended(const scalar_t* grad_ext, scalar_t* grad_image,
                                          const PlanView<scalar_t>& v, const ColumnRuns& runs) {
  std::fill(grad_image, grad_image + v.height * v.width, scalar_t(0));
  for (int64_t e = 0; e < v.ext_h; ++e) {
    const int64_t row = v.ext_row_src[e];
    if (row < 0) continue;
    const scalar_t* src = grad_ext + e * v.ext_w;
    scalar_t* dst = grad_image + row * v.width;
    const int64_t shift = v.ext_row_shift[e];
    for (const ColumnRun* r = runs.begin(shift); r != runs.end(shift); ++r) {
      if (r->src < 0) continue;
      const scalar_t* __restrict__ g = src + r->begin;
      scalar_t* __restrict__ d = dst + r->src;
      for (int64_t i = 0; i < r->end - r->begin; ++i) d[i] += g[i];
    }
  }
}

// Asks for [p, p + count) ahead of use: a block reads a few short rows of each channel, too
// short for the hardware prefetcher to catch on before the channel is done.
template <bool kWrite, typename scalar_t>
void prefetch(const scalar_t* p, int64_t count) {
  const char* bytes = reinterpret_cast<const char*>(p);
  const int64_t size = count * int64_t(sizeof(scalar_t));
  for (int64_t b = 0; b < size; b += 64) __builtin_prefetch(bytes + b, kWrite);
}

// Whether all four bilinear weights of a tap are non-zero. A corner of weight zero is never
// read into a sum (0 * NaN is NaN: a NaN the tap does not sample must not reach its output), so
// taps on the pixel grid, or on one of its lines, take the sparse loops below, which read only
// the corners that count.
template <typename scalar_t>
bool all_corners(const scalar_t* w) {
  return w[0] != scalar_t(0) && w[1] != scalar_t(0) && w[2] != scalar_t(0) && w[3] != scalar_t(0);
}

// The extended-image offset of corner c (0: top-left, 1: top-right, 2: bottom-left, 3: bottom-right).
template <typename scalar_t>
int64_t corner_offset(const PlanView<scalar_t>& v, int c) {
  return (c >> 1) * v.ext_w + (c & 1);
}

// dst[q * ds] (+)= a * src[q * ss] for q < n (added if add, else assigned); the common unit
// strides get loops of their own, which vectorise. Inlined into the cloned callers below.
template <typename scalar_t>
inline void strided_axpy(bool add, scalar_t a, const scalar_t* __restrict__ src, int64_t ss,
                         scalar_t* __restrict__ dst, int64_t ds, int64_t n) {
  if (ss == 1 && ds == 1) {
    if (add) {
      for (int64_t q = 0; q < n; ++q) dst[q] += a * src[q];
    } else {
      for (int64_t q = 0; q < n; ++q) dst[q] = a * src[q];
    }
    return;
  }
  for (int64_t q = 0; q < n; ++q) dst[q * ds] = (add ? dst[q * ds] : scalar_t(0)) + a * src[q * ss];
}

// columns[taps x (r1 - r0) x out_w] of one channel for output rows [r0, r1), sampled from
// the channel's extended image.
template <typename scalar_t>
EQUICONV_VECTOR_CLONES void ext_to_columns(const scalar_t* ext, scalar_t* columns,
                                           const PlanView<scalar_t>& v, int64_t r0, int64_t r1) {
  const int64_t s = v.stride_w;
  for (int64_t t = 0; t < v.taps; ++t) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t k = r * v.taps + t;
      const scalar_t* w = v.tap_weight + 4 * k;
      const scalar_t* __restrict__ p0 = ext + v.tap_offset[k];
      scalar_t* __restrict__ dst = columns + (t * (r1 - r0) + r - r0) * v.out_w;
      if (!all_corners(w)) {
        bool first = true;
        for (int c = 0; c < 4; ++c) {
          if (w[c] == scalar_t(0)) continue;
          strided_axpy(!first, w[c], p0 + corner_offset(v, c), s, dst, 1, v.out_w);
          first = false;
        }
        if (first) std::fill(dst, dst + v.out_w, scalar_t(0));
        continue;
      }
      const scalar_t w00 = w[0], w01 = w[1], w10 = w[2], w11 = w[3];
      const scalar_t* __restrict__ p1 = p0 + v.ext_w;
      if (s == 1) {
        for (int64_t q = 0; q < v.out_w; ++q) {
          dst[q] = w00 * p0[q] + w01 * p0[q + 1] + w10 * p1[q] + w11 * p1[q + 1];
        }
      } else {
        for (int64_t q = 0; q < v.out_w; ++q) {
          const int64_t x = q * s;
          dst[q] = w00 * p0[x] + w01 * p0[x + 1] + w10 * p1[x] + w11 * p1[x + 1];
        }
      }
    }
  }
}

// grad_ext[ext_h x ext_w] += adjoint of ext_to_columns (same layout and row range).
template <typename scalar_t>
EQUICONV_VECTOR_CLONES void columns_to_ext(const scalar_t* grad_columns, scalar_t* grad_ext,
                                           const PlanView<scalar_t>& v, int64_t r0, int64_t r1) {
  const int64_t s = v.stride_w, wo = v.out_w;
  for (int64_t t = 0; t < v.taps; ++t) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t k = r * v.taps + t;
      const scalar_t* w = v.tap_weight + 4 * k;
      scalar_t* __restrict__ p0 = grad_ext + v.tap_offset[k];
      const scalar_t* __restrict__ g = grad_columns + (t * (r1 - r0) + r - r0) * wo;
      if (!all_corners(w)) {  // as in ext_to_columns: no corner of weight zero is touched
        for (int c = 0; c < 4; ++c) {
          if (w[c] != scalar_t(0)) strided_axpy(true, w[c], g, 1, p0 + corner_offset(v, c), s, wo);
        }
        continue;
      }
      const scalar_t w00 = w[0], w01 = w[1], w10 = w[2], w11 = w[3];
      scalar_t* __restrict__ p1 = p0 + v.ext_w;
      if (s == 1) {
        // Written as a gather (each ext element once) so that it vectorises.
        const scalar_t g0 = g[0];
        p0[0] += w00 * g0;
        p1[0] += w10 * g0;
        for (int64_t q = 1; q < wo; ++q) {
          const scalar_t gq = g[q], gm = g[q - 1];
          p0[q] += w00 * gq + w01 * gm;
          p1[q] += w10 * gq + w11 * gm;
        }
        const scalar_t gl = g[wo - 1];
        p0[wo] += w01 * gl;
        p1[wo] += w11 * gl;
      } else {
        for (int64_t q = 0; q < wo; ++q) {
          const int64_t x = q * s;
          const scalar_t gq = g[q];
          p0[x] += w00 * gq;
          p0[x + 1] += w01 * gq;
          p1[x] += w10 * gq;
          p1[x + 1] += w11 * gq;
        }
      }
    }
  }
}

}  // namespace cpu
}  // namespace equiconv
