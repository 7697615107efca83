// The accumulation type of the CUDA kernels (and of reduced-precision gradient sums) for each
// storage type, as torch types: the device code and the host emulation share it.
#pragma once

#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>

namespace equiconv {
namespace cuda {

template <typename scalar_t> struct Acc { using type = scalar_t; };
template <> struct Acc<c10::Half> { using type = float; };
template <> struct Acc<c10::BFloat16> { using type = float; };

}  // namespace cuda
}  // namespace equiconv
