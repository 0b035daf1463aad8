"""Vietnamese queries about things that are not in the ViShapes-vi world (cats, beaches, phở...).

Three disjoint sets, built from disjoint subject words: `train` (texts that must match no image,
a training signal), `calibration` (sets the relevance threshold with the validation split) and
`eval` (measures how many such queries the threshold rejects). No subject is shared between sets.
"""

from __future__ import annotations

import itertools

import numpy as np

OOD_SETS = ("train", "calibration", "eval")

_SUBJECTS: dict[str, tuple[str, ...]] = {
    "train": (
        "con chó",
        "con gà",
        "con trâu",
        "chiếc xe máy",
        "cây dừa",
        "bát cơm",
        "ly cà phê",
        "đứa trẻ",
        "cô gái",
        "ông cụ",
        "ngôi nhà",
        "cây cầu",
        "dòng sông",
        "ngọn núi",
        "cánh đồng lúa",
        "chiếc thuyền",
        "bánh mì",
        "quả xoài",
        "chiếc điện thoại",
        "cái bàn",
        "tòa nhà cao tầng",
        "con voi",
        "chiếc máy bay",
        "đôi giày",
        "chiếc áo dài",
        "con cá",
        "bông hoa sen",
        "người bán hàng",
        "chợ nổi",
        "cái ô",
        "chiếc đồng hồ",
        "đàn vịt",
        "con ngựa",
        "bức tường gạch",
        "chiếc xe buýt",
        "nồi lẩu",
        "quyển sách",
        "chiếc xe đạp",
        "con bò",
        "bãi cỏ",
    ),
    "calibration": (
        "con thỏ",
        "chiếc ô tô",
        "bãi biển",
        "bát bún bò",
        "con vẹt",
        "cây thông",
        "hồ nước",
        "cậu bé",
        "người phụ nữ",
        "ngôi chùa",
        "con đường làng",
        "thác nước",
        "chiếc nón lá",
        "quả dưa hấu",
        "cái ghế",
        "chiếc máy tính",
        "con khỉ",
        "chiếc tàu hỏa",
        "con bướm",
        "đĩa cơm tấm",
        "cô dâu",
        "sân bóng đá",
        "con gấu",
        "rừng tre",
        "chiếc ba lô",
        "quán cà phê",
        "con rùa",
        "chiếc xích lô",
        "cái tủ lạnh",
        "bầu trời đêm",
    ),
    "eval": (
        "con mèo",
        "bát phở",
        "hoàng hôn trên biển",
        "con chim",
        "cây đào",
        "người đàn ông",
        "chiếc xe tải",
        "cô giáo",
        "ngọn hải đăng",
        "đàn gà",
        "chiếc bánh sinh nhật",
        "con hổ",
        "cái giường",
        "con đường phố cổ",
        "vịnh Hạ Long",
        "bó hoa hồng",
        "chiếc xe cứu thương",
        "con chuột",
        "đĩa gỏi cuốn",
        "đám cưới",
        "con cua",
        "chiếc đàn ghi ta",
        "tháp Rùa",
        "con lợn",
        "ruộng bậc thang",
        "chiếc lồng đèn",
        "con sư tử",
        "tô hủ tiếu",
        "cây cột điện",
        "bức tranh sơn dầu",
    ),
}
_CONTEXTS: dict[str, tuple[str, ...]] = {
    "train": (
        "",
        "đang chạy",
        "trong công viên",
        "dưới mưa",
        "vào buổi sáng",
        "ở Hà Nội",
        "bên hồ",
        "màu đỏ",
        "rất đẹp",
        "đang ăn",
        "trên đường phố",
        "ở giữa sân",
    ),
    "calibration": (
        "",
        "đang ngủ",
        "trên bãi cát",
        "lúc bình minh",
        "ở Sài Gòn",
        "trong nhà",
        "màu vàng",
        "rất to",
        "đang bơi",
        "ngoài trời",
    ),
    "eval": (
        "",
        "đang ngủ trên ghế sofa",
        "lúc hoàng hôn",
        "ở Đà Nẵng",
        "trong bếp",
        "màu xanh dương",
        "nhỏ xíu",
        "đang bay",
        "giữa cánh đồng",
        "vào mùa đông",
    ),
}
_PREFIXES = ("", "ảnh", "tìm ảnh", "một bức ảnh chụp", "cho tôi xem")


def ood_queries(which: str, limit: int = 300, seed: int = 0) -> list[str]:
    """Up to `limit` distinct phrases of set `which`, in a fixed order for a given seed."""
    if which not in OOD_SETS:
        raise ValueError(f"unknown set {which!r}; known: {OOD_SETS}")
    rng = np.random.default_rng([seed, OOD_SETS.index(which)])
    phrases = [
        " ".join(p for p in (prefix, subject, context) if p)
        for subject, context, prefix in itertools.product(_SUBJECTS[which], _CONTEXTS[which], _PREFIXES)
    ]
    order = rng.permutation(len(phrases))
    return [phrases[i] for i in order[:limit]]
