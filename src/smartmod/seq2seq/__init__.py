"""Sequence-to-sequence learning with the transformer of smartmod.nn: an encoder–decoder model,
teacher-forced training, and greedy, beam-search and sampled decoding, shown on a task that
rewrites written dates as ISO 8601 (``"3 March 2021"`` → ``"2021-03-03"``)."""
from smartmod.seq2seq.decoding import beam_search, greedy_decode, sample
from smartmod.seq2seq.model import Seq2SeqTransformer
from smartmod.seq2seq.training import exact_match, train
from smartmod.seq2seq.vocabulary import CharacterVocabulary

__all__ = ["CharacterVocabulary", "Seq2SeqTransformer", "train", "exact_match", "greedy_decode", "beam_search", "sample"]
