"""Throughput of smartmod.text on OLID tweets (single process, single thread).

    python bench/text_speed.py
"""
import sys, time
from smartmod.data.text_readers import read_text_dataset
from smartmod.text import TfidfVectorizer, normalize

texts = [record.text for record in read_text_dataset("olid")]
normalize_module = sys.modules["smartmod.text.normalize"]

def clear_normalize_cache():
    for cached in normalize_module._NORMALIZE_WORD.values():
        cached.cache_clear()

def rate(function, data, repeats=1):
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter(); function(data); best = max(best, len(data) / (time.perf_counter() - start))
    return best

clear_normalize_cache()
print(f"normalize, first pass (empty word cache): {rate(lambda d: [normalize(t) for t in d], texts):9,.0f} texts/s")
print(f"normalize, later passes:                  {rate(lambda d: [normalize(t) for t in d], texts, 3):9,.0f} texts/s")
clear_normalize_cache()
vectorizer = TfidfVectorizer()  # word (1, 2) + char_wb (2, 5), min_df=2, sublinear tf, l2
print(f"fit (all {len(texts)} tweets, from cold):      {rate(vectorizer.fit, texts):9,.0f} texts/s  -> {len(vectorizer.get_feature_names())} features")
print(f"transform, same tweets after fit:          {rate(vectorizer.transform, texts, 3):9,.0f} texts/s")
half = len(texts) // 2
clear_normalize_cache()
vectorizer = TfidfVectorizer().fit(texts[:half])
print(f"transform, unseen half after fit on other: {rate(vectorizer.transform, texts[half:]):9,.0f} texts/s")
clear_normalize_cache(); vectorizer._char_columns = None
print(f"transform, all caches emptied (worst):     {rate(vectorizer.transform, texts[half:]):9,.0f} texts/s")
