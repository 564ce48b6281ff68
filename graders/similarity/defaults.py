"""The similarity command's defaults, apart from the code that uses them: the command line
shows them in its help without importing the tokenizer and the ranking."""

#: Pairs listed with their shared code.
TOP = 100
#: Similarity at which a pair links students into a group.
THRESHOLD = 0.5
#: Code found in more than this share of the class is an idiom, not a copy ...
COMMON_SHARE = 0.5
#: ... and in more than this many submissions.
COMMON_FLOOR = 10
