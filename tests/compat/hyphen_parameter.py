"""A parameter whose name has a hyphen (`num-docs`), as 11 real flows write it (issue 14 item 10).
Metaflow's Parameter docs
(https://docs.metaflow.org/api/flowspec#parameters): the name is the command-line option (`--num-docs`) and the artifact
is the class attribute (`self.num_docs`); it must compile for Step Functions as for the other
targets."""

from metaflow import FlowSpec, Parameter, step


class TopicModelFlow(FlowSpec):
    num_docs = Parameter("num-docs", type=int, default=4, help="documents to sample")
    min_len = Parameter("min-len", type=int, default=3)

    @step
    def start(self):
        corpus = ["a b c", "d e", "f g h i", "j k l", "m", "n o p q r"]
        self.docs = [d for d in corpus if len(d.split()) >= self.min_len][: self.num_docs]
        self.next(self.end)

    @step
    def end(self):
        print("sampled", len(self.docs), "docs:", self.docs)


if __name__ == "__main__":
    TopicModelFlow()
