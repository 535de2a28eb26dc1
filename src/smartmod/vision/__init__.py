"""Images: dataset readers, decoding, preprocessing, augmentation and convolutional networks.

- :mod:`~smartmod.vision.images`: :func:`decode_image`, untrusted JPEG/PNG/GIF/WebP bytes or files
  to upright ``(H, W, 3)`` uint8 RGB, with byte and pixel limits checked before decoding
  (:class:`ImageError` otherwise);
- :mod:`~smartmod.vision.preprocess`: ``resize_image`` (stretch or centre crop) and
  ``normalize_images`` to float32 ``(N, H, W, C)``, the channels-last memory layout of
  ``smartmod.nn.Conv2d`` (feed a network ``channels_first(batch)``, a view);
- :mod:`~smartmod.vision.augment` and :mod:`~smartmod.vision.augment_pipeline`: random crop,
  flip, rotation, colour jitter and cutout vectorized over the batch, and ``Compose`` built from
  a JSON-ready list;
- :mod:`~smartmod.vision.image_folders` and :mod:`~smartmod.vision.datasets`: class-per-folder
  trees and archives; MNIST, Fashion-MNIST and CIFAR-10 (decoded once, cached);
- networks: the MNIST MLP recipe, CIFAR ResNets, a small CNN, the Vision Transformer.
"""
