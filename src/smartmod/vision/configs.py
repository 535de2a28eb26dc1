"""The settings of ``smartmod train mnist`` and ``smartmod train images``, apart from their
trainers so the CLI can list them as options without importing networks, datasets and Pillow
(every command, ``smartmod moderate`` included, builds the whole parser)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["MnistMLPConfig", "ImageTrainingConfig"]


@dataclass
class MnistMLPConfig:
    hidden: int = 512  # units in each hidden layer
    layers: int = 2  # number of hidden layers
    dropout: float = 0.2  # dropout after each hidden ReLU
    epochs: int = 15  # upper bound; early stopping usually ends sooner
    batch_size: int = 128
    lr: float = 1e-3  # Adam's peak learning rate, reached after one epoch of warm-up (a tenth of the run if shorter)
    validation: int = 5000  # training images held out (the last ones) for early stopping
    patience: int = 4  # epochs without validation improvement before stopping
    seed: int = 0
    dataset: str = "mnist"  # "mnist" or "fashion-mnist"


@dataclass
class ImageTrainingConfig:
    dataset: str = "cifar10"  # mnist | fashion-mnist | cifar10
    model: str = "small-cnn"  # one of smartmod.vision.training.MODELS
    attention: str | None = None  # ResNets only: None, "se" (Squeeze-and-Excitation) or "cbam" in every block
    widths: list[int] = field(default_factory=lambda: [32, 64, 128])  # small-cnn: channels of each stage
    resnet_width: int = 16  # ResNets: channels of the first stage (16 in He et al. 2016)
    fast_resnet_widths: list[int] = field(default_factory=lambda: [32, 64, 256, 256])  # fast-resnet: channels of the stem, then of each stage
    fast_resnet_block: str = "residual"  # fast-resnet: "residual" or "plain" (airbench: no residual add, convolutions starting as the identity)
    fast_resnet_stem: str = "conv"  # fast-resnet: "conv" (learned) or "whitening" (2×2 patch whitening fitted to training images; widths[0] = 8·C)
    fast_resnet_init: str | None = None  # fast-resnet: an initializer of smartmod.nn.init for every layer (airbench: "uniform_fan_in", PyTorch's default); null: He normal
    vit_patch: int = 4  # ViT: patch size (must divide the image size)
    vit_dim: int = 128  # ViT: token width
    vit_depth: int = 6  # ViT: encoder blocks
    vit_heads: int = 4
    epochs: int = 30
    batch_size: int = 128
    optimizer: str = "sgd"  # sgd (Nesterov momentum) | adam
    momentum: float = 0.9  # SGD's Nesterov momentum
    lr: float = 0.05  # peak learning rate, reached after the warm-up
    warmup_epochs: float = 1.0  # linear warm-up, then the decay
    schedule: str = "cosine"  # "cosine": warm-up from 0, cosine decay to 0 at the last step; "triangle" (airbench): warm-up from lr/5, linear decay to 0.07·lr
    weight_decay: float = 5e-4  # L2 on every trained parameter (SGD's coupled decay; Adam's too)
    batchnorm_momentum: float = 0.1  # running statistics ← (1 − m)·running + m·batch; airbench: 0.4, for a network that moves fast at a high learning rate
    batchnorm_recalibration: int = 0  # after training, recompute BatchNorm's running statistics on this many (un-augmented) training images; 0: keep them
    batchnorm_weights: str = "learned"  # "learned", or "frozen" where they start, 1 unless init_from copies them (airbench: BatchNorm then only shifts)
    batchnorm_bias_lr_scale: float = 1.0  # SGD: BatchNorm biases step this many times farther along their loss gradient (airbench: 64)
    label_smoothing: float = 0.0
    lookahead: bool = False  # Lookahead weight averaging as in airbench (smartmod.nn.lookahead): every 5 steps from the 4th epoch, ρ rising to 0.95⁵
    test_time_flip: bool = False  # the test accuracy averages the logits of each image and its mirror image (per-epoch figures do not)
    test_time_shift: int = 0  # and, when > 0, half the weight goes to copies shifted by this many pixels up-left and down-right (reflected edges)
    augmentation: list[dict[str, Any]] | None = None  # steps for vision.augment_pipeline.Compose; None = training.DEFAULT_AUGMENTATION
    classes: list[int] | None = None  # train and test on these classes only, relabeled 0..k-1 in this order (transfer learning)
    train_per_class: int | None = None  # keep only the first so many training images of each class (little-data runs)
    init_from: str | None = None  # a saved model directory (train images --output DIR/model): start from its weights, all but the last layer
    validation: int = 5000  # training images held out for model selection (after a seeded shuffle); 0: train on all, keep the last epoch
    train_limit: int | None = None  # use only the first so many (shuffled) training images (quick runs, tests)
    test_limit: int | None = None  # score only so many test images, a seeded sample (quick runs, tests)
    patience: int | None = None  # stop after this many epochs without validation improvement (None: run every epoch)
    seed: int = 0
    progress: bool = True
