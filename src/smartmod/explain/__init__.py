"""Explanations of text models: which words of the original text a score rests on.

Three methods, mapped back to character spans of the text the user gave: gradient × input
through the network's own backward pass, occlusion (leave one word out) and LIME. The entry
point is :meth:`smartmod.moderation.moderator.Moderator.explain` (:func:`explain_text`); the
quality of each method against human rationales is measured by ``bench/explain_quality.py``.

Explanations of image models live in their own modules, imported where used (they bring in
matplotlib, which text scoring does not need): :func:`smartmod.explain.image_explainer.explain_image`
(Grad-CAM, saliency, SmoothGrad), :mod:`~smartmod.explain.feature_maps`,
:mod:`~smartmod.explain.image_grids` and :mod:`~smartmod.explain.overlay`.
"""
from smartmod.explain.explainer import DEFAULT_METHOD, EXPLANATION_METHODS, METHODS, ExplanationMethod, explain_text, word_importances
from smartmod.explain.feature_shares import feature_shares
from smartmod.explain.gradient import feature_attributions, gradient_x_input, input_gradient
from smartmod.explain.lime import lime, weighted_ridge
from smartmod.explain.occlusion import occlusion
from smartmod.explain.plausibility import span_f1, token_auprc, token_f1
from smartmod.explain.spans import SPAN_FLOOR, harmful_spans, span_offsets, span_threshold
from smartmod.explain.target import CategoryLogit
from smartmod.explain.words import Word, split_words, without_words

__all__ = [
    "DEFAULT_METHOD", "EXPLANATION_METHODS", "METHODS", "ExplanationMethod", "explain_text", "word_importances",
    "feature_shares", "feature_attributions", "gradient_x_input", "input_gradient", "lime", "weighted_ridge", "occlusion",
    "span_f1", "token_auprc", "token_f1", "SPAN_FLOOR", "harmful_spans", "span_offsets", "span_threshold", "CategoryLogit",
    "Word", "split_words", "without_words",
]
