"""The operators, one file each: functional form, argument checks, and (for the compiled ones)
the fake kernel and autograd registered for the op declared in csrc/ops/<name>/."""
