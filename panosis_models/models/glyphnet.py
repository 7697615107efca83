"""A small classifier of panoramas for the latitude-generalisation experiment: three 3x3
convolutions (from ``convs.py``, so ``conv="equi"`` makes each spherical) with max pooling, then
a global max over the panorama (wherever the glyph lies) and a linear layer."""
from torch import nn

from panosis_models.models.convs import conv3x3_factory


class GlyphNet(nn.Module):
    def __init__(self, num_classes: int, conv: str = "std", channels=(16, 32, 64), in_channels: int = 1):
        super().__init__()
        conv3x3 = conv3x3_factory(conv)
        layers, previous = [], in_channels
        for k, width in enumerate(channels):
            layers += [conv3x3(previous, width), nn.ReLU(inplace=True)]
            if k < len(channels) - 1:
                layers.append(nn.MaxPool2d(2))
            previous = width
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(previous, num_classes)

    def forward(self, x):
        return self.head(self.features(x).amax(dim=(2, 3)))
