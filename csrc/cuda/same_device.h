// The device check every CUDA op runs on its tensor arguments before launching anything: a
// kernel handed a pointer of another device faults (or reads garbage) instead of failing
// cleanly. Plain ATen, so that the host harness (tests/equiconv/cuda/host/) tests it on CPU.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/Exception.h>

#include <initializer_list>
#include <utility>

namespace equiconv {
namespace cuda {

// Throws naming the first defined tensor of `args` that is not on the device of `reference`
// (named `reference_name`); undefined tensors and null pointers (absent optional arguments) pass.
inline void check_same_device(const at::Tensor& reference, const char* reference_name,
                              std::initializer_list<std::pair<const char*, const at::Tensor*>> args) {
  for (const auto& [name, tensor] : args) {
    if (tensor == nullptr || !tensor->defined()) continue;
    TORCH_CHECK(tensor->device() == reference.device(), name, " is on ", tensor->device(), " but ",
                reference_name, " is on ", reference.device(), ": every tensor argument must be on ",
                reference_name, "'s device");
  }
}

}  // namespace cuda
}  // namespace equiconv
