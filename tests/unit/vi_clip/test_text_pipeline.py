"""The text pipeline's direct path through a fast tokenizer's backend gives what the tokenizer's
own call gives: ids, padding, truncation and the attention mask."""

from __future__ import annotations

import torch

from vi_clip.tokenizer import TextPipeline, train_bytelevel_tokenizer

CORPUS = [
    "hai ngôi sao màu vàng ở góc trên bên trái",
    "trên nền xám có một hình vuông nhỏ màu xanh dương",
    "một trái tim lớn màu đỏ và một hình tròn màu tím",
] * 20
TEXTS = [
    "hai ngôi sao màu vàng",
    "trên nền xám, ở góc trên bên phải có một hình vuông nhỏ màu xanh dương " * 5,  # truncated
    "Mèo",
    "ảnh có 3 hình tròn ĐỎ",
    "hai ngoi sao mau vang",
]


def test_the_direct_path_tokenises_as_the_tokenizer_call_does() -> None:
    tokenizer = train_bytelevel_tokenizer(CORPUS, vocab_size=300)
    pipe = TextPipeline(tokenizer, "none", max_length=24)
    assert pipe._backend is not None
    for batch in (TEXTS, TEXTS[:1], TEXTS[2:4]):
        direct = pipe(batch)
        backend, pipe._backend = pipe._backend, None
        reference = pipe(batch)
        pipe._backend = backend
        assert direct["input_ids"].dtype == torch.long
        assert torch.equal(direct["input_ids"], reference["input_ids"])
        assert torch.equal(direct["attention_mask"], reference["attention_mask"])
    assert pipe(TEXTS)["input_ids"].shape == (len(TEXTS), 24)
