"""The networks: the PanOSIS U-Net, the OSMIS generator and discriminator, and the one
std/equi 3x3 convolution switch they are all built from."""
