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

#include "../plan_view.h"

namespace equiconv {
namespace cpu {

// ext[ext_h x ext_w] <- image[H x W] with wrap, pole crossing and zeros applied.
template <typename scalar_t>
void extend_image(const scalar_t* image, scalar_t* ext, const PlanView<scalar_t>& v) {
  for (int64_t e = 0; e < v.ext_h; ++e) {
    scalar_t* dst = ext + e * v.ext_w;
    const int64_t row = v.ext_row_src[e];
    if (row < 0) {
      std::fill(dst, dst + v.ext_w, scalar_t(0));
      continue;
    }
    const scalar_t* src = image + row * v.width;
    const int64_t* col = v.ext_col_src + v.ext_row_shift[e] * v.ext_w;
    for (int64_t c = 0; c < v.ext_w; ++c) dst[c] = col[c] >= 0 ? src[col[c]] : scalar_t(0);
  }
}

// grad_image[H x W] = adjoint of extend_image applied to grad_ext (overwrites grad_image).
template <typename scalar_t>
void fold_extended(const scalar_t* grad_ext, scalar_t* grad_image, const PlanView<scalar_t>& v) {
  std::fill(grad_image, grad_image + v.height * v.width, scalar_t(0));
  for (int64_t e = 0; e < v.ext_h; ++e) {
    const int64_t row = v.ext_row_src[e];
    if (row < 0) continue;
    const scalar_t* src = grad_ext + e * v.ext_w;
    scalar_t* dst = grad_image + row * v.width;
    const int64_t* col = v.ext_col_src + v.ext_row_shift[e] * v.ext_w;
    for (int64_t c = 0; c < v.ext_w; ++c) {
      if (col[c] >= 0) dst[col[c]] += src[c];
    }
  }
}

// columns[taps x (r1 - r0) x out_w] of one channel for output rows [r0, r1), sampled from
// the channel's extended image.
template <typename scalar_t>
void ext_to_columns(const scalar_t* ext, scalar_t* columns, const PlanView<scalar_t>& v,
                    int64_t r0, int64_t r1) {
  const int64_t s = v.stride_w;
  for (int64_t t = 0; t < v.taps; ++t) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t k = r * v.taps + t;
      const scalar_t* w = v.tap_weight + 4 * k;
      const scalar_t w00 = w[0], w01 = w[1], w10 = w[2], w11 = w[3];
      const scalar_t* __restrict__ p0 = ext + v.tap_offset[k];
      const scalar_t* __restrict__ p1 = p0 + v.ext_w;
      scalar_t* __restrict__ dst = columns + (t * (r1 - r0) + r - r0) * v.out_w;
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
void columns_to_ext(const scalar_t* grad_columns, scalar_t* grad_ext, const PlanView<scalar_t>& v,
                    int64_t r0, int64_t r1) {
  const int64_t s = v.stride_w, wo = v.out_w;
  for (int64_t t = 0; t < v.taps; ++t) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t k = r * v.taps + t;
      const scalar_t* w = v.tap_weight + 4 * k;
      const scalar_t w00 = w[0], w01 = w[1], w10 = w[2], w11 = w[3];
      scalar_t* __restrict__ p0 = grad_ext + v.tap_offset[k];
      scalar_t* __restrict__ p1 = p0 + v.ext_w;
      const scalar_t* __restrict__ g = grad_columns + (t * (r1 - r0) + r - r0) * wo;
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
