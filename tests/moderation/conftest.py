"""A tiny text model bundle, trained in a second on a handful of sentences, for interface tests."""
from __future__ import annotations

import numpy
import pytest

from smartmod.data.categories import CATEGORIES
from smartmod.moderation.bundle import BundleConfig, TextModelBundle
from smartmod.nn import Dense, ReLU, Sequential, backend
from smartmod.nn.losses import BCEWithLogitsLoss
from smartmod.nn.optim import Adam
from smartmod.nn.train import Trainer
from smartmod.text.vectorize import TfidfVectorizer

TOXIC = ["you are an idiot", "shut up you stupid idiot", "what an idiot", "idiot moron", "you stupid fool", "stupid idiot go away"]
BENIGN = ["have a nice day", "thanks for the help", "the weather is lovely", "see you tomorrow", "great game last night", "i like this song"]


@pytest.fixture(scope="session")
def tiny_bundle_dir(tmp_path_factory) -> str:
    backend.seed(0)
    texts = TOXIC + BENIGN
    labels = numpy.zeros((len(texts), len(CATEGORIES)), dtype=numpy.float32)
    labels[:, CATEGORIES.index("toxicity")] = [1] * len(TOXIC) + [0] * len(BENIGN)
    vectorizer = TfidfVectorizer(min_df=1)
    features = vectorizer.fit_transform(texts)
    network = Sequential(Dense(features.shape[1], 8), ReLU(), Dense(8, len(CATEGORIES)))
    Trainer(network, BCEWithLogitsLoss(), Adam(network.parameters(), lr=0.05), batch_size=4, progress=False).fit(features, labels, epochs=30)
    config = BundleConfig(categories=list(CATEGORIES), thresholds={c: 0.5 for c in CATEGORIES}, temperatures={c: 1.0 for c in CATEGORIES},
                          network=network.to_config(), name="tiny", version="0", window_chars=50, window_overlap=10)
    directory = tmp_path_factory.mktemp("bundle") / "tiny"
    TextModelBundle(config, vectorizer, network, card={"note": "test fixture"}).save(directory)
    return str(directory)
