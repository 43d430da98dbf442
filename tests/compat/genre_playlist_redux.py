"""Metaflow tutorial 03-playlist-redux's shape ("Episode 3"): read the latest successful run of
another flow with the client (`Flow("GenreStatsFlow").latest_successful_run`, documented in
https://docs.metaflow.org/metaflow/client) inside a step, and use its artifacts.  The test runs
genre_stats.py first in the same datastore (RUN_FIRST in tests/test_compat.py)."""

from metaflow import Flow, FlowSpec, Parameter, get_metadata, step


class GenrePlaylistReduxFlow(FlowSpec):
    genre = Parameter("genre", default="Drama")

    @step
    def start(self):
        print("Using metadata provider:", get_metadata())
        run = Flow("GenreStatsFlow").latest_successful_run
        print("Using analysis from", run.pathspec.split("/")[0])
        self.median = run.data.genre_stats[self.genre]["median"]
        self.next(self.end)

    @step
    def end(self):
        print("median gross for", self.genre, self.median)


if __name__ == "__main__":
    GenrePlaylistReduxFlow()
