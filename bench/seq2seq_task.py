"""Train the encoder–decoder transformer to normalize written dates, and compare decoding methods.

Task (smartmod.seq2seq.dates): "3 March 2021", "March 3, 2021", "3rd of March 2021", "Mar 3 2021",
"Wednesday, 3 Mar 2021" or "03.03.2021" → "2021-03-03", characters in and out. The model (pre-norm,
d 64, 4 heads, feed-forward 128, 2 encoder and 2 decoder layers) trains with teacher forcing on
fresh random dates, then decodes held-out dates greedily, by beam search and by sampling at two
temperatures; exact-match accuracy (the whole ISO string right) is printed for each.

    python bench/seq2seq_task.py [--train 20000] [--test 500] [--epochs 10] [--threads 1]

One BLAS thread is the default: the GEMMs here are small, and on a shared machine a second
thread waiting for a busy core costs more than it saves.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import set_threads  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=int, default=20_000, help="training pairs")
    parser.add_argument("--test", type=int, default=500, help="held-out pairs")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--beam", type=int, default=4, help="beam width")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    set_threads(args.threads)

    import numpy

    from smartmod.nn import backend
    from smartmod.seq2seq import Seq2SeqTransformer, beam_search, exact_match, greedy_decode, sample, train
    from smartmod.seq2seq.dates import SOURCE_VOCABULARY, TARGET_VOCABULARY, date_pairs

    source_vocabulary, target_vocabulary = SOURCE_VOCABULARY, TARGET_VOCABULARY
    training, held_out = date_pairs(args.train, seed=1), date_pairs(args.test, seed=2)
    seen = {written for written, _ in training}
    print(f"{args.train} training dates, {args.test} held out ({sum(w in seen for w, _ in held_out)} of them also in training); "
          f"{args.threads} BLAS thread(s)")
    backend.seed(0)
    model = Seq2SeqTransformer(len(source_vocabulary), len(target_vocabulary), d_model=64, num_heads=4, d_ff=128,
                               encoder_layers=2, decoder_layers=2, dropout=0.1)
    print(f"model: {model.num_parameters():,} parameters")
    started = time.perf_counter()
    train(model, [source_vocabulary.encode(w) for w, _ in training], [target_vocabulary.encode(iso) for _, iso in training],
          source_vocabulary, target_vocabulary, epochs=args.epochs, batch_size=64, lr=2e-3, warmup_steps=200, log=print)
    print(f"training: {time.perf_counter() - started:.0f} s")

    references = [iso for _, iso in held_out]
    source = source_vocabulary.pad([source_vocabulary.encode(w) for w, _ in held_out])  # (N, S)
    scorer = model.next_token_scorer(source)
    start, end, longest = target_vocabulary.START, target_vocabulary.END, len("yyyy-mm-dd") + 2
    decoders = {
        "greedy": lambda: greedy_decode(scorer, len(held_out), start, end, longest),
        f"beam search (width {args.beam})": lambda: [
            beam_search(model.next_token_scorer(source[i:i + 1]), start, end, longest, args.beam)[0][0] for i in range(len(held_out))
        ],
        "sampling, temperature 0.5": lambda: sample(scorer, len(held_out), start, end, longest, 0.5, numpy.random.default_rng(0)),
        "sampling, temperature 1.0": lambda: sample(scorer, len(held_out), start, end, longest, 1.0, numpy.random.default_rng(0)),
    }
    print(f"\nexact-match accuracy on {len(held_out)} held-out dates")
    for name, decode in decoders.items():
        started = time.perf_counter()
        predictions = [target_vocabulary.decode(tokens) for tokens in decode()]
        print(f"  {name:28s} {exact_match(predictions, references):7.2%}   ({time.perf_counter() - started:.1f} s)")
        if name == "greedy":
            wrong = [(w, p, r) for (w, _), p, r in zip(held_out, predictions, references) if p != r][:3]
            for written, predicted, reference in wrong:
                print(f"      e.g. {written!r} → {predicted!r} (expected {reference!r})")


if __name__ == "__main__":
    main()
