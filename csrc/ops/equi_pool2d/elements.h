// The work of one GPU thread of the pooling kernels, on csrc/cuda/sampling_elements.h (plain
// functions that compile for the host too: tests/cuda_host/ runs them on the CPU). `channels`
// counts the planes (images x channels); `images` is 1.
#pragma once

#include "../../cuda/sampling_elements.h"

namespace equiconv {
namespace cuda {

template <typename acc_t>
EQUICONV_HD bool is_nan(acc_t v) { return v != v; }

// Thread i: output element (plane, r, q), reduced over the window's taps. `winners` (max only)
// receives the winning tap: the first in row-major order on ties, a NaN over any number.
struct PoolForward {
  int64_t* winners;  // nullptr: the mean over the taps

  template <typename acc_t>
  static int64_t threads(const PlanView<acc_t>& v, int64_t planes, int64_t) { return planes * v.out_h * v.out_w; }

  template <typename scalar_t, typename acc_t, typename index_t>
  EQUICONV_HD void run(index_t i, const scalar_t* input, scalar_t* out, const PlanView<acc_t>& v, index_t,
                       index_t) const {
    const index_t wo = static_cast<index_t>(v.out_w), pixels = static_cast<index_t>(v.out_h) * wo;
    const index_t plane = i / pixels, p = i - plane * pixels, r = p / wo, q = p - r * wo;
    const scalar_t* channel = input + plane * static_cast<index_t>(v.height * v.width);
    const index_t taps = static_cast<index_t>(v.taps);
    acc_t best = tap_sample(channel, v, int32_t(r * taps), int32_t(q));
    index_t winner = 0;
    for (index_t t = 1; t < taps; ++t) {
      const acc_t value = tap_sample(channel, v, int32_t(r * taps + t), int32_t(q));
      if (winners) {
        if (value > best || (is_nan(value) && !is_nan(best))) {
          best = value;
          winner = t;
        }
      } else {
        best += value;
      }
    }
    if (winners) {
      winners[i] = winner;
    } else {
      best /= acc_t(v.taps);
    }
    out[i] = cuda::convert<scalar_t>(best);
  }
};

// Thread i: the gradient of input pixel (plane, y, x), gathered in a fixed order from every
// window read that took it in: only the winning tap's (max), or every tap's over the tap count.
struct PoolBackward {
  const int64_t* winners;  // nullptr: the mean

  template <typename acc_t>
  static int64_t threads(const PlanView<acc_t>& v, int64_t planes, int64_t) { return planes * v.height * v.width; }

  template <typename scalar_t, typename acc_t, typename index_t>
  EQUICONV_HD void run(index_t i, const scalar_t* grad_output, scalar_t* grad_input, const PlanView<acc_t>& v,
                       index_t, index_t) const {
    const index_t image = static_cast<index_t>(v.height * v.width), width = static_cast<index_t>(v.width);
    const index_t plane = i / image, yx = i - plane * image, y = yx / width, x = yx - y * width;
    const int64_t pixels = v.out_h * v.out_w;
    const scalar_t* g = grad_output + plane * pixels;
    const int64_t* won = winners ? winners + plane * pixels : nullptr;
    acc_t acc(0);
    const index_t wo = static_cast<index_t>(v.out_w);
    for_each_read(v, int32_t(y), int32_t(x), [&](int32_t r, int32_t t, int32_t q, acc_t w) {
      const index_t o = r * wo + q;
      if (!won || won[o] == t) acc += w * cuda::convert<acc_t>(g[o]);
    });
    if (!won) acc /= acc_t(v.taps);
    grad_input[i] = cuda::convert<scalar_t>(acc);
  }
};

}  // namespace cuda
}  // namespace equiconv
