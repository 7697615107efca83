#include "backend.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

namespace equiconv {

at::ScalarType compute_dtype(Cpu, const at::Tensor& input) {
  return input.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
}

at::ScalarType compute_dtype(Cuda, const at::Tensor& input) { return input.scalar_type(); }

void require_dtype(Cpu, const at::Tensor& t, const char* name) {
  TORCH_CHECK_TYPE(t.scalar_type() == at::kFloat || t.scalar_type() == at::kDouble ||
                       t.scalar_type() == at::kBFloat16,
                   name, " dtype ", t.scalar_type(), " is not supported by equiconv on CPU "
                   "(float32, float64, bfloat16)");
}

void require_dtype(Cuda, const at::Tensor& t, const char* name) {
  TORCH_CHECK_TYPE(t.scalar_type() == at::kFloat || t.scalar_type() == at::kDouble ||
                       t.scalar_type() == at::kHalf || t.scalar_type() == at::kBFloat16,
                   name, " dtype ", t.scalar_type(), " is not supported by equiconv on CUDA "
                   "(float32, float64, float16, bfloat16)");
}

void check_image(const at::Tensor& t, const char* name) {
  TORCH_CHECK_VALUE(t.dim() == 4, name, " must be 4-D (N, C, H, W), got ", t.dim(), "-D");
  TORCH_CHECK_TYPE(t.is_floating_point(), name, " must be floating point, got ", t.scalar_type());
}

at::Tensor kernel_operand(const at::Tensor& t, at::ScalarType dtype) {
  return t.detach().to(dtype).contiguous();
}

at::Tensor like_input(const at::Tensor& result, const at::Tensor& input) {
  return result.to(input.scalar_type(), /*non_blocking=*/false, /*copy=*/false,
                   input.suggest_memory_format());
}

void built_without_cuda(const c10::OperatorHandle& op, torch::jit::Stack*) {
  TORCH_CHECK(false, "equiconv was built without CUDA kernels, so ", op.schema().name(),
              " cannot run on a CUDA device; rebuild it on a machine with the CUDA toolkit and a "
              "CUDA build of torch (`pip install --no-build-isolation -e .`)");
}

}  // namespace equiconv
