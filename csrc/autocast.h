// The autocast kernel every op with weights registers (as nn.Conv2d and nn.ConvTranspose2d have):
// the op itself, called again with autocast off for `device`, on its tensor arguments cast to the
// autocast dtype; the other arguments pass through unchanged.
#pragma once

#include <ATen/autocast_mode.h>
#include <ATen/core/dispatch/Dispatcher.h>

namespace equiconv {

// Signature: the op's function type; schema: its name, "equiconv::...".
template <c10::DeviceType device, typename Signature, typename... Args>
at::Tensor autocast_call(const char* schema, const Args&... args) {
  const c10::impl::ExcludeDispatchKeyGuard no_autocast(
      at::autocast::get_autocast_dispatch_key_from_device_type(device));
  static const auto op = c10::Dispatcher::singleton().findSchemaOrThrow(schema, "").typed<Signature>();
  const auto dtype = at::autocast::get_autocast_dtype(device);
  return op.call(at::autocast::cached_cast(dtype, args, device)...);
}

}  // namespace equiconv
