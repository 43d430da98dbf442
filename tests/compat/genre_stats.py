"""Metaflow tutorial 02-statistics's shape ("Episode 2"): the movie CSV included with IncludeFile,
its default written with the `os.path.join(os.path.dirname(__file__), ...)` idiom, a foreach over
genres joined into per-genre statistics, under @conda_base(disabled=True) (the @conda docs: a
disabled environment runs in the task's own Python).  Tutorial 03's flow reads these statistics
back with the client (genre_playlist_redux.py runs after this file in the same datastore)."""

import os

from metaflow import FlowSpec, IncludeFile, conda_base, step


@conda_base(disabled=True)
class GenreStatsFlow(FlowSpec):
    movie_data = IncludeFile(
        "movie_data", help="The movies", default=os.path.join(os.path.dirname(__file__), "compat_genres.csv")
    )

    @step
    def start(self):
        self.rows = [line.split(",") for line in self.movie_data.strip().splitlines()[1:]]
        self.genres = sorted({g for _, genres, _, _ in self.rows for g in genres.split("|")})
        self.next(self.compute_statistics, foreach="genres")

    @step
    def compute_statistics(self):
        self.genre = self.input
        gross = sorted(int(g) for _, genres, _, g in self.rows if self.genre in genres.split("|"))
        self.median = gross[len(gross) // 2]
        self.next(self.join)

    @step
    def join(self, inputs):
        self.genre_stats = {i.genre: {"count": 0, "median": i.median} for i in inputs}
        self.next(self.end)

    @step
    def end(self):
        print("stats", sorted((g, s["median"]) for g, s in self.genre_stats.items()))


if __name__ == "__main__":
    GenreStatsFlow()
