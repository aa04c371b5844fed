public import Layers
