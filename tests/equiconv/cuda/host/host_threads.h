// What launching a CUDA kernel does, on the host: one loop iteration per GPU thread, in the
// kernel's index order, with the kernel's index type (int32, or int64 when `wide`). Shared by
// the ctypes emulator (emulate.cpp) and the host driver (driver_ops.cpp).
#pragma once

#include <cstdint>

#include "cuda/sampling_elements.h"

namespace equiconv {
namespace cuda {

// Kind: any op's kernel type (its elements.h), as csrc/cuda/launch.cuh takes it.
template <typename Kind, typename scalar_t, typename acc_t>
void run_threads(const Kind& kind, const scalar_t* src, scalar_t* dst, const PlanView<acc_t>& v, int64_t channels,
                 int64_t images, bool wide) {
  const int64_t total = kind.threads(v, channels, images);
  for (int64_t i = 0; i < total; ++i) {
    if (wide) {
      kind.template run<scalar_t, acc_t, int64_t>(i, src, dst, v, channels, images);
    } else {
      kind.template run<scalar_t, acc_t, int32_t>(static_cast<int32_t>(i), src, dst, v,
                                                  static_cast<int32_t>(channels), static_cast<int32_t>(images));
    }
  }
}

}  // namespace cuda
}  // namespace equiconv
