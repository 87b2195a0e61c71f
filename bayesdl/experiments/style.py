"""Shared figure conventions of the experiments, so that every family draws images the same way."""

#: Colour map of every image of digits or clothes: high intensity (ink) dark on a white ground, as in most
#: papers' figures; used by the autoregressive, RBM, VAE, flow, diffusion and GP/BNN experiments alike.
IMAGE_CMAP = "gray_r"
