"""The encoder–decoder model: gradients through every part, configuration, and learning a tiny task."""
from __future__ import annotations

import time

import numpy
import pytest

from smartmod.nn import backend
from smartmod.nn.gradcheck import gradcheck
from smartmod.nn.module import layer_from_config
from smartmod.seq2seq import Seq2SeqTransformer, exact_match, greedy_decode, train
from smartmod.seq2seq.dates import SOURCE_VOCABULARY, TARGET_VOCABULARY, date_pairs
from smartmod.seq2seq.training import teacher_forcing_batch
from smartmod.seq2seq.vocabulary import CharacterVocabulary
from tests.nn.test_layers_gradcheck import randomize_parameters


def test_teacher_forcing_shifts_the_target_right_by_one():
    vocabulary = CharacterVocabulary("ab")
    decoder_input, expected = teacher_forcing_batch([vocabulary.encode("ab"), vocabulary.encode("b")], vocabulary)
    start, end, pad, a, b = vocabulary.START, vocabulary.END, vocabulary.PAD, *vocabulary.encode("ab")
    assert decoder_input.tolist() == [[start, a, b], [start, b, end]]
    assert expected.tolist() == [[a, b, end], [b, end, pad]]


@pytest.mark.parametrize("norm_first", [True, False])
def test_every_parameter_gets_its_gradient_with_padded_sources(norm_first):
    backend.set_default_dtype("float64")
    model = Seq2SeqTransformer(6, 5, d_model=4, num_heads=2, d_ff=6, encoder_layers=1, decoder_layers=1,
                               dropout=0.2, max_length=8, norm_first=norm_first)
    randomize_parameters(model)
    for embedding in (model.source_embedding, model.target_embedding):
        embedding.weight.data[0] = 0  # the padding rows, which get no gradient
    source = numpy.array([[3, 4, 5, 0], [5, 3, 0, 0]])  # 0 pads
    target_input = numpy.array([[1, 3, 4], [1, 4, 2]])
    assert gradcheck(model, source, target_input, seed=3)


def test_configuration_round_trip_gives_the_same_logits():
    model = Seq2SeqTransformer(10, 7, d_model=8, num_heads=2, d_ff=16, max_length=12).eval()
    rebuilt = layer_from_config(model.to_config()).eval()
    rebuilt.load_state_dict(model.state_dict())
    source, target_input = numpy.array([[3, 4, 5, 0]]), numpy.array([[1, 3]])
    assert numpy.array_equal(rebuilt.forward(source, target_input), model.forward(source, target_input))


def test_a_tiny_model_learns_a_tiny_date_task():
    """Dotted dates ("03.04.2005" → "2005-04-03"): a fixed reordering of digits.

    The sizes keep every GEMM below OpenBLAS's threading threshold, so the test stays fast on a busy machine."""
    started = time.perf_counter()
    backend.seed(0)
    pairs = [(written, iso) for written, iso in date_pairs(800, seed=3, forms=("dotted",))]
    sources = [SOURCE_VOCABULARY.encode(written) for written, _ in pairs]
    targets = [TARGET_VOCABULARY.encode(iso) for _, iso in pairs]
    model = Seq2SeqTransformer(len(SOURCE_VOCABULARY), len(TARGET_VOCABULARY), d_model=16, num_heads=2, d_ff=32,
                               encoder_layers=1, decoder_layers=1, dropout=0.0, max_length=16)
    history = train(model, sources, targets, SOURCE_VOCABULARY, TARGET_VOCABULARY, epochs=15, batch_size=32,
                    lr=5e-3, warmup_steps=20)
    held_out = date_pairs(100, seed=4, forms=("dotted",))
    source = SOURCE_VOCABULARY.pad([SOURCE_VOCABULARY.encode(written) for written, _ in held_out])
    predictions = greedy_decode(model.next_token_scorer(source), len(held_out), TARGET_VOCABULARY.START, TARGET_VOCABULARY.END, 12)
    accuracy = exact_match([TARGET_VOCABULARY.decode(p) for p in predictions], [iso for _, iso in held_out])
    print(f"loss {history[0]:.3f} → {history[-1]:.3f}, held-out exact match {accuracy:.0%}, {time.perf_counter() - started:.1f} s")
    assert history[-1] < 0.3 * history[0]
    assert accuracy >= 0.9  # by chance ~0: all ten characters must be right
