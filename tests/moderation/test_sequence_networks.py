"""The sequence classifiers: padding changes nothing, gradients match central differences (float64)
and PyTorch mirrors (float32), configurations round-trip, and every architecture learns."""
from __future__ import annotations

import numpy
import pytest
import torch

from smartmod.moderation.sequence_batches import predict_sequences
from smartmod.moderation.sequence_networks import SEQUENCE_ARCHITECTURES, SequenceClassifier, sequence_network
from smartmod.nn import backend
from smartmod.nn.gradcheck import gradcheck
from smartmod.nn.losses import BCEWithLogitsLoss
from smartmod.nn.module import layer_from_config
from smartmod.nn.optim import Adam
from smartmod.nn.train import Trainer
from tests.nn.test_layers_gradcheck import randomize_parameters
from tests.nn.test_recurrent_torch import torch_mapping
from tests.nn.test_transformer_torch import ENCODER
from tests.nn.torch_reference import assert_close, copy_parameters, same, transpose

VOCABULARY, OUTPUTS = 12, 3
#: Every architecture with its default pooling, the other poolings the issue names, sinusoidal
#: positions and a stack of two layers; each as (architecture, pooling, settings).
VARIANTS = [pytest.param(name, None, {}, id=name) for name in SEQUENCE_ARCHITECTURES] + [
    pytest.param("bilstm", "attention", {}, id="bilstm-attention"),
    pytest.param("transformer", "class", {}, id="transformer-class"),
    pytest.param("transformer", None, {"positions": "sinusoidal"}, id="transformer-sinusoidal"),
    pytest.param("bigru-attention", None, {"num_layers": 2}, id="bigru-attention-2-layers"),
]


def small_network(architecture: str, pooling: str | None = None, settings: dict | None = None, **overrides) -> SequenceClassifier:
    options = {"embedding_dim": 4, "hidden": 5, "dropout": 0.0, "num_heads": 2, "max_length": 8, **(settings or {}), **overrides}
    return sequence_network(architecture, VOCABULARY, OUTPUTS, pooling=pooling, **options)


def post_padded(lengths: list[int], steps: int, seed: int) -> numpy.ndarray:
    """Ids (B, T) with ``lengths[b]`` real tokens (ids 1 to V - 1) then zeros."""
    rng = numpy.random.default_rng(seed)
    ids = numpy.zeros((len(lengths), steps), dtype=numpy.int64)
    for row, length in enumerate(lengths):
        ids[row, :length] = rng.integers(1, VOCABULARY, size=length)
    return ids


@pytest.mark.parametrize("architecture, pooling, settings", VARIANTS)
def test_padding_after_the_tokens_changes_no_output(architecture, pooling, settings):
    network = small_network(architecture, pooling, settings).eval()
    ids = post_padded([5, 2, 1, 4], steps=5, seed=0)
    alone = numpy.vstack([network.forward(ids[row:row + 1, :max(length, 1)]) for row, length in enumerate([5, 2, 1, 4])])
    padded_more = numpy.hstack([ids, numpy.zeros((4, 3), dtype=numpy.int64)])
    assert numpy.allclose(network.forward(ids), alone, atol=1e-5)
    assert numpy.allclose(network.forward(padded_more), alone, atol=1e-5)


@pytest.mark.parametrize("architecture, pooling, settings", VARIANTS)
def test_a_row_of_padding_only_gives_finite_logits(architecture, pooling, settings):
    network = small_network(architecture, pooling, settings).eval()
    logits = network.forward(numpy.array([[0, 0, 0], [3, 4, 0]]))
    assert logits.shape == (2, OUTPUTS) and numpy.isfinite(logits).all()


@pytest.mark.parametrize("architecture, pooling, settings", VARIANTS)
def test_gradients_match_central_differences(architecture, pooling, settings):
    backend.set_default_dtype("float64")
    network = randomize_parameters(small_network(architecture, pooling, settings), seed=3)
    ids = post_padded([4, 2, 3], steps=4, seed=1)
    assert gradcheck(network, ids, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("architecture, pooling, settings", VARIANTS)
def test_configuration_rebuilds_the_same_network(architecture, pooling, settings):
    network = small_network(architecture, pooling, settings).eval()
    rebuilt = layer_from_config(network.to_config())
    rebuilt.load_state_dict(network.state_dict())
    ids = post_padded([3, 1], steps=3, seed=2)
    assert isinstance(rebuilt, SequenceClassifier)
    assert numpy.array_equal(rebuilt.eval().forward(ids), network.forward(ids))


@pytest.mark.parametrize("architecture, pooling, settings", VARIANTS)
def test_every_architecture_learns_which_word_is_harmful(architecture, pooling, settings):
    """Ids 2 and 3 mark a harmful text (output 0), anywhere in sequences of 1 to 6 tokens."""
    rng = numpy.random.default_rng(0)
    lengths = rng.integers(1, 7, size=64)
    ids = post_padded(lengths.tolist(), steps=6, seed=3)
    ids[ids == 2], ids[ids == 3] = 4, 5
    harmful = rng.random(64) < 0.5
    ids[harmful, rng.integers(0, lengths)[harmful]] = rng.choice([2, 3], size=int(harmful.sum()))
    labels = numpy.full((64, OUTPUTS), numpy.nan, dtype=numpy.float32)
    labels[:, 0] = harmful
    network = small_network(architecture, pooling, settings, embedding_dim=8, hidden=8)
    loss = BCEWithLogitsLoss()
    trainer = Trainer(network, loss, Adam(network.parameters(), lr=0.03), batch_size=16, progress=False)
    before = loss.forward(predict_sequences(network, ids), labels)
    for _ in range(15):
        for start in range(0, 64, 16):
            trainer.train_step(ids[start:start + 16], labels[start:start + 16])
    after = loss.forward(predict_sequences(network, ids), labels)
    assert after < 0.6 * before, f"{architecture}: loss {before:.3f} -> {after:.3f}"


@pytest.mark.parametrize("architecture, pooling, message", [
    ("gru", None, "unknown sequence architecture"),
    ("bilstm", "last", "'last' pooling"),
    ("lstm", "class", "'class' pooling needs a transformer"),
    ("lstm", "sum", "unknown pooling"),
])
def test_impossible_choices_are_clear_errors(architecture, pooling, message):
    with pytest.raises(ValueError, match=message):
        small_network(architecture, pooling)


# -- PyTorch mirrors ---------------------------------------------------------------------------


def compare_with_torch(mine: SequenceClassifier, reference: torch.nn.Module, mapping: dict, ids: numpy.ndarray) -> None:
    """Logits and every parameter gradient, float32, for one seeded upstream gradient."""
    copy_parameters(mine, reference, mapping)
    assert set(mapping) == {name for name, _ in mine.named_parameters()}
    mine.zero_grad()
    logits = mine.forward(ids)
    grad_output = numpy.random.default_rng(9).normal(size=logits.shape).astype(numpy.float32)
    mine.backward(grad_output)
    theirs = reference(torch.from_numpy(ids))
    theirs.backward(torch.from_numpy(grad_output))
    assert_close("logits", logits, theirs, rtol=1e-4, atol=1e-5)
    for name, (torch_name, transform) in mapping.items():
        assert_close(f"gradient of {name}", dict(mine.named_parameters())[name].grad,
                     transform(reference.get_parameter(torch_name).grad.numpy()), rtol=1e-3, atol=1e-5)


class TorchLSTMClassifier(torch.nn.Module):
    """Embedding (padding row 0) → packed LSTM → last hidden state → Linear."""

    def __init__(self, embedding_dim: int, hidden: int):
        super().__init__()
        self.embedding = torch.nn.Embedding(VOCABULARY, embedding_dim, padding_idx=0)
        self.lstm = torch.nn.LSTM(embedding_dim, hidden, batch_first=True)
        self.linear = torch.nn.Linear(hidden, OUTPUTS)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        lengths = (ids != 0).sum(dim=1)
        packed = torch.nn.utils.rnn.pack_padded_sequence(self.embedding(ids), lengths, batch_first=True, enforce_sorted=False)
        _, (h_n, _) = self.lstm(packed)
        return self.linear(h_n[-1])


def test_lstm_classifier_matches_torch_on_packed_sequences():
    mine = randomize_parameters(small_network("lstm", embedding_dim=4, hidden=5), seed=4)
    mine.embedding.weight.data[0] = 0
    mapping = {"embedding.weight": ("embedding.weight", same), "head.1.weight": ("linear.weight", transpose), "head.1.bias": ("linear.bias", same)}
    mapping.update({f"body.{name}": (f"lstm.{torch_name}", transform) for name, (torch_name, transform) in torch_mapping(mine.body).items()})
    compare_with_torch(mine, TorchLSTMClassifier(4, 5), mapping, post_padded([5, 2, 1, 4], steps=5, seed=5))


class TorchClassTokenTransformer(torch.nn.Module):
    """Class vector prepended, learned positions added, pre-norm encoder with a final LayerNorm, Linear on position 0."""

    def __init__(self, d_model: int, heads: int, d_ff: int, max_length: int):
        super().__init__()
        self.embedding = torch.nn.Embedding(VOCABULARY, d_model, padding_idx=0)
        self.class_vector = torch.nn.Parameter(torch.zeros(d_model))
        self.positions = torch.nn.Parameter(torch.zeros(max_length, d_model))
        layer = torch.nn.TransformerEncoderLayer(d_model, heads, d_ff, dropout=0.0, norm_first=True, batch_first=True)
        self.encoder = torch.nn.TransformerEncoder(layer, 1, norm=torch.nn.LayerNorm(d_model), enable_nested_tensor=False)
        self.linear = torch.nn.Linear(d_model, OUTPUTS)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.embedding(ids)
        x = torch.cat([self.class_vector.expand(len(ids), 1, -1), x], dim=1)
        x = x + self.positions[: x.shape[1]]
        padding = torch.cat([torch.zeros(len(ids), 1, dtype=torch.bool), ids == 0], dim=1)
        return self.linear(self.encoder(x, src_key_padding_mask=padding)[:, 0])


def test_class_token_transformer_matches_torch():
    mine = randomize_parameters(small_network("transformer", "class", embedding_dim=4, hidden=6, num_heads=2, max_length=6), seed=6)
    mine.embedding.weight.data[0] = 0
    mapping = {"embedding.weight": ("embedding.weight", same), "class_token.weight": ("class_vector", same), "positions.weight": ("positions", same),
               "head.1.weight": ("linear.weight", transpose), "head.1.bias": ("linear.bias", same),
               "body.norm.weight": ("encoder.norm.weight", same), "body.norm.bias": ("encoder.norm.bias", same)}
    mapping.update({f"body.layer0.{name}": (f"encoder.layers.0.{torch_name}", transform) for name, (torch_name, transform) in ENCODER.items()})
    compare_with_torch(mine, TorchClassTokenTransformer(4, 2, 6, 7), mapping, post_padded([5, 2, 1, 4], steps=5, seed=7))
