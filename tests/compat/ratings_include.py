"""The tutorials' pattern once more, as tutorial 04-playlist-plus writes its header: the data path
a module-level constant built with script_path(), an IncludeFile whose default is that constant,
and @conda_base(python=...) with no libraries, so the environment needs no package index.
IncludeFile's docs (https://docs.metaflow.org/api/flowspec#includefile): the file is read when
the run starts and the step sees its text."""

import json

from metaflow import FlowSpec, IncludeFile, Parameter, conda_base, step


def script_path(filename):
    import os

    filepath = os.path.join(os.path.dirname(__file__))
    return os.path.join(filepath, filename)


RATINGS = script_path("ratings.json")


@conda_base(python="3.11.9")
class RatingsFlow(FlowSpec):
    ratings = IncludeFile("ratings", help="user ratings as JSON", default=RATINGS)
    min_votes = Parameter("min-votes", default=2)

    @step
    def start(self):
        votes = json.loads(self.ratings)
        self.averages = {
            title: round(sum(v) / len(v), 2) for title, v in sorted(votes.items()) if len(v) >= self.min_votes
        }
        self.next(self.end)

    @step
    def end(self):
        print("averages", self.averages)


if __name__ == "__main__":
    RatingsFlow()
