"""Images: dataset readers (and, later, decoding, augmentation and convolutional networks)."""
