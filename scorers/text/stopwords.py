"""Stop words for cluster keywords, English and Chinese (not a scorer module).

English: scikit-learn's list (the well-kept one already installed) plus the small tables below, each
a group of words that fill instructions and chat turns in every topic and so name none.  Chinese:
jieba segments, and this module's own table removes the function words and instruction filler that
jieba's keyword extractor keeps.  Contractions are split before the look-up (``i'm`` → ``i``), so the
list needs no contracted forms.
"""

from __future__ import annotations

from functools import lru_cache

#: Words that ask for something in any topic ("given the following input, provide …").
INSTRUCTION_FILLER = (
    "input",
    "output",
    "following",
    "given",
    "provide",
    "use",
    "using",
    "write",
    "create",
    "generate",
    "explain",
    "describe",
    "list",
    "example",
    "examples",
    "answer",
    "question",
    "sentence",
    "text",
)
#: Conversational filler of chat data (ShareGPT-style turns): frequent everywhere, a topic nowhere.
CHAT_FILLER = (
    "just",
    "like",
    "really",
    "want",
    "know",
    "think",
    "going",
    "got",
    "let",
    "lot",
    "sure",
    "actually",
    "maybe",
    "ok",
    "okay",
    "yes",
    "yeah",
    "hi",
    "hello",
    "thanks",
    "thank",
    "please",
    "time",
    "people",
    "thing",
    "things",
    "way",
    "good",
    "need",
    "make",
    "did",
    "does",
    "doing",
    "said",
    "say",
    "tell",
)

#: Chinese function words, pronouns, question words and instruction filler (2+ characters; jieba's
#: single characters are dropped by length).
CHINESE = frozenset(
    """
的 了 是 在 和 与 或 及 等 一个 这个 那个 我们 你们 他们 她们 它们 什么 如何 怎么 怎样 为什么 为何 哪些 哪个 可以
请 给 对 把 被 就 也 都 而 并 以 中 上 下 吗 呢 吧 啊 它 他 她 我 你 有 没有 一下 一些 这些 那些 这样 那样 因为
所以 如果 但是 然后 以及 进行 使用 关于 通过 自己 可能 需要 应该 已经 还是 就是 不是 这种 一种 其中 之间 以下
以上 如下 下列 是否 能否 能够 一段 一篇 一句 一下 给出 提供 描述 解释 列出 生成 写出 编写 根据 输入 输出 问题
回答 句子 文本 例子 下面 上面 内容 或者 并且 而且 还有 非常 比较 一样 时候 东西 方面 情况 因此 例如 比如
""".split()
)


@lru_cache(maxsize=1)
def english() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | frozenset(INSTRUCTION_FILLER) | frozenset(CHAT_FILLER)
