// What every operator's entry points share: the backend tags its per-device kernels are
// overloaded on (each op registers one kernel per backend and the dispatcher picks the device),
// the dtypes each backend computes in, and the glue between torch tensors and raw-pointer kernels.
#pragma once

#include <ATen/core/Tensor.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/library.h>

namespace equiconv {

// CPU kernels run in float32/float64 (bfloat16 goes through float32).
struct Cpu {};
// CUDA kernels take float32/float64/float16/bfloat16 natively and accumulate in float32/float64.
struct Cuda {};

at::ScalarType compute_dtype(Cpu, const at::Tensor& input);
at::ScalarType compute_dtype(Cuda, const at::Tensor& input);

// Throws a TypeError naming `name` if the backend has no kernels for t's dtype.
void require_dtype(Cpu, const at::Tensor& t, const char* name);
void require_dtype(Cuda, const at::Tensor& t, const char* name);

// Checks that t is a 4-D (N, C, H, W) floating-point tensor, naming it.
void check_image(const at::Tensor& t, const char* name);

// What the kernels see: detached (their ATen calls, also on worker threads, must not record
// autograd history), contiguous (channels_last inputs too), in the compute dtype.
at::Tensor kernel_operand(const at::Tensor& t, at::ScalarType dtype);

// A kernel result in the input's dtype and, like nn.Conv2d, its suggested memory format
// (channels_last in, channels_last out); no copy when both already agree.
at::Tensor like_input(const at::Tensor& result, const at::Tensor& input);

// The CUDA kernel of an op's registration: `fn` where the core is built with CUDA, otherwise a
// kernel that says how to get one (instead of the dispatcher's "no kernel for CUDA").
void built_without_cuda(const c10::OperatorHandle& op, torch::jit::Stack* stack);
#ifdef WITH_CUDA
#define EQUICONV_CUDA_KERNEL(fn) (fn)
#else
#define EQUICONV_CUDA_KERNEL(fn) torch::CppFunction::makeFromBoxedFunction<&::equiconv::built_without_cuda>()
#endif

}  // namespace equiconv
