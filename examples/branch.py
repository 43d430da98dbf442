"""A static branch: two independent computations joined into one result."""

from flowc import FlowSpec, step


class BranchFlow(FlowSpec):
    @step
    def start(self):
        self.text = "the quick brown fox jumps over the lazy dog"
        self.next(self.count_words, self.count_letters)

    @step
    def count_words(self):
        self.words = len(self.text.split())
        self.next(self.join)

    @step
    def count_letters(self):
        self.letters = sum(c.isalpha() for c in self.text)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.summary = {"words": inputs.count_words.words, "letters": inputs.count_letters.letters}
        self.merge_artifacts(inputs, include=["text"])
        self.next(self.end)

    @step
    def end(self):
        print(self.summary)
