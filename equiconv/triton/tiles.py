"""Which tile a Triton program computes: BLOCK_M columns of one row of one image (program axis 0
runs over images x rows x column blocks) and BLOCK_N channels (axis 1), the layout every kernel
here shares."""
import triton
import triton.language as tl


@triton.jit
def row_tile(width, height, BLOCK_M: tl.constexpr):
    """(image, row, columns (BLOCK_M,), columns inside the width) of this program's tile."""
    col_blocks = tl.cdiv(width, BLOCK_M)
    pid = tl.program_id(0)
    image_row, block = pid // col_blocks, pid % col_blocks
    columns = block * BLOCK_M + tl.arange(0, BLOCK_M)
    return image_row // height, image_row % height, columns, columns < width


@triton.jit
def channel_tile(count, BLOCK_N: tl.constexpr):
    """(channels (BLOCK_N,), channels below ``count``) of this program's tile."""
    channels = tl.program_id(1) * BLOCK_N + tl.arange(0, BLOCK_N)
    return channels, channels < count
