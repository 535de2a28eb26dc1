"""``sparse_times_dense``: the blocked, column-ordered product of a CSR input and a dense weight."""
from __future__ import annotations

import numpy
import pytest
import scipy.sparse

from smartmod.nn.layers import dense
from smartmod.nn.layers.dense import Dense, sparse_times_dense


@pytest.mark.parametrize("rows", [1, 7, 100])
@pytest.mark.parametrize("block_bytes", [64, 1 << 20])  # many blocks (some ragged), or one
def test_equals_the_plain_product(monkeypatch, rows, block_bytes):
    monkeypatch.setattr(dense, "_BLOCK_OUTPUT_BYTES", block_bytes)
    rng = numpy.random.default_rng(0)
    x = scipy.sparse.random(rows, 300, density=0.05, format="csr", dtype=numpy.float32, random_state=1)
    w = rng.normal(size=(300, 8)).astype(numpy.float32)
    product = sparse_times_dense(x, w)
    assert isinstance(product, numpy.ndarray) and product.shape == (rows, 8) and product.dtype == numpy.float32
    numpy.testing.assert_allclose(product, x.toarray() @ w, rtol=1e-5, atol=1e-6)
    numpy.testing.assert_allclose(sparse_times_dense(x.tocsc(), w), product, rtol=1e-6, atol=1e-7)


def test_an_empty_batch_and_empty_rows():
    w = numpy.ones((10, 3), dtype=numpy.float32)
    assert sparse_times_dense(scipy.sparse.csr_matrix((0, 10), dtype=numpy.float32), w).shape == (0, 3)
    numpy.testing.assert_array_equal(sparse_times_dense(scipy.sparse.csr_matrix((4, 10), dtype=numpy.float32), w), numpy.zeros((4, 3)))


def test_dense_layer_gives_the_same_output_for_sparse_and_dense_inputs():
    layer = Dense(300, 5)
    x = scipy.sparse.random(33, 300, density=0.1, format="csr", dtype=numpy.float32, random_state=2)
    numpy.testing.assert_allclose(layer(x), layer(x.toarray()), rtol=1e-5, atol=1e-6)
