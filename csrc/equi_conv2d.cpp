// Forward = sample the input into columns through the cached plan, then one batched GEMM per
// chunk of images; backward = GEMMs for grad weight / grad columns, then the adjoint sampling.
// The batch is processed in chunks so the column buffers stay within kColumnsBudgetBytes.
#include "equi_conv2d.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include "geometry.h"
#include "sampling.h"

namespace equiconv {
namespace {

constexpr int64_t kColumnsBudgetBytes = int64_t(128) << 20;

struct Layer {
  GeometryParams p;
  int64_t batch, in_channels, out_channels, groups;
  int64_t k_group() const { return in_channels / groups * p.taps(); }
  int64_t pixels() const { return p.out_h() * p.out_w(); }
  int64_t chunk(int64_t element_size) const {
    const int64_t per_image = std::max<int64_t>(1, in_channels * p.taps() * pixels() * element_size);
    return std::clamp<int64_t>(kColumnsBudgetBytes / per_image, 1, std::max<int64_t>(batch, 1));
  }
};

Layer check_layer(const at::Tensor& input, const at::Tensor& weight,
                  c10::IntArrayRef stride, c10::IntArrayRef padding, c10::IntArrayRef dilation,
                  int64_t groups, c10::ArrayRef<double> lat_range, double lon_span) {
  TORCH_CHECK_VALUE(input.dim() == 4, "input must be 4-D (N, C, H, W), got ", input.dim(), "-D");
  TORCH_CHECK_VALUE(weight.dim() == 4, "weight must be 4-D (out, in/groups, kH, kW), got ",
                    weight.dim(), "-D");
  TORCH_CHECK_TYPE(input.is_floating_point(), "input must be floating point, got ",
                   input.scalar_type());
  TORCH_CHECK_TYPE(weight.scalar_type() == input.scalar_type(), "weight dtype ",
                   weight.scalar_type(), " differs from input dtype ", input.scalar_type());
  TORCH_CHECK(weight.device() == input.device(), "weight is on ", weight.device(),
              " but input is on ", input.device());
  TORCH_CHECK_VALUE(groups > 0, "groups must be positive, got ", groups);
  TORCH_CHECK_VALUE(weight.size(0) % groups == 0, "out_channels (", weight.size(0),
                    ") must be divisible by groups (", groups, ")");
  TORCH_CHECK_VALUE(input.size(1) == weight.size(1) * groups, "input has ", input.size(1),
                    " channels but weight expects ", weight.size(1) * groups,
                    " (in_channels/groups=", weight.size(1), " x groups=", groups, ")");
  Layer l{make_params(input.size(2), input.size(3), {weight.size(2), weight.size(3)}, stride,
                      padding, dilation, lat_range, lon_span),
          input.size(0), input.size(1), weight.size(0), groups};
  return l;
}

void images_to_columns(const at::Tensor& images, at::Tensor& columns, const SamplingPlan& plan,
                       const GeometryParams& p) {
  TORCH_CHECK(images.is_cpu(), "equiconv was built without kernels for ", images.device());
  cpu::images_to_columns(images, columns, plan, p);
}

void columns_to_images(const at::Tensor& grad_columns, at::Tensor& grad_images,
                       const SamplingPlan& plan, const GeometryParams& p) {
  TORCH_CHECK(grad_columns.is_cpu(), "equiconv was built without kernels for ",
              grad_columns.device());
  cpu::columns_to_images(grad_columns, grad_images, plan, p);
}

// Weight as (b * groups, out/groups, k_group): the left operand of the batched GEMM.
at::Tensor grouped_weight(const at::Tensor& weight, const Layer& l, int64_t b) {
  return weight.reshape({1, l.groups, l.out_channels / l.groups, l.k_group()})
      .expand({b, l.groups, l.out_channels / l.groups, l.k_group()})
      .reshape({b * l.groups, l.out_channels / l.groups, l.k_group()});
}

}  // namespace

at::Tensor equi_conv2d_forward(
    const at::Tensor& input, const at::Tensor& weight, const std::optional<at::Tensor>& bias,
    c10::IntArrayRef stride, c10::IntArrayRef padding, c10::IntArrayRef dilation, int64_t groups,
    c10::ArrayRef<double> lat_range, double lon_span) {
  const Layer l = check_layer(input, weight, stride, padding, dilation, groups, lat_range, lon_span);
  at::Tensor out = at::empty({l.batch, l.out_channels, l.p.out_h(), l.p.out_w()}, input.options());
  if (l.batch == 0 || l.out_channels == 0) return out;
  const auto plan = sampling_plan(l.p, input.device(), accumulation_dtype(input.scalar_type()));
  const at::Tensor x = input.contiguous();
  const int64_t chunk = l.chunk(x.element_size());
  for (int64_t n0 = 0; n0 < l.batch; n0 += chunk) {
    const int64_t b = std::min(chunk, l.batch - n0);
    at::Tensor columns = at::empty({b, l.in_channels * l.p.taps(), l.pixels()}, x.options());
    images_to_columns(x.narrow(0, n0, b), columns, *plan, l.p);
    at::Tensor out_b = out.narrow(0, n0, b).view({b * l.groups, -1, l.pixels()});
    at::bmm_out(out_b, grouped_weight(weight, l, b), columns.view({b * l.groups, l.k_group(), -1}));
  }
  if (bias.has_value() && bias->defined()) {
    TORCH_CHECK_VALUE(bias->dim() == 1 && bias->size(0) == l.out_channels,
                      "bias must have shape (", l.out_channels, "), got ", bias->sizes());
    out.add_(bias->view({1, -1, 1, 1}));
  }
  return out;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> equi_conv2d_backward(
    const at::Tensor& grad_output, const at::Tensor& input, const at::Tensor& weight,
    c10::IntArrayRef stride, c10::IntArrayRef padding, c10::IntArrayRef dilation, int64_t groups,
    c10::ArrayRef<double> lat_range, double lon_span, std::array<bool, 3> output_mask) {
  const Layer l = check_layer(input, weight, stride, padding, dilation, groups, lat_range, lon_span);
  TORCH_CHECK_VALUE(grad_output.sizes() == at::IntArrayRef({l.batch, l.out_channels, l.p.out_h(),
                                                             l.p.out_w()}),
                    "grad_output has shape ", grad_output.sizes(), ", expected the output's");
  const auto acc = accumulation_dtype(input.scalar_type());
  const bool acc_is_storage = acc == input.scalar_type();
  const at::Tensor x = input.contiguous(), go = grad_output.contiguous();
  at::Tensor grad_input = output_mask[0] ? at::empty_like(x) : at::empty({0}, x.options());
  at::Tensor grad_weight = output_mask[1]
                               ? at::zeros({l.groups, l.out_channels / l.groups, l.k_group()},
                                           x.options().dtype(acc))
                               : at::empty({0}, x.options());
  at::Tensor grad_bias = output_mask[2] ? go.sum({0, 2, 3}) : at::empty({0}, x.options());

  if (l.batch > 0 && l.out_channels > 0 && (output_mask[0] || output_mask[1])) {
    const auto plan = sampling_plan(l.p, x.device(), acc);
    const int64_t chunk = l.chunk(x.element_size());
    for (int64_t n0 = 0; n0 < l.batch; n0 += chunk) {
      const int64_t b = std::min(chunk, l.batch - n0);
      const at::Tensor go_b = go.narrow(0, n0, b).view({b * l.groups, -1, l.pixels()});
      if (output_mask[1]) {
        at::Tensor columns = at::empty({b, l.in_channels * l.p.taps(), l.pixels()}, x.options());
        images_to_columns(x.narrow(0, n0, b), columns, *plan, l.p);
        at::Tensor part =
            at::bmm(go_b, columns.view({b * l.groups, l.k_group(), -1}).transpose(1, 2));
        grad_weight.add_(part.view({b, l.groups, -1, l.k_group()}).sum(0, false, acc));
      }
      if (output_mask[0]) {
        at::Tensor grad_columns =
            at::bmm(grouped_weight(weight, l, b).transpose(1, 2), go_b);
        at::Tensor gi_b = grad_input.narrow(0, n0, b);
        at::Tensor target = acc_is_storage ? gi_b : at::empty(gi_b.sizes(), x.options().dtype(acc));
        columns_to_images(grad_columns, target, *plan, l.p);
        if (!acc_is_storage) gi_b.copy_(target);
      }
    }
  } else if (output_mask[0]) {
    grad_input.zero_();
  }
  if (output_mask[1]) grad_weight = grad_weight.view(weight.sizes()).to(weight.scalar_type());
  return {grad_input, grad_weight, grad_bias};
}

std::tuple<at::Tensor, at::Tensor> sampling_grid(
    int64_t height, int64_t width, c10::IntArrayRef kernel_size, c10::IntArrayRef stride,
    c10::IntArrayRef padding, c10::IntArrayRef dilation, c10::ArrayRef<double> lat_range,
    double lon_span) {
  const GeometryParams p =
      make_params(height, width, kernel_size, stride, padding, dilation, lat_range, lon_span);
  RowTable t = row_table(p);
  const auto shape = std::vector<int64_t>{p.out_h(), p.kernel_h, p.kernel_w};
  auto f64 = at::TensorOptions().dtype(at::kDouble);
  at::Tensor rows = at::from_blob(t.rows.data(), shape, f64).clone();
  at::Tensor cols = at::from_blob(t.cols.data(), shape, f64).clone();
  return {rows, cols};
}

}  // namespace equiconv
