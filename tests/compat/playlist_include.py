"""The tutorials' pattern (Metaflow tutorial 01-playlist, "Episode 1": a CSV bundled with
IncludeFile(default=script_path("...")) and a genre Parameter) under @conda_base(python=...) with
no libraries, as tutorial 04 writes it.  IncludeFile's docs
(https://docs.metaflow.org/api/flowspec#includefile): the step sees the file's contents as text."""

from metaflow import FlowSpec, IncludeFile, Parameter, conda_base, step


def script_path(filename):
    """The tutorials' helper: a path beside this file, so the flow runs from any folder."""
    import os

    return os.path.join(os.path.dirname(os.path.abspath(__file__)), filename)


@conda_base(python="3.11.9")
class GenrePlaylistFlow(FlowSpec):
    movie_data = IncludeFile("movie_data", help="The movies", default=script_path("compat_genres.csv"))
    genre = Parameter("genre", default="Sci-Fi")

    @step
    def start(self):
        rows = [line.split(",") for line in self.movie_data.strip().splitlines()[1:]]
        self.movies = [(title, int(year)) for title, genres, year, _ in rows if self.genre in genres.split("|")]
        self.next(self.end)

    @step
    def end(self):
        print("Playlist for movies in genre", self.genre)
        for index, (title, year) in enumerate(sorted(self.movies, key=lambda m: -m[1])[:3]):
            print(f"Pick {index}: {title} ({year})")


if __name__ == "__main__":
    GenrePlaylistFlow()
