"""The text-reading layer: every way the scorers read text, each in one place (issue #12).

One module per idea; both scorer families (noise and answer quality) and the profile/diversity scorers read
text only through these, so a fix lands once and reaches every scorer.

==================  ==============================================================================================
module              what it reads
==================  ==============================================================================================
``script``          scripts (CJK or not), letters, words and comparison units, normalised forms, word counts
``code``            code fences, inline code, whether a text is code, the code blocks of an answer
``sentences``       sentence splitting per language, sentence counts and lengths, readability per language
``lists``           list markers, list blocks, counting the items of an answer, lists of short terms
``endings``         how an answer ends: finished, cut off, or a last sentence left without its full stop
``placeholders``    placeholder answers and inputs, unfilled template variables
``templates``       prompt-template artefacts: "Instruction:", "### Response", chat tokens
``damage``          mojibake, control characters, escape sequences and markup left as text
``repetition``      degenerate repetition: repeated n-grams and repeated sentences
``cues``            what an instruction asks for (code, maths, long form, creative, a language, a template…)
``language``        the language of a text, as a reader (and an encoder) must read it
``numbers``         numbers as people write them, the final number of an answer, names and numbers two texts share
``prompt``          the parts of a prompt: instruction, input, politeness fillers
``rules``           :class:`Rule`: an exemption or a detector written as a named row of a table, with the real
                    row that motivated it
==================  ==============================================================================================

Nothing here is a scorer (no registration); nothing imports ``app``.
"""
